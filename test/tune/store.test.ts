/** The tuner's run store: resume, dedup, content addressing, refusing foreign files, crash safety, and `vitopt runs`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { UserError } from '../../src/errors.js';
import {
  APPLICATION_ID, RunStore, STORE_SCHEMA_VERSION, candidateId, canonicalJson, hardwareFingerprint, simdFlags, type StoredRun,
} from '../../src/tune/store.js';
import { runCli, tmp } from '../core/helpers.js';

const STORE_MODULE = fileURLToPath(new URL('../../src/tune/store.js', import.meta.url));

function run(id: string, experimentId: string, o: Partial<StoredRun> = {}): StoredRun {
  return {
    id, experimentId, label: `candidate ${id}`, stage: 'candidate', status: 'done', reason: null,
    params: { prune: 0.7, quant: 'dynamic', guard: true, batch: 8, style: 'ort', fp16: false },
    metrics: { imagesPerSecond: 41.25, top1: 0.9054, drop: 0.3, sizeBytes: 22_000_000, p95Ms: 101.5 },
    tags: { engine: 'cpu', runtime: 'onnxruntime-node 1.30.0' },
    artifact: null, startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), ...o,
  };
}

const parts = { parent: 'a'.repeat(64), stage: 'quantize', settings: { quant: 'dynamic', prune: 0.7, guard: { layers: ['b', 'a'], max: 2 } },
  runtime: 'onnxruntime-node 1.30.0', hardware: 'linux-x64 · cpu · 2 cpus · avx2 · 8 GiB' };

test('candidateId: 16 hex, deterministic, independent of key order at every level, sensitive to every part', () => {
  const id = candidateId(parts);
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(candidateId({ ...parts }), id);
  const reordered = { hardware: parts.hardware, settings: { guard: { max: 2, layers: ['b', 'a'] }, prune: 0.7, quant: 'dynamic' },
    runtime: parts.runtime, stage: parts.stage, parent: parts.parent };
  assert.equal(candidateId(reordered), id);
  // Array order is content; so is every part.
  assert.notEqual(candidateId({ ...parts, settings: { ...parts.settings, guard: { layers: ['a', 'b'], max: 2 } } }), id);
  assert.notEqual(candidateId({ ...parts, runtime: 'onnxruntime-node 1.31.0' }), id);
  assert.notEqual(candidateId({ ...parts, hardware: parts.hardware.replace('avx2', 'avx2,avx512f') }), id);
  assert.notEqual(candidateId({ ...parts, parent: 'b'.repeat(64) }), id);
  assert.notEqual(candidateId({ ...parts, stage: 'prune' }), id);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: undefined, e: null }] }), '{"a":[{"d":1,"e":null}],"b":1}');
});

test('hardwareFingerprint is stable on one machine and names cpus, SIMD flags and memory', () => {
  const h = hardwareFingerprint();
  assert.equal(hardwareFingerprint(), h);
  assert.match(h, /\d+ cpus/);
  assert.match(h, /\d+ GiB$/);
  const cpuinfo = 'processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_vnni\n\nprocessor\t: 1\nflags\t\t: fpu\n';
  assert.deepEqual(simdFlags(cpuinfo), ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni']);
  assert.deepEqual(simdFlags('Features\t: fp asimd asimddp sve\n'), ['asimd', 'asimddp', 'sve']);
  assert.deepEqual(simdFlags(null), []);
});

test('resume: a run saved, store closed and reopened, reads back with the same values and types', () => {
  const dir = tmp();
  const file = path.join(dir, 'nested', 'runs.db');
  let s = RunStore.open(file);
  const e = s.startExperiment({ id: 'exp0123456789abcd', name: 'vit tune', params: { model: 'm.onnx', maxDrop: 0.5, labels: true, threads: 2 },
    tags: { who: 'test' } });
  assert.equal(e.status, 'running');
  const r = run('c0ffee0000000001', e.id, {
    params: { prune: 0.7, quant: 'dynamic', guard: true, fp16: false, batch: 8, numericString: '8', empty: '', neg: -1.5e-9 },
    metrics: { imagesPerSecond: 41.25, top1: 0.9054, big: 123_456_789_012, zero: 0, inf: Infinity, nan: NaN },
    tags: { engine: 'cpu' }, artifact: { sha256: 'f'.repeat(64), bytes: 1234 },
  });
  s.saveRun(r);
  s.saveRun(run('c0ffee0000000002', e.id, { status: 'running', endedAt: null }));
  s.saveRun(run('c0ffee0000000003', e.id, { status: 'failed', reason: 'out of memory', metrics: {} }));
  s.finishExperiment(e.id, 'interrupted');
  s.close();

  s = RunStore.open(file);
  const got = s.finishedRun(r.id);
  assert.ok(got);
  assert.deepEqual(got, r);
  assert.deepEqual(Object.keys(got.params), Object.keys(r.params), 'params keep their order');
  for (const [k, v] of Object.entries(r.params)) assert.equal(typeof got.params[k], typeof v, `param ${k} keeps its type`);
  assert.equal(got.params.numericString, '8');
  assert.ok(Number.isNaN(got.metrics.nan));
  assert.equal(got.metrics.inf, Infinity);
  assert.equal(s.finishedRun('c0ffee0000000002'), null, 'a running run is not reusable');
  assert.equal(s.finishedRun('c0ffee0000000003')!.reason, 'out of memory', 'a failure is remembered');
  assert.equal(s.finishedRun('nope'), null);
  assert.deepEqual(s.runsOf(e.id).map((x) => x.id), ['c0ffee0000000001', 'c0ffee0000000002', 'c0ffee0000000003']);
  // Resuming the experiment: the same record (params as first stored), marked running again.
  const again = s.startExperiment({ id: e.id, name: 'vit tune', params: { model: 'm.onnx', maxDrop: 0.5, labels: true, threads: 2 } });
  assert.equal(again.createdAt, e.createdAt);
  assert.equal(again.status, 'running');
  assert.deepEqual(again.params, e.params);
  assert.equal(typeof again.params.labels, 'boolean');
  s.close();
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), STORE_SCHEMA_VERSION);
  assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
  assert.equal(String(db.pragma('journal_mode', { simple: true })), 'wal');
  db.close();
});

test('saveRun replaces a run whole (params not merged); experiments newest first; summary kept', () => {
  const s = RunStore.open(path.join(tmp(), 'runs.db'));
  s.startExperiment({ id: 'aaaa0001', name: 'first', params: {} });
  s.startExperiment({ id: 'aaaa0002', name: 'second', params: {} });
  s.saveRun(run('r1', 'aaaa0001', { status: 'running', params: { a: 1, b: 2 }, metrics: {} }));
  s.saveRun(run('r1', 'aaaa0001', { params: { a: 3 }, metrics: { m: 1 } }));
  assert.deepEqual(s.getRun('r1')!.params, { a: 3 });
  assert.deepEqual(s.getRun('r1')!.metrics, { m: 1 });
  assert.deepEqual(s.experiments().map((e) => e.name), ['second', 'first']);
  s.finishExperiment('aaaa0001', 'done', { chosen: 'r1', verdict: 'fine', nested: { x: [1, 2] } });
  assert.deepEqual(s.getExperiment('aaaa0001')!.summary, { chosen: 'r1', verdict: 'fine', nested: { x: [1, 2] } });
  assert.equal(s.getExperiment('aaaa0001')!.status, 'done');
  assert.throws(() => s.saveRun(run('r2', 'not-started')), /not been started/);
  assert.throws(() => s.saveRun(run('r3', 'aaaa0001', { params: { bad: {} as unknown as string } })), TypeError);
  assert.equal(s.getRun('r3'), null, 'a rejected run writes nothing');
  s.close();
});

test('dedup: a run shared by two experiments through the join table keeps its origin', () => {
  const s = RunStore.open(path.join(tmp(), 'runs.db'));
  const id = candidateId(parts);
  s.startExperiment({ id: 'expA0000', name: 'A', params: {} });
  s.startExperiment({ id: 'expB0000', name: 'B', params: {} });
  s.saveRun(run(id, 'expA0000'));
  s.saveRun(run('only-in-b', 'expB0000'));
  const found = s.finishedRun(candidateId({ ...parts, settings: JSON.parse(JSON.stringify(parts.settings)) }));
  assert.ok(found, 'same parts, same id: reusable');
  assert.equal(s.finishedRun(candidateId({ ...parts, runtime: 'other' })), null);
  s.saveRun({ ...found, experimentId: 'expB0000' });
  s.linkRun('expB0000', id); // idempotent
  assert.deepEqual(s.runsOf('expA0000').map((r) => r.id), [id]);
  assert.deepEqual(s.runsOf('expB0000').map((r) => r.id).sort(), [id, 'only-in-b'].sort());
  assert.equal(s.getRun(id)!.experimentId, 'expA0000');
  assert.deepEqual(s.experimentsOf(id), ['expA0000', 'expB0000']);
  s.close();
});

test('ids: exact, a unique prefix of 4+ characters, ambiguity is a UserError', () => {
  const s = RunStore.open(path.join(tmp(), 'runs.db'));
  s.startExperiment({ id: 'e0e0e0e0e0', name: 'x', params: {} });
  s.saveRun(run('abcdef0123', 'e0e0e0e0e0'));
  s.saveRun(run('abcdff0123', 'e0e0e0e0e0'));
  assert.equal(s.getRun('abcde')!.id, 'abcdef0123');
  assert.equal(s.getRun('abc'), null, 'under 4 characters: exact only');
  assert.throws(() => s.getRun('abcd'), (e: unknown) => e instanceof UserError && /ambiguous/.test(e.message));
  assert.equal(s.getExperiment('e0e0')!.id, 'e0e0e0e0e0');
  assert.equal(s.getExperiment('ffff'), null);
  assert.equal(s.getRun('%%%%'), null);
  s.close();
});

test('putArtifact stores a model once, by content hash, atomically', () => {
  const dir = tmp();
  const s = RunStore.open(path.join(dir, 'runs.db'));
  const bytes = randomBytes(10_000);
  const a = s.putArtifact(bytes);
  const b = s.putArtifact(new Uint8Array(bytes));
  assert.deepEqual(a, b);
  assert.match(a.sha256, /^[0-9a-f]{64}$/);
  assert.equal(a.path, path.join(dir, 'artifacts', `${a.sha256}.onnx`));
  assert.deepEqual(readdirSync(path.join(dir, 'artifacts')), [`${a.sha256}.onnx`], 'one file, no temporaries');
  assert.deepEqual(readFileSync(a.path), bytes);
  assert.equal(s.artifactPath(a.sha256), a.path);
  assert.equal(s.artifactPath('0'.repeat(64)), null);
  assert.equal(s.artifactPath('../runs'), null);
  s.putArtifact(randomBytes(10));
  assert.equal(readdirSync(path.join(dir, 'artifacts')).length, 2);
  s.close();
});

/** A filled store file (closed: the WAL checkpointed into it). */
function filledStore(file: string, runs = 3): string {
  const s = RunStore.open(file);
  s.startExperiment({ id: 'e1e1e1e1e1e1e1e1', name: 'tune', params: {} });
  for (let i = 0; i < runs; i++) s.saveRun(run(`run${String(i).padStart(4, '0')}`, 'e1e1e1e1e1e1e1e1', { tags: { pad: 'x'.repeat(500) } }));
  s.close();
  return file;
}

test('foreign or broken files: one-line UserError naming the file, file left byte for byte', () => {
  const dir = tmp();
  const cases: [string, (f: string) => void, RegExp][] = [
    ['random.db', (f) => writeFileSync(f, randomBytes(8192)), /not an SQLite database/],
    ['text.db', (f) => writeFileSync(f, 'hello\n'), /not an SQLite database/],
    ['truncated.db', (f) => {
      const full = readFileSync(filledStore(path.join(dir, 'full', 'runs.db'), 200));
      assert.ok(full.length > 100_000);
      writeFileSync(f, full.subarray(0, Math.floor(full.length / 2)));
    }, /corrupt/],
    ['newer.db', (f) => {
      filledStore(f);
      const db = new Database(f);
      db.pragma('user_version = 99');
      db.close();
    }, /schema version 99.*reads version 1.*newer/],
    ['older.db', (f) => {
      filledStore(f);
      const db = new Database(f);
      db.pragma('user_version = 0');
      db.close();
    }, /schema version 0.*older/],
    ['other.db', (f) => {
      const db = new Database(f);
      db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES (\'ann\')');
      db.close();
    }, /not a vitopt run store.*tables: users/],
    ['versioned-other.db', (f) => {
      const db = new Database(f);
      db.pragma('user_version = 99');
      db.close();
    }, /not a vitopt run store.*user_version 99/],
  ];
  for (const [name, make, re] of cases) {
    const f = path.join(dir, name);
    make(f);
    const before = readFileSync(f);
    for (const create of [true, false]) {
      assert.throws(() => RunStore.open(f, { create }), (e: unknown) => {
        assert.ok(e instanceof UserError, `${name}: UserError expected, got ${String(e)}`);
        assert.ok(e.message.startsWith(`${f}: `), `${name}: ${e.message}`);
        assert.equal(e.message.split('\n').length, 1);
        assert.match(e.message, re, name);
        return true;
      });
      assert.deepEqual(readFileSync(f), before, `${name} unchanged`);
      assert.ok(!existsSync(`${f}-wal`) && !existsSync(`${f}-journal`), `${name}: no side files left`);
    }
  }
  // A directory, a missing file (create: false: not created), an empty file read without create.
  assert.throws(() => RunStore.open(dir), /is a directory/);
  const missing = path.join(dir, 'missing', 'runs.db');
  assert.throws(() => RunStore.open(missing, { create: false }), (e: unknown) => e instanceof UserError && e.message.startsWith(missing));
  assert.ok(!existsSync(path.dirname(missing)));
  const empty = path.join(dir, 'empty.db');
  writeFileSync(empty, '');
  assert.throws(() => RunStore.open(empty, { create: false }), /empty database/);
  assert.equal(readFileSync(empty).length, 0);
  RunStore.open(empty).close(); // an empty file becomes a store when creating
});

const CHILD = `
import { RunStore } from ${JSON.stringify(STORE_MODULE)};
const s = RunStore.open(process.argv[2]);
s.startExperiment({ id: 'killed', name: 'killed', params: {} });
for (let i = 0; ; i++) {
  const params = {}, metrics = {}, tags = {};
  for (let k = 0; k < 24; k++) params['p' + k] = k % 3 === 0 ? k : k % 3 === 1 ? 's' + k : k % 2 === 0;
  for (let k = 0; k < 10; k++) metrics['m' + k] = i + k / 10;
  for (let k = 0; k < 4; k++) tags['t' + k] = 'x'.repeat(200);
  s.saveRun({ id: 'run' + i, experimentId: 'killed', label: 'l' + i, stage: 'speed', status: 'done', params, metrics, tags,
    startedAt: new Date().toISOString(), endedAt: new Date().toISOString() });
  if (i % 25 === 0) process.stdout.write(i + '\\n');
}
`;

/** Start the writer, let it write at least `atLeast` runs, kill it with `signal`. */
function killMidWrite(file: string, signal: NodeJS.Signals, atLeast: number): Promise<void> {
  const script = path.join(path.dirname(file), 'writer.mjs');
  writeFileSync(script, CHILD);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.stdout.on('data', (d: Buffer) => {
      const last = Number(d.toString().trim().split('\n').pop());
      if (last >= atLeast && !child.killed) child.kill(signal);
    });
    child.on('exit', (code, sig) => (sig === signal ? resolve() : reject(new Error(`writer exited ${code} ${sig}: ${err}`))));
  });
}

test('a writer killed mid-write (SIGINT, SIGKILL) leaves a consistent store: every run complete', async () => {
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    const file = path.join(tmp(), 'runs.db');
    await killMidWrite(file, signal, 150);
    const s = RunStore.open(file); // validates, quick_check included
    const runs = s.runsOf('killed');
    assert.ok(runs.length >= 150, `${signal}: ${runs.length} runs`);
    for (const r of runs) {
      assert.equal(Object.keys(r.params).length, 24, `${signal} ${r.id} params`);
      assert.equal(Object.keys(r.metrics).length, 10, `${signal} ${r.id} metrics`);
      assert.equal(Object.keys(r.tags).length, 4, `${signal} ${r.id} tags`);
      assert.equal(r.metrics.m3, Number(r.id.slice(3)) + 0.3);
    }
    // Ids are consecutive: no hole left by a half-written run.
    assert.deepEqual(runs.map((r) => Number(r.id.slice(3))).sort((a, b) => a - b), runs.map((_, i) => i));
    s.close();
  }
});

function badInput(r: { status: number | null; stderr: string }, re: RegExp) {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

test('vitopt runs list | show | compare', () => {
  const dir = tmp();
  const s = RunStore.open(path.join(dir, '.vitopt', 'runs.db'));
  const art = s.putArtifact(randomBytes(100));
  s.startExperiment({ id: '1111aaaa2222bbbb', name: 'older tune', params: { model: 'a.onnx' } });
  s.finishExperiment('1111aaaa2222bbbb', 'failed');
  s.startExperiment({ id: '3333cccc4444dddd', name: 'vit-b16 throughput', params: { model: 'vit.onnx', maxDrop: 0.5 } });
  s.saveRun(run('base00000000base', '3333cccc4444dddd', { label: 'baseline fp32', stage: 'baseline', params: { quant: 'none', batch: 8 },
    metrics: { imagesPerSecond: 10, top1: 0.91 } }));
  s.saveRun(run('cand00000000cand', '3333cccc4444dddd', { label: 'dynamic INT8 b8', params: { quant: 'dynamic', batch: 8, guard: true },
    metrics: { imagesPerSecond: 15, top1: 0.905, sizeBytes: 1000 }, artifact: { sha256: art.sha256, bytes: 100 } }));
  s.saveRun(run('fail00000000fail', '3333cccc4444dddd', { label: 'int4', status: 'failed', reason: 'crashed: out of memory', metrics: {} }));
  s.finishExperiment('3333cccc4444dddd', 'done', { decision: { chosen: 'cand00000000cand' }, verdict: '1.5x faster' });
  s.close();

  // list, from the directory holding .vitopt (the default store)
  let r = runCli(['runs', 'list'], dir);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^id\s+date\s+name\s+status\s+runs\s+chosen/);
  assert.match(lines[1]!, /^3333cccc4444\s.*vit-b16 throughput\s+done\s+3\s+cand00000000 dynamic INT8 b8/);
  assert.match(lines[2]!, /^1111aaaa2222\s.*older tune\s+failed\s+0/);
  r = runCli(['runs', 'list', '--json', '--store', path.join(dir, '.vitopt', 'runs.db')]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { id: string; runs: number; chosen: { id: string; label: string } | null; verdict: string | null }[];
  assert.deepEqual(rows.map((x) => [x.id, x.runs]), [['3333cccc4444dddd', 3], ['1111aaaa2222bbbb', 0]]);
  assert.deepEqual(rows[0]!.chosen, { id: 'cand00000000cand', label: 'dynamic INT8 b8' });
  assert.equal(rows[0]!.verdict, '1.5x faster');

  // show an experiment (by prefix): every run, its metrics, the failure's reason
  r = runCli(['runs', 'show', '3333cc'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /experiment 3333cccc4444dddd\s+vit-b16 throughput/);
  assert.match(r.stdout, /imagesPerSecond/);
  assert.match(r.stdout, /base00000000base\s+baseline fp32\s+baseline\s+done\s+10\b/);
  assert.match(r.stdout, /cand00000000cand\s+dynamic INT8 b8\s+candidate\s+done\s+15\b.*chosen/);
  assert.match(r.stdout, /fail00000000fail\s+int4\s+candidate\s+failed.*crashed: out of memory/);
  r = runCli(['runs', 'show', '3333cccc4444dddd', '--json'], dir);
  const shown = JSON.parse(r.stdout) as { kind: string; runs: StoredRun[] };
  assert.equal(shown.kind, 'experiment');
  assert.deepEqual(shown.runs.map((x) => x.id), ['base00000000base', 'cand00000000cand', 'fail00000000fail']);
  assert.equal(shown.runs[1]!.params.guard, true);

  // show a run in full, with its artifact's path
  r = runCli(['runs', 'show', 'cand00000000cand'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /run cand00000000cand\s+dynamic INT8 b8/);
  assert.match(r.stdout, /params\n\s+quant\s+dynamic\n\s+batch\s+8\n\s+guard\s+true/);
  assert.match(r.stdout, /metrics\n\s+imagesPerSecond\s+15\n/);
  assert.ok(r.stdout.includes(path.join('.vitopt', 'artifacts', `${art.sha256}.onnx`)));
  r = runCli(['runs', 'show', 'cand', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const one = JSON.parse(r.stdout) as { kind: string; run: StoredRun; artifactPath: string };
  assert.equal(one.kind, 'run');
  assert.equal(one.artifactPath, art.path);

  // compare: every param and metric of either, differences and ratios
  r = runCli(['runs', 'compare', 'base00000000base', 'cand'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /quant\s+none\s+dynamic\s+\*/);
  assert.match(r.stdout, /guard\s+—\s+true\s+\*/);
  assert.match(r.stdout, /imagesPerSecond\s+10\s+15\s+\+5\s+1\.500x/);
  assert.match(r.stdout, /sizeBytes\s+—\s+1000\s+—\s+—/);
  r = runCli(['runs', 'compare', 'base00000000base', 'cand00000000cand', '--json'], dir);
  const cmp = JSON.parse(r.stdout) as { metrics: { key: string; a: number | null; b: number | null; diff: number | null; ratio: number | null }[] };
  assert.deepEqual(cmp.metrics.find((m) => m.key === 'imagesPerSecond'), { key: 'imagesPerSecond', a: 10, b: 15, diff: 5, ratio: 1.5 });

  // bad input: exit 2, one line; nothing created by a read command
  const before = readFileSync(path.join(dir, '.vitopt', 'runs.db'));
  badInput(runCli(['runs', 'show', 'zzzz9999'], dir), /no experiment or run zzzz9999/);
  badInput(runCli(['runs', 'compare', 'base00000000base', 'nope'], dir), /no run nope/);
  badInput(runCli(['runs', 'compare', 'base', '3333cccc'], dir), /no run 3333cccc.*experiment/);
  const empty = tmp();
  badInput(runCli(['runs', 'list'], empty), /\.vitopt\/runs\.db: no run store/);
  assert.deepEqual(readdirSync(empty), [], 'a read command creates nothing');
  badInput(runCli(['runs', 'show', 'x', '--store', path.join(empty, 'other.db')]), /other\.db: no run store/);
  writeFileSync(path.join(empty, 'junk.db'), 'not a database');
  badInput(runCli(['runs', 'list', '--store', path.join(empty, 'junk.db')]), /junk\.db: not a vitopt run store/);
  assert.deepEqual(readFileSync(path.join(dir, '.vitopt', 'runs.db')), before);
});
