/**
 * Faults against a real server: a worker thread killed mid-run fails its in-flight request with a
 * clean 503 (never a hang), ready turns 503 while no instance is healthy, the instance is restarted
 * (counted in /metrics) and serves again; with two instances the other keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../src/serve/server.js';
import { slowModelFile } from './fixtures.js';

const SIDE = 64;

const infer = (url: string) => fetch(`${url}/v2/models/slow/infer`, {
  method: 'POST', headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' },
  body: new Uint8Array(new Float32Array(3 * SIDE * SIDE).fill(0.5).buffer),
});

const kill = (url: string, i: number) => fetch(`${url}/v2/debug/models/slow/instances/${i}/kill`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } });

async function until(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a worker killed mid-run: in-flight request gets 503, ready 503, restart, ready again, serves', async () => {
  const file = slowModelFile(4000); // ~150 ms a run: the kill surely lands inside one
  const s = await startServer({ models: [file], port: 0, threads: 1, maxBatchSize: 1, adminToken: 's3cret', backoffMs: [800] });
  try {
    // Measure one run, so the kill lands in the middle of the next.
    let t0 = performance.now();
    assert.equal((await infer(s.url)).status, 200);
    const runMs = performance.now() - t0;
    t0 = performance.now();
    const inflight = infer(s.url);
    await new Promise((r) => setTimeout(r, Math.max(20, runMs / 3)));
    assert.equal((await kill(s.url, 0)).status, 200);
    const res = await inflight;
    assert.equal(res.status, 503);
    assert.match((await res.json() as { error: string }).error, /crashed/);
    assert.ok(performance.now() - t0 < 5000);
    // No healthy instance until the back-off passes: ready and new requests answer 503 at once.
    const ready = await fetch(`${s.url}/v2/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal((await fetch(`${s.url}/v2/models/slow/ready`)).status, 503);
    const refused = await infer(s.url);
    assert.equal(refused.status, 503);
    assert.ok(refused.headers.get('retry-after'));
    assert.equal((await fetch(`${s.url}/v2/health/live`)).status, 200);
    await until('ready again', async () => (await fetch(`${s.url}/v2/health/ready`)).status === 200);
    assert.equal((await infer(s.url)).status, 200);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const l = `model="slow",version="1"`;
    assert.match(metrics, new RegExp(`^vitopt_worker_restarts_total\\{${l}\\} 1$`, 'm'));
    assert.match(metrics, new RegExp(`^nv_inference_request_failure\\{${l},reason="BACKEND"\\} 2$`, 'm'));
  } finally {
    await s.close();
  }
});

test('two instances: killing one leaves the server ready and serving', async () => {
  const file = slowModelFile(100);
  const s = await startServer({ models: [file], port: 0, threads: 2, instances: 2, maxBatchSize: 1, adminToken: 's3cret', backoffMs: [300] });
  try {
    assert.equal(s.state.models.get('slow')!.threadsPerInstance, 1); // the budget is split
    assert.equal((await kill(s.url, 1)).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await fetch(`${s.url}/v2/health/ready`)).status, 200);
    const res = await Promise.all([infer(s.url), infer(s.url), infer(s.url)]);
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200]);
    const idx = await fetch(`${s.url}/v2/repository/index`, { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
    assert.deepEqual(await idx.json(), [{ name: 'slow', version: '1', state: 'READY', reason: '' }]);
    // The idle thread really exited (terminated): the pool saw it and started a new one.
    await until('the restart', async () => /^vitopt_worker_restarts_total\{model="slow",version="1"\} 1$/m.test(await (await fetch(`${s.url}/metrics`)).text()));
    assert.equal(s.state.models.get('slow')!.pool.healthy, 2);
  } finally {
    await s.close();
  }
});
