/**
 * Dynamic batching and the bounded queue against a real server: concurrent requests merge into one
 * run (execution_count < requests) and each gets its own rows back; preferred sizes dispatch at once;
 * a full queue answers 429 + Retry-After (503 with --overload-status 503); a request still queued at
 * its timeout gets 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../src/serve/server.js';
import { slowModelFile, TINY, tinyLogits, tinyRepository } from './fixtures.js';

const R = TINY.resolution;
const PER = 3 * R * R;

function pixels(seed: number): Float32Array {
  return Float32Array.from({ length: PER }, (_, i) => Math.fround(Math.cos(i * 0.21 + seed * 1.7)));
}

const infer = (url: string, x: Float32Array, params?: Record<string, unknown>) => fetch(`${url}/v2/models/tiny/infer`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ ...(params ? { parameters: params } : {}), inputs: [{ name: 'pixels', shape: [x.length / PER, 3, R, R], datatype: 'FP32', data: Array.from(x) }] }),
});

async function stats(url: string) {
  return ((await (await fetch(`${url}/v2/models/tiny/stats`)).json()) as { model_stats: any[] }).model_stats[0];
}

test('concurrent requests merge into one run, each gets its own logits in order', async () => {
  // A long delay: the batch goes out when it is full (8 images), not when the delay expires.
  const s = await startServer({ modelRepository: tinyRepository(), port: 0, threads: 1, maxBatchSize: 8, maxQueueDelayUs: 5_000_000 });
  try {
    const inputs = Array.from({ length: 8 }, (_, i) => pixels(i));
    const t0 = performance.now();
    const res = await Promise.all(inputs.map((x) => infer(s.url, x)));
    assert.ok(performance.now() - t0 < 4000, 'the full batch went out before the delay expired');
    for (const [i, r] of res.entries()) {
      assert.equal(r.status, 200);
      const out = (await r.json() as { outputs: { data: number[] }[] }).outputs[0]!.data;
      tinyLogits(inputs[i]!, 1)[0]!.forEach((v, j) => assert.ok(Math.abs(out[j]! - v) < 1e-5, `request ${i} class ${j}`));
    }
    const st = await stats(s.url);
    assert.equal(st.inference_count, 8);
    assert.equal(st.execution_count, 1);
    assert.deepEqual(st.batch_stats.map((b: any) => [b.batch_size, b.compute_infer.count]), [[8, 1]]);
    assert.equal(st.inference_stats.success.count, 8);
    // A request of 3 images and one of 5 fill a batch of 8 together.
    const a = Float32Array.from([...pixels(20), ...pixels(21), ...pixels(22)]);
    const b = Float32Array.from([...pixels(23), ...pixels(24), ...pixels(25), ...pixels(26), ...pixels(27)]);
    const [ra, rb] = await Promise.all([infer(s.url, a), infer(s.url, b)]);
    const da = (await ra.json() as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
    const db = (await rb.json() as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
    assert.deepEqual(da.shape, [3, 4]);
    assert.deepEqual(db.shape, [5, 4]);
    tinyLogits(b, 5).flat().forEach((v, j) => assert.ok(Math.abs(db.data[j]! - v) < 1e-5));
    const st2 = await stats(s.url);
    assert.equal(st2.execution_count, 2);
  } finally {
    await s.close();
  }
});

test('delay 0: a burst still batches while the instance is busy (exec_count < requests)', async () => {
  // A model slow enough (~15 ms a run) that the burst arrives while the first run is busy, on any host:
  // with the tiny model a fast host finished every run before the next request was parsed.
  const s = await startServer({ models: [slowModelFile(2000)], port: 0, threads: 1, maxBatchSize: 8 });
  const side = 64;
  const body = (i: number) => JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 3, side, side], datatype: 'FP32', data: new Array<number>(3 * side * side).fill(i / 40) }] });
  try {
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${s.url}/v2/models/slow/infer`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) })));
    assert.ok(res.every((r) => r.status === 200));
    const st = ((await (await fetch(`${s.url}/v2/models/slow/stats`)).json()) as { model_stats: any[] }).model_stats[0];
    assert.equal(st.inference_count, 40);
    assert.ok(st.execution_count < 40, `execution_count ${st.execution_count}`);
    assert.ok(st.batch_stats.every((b: any) => b.batch_size <= 8));
  } finally {
    await s.close();
  }
});

test('preferred_batch_size dispatches as soon as it can be formed', async () => {
  const s = await startServer({ modelRepository: tinyRepository(), port: 0, threads: 1, maxBatchSize: 8, preferredBatchSize: [2], maxQueueDelayUs: 5_000_000 });
  try {
    const t0 = performance.now();
    const res = await Promise.all([infer(s.url, pixels(1)), infer(s.url, pixels(2))]);
    assert.ok(res.every((r) => r.status === 200));
    assert.ok(performance.now() - t0 < 4000, 'did not wait for the delay');
    const st = await stats(s.url);
    assert.deepEqual(st.batch_stats.map((b: any) => b.batch_size), [2]);
  } finally {
    await s.close();
  }
});

test('queue full: 429 with Retry-After at once (503 with overloadStatus 503); queue timeout: 503', async () => {
  // The delay keeps requests queued (the batch never fills), so the queue state is deterministic.
  const s = await startServer({ modelRepository: tinyRepository(), port: 0, threads: 1, maxBatchSize: 8, maxQueueDelayUs: 3_000_000, maxQueueSize: 2, timeoutMs: 0 });
  try {
    const queued = [infer(s.url, pixels(1)), infer(s.url, pixels(2))];
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const over = await infer(s.url, pixels(3));
    assert.equal(over.status, 429);
    assert.ok(performance.now() - t0 < 1000, 'rejected at once');
    assert.equal(over.headers.get('retry-after'), '1');
    assert.match((await over.json() as { error: string }).error, /Exceeds maximum queue size/);
    const pending = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(pending, /^nv_inference_pending_request_count\{model="tiny",version="1"\} 2$/m);
    assert.match(pending, /^vitopt_queue_rejections_total\{model="tiny",version="1",reason="full"\} 1$/m);
    assert.match(pending, /^nv_inference_request_failure\{model="tiny",version="1",reason="REJECTED"\} 1$/m);
    for (const r of await Promise.all(queued)) assert.equal(r.status, 200); // served when the delay expired
  } finally {
    await s.close();
  }
  const t = await startServer({ modelRepository: tinyRepository(), port: 0, threads: 1, maxQueueDelayUs: 5_000_000, maxQueueSize: 1, timeoutMs: 300, overloadStatus: 503 });
  try {
    const t0 = performance.now();
    const waiting = infer(t.url, pixels(1));
    await new Promise((r) => setTimeout(r, 50));
    const over = await infer(t.url, pixels(2));
    assert.equal(over.status, 503);
    const timedOut = await waiting;
    const waited = performance.now() - t0;
    assert.equal(timedOut.status, 503);
    assert.match((await timedOut.json() as { error: string }).error, /Request timeout expired/);
    assert.ok(waited >= 290 && waited < 3000, `answered after ${waited} ms`);
    // A request may lower its own timeout (schedule_policy "timeout", µs).
    const t1 = performance.now();
    const short = await infer(t.url, pixels(3), { timeout: 50_000 });
    assert.equal(short.status, 503);
    assert.ok(performance.now() - t1 < 280);
    const st = await stats(t.url);
    assert.equal(st.inference_stats.fail.count, 3);
    assert.equal(st.execution_count, 0);
  } finally {
    await t.close();
  }
});
