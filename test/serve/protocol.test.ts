/**
 * The Open Inference Protocol over real HTTP against a real server (real ORT worker sessions) holding
 * the tiny classifier, whose logits are computed by hand in the test: health, metadata, config,
 * JSON and binary inference with Triton-client payloads, classification, statistics, errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { TINY, tinyLogits, tinyRepository, binaryBody, readBinaryResponse, f32 } from './fixtures.js';

let server: RunningServer;
let url: string;
const R = TINY.resolution;
const PER = 3 * R * R;

/** Deterministic pixels [n, 3, R, R] with different means per image and channel. */
function pixels(n: number, seed = 0): Float32Array {
  return Float32Array.from({ length: n * PER }, (_, i) => Math.fround(Math.sin(i * 0.37 + seed) * 0.9));
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

before(async () => {
  server = await startServer({ modelRepository: tinyRepository({ tiny: { version: 3, config: { max_batch_size: 4 } } }), port: 0, threads: 1, bodyLimitBytes: 64 * 1024 });
  url = server.url;
});
after(async () => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) });

test('health, server metadata, model list, metadata, ready, config', async () => {
  assert.equal(new URL(url).hostname, '127.0.0.1');
  assert.deepEqual(await (await fetch(`${url}/v2/health/live`)).json(), { live: true });
  const ready = await fetch(`${url}/v2/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true });
  const meta = await (await fetch(`${url}/v2`)).json() as { name: string; extensions: string[] };
  assert.equal(meta.name, 'vitopt');
  for (const e of ['binary_tensor_data', 'classification', 'statistics', 'model_configuration', 'model_repository']) assert.ok(meta.extensions.includes(e), e);
  assert.deepEqual(await (await fetch(`${url}/v2/models`)).json(), { models: [{ name: 'tiny', version: '3', state: 'READY' }] });
  const expected = {
    name: 'tiny', versions: ['3'], platform: 'onnx_onnxv1',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 3, R, R] }],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 4] }],
  };
  assert.deepEqual(await (await fetch(`${url}/v2/models/tiny`)).json(), expected);
  assert.deepEqual(await (await fetch(`${url}/v2/models/tiny/versions/3`)).json(), expected);
  assert.equal((await fetch(`${url}/v2/models/tiny/versions/2`)).status, 404);
  assert.deepEqual(await (await fetch(`${url}/v2/models/tiny/ready`)).json(), { name: 'tiny', ready: true });
  const config = await (await fetch(`${url}/v2/models/tiny/config`)).json() as Record<string, any>;
  assert.equal(config.max_batch_size, 4); // from the repository's config.json
  assert.deepEqual(config.input, [{ name: 'pixels', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: [3, R, R] }]);
  assert.equal(config.dynamic_batching.default_queue_policy.max_queue_size, 16); // 4 × max batch × 1 instance
  assert.deepEqual(config.instance_group, [{ name: 'tiny_0', kind: 'KIND_CPU', count: 1 }]);
  const nowhere = await fetch(`${url}/v2/nowhere`);
  assert.equal(nowhere.status, 404);
  assert.deepEqual(await nowhere.json(), { error: 'no such endpoint: GET /v2/nowhere' });
});

test('JSON infer: Triton client payload, nested or flat data, id echoed, logits as computed by hand', async () => {
  const x = pixels(2, 1);
  const flat = { id: 'req-42', inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: Array.from(x) }], outputs: [{ name: 'logits' }] };
  const res = await post('/v2/models/tiny/infer', flat);
  assert.equal(res.status, 200);
  const body = await res.json() as { model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
  assert.equal(body.model_name, 'tiny');
  assert.equal(body.model_version, '3');
  assert.equal(body.id, 'req-42');
  assert.equal(body.outputs.length, 1);
  assert.equal(body.outputs[0]!.name, 'logits');
  assert.equal(body.outputs[0]!.datatype, 'FP32');
  assert.deepEqual(body.outputs[0]!.shape, [2, 4]);
  close(body.outputs[0]!.data, tinyLogits(x, 2).flat());
  // Nested data (row-major) is the same tensor; outputs omitted = every output; no id = none echoed.
  const nested: unknown[] = [];
  for (let n = 0; n < 2; n++) nested.push([0, 1, 2].map((c) => Array.from({ length: R }, (_, h) => Array.from(x.subarray(((n * 3 + c) * R + h) * R, ((n * 3 + c) * R + h + 1) * R)))));
  const res2 = await post('/v2/models/tiny/versions/3/infer', { inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: nested }] });
  const body2 = await res2.json() as typeof body;
  assert.equal(body2.id, undefined);
  close(body2.outputs[0]!.data, body.outputs[0]!.data, 0);
});

test('binary tensor data: Inference-Header-Content-Length, binary_data_size, binary_data_output', async () => {
  const x = pixels(3, 2);
  // What tritonclient.http sends by default: binary input, binary output requested per output.
  const { body, headerLength } = binaryBody({
    inputs: [{ name: 'pixels', shape: [3, 3, R, R], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }],
    outputs: [{ name: 'logits', parameters: { binary_data: true } }],
  }, new Uint8Array(x.buffer));
  const res = await post('/v2/models/tiny/infer', body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const { header, binary } = await readBinaryResponse(res);
  assert.deepEqual(header.outputs, [{ name: 'logits', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: 48 } }]);
  assert.equal(binary.length, 48);
  close(f32(binary), tinyLogits(x, 3).flat());
  // binary_data_output on the request; a JSON input (no binary section) still needs no header length.
  const res2 = await post('/v2/models/tiny/infer', { parameters: { binary_data_output: true }, inputs: [{ name: 'pixels', shape: [3, 3, R, R], datatype: 'FP32', data: Array.from(x) }] });
  const r2 = await readBinaryResponse(res2);
  close(f32(r2.binary), f32(binary), 0);
  // Binary input, JSON output (binary_data false overrides), no content type at all.
  const { body: b3, headerLength: h3 } = binaryBody({
    parameters: { binary_data_output: true },
    inputs: [{ name: 'pixels', shape: [3, 3, R, R], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }],
    outputs: [{ name: 'logits', parameters: { binary_data: false } }],
  }, new Uint8Array(x.buffer));
  const res3 = await fetch(`${url}/v2/models/tiny/infer`, { method: 'POST', headers: { 'inference-header-content-length': String(h3) }, body: new Uint8Array(b3) });
  assert.equal(res3.status, 200);
  const j3 = await res3.json() as { outputs: { data: number[] }[] };
  close(j3.outputs[0]!.data, f32(binary), 0);
  // Raw binary request: header length 0, body = the single input at batch 1, outputs binary.
  const one = x.slice(0, PER);
  const res4 = await post('/v2/models/tiny/infer', Buffer.from(one.buffer), { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' });
  assert.equal(res4.status, 200);
  close(f32((await readBinaryResponse(res4)).binary), tinyLogits(one, 1).flat());
});

test('classification extension: BYTES "value:index:label", top-k by raw value', async () => {
  const x = pixels(2, 3);
  const res = await post('/v2/models/tiny/infer', {
    inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: Array.from(x) }],
    outputs: [{ name: 'logits', parameters: { classification: 2 } }],
  });
  assert.equal(res.status, 200);
  const out = (await res.json() as { outputs: { name: string; datatype: string; shape: number[]; data: string[] }[] }).outputs[0]!;
  assert.equal(out.datatype, 'BYTES');
  assert.deepEqual(out.shape, [2, 2]);
  const expected = tinyLogits(x, 2);
  out.data.forEach((s, i) => {
    const [v, idx, label] = s.split(':');
    const row = expected[Math.floor(i / 2)]!;
    const order = row.map((_, j) => j).sort((a, b) => row[b]! - row[a]!);
    assert.equal(Number(idx), order[i % 2]);
    assert.equal(label, TINY.labels[Number(idx)]);
    assert.ok(Math.abs(Number(v) - row[Number(idx)]!) < 1e-5);
  });
  // Binary classification output: 4-byte length-prefixed strings.
  const res2 = await post('/v2/models/tiny/infer', {
    inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: Array.from(x) }],
    outputs: [{ name: 'logits', parameters: { classification: 2, binary_data: true } }],
  });
  const { header, binary } = await readBinaryResponse(res2);
  assert.equal(header.outputs[0].datatype, 'BYTES');
  const strings: string[] = [];
  for (let off = 0; off < binary.length;) {
    const n = binary.readUInt32LE(off);
    strings.push(binary.subarray(off + 4, off + 4 + n).toString('utf8'));
    off += 4 + n;
  }
  assert.deepEqual(strings, out.data);
});

test('bad requests: 400 with {"error"}, 404 unknown model; nothing served for them', async () => {
  const x = pixels(1);
  const cases: [string, unknown, Record<string, string>?][] = [
    ['not json', '{"inputs": [', {}],
    ['wrong shape', { inputs: [{ name: 'pixels', shape: [1, 3, R + 1, R], datatype: 'FP32', data: Array.from(pixels(1)).concat(Array(12).fill(0)) }] }],
    ['too few values', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', data: [1, 2, 3] }] }],
    ['too many values', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', data: Array.from(x).concat([1]) }] }],
    ['huge declared shape', { inputs: [{ name: 'pixels', shape: [1e9, 3, R, R], datatype: 'FP32', data: [] }] }],
    ['over max_batch_size', { inputs: [{ name: 'pixels', shape: [5, 3, R, R], datatype: 'FP32', data: Array.from(pixels(5)) }] }],
    ['unknown datatype', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'INT64', data: Array.from(x) }] }],
    ['unknown input', { inputs: [{ name: 'image_bytes', shape: [1, 3, R, R], datatype: 'FP32', data: Array.from(x) }] }],
    ['unknown output', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', data: Array.from(x) }], outputs: [{ name: 'probs' }] }],
    ['no inputs', { inputs: [] }],
    ['strings for FP32', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', data: Array(PER).fill('a') }] }],
    ['BYTES not base64', { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: ['%%%'] }] }],
    ['BYTES not an image', { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [Buffer.from('hello').toString('base64')] }] }],
  ];
  for (const [what, body, headers] of cases) {
    const res = await post('/v2/models/tiny/infer', typeof body === 'string' ? body : JSON.stringify(body), headers);
    assert.equal(res.status, 400, what);
    const j = await res.json() as { error: string };
    assert.equal(typeof j.error, 'string', what);
  }
  // Binary: declared size vs bytes present, header length past the body, trailing bytes.
  const bin = (declared: number, bytes: Uint8Array, extraHeader?: string) => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', parameters: { binary_data_size: declared } }] }, bytes);
    return post('/v2/models/tiny/infer', body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': extraHeader ?? String(headerLength) });
  };
  const bytes = new Uint8Array(x.buffer);
  for (const [what, res] of [
    ['declared more than sent', await bin(x.byteLength + 4, bytes)],
    ['declared less than the shape', await bin(x.byteLength - 4, bytes.subarray(0, x.byteLength - 4))],
    ['trailing bytes', await bin(x.byteLength, new Uint8Array([...bytes, 1, 2, 3, 4]))],
    ['header length past the body', await bin(x.byteLength, bytes, '999999')],
    ['header length not a number', await bin(x.byteLength, bytes, 'abc')],
  ] as const) {
    assert.equal(res.status, 400, what);
    assert.equal(typeof (await res.json() as { error: string }).error, 'string');
  }
  const tooBig = await post('/v2/models/tiny/infer', Buffer.alloc(100 * 1024, 32), { 'content-type': 'application/octet-stream', 'inference-header-content-length': '10' });
  assert.equal(tooBig.status, 413);
  assert.equal(typeof (await tooBig.json() as { error: string }).error, 'string');
  const unknown = await post('/v2/models/nope/infer', { inputs: [] });
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json() as { error: string }).error, /unknown model: 'nope'/);
  for (const name of ['..%2F..%2Fetc', '%2E%2E', 'a%2Fb']) {
    const r = await fetch(`${url}/v2/models/${name}/ready`);
    assert.ok(r.status === 400 || r.status === 404, `${name}: ${r.status}`);
    assert.equal(typeof (await r.json() as { error: string }).error, 'string');
  }
});

test('statistics and /metrics count what happened', async () => {
  const before = await (await fetch(`${url}/v2/models/tiny/stats`)).json() as { model_stats: any[] };
  const metricsBefore = await (await fetch(`${url}/metrics`)).text();
  const x = pixels(2, 9);
  assert.equal((await post('/v2/models/tiny/infer', { inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: Array.from(x) }] })).status, 200);
  assert.equal((await post('/v2/models/tiny/infer', { inputs: [{ name: 'pixels', shape: [2, 3, R, R], datatype: 'FP32', data: [1] }] })).status, 400);
  const after = await (await fetch(`${url}/v2/models/tiny/stats`)).json() as { model_stats: any[] };
  const a = after.model_stats[0], b = before.model_stats[0];
  assert.equal(a.name, 'tiny');
  assert.equal(a.version, '3');
  assert.equal(a.inference_count - b.inference_count, 2);
  assert.equal(a.execution_count - b.execution_count, 1);
  assert.equal(a.inference_stats.success.count - b.inference_stats.success.count, 1);
  assert.equal(a.inference_stats.fail.count - b.inference_stats.fail.count, 1);
  assert.ok(a.inference_stats.success.ns > b.inference_stats.success.ns);
  assert.ok(a.inference_stats.compute_infer.ns > b.inference_stats.compute_infer.ns);
  assert.ok(a.batch_stats.some((s: any) => s.batch_size === 2 && s.compute_infer.count >= 1));
  assert.ok(a.last_inference > 0);
  const m = await fetch(`${url}/metrics`);
  assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
  const text = await m.text();
  const value = (t: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(t)?.[1] ?? 'NaN');
  const l = '{model="tiny",version="3"}';
  assert.equal(value(text, `nv_inference_request_success${l}`) - (value(metricsBefore, `nv_inference_request_success${l}`) || 0), 1);
  assert.equal(value(text, `nv_inference_count${l}`) - (value(metricsBefore, `nv_inference_count${l}`) || 0), 2);
  assert.equal(value(text, `nv_inference_exec_count${l}`) - (value(metricsBefore, `nv_inference_exec_count${l}`) || 0), 1);
  assert.ok(value(text, 'nv_inference_request_failure{model="tiny",version="3",reason="OTHER"}') >= 1);
  assert.ok(value(text, `nv_inference_request_duration_us${l}`) > 0);
  assert.ok(value(text, `nv_inference_compute_infer_duration_us${l}`) > 0);
  for (const name of ['nv_inference_queue_duration_us', 'nv_inference_pending_request_count', 'vitopt_request_duration_seconds_bucket',
    'vitopt_queue_duration_seconds_bucket', 'vitopt_batch_size_bucket', 'vitopt_workers_healthy', 'process_resident_memory_bytes']) {
    assert.match(text, new RegExp(`^${name}`, 'm'), name);
  }
  assert.equal(value(text, `vitopt_workers_healthy${l}`), 1);
});

test('/v2/monitor and its SSE stream', async () => {
  for (let i = 0; i < 3; i++) await post('/v2/models/tiny/infer', { inputs: [{ name: 'pixels', shape: [1, 3, R, R], datatype: 'FP32', data: Array.from(pixels(1, i)) }] });
  const snap = await (await fetch(`${url}/v2/monitor`)).json() as any;
  for (const w of [snap.lastN, snap.lastSeconds]) {
    assert.ok(w.requests >= 3);
    for (const k of ['mean', 'p50', 'p95', 'p99']) assert.ok(w.latencyMs[k] > 0, k);
    assert.ok(w.latencyMs.p50 <= w.latencyMs.p99);
    assert.ok(w.throughput.requestsPerSecond > 0);
    assert.ok(w.avgBatchSize >= 1);
  }
  assert.equal(snap.lastN.window, 'last 100 requests');
  assert.equal(snap.queueDepth, 0);
  assert.ok(snap.memory.rssBytes > 0);
  assert.equal(snap.ready, true);
  const ac = new AbortController();
  const res = await fetch(`${url}/v2/monitor/stream`, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]!);
  assert.ok(data.lastN.requests >= 3);
});
