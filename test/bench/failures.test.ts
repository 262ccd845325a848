/**
 * Failure paths: an engine that cannot start, a model that cannot be read or loaded, a configuration
 * that runs out of memory, crashes, hangs or throws — each is reported with the reason, and the rest
 * of the run goes on and is saved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runBench } from '../../src/bench/runner.js';
import { configLabel } from '../../src/bench/runner.js';
import { supportedBackends } from '../../src/engines/ort-node.js';
import { cli, corruptOnnx, tinyIR, tinyOnnx, tmp, unknownOpOnnx } from './fixtures.js';

const fast = { iterations: 2, warmup: 1, repeats: 1, threads: [1], baseline: false };

test('a model that cannot be read, a model no engine loads, and a good one: two failures and a result', async () => {
  const dir = tmp();
  const good = await tinyOnnx(dir);
  const corrupt = await corruptOnnx(dir);
  const unknown = await unknownOpOnnx(dir);
  const rep = await runBench({ ...fast, models: [corrupt, unknown, good], engines: ['cpu'] });
  const by = (m: string) => rep.results.find((r) => r.model === m)!;
  assert.equal(by('corrupt.onnx').status, 'failed');
  assert.equal(by('corrupt.onnx').failure!.stage, 'prepare');
  assert.match(by('corrupt.onnx').failure!.reason, /corrupt\.onnx.*not a valid ONNX model/);
  assert.equal(by('unknown-op.onnx').status, 'failed');
  assert.equal(by('unknown-op.onnx').failure!.stage, 'load');
  assert.match(by('unknown-op.onnx').failure!.reason, /cannot be loaded by ONNX Runtime/);
  assert.equal(by('tiny.onnx').status, 'ok');
  assert.ok(by('tiny.onnx').imagesPerSecond!.median > 0);
});

test('out of memory, crash, hang and a failing run: each reported, the others still measured', async () => {
  const ir = tinyIR();
  const base = { model: 'tiny-vit', engine: 'cpu' as const, graph: 'ort' as const, threads: 1, workers: 1, session: {}, baseline: false };
  const label = (batch: number) => configLabel({ ...base, batch });
  const rep = await runBench({
    ...fast, models: [{ name: 'tiny-vit', ir }], engines: ['cpu'], batches: [1, 2, 3, 4, 5], timeoutS: 6, memoryLimitBytes: 400 * 2 ** 20,
    faults: { [label(1)]: 'oom', [label(2)]: 'crash', [label(3)]: 'hang', [label(4)]: 'throw' },
  });
  const at = (b: number) => rep.results.find((r) => r.batch === b)!;
  assert.equal(at(1).status, 'failed');
  assert.equal(at(1).failure!.stage, 'memory');
  assert.match(at(1).failure!.reason, /out of memory: resident memory passed the limit of 400 MiB/);
  assert.equal(at(2).failure!.stage, 'process');
  assert.match(at(2).failure!.reason, /crashed \(SIGABRT\)/);
  assert.equal(at(3).failure!.stage, 'timeout');
  assert.match(at(3).failure!.reason, /timed out after 6 s/);
  assert.equal(at(4).failure!.stage, 'run');
  assert.match(at(4).failure!.reason, /injected fault/);
  assert.equal(at(5).status, 'ok', at(5).failure?.reason);
});

test('an engine that cannot start is skipped with the reason; the others run', async (t) => {
  const cuda = supportedBackends().find((b) => b.name === 'cuda');
  if (cuda?.bundled) return t.skip('this onnxruntime-node ships the CUDA provider');
  const rep = await runBench({ ...fast, models: [{ name: 'tiny-vit', ir: tinyIR() }], engines: ['cuda', 'cpu'] });
  const c = rep.results.filter((r) => r.engine === 'cuda');
  assert.ok(c.length >= 1);
  for (const r of c) {
    assert.equal(r.status, 'skipped');
    assert.match(r.failure!.reason, /CUDA|cuda|shared library|execution provider/);
  }
  assert.equal(rep.results.find((r) => r.engine === 'cpu')!.status, 'ok');
  const e = rep.engines.find((x) => x.engine === 'cuda')!;
  assert.equal(e.available, false);
});

test('CLI: failures are in the saved report, exit 0; nothing runnable at all is bad input (exit 2)', async () => {
  const dir = tmp();
  const good = await tinyOnnx(dir);
  const corrupt = await corruptOnnx(dir);
  const out = path.join(dir, 'report.json');
  const md = path.join(dir, 'report.md');
  const chart = path.join(dir, 'chart.svg');
  const r = cli(['bench', good, corrupt, '--iterations', '2', '--warmup', '1', '--repeats', '1', '--threads', '1', '--json', out, '--report', md,
    '--chart', chart, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(await fs.readFile(out, 'utf8'));
  assert.equal(j.results.length, 4); // naive + cpu, for each model
  assert.equal(j.results.filter((x: { status: string; model: string }) => x.status === 'failed' && x.model === 'corrupt.onnx').length, 2);
  assert.ok(j.results.some((x: { status: string; baseline: boolean }) => x.status === 'ok' && x.baseline));
  assert.match(await fs.readFile(md, 'utf8'), /\| tiny.onnx \| onnxruntime-node CPU — naive \|/);
  assert.match(await fs.readFile(chart, 'utf8'), /^<svg/);
  assert.match(r.stdout, /vs naive/);

  const bad = cli(['bench', corrupt, '--iterations', '1', '--quiet']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /corrupt\.onnx/);
  const flag = cli(['bench', good, '--engine', 'tpu']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /unknown engine 'tpu'/);
  const fb = cli(['bench', good, '--find-batch']);
  assert.equal(fb.status, 2);
  assert.match(fb.stderr, /--memory-budget/);
});
