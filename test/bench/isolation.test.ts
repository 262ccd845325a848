/**
 * Process isolation: each configuration runs in its own process, so a memory-hungry configuration
 * measured first does not raise the peak memory of the one measured after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../src/bench/runner.js';
import { tinyIR } from './fixtures.js';

test('each configuration is measured in a fresh process; peak memory is its own', async () => {
  // The parent holds 400 MiB while it runs the children: none of it may show in their figures
  // (a forked child's resourceUsage().maxRSS would include the parent's RSS at fork time).
  const ballast = Buffer.alloc(400 * 2 ** 20, 1);
  const parentRss = process.memoryUsage().rss;
  // A large batch allocates far more (input + activations) than batch 1. Big first, then small.
  const rep = await runBench({
    models: [{ name: 'tiny', ir: tinyIR({ resolution: 32 }) }], engines: ['cpu'], batches: [1024, 1], threads: [1],
    iterations: 2, warmup: 1, repeats: 2, baseline: false,
  });
  const [big, small] = rep.results;
  assert.equal(big!.status, 'ok', big!.failure?.reason);
  assert.equal(small!.status, 'ok', small!.failure?.reason);
  assert.equal(big!.batch, 1024);
  const pids = rep.results.flatMap((r) => r.samples.map((s) => s.pid));
  assert.equal(pids.length, 4);
  assert.equal(new Set(pids).size, 4, 'one process per measurement');
  assert.ok(!pids.includes(process.pid));
  // Batch 1024 of 32×32 images: 12 MiB of input, 69 MiB of attention matrices; batch 1 needs almost nothing.
  const bigPeak = big!.peakRssBytes!.min, smallPeak = small!.peakRssBytes!.max;
  assert.ok(bigPeak - smallPeak > 40 * 2 ** 20, `big ${bigPeak / 2 ** 20} MiB vs small ${smallPeak / 2 ** 20} MiB`);
  assert.ok(smallPeak < parentRss - 200 * 2 ** 20, `small ${smallPeak / 2 ** 20} MiB vs parent ${parentRss / 2 ** 20} MiB`);
  assert.equal(ballast[ballast.length - 1], 1);
  // Interleaved repeats: big, small, big, small.
  assert.deepEqual(rep.results.map((r) => r.samples.length), [2, 2]);
  // Every result records the settings it ran with.
  assert.equal(small!.settings!.threads, 1);
  assert.equal(small!.settings!.graphOptimization, 'all');
  assert.equal(small!.latencyMs!.runs, 4);
  assert.deepEqual(small!.samples[0]!.outputDims, [1, 7]);
  // The same first image for every batch size: the same logits.
  assert.ok(small!.maxAbsDiff! < 1e-4, String(small!.maxAbsDiff));
});
