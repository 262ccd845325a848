/**
 * `vitopt tune` end to end on the shipped reference model and data subset (small settings so the
 * suite stays quick), its bad-input paths, the infeasible exit code, dedup through the run store,
 * and Ctrl-C followed by --resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI, runCli, tmp } from '../core/helpers.js';
import { loadModel, metadata } from '../../src/formats/onnx.js';
import { RunStore } from '../../src/tune/store.js';
import type { TuneReport } from '../../src/tune/types.js';

/** `vitopt tune <args> -o <dir>/out --store <dir>/runs.db --json`, expected to succeed: its report. */
function tuneReport(dir: string, args: string[], out = 'out'): TuneReport {
  const r = runCli(['tune', ...args, '-o', path.join(dir, out), '--store', path.join(dir, 'runs.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as TuneReport;
}

/** A candidate's commands, run in an empty directory, write the bytes of its stored artifact. */
async function assertRebuilds(dir: string, c: TuneReport['candidates'][number]): Promise<void> {
  const rebuild = await fs.mkdtemp(path.join(dir, 'rebuild-'));
  const script = ['set -eu', `vitopt() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }`, ...c.commands].join('\n');
  const sh = spawn('sh', ['-c', script], { cwd: rebuild, stdio: 'ignore' });
  assert.equal(await new Promise<number | null>((resolve) => sh.on('exit', resolve)), 0, c.commands.join('; '));
  const out = /-o (\S+)/.exec(c.commands[c.commands.length - 1]!)![1]!;
  assert.deepEqual(await fs.readFile(path.join(rebuild, out)), await fs.readFile(path.join(dir, 'artifacts', `${c.artifactId}.onnx`)));
}

// Two prune levels, two quantization modes that run on CPU, both graph styles: 8 artifacts.
const SMALL = ['--data', 'fashion-mnist-subset', '--prune', '1,0.85', '--rounds', '2', '--duration', '0.2', '--screen-size', '200',
  '--eval-size', '600', '--calibration-size', '32'];

test('tune: fashion-vit under a drop budget — a chosen model, its report, provenance and reproduce.sh', async () => {
  const dir = tmp();
  const out = path.join(dir, 'out');
  const r = runCli(['tune', 'fashion-vit', ...SMALL, '--max-drop', '1', '-o', out, '--store', path.join(dir, 'runs.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as TuneReport;
  assert.equal(report.hasAccuracy, true);
  assert.equal(report.baseline.accuracy!.images, 600);
  assert.ok(report.decision.chosen, 'a candidate was chosen');
  const chosen = report.candidates.find((c) => c.id === report.decision.chosen)!;
  assert.ok(chosen.accuracy!.drop <= 1, `drop ${chosen.accuracy!.drop} within the budget`);
  assert.equal(chosen.accuracy!.fidelity, 'full', 'the chosen candidate was confirmed on the whole evaluation split');
  assert.ok(report.decision.front.includes(chosen.id));
  // Every point of the space is accounted for: 2 prune levels × 2 styles × (fp32, dynamic, static), the baseline among them.
  const atBase = report.candidates.filter((c) => c.spec.batch === report.baseline.spec.batch && c.spec.threads === report.baseline.spec.threads);
  assert.equal(atBase.length, 12);
  assert.ok(report.dropped.some((d) => d.what === 'FP16'), 'FP16 dropped on the CPU with a reason');
  for (const c of report.candidates) if (c.status === 'ok') assert.ok(c.speed && c.speed.rounds >= 1 && c.speed.p95Ms >= c.speed.p50Ms);
  for (const f of ['model.onnx', 'report.html', 'report.md', 'report.json', 'reproduce.sh']) assert.ok(existsSync(path.join(out, f)), f);
  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(md, /the baseline's throughput/);
  const html = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length >= 2, true);
  // Provenance travels in the model.
  const meta = JSON.parse(metadata(await loadModel(path.join(out, 'model.onnx')))['vitopt.tune']!) as { candidate: string; commands: string[] };
  assert.equal(meta.candidate, chosen.id);
  assert.deepEqual(meta.commands, chosen.commands);
  // reproduce.sh rebuilds the same model (the bytes differ only by the provenance entry).
  const rebuild = path.join(dir, 'rebuild');
  await fs.mkdir(rebuild);
  const sh = spawn('sh', [path.join(out, 'reproduce.sh')], { cwd: rebuild, env: { ...process.env, VITOPT: `${process.execPath} ${CLI}` } });
  const code = await new Promise<number | null>((resolve) => sh.on('exit', resolve));
  assert.equal(code, 0);
  const last = chosen.commands[chosen.commands.length - 1]!;
  const rebuilt = await loadModel(path.join(rebuild, /-o (\S+)/.exec(last)![1]!));
  const tuned = await loadModel(path.join(out, 'model.onnx'));
  tuned.metadataProps = tuned.metadataProps!.filter((p) => p.key !== 'vitopt.tune');
  const { encodeModel } = await import('../../src/formats/onnx.js');
  assert.deepEqual(Buffer.from(encodeModel(rebuilt)), Buffer.from(encodeModel(tuned)));

  // A second run of the same tune reuses every artifact and accuracy run from the store.
  const again = runCli(['tune', 'fashion-vit', ...SMALL, '--max-drop', '1', '-o', path.join(dir, 'out2'), '--store', path.join(dir, 'runs.db'), '--json']);
  assert.equal(again.status, 0, again.stderr);
  const store = RunStore.open(path.join(dir, 'runs.db'), { create: false });
  try {
    const exps = store.experiments();
    assert.equal(exps.length, 1, 'the same tune is one experiment');
    const artifacts = await fs.readdir(path.join(dir, 'artifacts'));
    assert.equal(artifacts.filter((f) => f.endsWith('.onnx')).length, 12, 'each artifact stored once (the 12 recipes; the naive path runs the fp32 portable one)');
  } finally {
    store.close();
  }
  const second = JSON.parse(again.stdout) as TuneReport;
  const build = second.timeline.find((t) => t.stage === 'build artifacts')!;
  const firstBuild = report.timeline.find((t) => t.stage === 'build artifacts')!;
  assert.ok(build.seconds < firstBuild.seconds, `rebuild from the store (${build.seconds.toFixed(1)} s) faster than the first build (${firstBuild.seconds.toFixed(1)} s)`);
});

test('tune: nothing feasible — exit 3, no model.onnx, the report names the nearest and the binding constraint', () => {
  const dir = tmp();
  const out = path.join(dir, 'out');
  const r = runCli(['tune', 'fashion-vit', ...SMALL, '--prune', '1', '--min-throughput', '1e9', '-o', out, '--store', path.join(dir, 'runs.db'), '--json']);
  assert.equal(r.status, 3, r.stderr);
  const report = JSON.parse(r.stdout) as TuneReport;
  assert.equal(report.decision.chosen, null);
  assert.equal(report.decision.binding, 'minThroughput');
  assert.ok(report.decision.nearest.length > 0);
  assert.ok(!existsSync(path.join(out, 'model.onnx')));
  assert.ok(existsSync(path.join(out, 'report.html')));
  assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /No candidate meets the constraints/);
});

test('tune: random weights are tuned for speed, with SQNR and agreement as the quality signal', () => {
  const dir = tmp();
  const report = tuneReport(dir, ['ViT-Ti_16', '--prune', '1', '--rounds', '1', '--duration', '0.2', '--batch', '1']);
  assert.equal(report.hasAccuracy, false);
  assert.ok(report.notes.some((n) => /random weights/.test(n)));
  assert.ok(report.dropped.some((d) => /static INT8/.test(d.what)), 'static INT8 needs calibration images');
  for (const c of report.candidates.filter((x) => x.status === 'ok')) {
    assert.ok(c.quality && c.quality.sqnrDb > 5 && c.quality.agreement >= 0 && c.quality.agreement <= 1, c.label);
  }
  const base = report.baseline.quality!;
  assert.equal(base.agreement, 1);
});

test('tune: bad input is one line and exit 2, before any work', () => {
  const dir = tmp();
  const cases: [string[], RegExp][] = [
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--max-drop', '-1'], /--max-drop -1: must be >= 0/],
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--engine', 'tpu'], /--engine <name>' argument 'tpu' is invalid\. Allowed choices are cpu, wasm/],
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--objective', 'fast'], /--objective <o>' argument 'fast' is invalid/],
    [['fashion-vit', '--max-drop', '0.5'], /--max-drop needs --data/],
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--batch', '4', '--find-batch'], /exclude each other/],
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--memory-budget', '1MB'], /--memory-budget 1 MiB: smaller than any variant/],
    [['ViT-Ti_16', '--data', 'fashion-mnist-subset', '--max-drop', '0.5'], /random weights: there is no accuracy/],
    [['fashion-vit', '--data', 'no-such-dir/'], /no-such-dir/],
    [['no-such-model.onnx', '--data', 'fashion-mnist-subset'], /no-such-model\.onnx/],
    [['fashion-vit', '--data', 'fashion-mnist-subset', '--prune', '1,1.5'], /--prune 1,1.5/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(['tune', ...args, '-o', path.join(dir, 'out'), '--store', path.join(dir, 'runs.db')]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  assert.ok(!existsSync(path.join(dir, 'out', 'model.onnx')));
});

test('tune: a corrupt run store is refused with one line, untouched', async () => {
  const dir = tmp();
  const db = path.join(dir, 'runs.db');
  await fs.writeFile(db, 'not a database at all, just text that is long enough to look like a header............');
  const before = await fs.readFile(db);
  const r = runCli(['tune', 'fashion-vit', '--data', 'fashion-mnist-subset', '-o', path.join(dir, 'out'), '--store', db]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /runs\.db/);
  assert.deepEqual(await fs.readFile(db), before);
});

test('tune: Ctrl-C leaves the store consistent and --resume finishes the job', async () => {
  const dir = tmp();
  const db = path.join(dir, 'runs.db');
  const args = ['tune', 'fashion-vit', ...SMALL, '--max-drop', '1', '-o', path.join(dir, 'out'), '--store', db];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const interrupted = new Promise<number | null>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/speed probe/.test(err) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (code) => resolve(code));
  });
  assert.equal(await interrupted, 130, err);
  assert.match(err, /interrupted; .*--resume/);
  const store = RunStore.open(db, { create: false });
  try {
    const [exp] = store.experiments();
    assert.equal(exp!.status, 'interrupted');
    assert.ok(store.runsOf(exp!.id).length > 0, 'the artifacts built before Ctrl-C are in the store');
  } finally {
    store.close();
  }
  const r = runCli([...args, '--resume', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as TuneReport;
  assert.ok(report.decision.chosen);
  const store2 = RunStore.open(db, { create: false });
  try {
    assert.equal(store2.experiments()[0]!.status, 'done');
  } finally {
    store2.close();
  }
});

test('tune: INT8 over the budget gets the accuracy guard fallback, and its commands rebuild the same bytes', async () => {
  const dir = tmp();
  const report = tuneReport(dir, ['fashion-vit', '--data', 'fashion-mnist-subset', '--max-drop', '0', '--prune', '1', '--rounds', '1', '--duration', '0.2',
    '--calibration-size', '32', '--screen-size', '400', '--eval-size', '400', '--threads', '2']);
  const guarded = report.candidates.filter((c) => /\(guard\)/.test(c.label));
  assert.ok(guarded.length > 0, 'static INT8 loses 0.25 pt on these 400 images: the guard runs');
  assert.ok(report.notes.some((n) => /accuracy guard: \d+ layer\(s\) returned to float/.test(n)));
  const g = guarded.find((c) => c.commands.some((x) => /--max-drop 0 /.test(x)))!;
  await assertRebuilds(dir, g);
});

test('tune: --time-budget stops the search and decides on what was measured', () => {
  const dir = tmp();
  const r = runCli(['tune', 'fashion-vit', ...SMALL, '--time-budget', '4', '-o', path.join(dir, 'out'), '--store', path.join(dir, 'runs.db'), '--json']);
  assert.ok(r.status === 0 || r.status === 3, r.stderr);
  const report = JSON.parse(r.stdout) as TuneReport;
  assert.match(report.stoppedEarly ?? '', /--time-budget 4 s reached/);
  assert.ok(report.candidates.some((c) => c.status === 'stopped' && /time budget/.test(c.reason ?? '')), 'the candidates not reached are listed as stopped');
  assert.ok(report.baseline.speed, 'the baseline is always measured');
});

test('tune: token merging is an axis (--merge-tokens); its commands rebuild the same bytes; a Mixer drops it with the reason', async () => {
  const dir = tmp();
  const report = tuneReport(dir, ['fashion-vit', '--data', 'fashion-mnist-subset', '--merge-tokens', '0,4', '--prune', '1', '--rounds', '1', '--duration', '0.2',
    '--calibration-size', '32', '--screen-size', '300', '--eval-size', '300', '--threads', '2']);
  const merged = report.candidates.filter((c) => c.spec.merge === 4);
  assert.equal(merged.length, 6, 'r 4 × 2 styles × (fp32, dynamic, static)');
  const m = merged.find((c) => c.spec.quant === 'dynamic' && c.status !== 'failed')!;
  assert.ok(m.accuracy, 'measured like any candidate');
  assert.ok(m.commands.some((x) => /--merge-tokens 4/.test(x)));
  await assertRebuilds(dir, m);

  const mr = tuneReport(dir, ['fashion-mixer', '--data', 'fashion-mnist-subset', '--merge-tokens', '0,4', '--prune', '1', '--rounds', '1', '--duration', '0.2',
    '--calibration-size', '16', '--screen-size', '200', '--eval-size', '200', '--threads', '2'], 'mix');
  assert.ok(mr.dropped.some((d) => /token merging/.test(d.what) && /Mixer/.test(d.why)));
  const bad = runCli(['tune', 'fashion-vit', '--data', 'fashion-mnist-subset', '--merge-tokens', '0,40', '-o', path.join(dir, 'bad'), '--store', path.join(dir, 'runs.db')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--merge-tokens/);
});
