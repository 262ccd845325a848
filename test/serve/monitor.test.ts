/** InferenceMonitor with a controlled clock: every figure checked against a hand computation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceMonitor } from '../../src/serve/monitor.js';

test('last-N and last-T windows: latency percentiles, throughput, batch size, errors', () => {
  let now = 0;
  const m = new InferenceMonitor({ lastN: 4, windowSeconds: 10, now: () => now });
  // Ten requests, one per second, latency 10·i ms; the 5th fails; executions of 2 and 4 images.
  for (let i = 1; i <= 10; i++) {
    now = i * 1000;
    if (i % 2 === 0) m.execution(i % 4 === 0 ? 4 : 2);
    m.record({ latencyMs: 10 * i, queueMs: i, images: 1, ok: i !== 5 });
  }
  const s = m.snapshot({ queueDepth: 3, inFlight: 1 });
  // last 4: latencies 70, 80, 90, 100 (all ok); span from 7000 − 70 to 10000.
  assert.equal(s.lastN.requests, 4);
  assert.equal(s.lastN.errors, 0);
  assert.equal(s.lastN.latencyMs.mean, 85);
  assert.equal(s.lastN.latencyMs.p50, 85);
  assert.equal(s.lastN.latencyMs.max, 100);
  assert.equal(s.lastN.latencyMs.p95, 98.5); // 90 + 0.85·10 (linear interpolation)
  assert.equal(s.lastN.throughput.requestsPerSecond, Math.round(4 / 3.07 * 1000) / 1000);
  assert.equal(s.lastN.avgBatchSize, 3); // executions at 8000 (4) and 10000 (2)
  // last 10 s: everything since the monitor started (t = 0): 10 requests, 1 error.
  assert.equal(s.lastSeconds.requests, 10);
  assert.equal(s.lastSeconds.errors, 1);
  assert.equal(s.lastSeconds.latencyMs.mean, Math.round((550 - 50) / 9 * 1000) / 1000); // figures are rounded to 0.001
  assert.equal(s.lastSeconds.throughput.requestsPerSecond, 0.9);
  assert.equal(s.lastSeconds.avgBatchSize, (2 + 4 + 2 + 4 + 2) / 5);
  assert.equal(s.queueDepth, 3);
  assert.equal(s.inFlight, 1);
  assert.ok(s.memory.rssBytes > 0);
  // 20 s later, the time window is empty but the last N remain.
  now = 30_000;
  const later = m.snapshot();
  assert.equal(later.lastSeconds.requests, 0);
  assert.equal(later.lastSeconds.latencyMs.p95, null);
  assert.equal(later.lastN.requests, 4);
});
