/**
 * Error counting against a real overloaded server: a queue of one request and batches of one, with 12
 * clients, must turn many requests away with 429 (and with 503 under --overload-status 503). The load
 * generator's counts by status must equal the failures the server itself counted, and every refusal
 * must be a clean {"error": …} answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadtest } from '../../src/loadtest/index.js';
import { startFashion } from './fixtures.js';

for (const status of [429, 503] as const) {
  test(`queue full → ${status}: counted by status, matching the server's own failure count`, async () => {
    const server = await startFashion({ maxBatchSize: 1, maxQueueSize: 1, overloadStatus: status });
    try {
      const r = await runLoadtest({ url: server.url, model: 'fashion-vit', concurrency: [12], durationS: 1.5, windowMs: 500, limit: 4 });
      const l = r.levels[0]!;
      const o = l.outcomes;
      const refused = o.errorsByStatus[String(status)] ?? 0;
      assert.ok(refused > 0, `no ${status} in ${JSON.stringify(o.errorsByStatus)}`);
      assert.ok(o.succeeded > 0);
      assert.deepEqual(Object.keys(o.errorsByStatus), [String(status)]);
      assert.equal(o.unclean, 0);
      assert.equal(o.lost.network + o.lost.timeout, 0);
      assert.equal(o.sent, o.succeeded + refused);
      assert.equal(l.server!.failures, refused);
      assert.equal(l.server!.successes, o.succeeded);
      assert.equal(r.totals.failed, refused);
      assert.equal(r.totals.unaccounted, 0);
      assert.ok(Object.keys(o.errorMessages).some((m) => m.startsWith(`${status} `)));
    } finally {
      await server.close();
    }
  });
}

test('a server that goes away mid-level: requests without an answer are counted lost, not hidden', async () => {
  const server = await startFashion();
  const run = runLoadtest({ url: server.url, model: 'fashion-vit', concurrency: [4], durationS: 3, windowMs: 500, limit: 4, requestTimeoutMs: 2000 });
  await new Promise((r) => setTimeout(r, 1200));
  // Close without draining: the listening socket and keep-alive connections go away.
  server.app.server.closeAllConnections();
  await server.app.close();
  const r = await run;
  const o = r.levels[0]!.outcomes;
  assert.ok(o.succeeded > 0);
  assert.ok(o.lost.network > 0, JSON.stringify(o));
  assert.equal(r.totals.unaccounted, 0);
  await server.state.close();
});
