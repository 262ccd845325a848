/**
 * `vitopt profile`: ONNX Runtime's profiler summed per op type. The trace reader is checked on a
 * synthetic trace (warm-up runs excluded, per-run means), the command on real models: the op types of
 * the graph ORT ran, the ones the fusion choice put there, JSON output, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { summarizeTrace } from '../../src/bench/profile.js';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { ALL_FUSIONS, NO_FUSIONS } from '../../src/export/layers.js';
import { saveModel } from '../../src/formats/onnx.js';
import { runCli, tinyVit, tmp } from '../core/helpers.js';

test('summarizeTrace keeps the last runs, sums kernels per op type and per node', () => {
  const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur });
  const k = (node: string, op: string, ts: number, dur: number) => ({ cat: 'Node', name: `${node}_kernel_time`, ts, dur, args: { op_name: op } });
  const events = [
    run(0, 100), k('mm1', 'MatMul', 10, 90), // warm-up: excluded
    run(200, 50), k('mm1', 'MatMul', 210, 20), k('mm2', 'MatMul', 230, 10), k('ln', 'LayerNormalization', 240, 5),
    { cat: 'Node', name: 'mm1_fence_before', ts: 205, dur: 1, args: { op_name: 'MatMul' } },
    run(300, 70), k('mm1', 'MatMul', 310, 40), k('mm2', 'MatMul', 350, 10), k('ln', 'LayerNormalization', 360, 15),
  ];
  const p = summarizeTrace(events, { batch: 2, runs: 2, threads: 1, top: 2 });
  assert.equal(p.runs, 2);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
  near(p.runMs, 0.06);
  near(p.kernelMs, 0.05);
  assert.deepEqual(p.byOpType.map((t) => [t.opType, t.nodes]), [['MatMul', 2], ['LayerNormalization', 1]]);
  near(p.byOpType[0]!.ms, 0.04);
  near(p.byOpType[1]!.ms, 0.01);
  near(p.byOpType[0]!.share, 0.8);
  assert.deepEqual(p.topNodes.map((n) => [n.name, n.opType]), [['mm1', 'MatMul'], ['mm2', 'MatMul']]);
  near(p.topNodes[0]!.ms, 0.03);
  assert.throws(() => summarizeTrace([k('a', 'Add', 0, 1)], { batch: 1, runs: 1, threads: 1, top: 1 }), /no model_run/);
});

test('vitopt profile reports the op types of the graph that ran, as a table and as JSON', () => {
  const dir = tmp();
  const ir = randomIR(tinyVit(), 1);
  const fused = path.join(dir, 'fused.onnx'), plain = path.join(dir, 'plain.onnx');
  return (async () => {
    await saveModel(fused, exportModel(ir, 'ort', { fusions: ALL_FUSIONS }));
    await saveModel(plain, exportModel(ir, 'ort', { fusions: NO_FUSIONS }));
    const a = runCli(['profile', fused, '--batch', '2', '--runs', '3', '--warmup', '1', '--threads', '1', '--json']);
    assert.equal(a.status, 0, a.stderr);
    const pa = JSON.parse(a.stdout) as { batch: number; runs: number; byOpType: { opType: string; ms: number; nodes: number }[]; topNodes: unknown[] };
    assert.equal(pa.batch, 2);
    assert.equal(pa.runs, 3);
    const types = new Set(pa.byOpType.map((t) => t.opType));
    for (const t of ['Attention', 'SkipLayerNormalization', 'FastGelu', 'MatMul']) assert.ok(types.has(t), `${t} in ${[...types]}`);
    assert.equal(pa.byOpType.find((t) => t.opType === 'Attention')!.nodes, 2);
    assert.ok(pa.byOpType.every((t) => t.ms >= 0));
    const b = runCli(['profile', plain, '--runs', '2', '--threads', '1']);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /\| op type \| nodes \| ms per run \| share \|/);
    assert.match(b.stdout, /\| Softmax \| 2 \|/);
    assert.doesNotMatch(b.stdout, /SkipLayerNormalization|\| Attention \|/);
  })();
});

test('vitopt profile: bad input is one line and exit 2', () => {
  const missing = runCli(['profile', path.join(tmp(), 'nope.onnx')]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const badBatch = runCli(['profile', 'ViT-Ti_16', '--batch', '0']);
  assert.equal(badBatch.status, 2);
  assert.match(badBatch.stderr, /--batch/);
});
