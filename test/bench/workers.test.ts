import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../src/bench/runner.js';
import { tinyIR } from './fixtures.js';

test('--workers: concurrent sessions in worker threads, measured in one process', async () => {
  const rep = await runBench({ models: [{ name: 'tiny-vit', ir: tinyIR() }], engines: ['cpu', 'wasm'], batches: [2], threads: [1], workers: [2],
    iterations: 3, warmup: 1, repeats: 1, baseline: false });
  for (const r of rep.results) {
    assert.equal(r.status, 'ok', r.failure?.reason);
    assert.equal(r.workers, 2);
    assert.equal(r.samples[0]!.workers, 2);
    assert.equal(r.latencyMs!.runs, 6); // 3 runs in each of 2 sessions
    assert.equal(r.samples[0]!.images, 12);
    assert.match(r.label, / w2$/);
  }
  // Both engines see the same first image: the same logits (portable vs ort graph: float rounding only).
  assert.ok(rep.results[1]!.maxAbsDiff! < 1e-3, String(rep.results[1]!.maxAbsDiff));
});
