/**
 * `runLoadtest` against a real `vitopt serve fashion-vit`: concurrency levels measured in windows, the
 * client's counts agreeing with the server's own statistics (an independent count of the same
 * requests), fixed-size and fixed-rate levels, and every request format checked against predictions
 * made in this process with onnxruntime-node directly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadtest } from '../../src/loadtest/index.js';
import type { RunningServer } from '../../src/serve/server.js';
import { clearImages, startFashion, writeIdx, type Predicted } from './fixtures.js';

let server: RunningServer;
let clear: Predicted;

before(async () => {
  server = await startFashion();
  clear = await clearImages(24);
});

after(async () => {
  await server?.close();
});

test('concurrency levels: windows, stability verdict, percentiles, and the server counts the same requests', async () => {
  const windows: number[] = [];
  const r = await runLoadtest({ url: server.url, model: 'fashion-vit', concurrency: [1, 4], windowMs: 300, maxWindows: 4, limit: 8,
    onProgress: (l) => { if (/window \d+:/.test(l)) windows.push(1); } });
  assert.equal(r.levels.length, 2);
  assert.deepEqual(r.levels.map((l) => [l.mode, l.value]), [['concurrency', 1], ['concurrency', 4]]);
  for (const l of r.levels) {
    // Either stable after ≥ 3 windows, or given up after --max-windows: never more, never fewer than 3.
    assert.ok(l.windows.length >= 3 && l.windows.length <= 4, `${l.windows.length} windows`);
    if (l.windows.length < 4) assert.equal(l.stable, true);
    assert.equal(l.stable, l.throughputSpread !== null && l.throughputSpread <= 0.1 && l.latencySpread! <= 0.1);
    const m = l.measured.latency;
    assert.ok(m.count > 0 && m.p50Ms! <= m.p90Ms! && m.p90Ms! <= m.p95Ms! && m.p95Ms! <= m.p99Ms! && m.p99Ms! <= m.maxMs!);
    // Measured figures are those of the last three windows.
    const last = l.windows.slice(-3);
    assert.equal(m.count, last.reduce((s, w) => s + w.completed, 0));
    const o = l.outcomes;
    assert.equal(o.sent, o.succeeded, 'no errors on an idle server');
    assert.equal(o.check.mismatched + o.check.misrouted + o.check.duplicates + o.check.malformed, 0);
    assert.equal(o.check.checked, o.succeeded);
    // The server's statistics (differenced around the level) saw exactly the requests the client counted.
    assert.equal(l.server!.successes, o.succeeded);
    assert.equal(l.server!.inferenceCount, o.succeeded);
    assert.ok(l.server!.avgBatchSize! >= 1 && l.server!.avgBatchSize! <= 4);
    assert.ok(l.server!.queueUs! >= 0 && l.server!.computeInferUs! > 0);
    assert.equal(l.timeline.ok.reduce((a, b) => a + b, 0), o.succeeded);
  }
  assert.equal(windows.length, r.levels[0]!.windows.length + r.levels[1]!.windows.length);
  assert.equal(r.levels[0]!.server!.avgBatchSize, 1, 'one request at a time is never batched');
  assert.equal(r.totals.unaccounted, 0);
});

test('--requests: exactly n requests per level; --rate: sends on schedule', async () => {
  const r = await runLoadtest({ url: server.url, model: 'fashion-vit', concurrency: [3], requests: 40, windowMs: 200, limit: 5 });
  assert.equal(r.levels[0]!.outcomes.sent, 40);
  assert.equal(r.levels[0]!.outcomes.succeeded, 40);
  assert.equal(r.levels[0]!.server!.successes, 40);
  const rate = await runLoadtest({ url: server.url, model: 'fashion-vit', rate: [20], durationS: 1.5, windowMs: 500, limit: 5 });
  const l = rate.levels[0]!;
  assert.equal(l.mode, 'rate');
  // 20/s on a schedule: one send per 50 ms of the level's real length (1.5 s asked; a starved machine
  // stretches the windows, and the schedule catches up), give or take the first and last ticks.
  const due = 20 * l.overall.durationMs / 1000;
  assert.ok(Math.abs(l.outcomes.sent - due) <= 3, `${l.outcomes.sent} sent in ${l.overall.durationMs} ms`);
  assert.equal(l.outcomes.succeeded, l.outcomes.sent);
  assert.equal(l.outcomes.dropped, 0);
});

test('labelled data: every format answers the in-process prediction of every image', async () => {
  const spec = writeIdx(clear.images, clear.top1);
  for (const [format, input] of [['binary', 'pixels'], ['json', 'pixels'], ['binary', 'bytes']] as const) {
    const r = await runLoadtest({ url: server.url, model: 'fashion-vit', images: spec, expect: 'labels', format, input,
      concurrency: [4], requests: 48, windowMs: 200 });
    const o = r.levels[0]!.outcomes;
    assert.equal(r.workload.input, input);
    assert.equal(o.succeeded, 48, `${format}/${input}`);
    assert.equal(o.check.checked, 48);
    assert.equal(o.check.mismatched, 0, `${format}/${input}: ${o.check.examples.join('; ')}`);
  }
  // Batches of 3 images per request: 8 requests cover the 24 images; each image is checked.
  const b = await runLoadtest({ url: server.url, model: 'fashion-vit', images: spec, expect: 'labels', batchSize: 3, concurrency: [2], requests: 16, windowMs: 200 });
  assert.equal(b.workload.distinctPayloads, 8);
  assert.equal(b.levels[0]!.outcomes.check.checked, 48);
  assert.equal(b.levels[0]!.outcomes.check.mismatched, 0);
  assert.equal(b.levels[0]!.server!.inferenceCount, 48);
});
