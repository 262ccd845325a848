/**
 * The tuner end to end (not a test): `node dist/bench/tune.js [--cases fashion-vit,fashion-mixer,vit-b16,vit-b32]
 * [--out docs/tune-bench] [--keep DIR]`
 *
 * Runs `vitopt tune` the way a user does (a child process per case, the CLI as shipped), times it,
 * and checks its claims independently:
 *   fashion-vit / fashion-mixer   `vitopt tune <m> --data fashion-mnist --max-drop 0.5`; the chosen
 *                                 model.onnx and the input are then evaluated by `vitopt eval` on the
 *                                 full test split, so the drop is measured outside the tuner
 *   vit-b16 / vit-b32             a speed-only tune (random weights) at batch 8 (ViT-B/32 also batch 1,
 *                                 objective latency): the chosen model against the naive path
 *
 * Prints a Markdown table (the README's case study) and writes <out>/tune-bench.{json,md}; each case's
 * report.html stays in <keep>/<case>/.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packagePath } from '../src/util/paths.js';
import type { TuneReport } from '../src/tune/types.js';
import { verdict } from '../src/tune/report.js';
import { benchCommand, listArg, listOption, log, parseBench } from './lib/cli.js';

const CLI = packagePath('dist', 'src', 'cli', 'main.js');

interface Case { name: string; args: string[]; accuracy: boolean }
const CASES: Record<string, Case> = {
  'fashion-vit': { name: 'fashion-vit', accuracy: true, args: ['fashion-vit', '--data', 'fashion-mnist', '--max-drop', '0.5', '--find-batch', '--max-batch', '128'] },
  'fashion-mixer': { name: 'fashion-mixer', accuracy: true, args: ['fashion-mixer', '--data', 'fashion-mnist', '--max-drop', '0.5', '--find-batch', '--max-batch', '128'] },
  // Random weights: calibration images for pruning come from Fashion-MNIST (resized to 224 px); accuracy is not measured.
  'vit-b16': { name: 'ViT-B/16 (random weights)', accuracy: false, args: ['ViT-B_16', '--data', 'fashion-mnist', '--batch', '8', '--prune', '1,0.7,0.5',
    '--calibration-size', '32', '--rounds', '3', '--duration', '3', '--time-budget', '1500'] },
  'vit-b32': { name: 'ViT-B/32 (random weights), latency', accuracy: false, args: ['ViT-B_32', '--data', 'fashion-mnist', '--batch', '1', '--objective', 'latency',
    '--prune', '1,0.7,0.5', '--calibration-size', '64', '--rounds', '3', '--duration', '2', '--time-budget', '900'] },
};

const o = parseBench<{ cases: string[]; out: string; keep: string; render?: string }>(
  benchCommand('tune', '`vitopt tune` end to end, as a user runs it, with its claims checked independently')
    .addOption(listOption('--cases <list>', 'cases to run', (v) => listArg('--cases', Object.keys(CASES))(v), 'fashion-vit,fashion-mixer,vit-b16,vit-b32'))
    .option('--keep <dir>', "where each case's output (report.html, model.onnx) stays", path.join(os.tmpdir(), 'vitopt-tune-bench'))
    .option('--render <file>', 'no runs: render the Markdown again from an earlier tune-bench.json'),
  { out: 'docs/tune-bench' });
const { cases, out: outDir, keep } = o;

function run(argv: string[]): Promise<{ code: number | null; stdout: string; seconds: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (/"kind":"stage"/.test(line)) log(`  ${(JSON.parse(line) as { stage: string }).stage}`);
    });
    child.on('exit', (code) => resolve({ code, stdout, seconds: (performance.now() - t0) / 1000 }));
  });
}

async function top1(model: string): Promise<number> {
  const r = await run(['eval', model, '--data', 'fashion-mnist', '--json']);
  if (r.code !== 0) throw new Error(`vitopt eval ${model} failed`);
  return (JSON.parse(r.stdout) as { top1: number }).top1;
}

interface Row { case: string; command: string; seconds: number; exit: number | null; verdict: string; report: TuneReport; independent?: { baseTop1: number; top1: number; drop: number } }

const flags = [...new Set((readFileSync('/proc/cpuinfo', 'utf8').match(/\b(avx2|avx512f|avx512_vnni|avx_vnni)\b/g) ?? []))].sort();
let rows: Row[] = [];
const rerender = o.render;
if (rerender) {
  rows = JSON.parse(readFileSync(rerender, 'utf8')) as Row[];
} else {
  for (const key of cases) {
    const c = CASES[key]!;
        const dir = path.join(keep, key);
    await fs.rm(dir, { recursive: true, force: true });
    const argv = ['tune', ...c.args, '-o', dir, '--store', path.join(keep, 'runs.db'), '--json'];
    log(`${c.name}: vitopt ${argv.join(' ')}`);
    const r = await run(argv);
    const report = JSON.parse(r.stdout) as TuneReport;
    const row: Row = { case: c.name, command: `vitopt ${argv.slice(0, -5).join(' ')}`, seconds: r.seconds, exit: r.code, verdict: verdict(report), report };
    if (c.accuracy && report.decision.chosen) {
      const baseTop1 = await top1(key), tuned = await top1(path.join(dir, 'model.onnx'));
      row.independent = { baseTop1, top1: tuned, drop: 100 * (baseTop1 - tuned) };
    }
    log(`${c.name}: ${r.seconds.toFixed(0)} s, exit ${r.code}: ${row.verdict}`);
    rows.push(row);
  }
}

const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const mib = (b: number | undefined) => (b === undefined ? '—' : (b / 2 ** 20).toFixed(0));
type Cand = TuneReport['candidates'][number];
const acc = (x: Cand | undefined) => (x?.accuracy ? `${(100 * x.accuracy.top1).toFixed(2)}% (${x.accuracy.drop <= 0 ? '+' : '−'}${Math.abs(x.accuracy.drop).toFixed(2)})`
  : x?.quality ? `SQNR ${x.quality.sqnrDb.toFixed(1)} dB, agree ${(100 * x.quality.agreement).toFixed(0)}%` : '—');

/** The playbook's shape: the baseline, each lever alone (at the tune's batch and threads), the tuner's choice. */
function caseStudy(r: Row): string[] {
  const rep = r.report, b = rep.baseline;
  const at = (c: Cand) => c.spec.batch === b.spec.batch && c.spec.threads === b.spec.threads;
  const pick = (p: (c: Cand) => boolean) => rep.candidates.filter((c) => c.status !== 'failed' && c.speed && at(c) && p(c)).sort((x, y) => y.speed!.imagesPerSecond - x.speed!.imagesPerSecond)[0];
  const levers: [string, Cand | undefined][] = [
    ['baseline: fp32, fused graph, as exported', b],
    ['graph style only (portable, vitopt session)', pick((c) => c.spec.prune === 1 && c.spec.quant === 'none' && c.spec.style !== b.spec.style)],
    ['INT8 only (dynamic, same graph)', pick((c) => c.spec.prune === 1 && c.spec.quant === 'dynamic' && c.spec.style === b.spec.style && !c.spec.guardFloat)],
    ['INT8 only (static, same graph)', pick((c) => c.spec.prune === 1 && c.spec.quant === 'static' && c.spec.style === b.spec.style)],
    ['pruning only (70% FLOPs, refit)', pick((c) => c.spec.prune === 0.7 && c.spec.quant === 'none' && c.spec.style === b.spec.style)],
    ['pruning 70% + dynamic INT8', pick((c) => c.spec.prune === 0.7 && c.spec.quant === 'dynamic' && c.spec.style === b.spec.style)],
  ];
  const chosen = rep.candidates.find((c) => c.id === rep.decision.chosen);
  const out = [`**${r.case}** — \`${r.command}\` (${(r.seconds / 60).toFixed(1)} min; exit ${r.exit})`, '',
    '| step | img/s | × baseline | p50 / p95 ms | peak MiB | size MB | top-1 (Δ pt) or quality | status |', '|---|---:|---:|---|---:|---:|---|---|'];
  const line = (name: string, c: Cand | undefined, note = '') => {
    if (!c) return;
    const s = c.speed;
    out.push(`| ${name} | ${f(s?.imagesPerSecond, 1)} | ${f(s?.ratio)}× | ${f(s?.p50Ms, 1)} / ${f(s?.p95Ms, 1)} | ${mib(s?.peakRssBytes)} | ${f(c.sizeBytes / 1e6, 2)} | ${acc(c)} | ${c.id === rep.decision.chosen ? 'chosen' : c.status === 'ok' ? (rep.decision.feasible.includes(c.id) ? 'feasible' : 'infeasible') : c.status}${note} |`);
  };
  if (rep.naive) out.push(`| naive path: portable graph, ONNX Runtime defaults | ${f(rep.naive.imagesPerSecond, 1)} | ${f(rep.naive.ratioToBaseline)}× | — | — | — | — | reference |`);
  for (const [name, c] of levers) line(name, c);
  line(`**tuner's choice**: ${chosen?.label ?? 'none'}`, chosen, '');
  out.push('', `Verdict: ${r.verdict}`, `Speed-up of the choice: ${f(rep.speedup.sameSettings)}× the baseline at its batch and threads, ${f(rep.speedup.chosenSettings)}× at the chosen ones, ${f(rep.speedup.vsNaive)}× the naive path.` +
    (r.independent ? ` Independently, \`vitopt eval\` on the full test split: ${f(100 * r.independent.baseTop1)}% → ${f(100 * r.independent.top1)}% (drop ${f(r.independent.drop)} pt).` : ''),
    `Time: ${r.report.timeline.map((t) => `${t.stage} ${t.seconds.toFixed(0)} s`).join(', ')}.`, '');
  return out;
}

const date = rows[0]?.report.date.slice(0, 10) ?? new Date().toISOString().slice(0, 10);
const lines = [
  `# vitopt tune, end to end`,
  '',
  `\`node dist/bench/tune.js --cases ${cases.join(',')}\`, ${date}, ${rows[0]?.report.machine.cpu ?? os.cpus()[0]?.model.trim()}, ${rows[0]?.report.machine.cores ?? os.availableParallelism()} cores, CPU flags: ${(rows[0]?.report.cpuFlags ?? flags).join(' ')}.`,
  'Each row of a case is a candidate the tuner measured in the same run (interleaved with the baseline); "× baseline" is the median per-round ratio.',
  '',
  ...rows.flatMap(caseStudy),
];
const md = lines.join('\n');
process.stdout.write(md);
await fs.mkdir(outDir, { recursive: true });
await fs.writeFile(path.join(outDir, 'tune-bench.md'), md);
if (!rerender) await fs.writeFile(path.join(outDir, 'tune-bench.json'), JSON.stringify(rows, null, 2) + '\n');
log(`wrote ${outDir}/tune-bench.md${rerender ? '' : ' and .json'}; reports in ${keep}/<case>/report.html`);
