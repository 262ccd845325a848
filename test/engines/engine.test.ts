import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineUnavailableError, parseEngineName, defaultGraphStyle, cleanError } from '../../src/engines/engine.js';
import { createSession, openModel } from '../../src/engines/create.js';
import { sessionOptions, supportedBackends } from '../../src/engines/ort-node.js';
import { createSession as createRawSession, setInlineModelLimit } from '../../src/engines/model-source.js';
import * as ort from '../../src/engines/runtime.js';
import { onnx } from '../../src/formats/onnx.js';
import { WorkerSession } from '../../src/engines/worker.js';
import { detectEngines } from '../../src/engines/detect.js';
import { matmulModel } from '../../src/bench/matmul.js';
import { FileError } from '../../src/errors.js';
import { benchInput } from '../../src/bench/input.js';
import { tinyOnnxBytes } from '../bench/fixtures.js';

const dims = [2, 3, 16, 16];
const input = benchInput(2, [3, 16, 16]);
const pixels = { data: input, dims };

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The first output of a raw runtime session: the engine's logits must match it. */
async function rawLogits(bytes: Uint8Array): Promise<Float32Array> {
  const s = await createRawSession(bytes, sessionOptions({ threads: 1 }));
  try {
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    return out[s.outputNames[0]!]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

test('cpu engine: same logits as the raw runtime, settings recorded as asked', async () => {
  const bytes = tinyOnnxBytes('ort');
  const s = await createSession('cpu', bytes, { threads: 1, graphOptimization: 'basic', arena: false, spinning: false });
  const out = await s.run(pixels);
  assert.deepEqual(out.dims, [2, 7]);
  assert.ok(maxDiff(out.data, await rawLogits(bytes)) < 1e-5);
  assert.equal(s.settings.engine, 'cpu');
  assert.match(s.settings.runtime, /^onnxruntime-node \d/);
  assert.equal(s.settings.threads, 1);
  assert.equal(s.settings.graphOptimization, 'basic');
  assert.equal(s.settings.arena, false);
  assert.equal(s.settings.spinning, false);
  assert.equal(s.settings.memPattern, true);
  assert.equal(s.settings.runtimeDefaults, false);
  await s.release();
  const d = await createSession('cpu', bytes, { runtimeDefaults: true });
  assert.equal(d.settings.runtimeDefaults, true);
  assert.equal(d.settings.threads, 0);
  await d.release();
});

test('wasm engine (onnxruntime-web in Node): agrees with the cpu engine on the portable graph', async () => {
  const bytes = tinyOnnxBytes('portable');
  const w = await createSession('wasm', bytes, { threads: 2 });
  const c = await createSession('cpu', bytes, { threads: 1 });
  const a = await w.run(pixels), b = await c.run(pixels);
  assert.ok(maxDiff(a.data, b.data) < 1e-4, String(maxDiff(a.data, b.data)));
  assert.equal(w.settings.engine, 'wasm');
  assert.match(w.settings.runtime, /^onnxruntime-web \d/);
  assert.equal(w.settings.wasm!.requestedThreads, 2);
  assert.ok(w.settings.wasm!.numThreads >= 1);
  assert.equal(w.settings.threads, w.settings.wasm!.numThreads);
  // The wasm runtime starts once per process: a later request for other threads is recorded, not silently dropped.
  const again = await createSession('wasm', bytes, { threads: 1 });
  if (w.settings.wasm!.numThreads !== 1) assert.ok(again.settings.notes.some((n) => /already started/.test(n)));
  await Promise.all([w.release(), c.release(), again.release()]);
});

test('a model an engine cannot load is a FileError naming it; an engine that cannot start is EngineUnavailableError', async () => {
  const junk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  await assert.rejects(createSession('cpu', junk, {}, 'junk.onnx'), (e: unknown) => e instanceof FileError && /junk\.onnx: cannot be loaded/.test(e.message));
  await assert.rejects(createSession('wasm', junk, {}, 'junk.onnx'), (e: unknown) => e instanceof FileError && /junk\.onnx/.test(e.message));
  await assert.rejects(createSession('cpu', '/no/such/model.onnx'), FileError);
  const cuda = supportedBackends().find((b) => b.name === 'cuda');
  if (!cuda?.bundled) {
    await assert.rejects(createSession('cuda', tinyOnnxBytes()), (e: unknown) => e instanceof EngineUnavailableError && e.engine === 'cuda' && e.reason.length > 0);
  }
});

test('a ModelProto loads on every path: inline bytes, through a temporary file (the >2 GB path), as bytes on wasm; openModel follows the provider', async () => {
  const bytes = tinyOnnxBytes('portable');
  const proto = onnx.ModelProto.decode(bytes);
  const want = await rawLogits(bytes);
  const inline = await createSession('cpu', proto, { threads: 1 });
  assert.ok(maxDiff((await inline.run(pixels)).data, want) < 1e-5);
  await inline.release();
  const previous = setInlineModelLimit(0);
  try {
    const viaFile = await openModel(proto, { threads: 1 }, 'big');
    assert.equal(viaFile.engine, 'cpu');
    assert.ok(maxDiff((await viaFile.run(pixels)).data, want) < 1e-5);
    await viaFile.release();
  } finally {
    setInlineModelLimit(previous);
  }
  const wasm = await createSession('wasm', proto, { threads: 1 });
  assert.ok(maxDiff((await wasm.run(pixels)).data, want) < 1e-4);
  await wasm.release();
  // openModel runs on the provider its options name.
  if (!supportedBackends().find((b) => b.name === 'cuda')?.bundled) {
    await assert.rejects(openModel(proto, { provider: 'cuda' }), (e: unknown) => e instanceof EngineUnavailableError && e.engine === 'cuda');
  }
  // A model the runtime rejects: one line, naming the label, without ORT's prefixes.
  const broken = onnx.ModelProto.decode(bytes);
  broken.graph!.node![0]!.opType = 'Frobnicate';
  await assert.rejects(openModel(broken, {}, 'broken'), (e: unknown) => e instanceof FileError &&
    /^broken: cannot be loaded by ONNX Runtime: /.test(e.message) && !e.message.includes('\n') && !/ONNXRuntimeError/.test(e.message));
});

test('engine detection: cpu usable; every engine answered with a reason when not usable', async () => {
  const found = await detectEngines(['cpu', 'cuda', 'tensorrt']);
  assert.equal(found.length, 3);
  assert.equal(found[0]!.available, true);
  for (const f of found) if (!f.available) assert.ok(f.reason && f.reason.length > 5, f.engine);
});

test('worker sessions: same logits, and the caller\'s event loop keeps running during a run', async () => {
  const bytes = tinyOnnxBytes('ort');
  const w = await WorkerSession.create('cpu', bytes, { threads: 1 });
  const c = await createSession('cpu', bytes, { threads: 1 });
  assert.ok(maxDiff((await w.run(pixels)).data, (await c.run(pixels)).data) < 1e-6);
  assert.equal(w.settings.threads, 1);
  await w.release();
  await c.release();
  // A matmul big enough to take tens of milliseconds anywhere: timers fire while the worker computes.
  const m = 2048, k = 1024, n = 1024;
  const mm = await WorkerSession.create('cpu', matmulModel(k, n), { threads: 1 });
  const x = { data: new Float32Array(m * k).fill(0.5), dims: [m, k] };
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  const out = await mm.run(x);
  clearInterval(timer);
  assert.deepEqual(out.dims, [m, n]);
  assert.ok(ticks >= 1, `timers did not run during the worker's run (${ticks})`);
  await mm.release();
  await assert.rejects(mm.run(x), /released/);
  // Errors cross the thread boundary with their class.
  await assert.rejects(WorkerSession.create('cpu', new Uint8Array([9, 9, 9]), {}, 'bad.onnx'), FileError);
});

test('engine names and default graph styles', () => {
  assert.equal(parseEngineName('ort-cpu'), 'cpu');
  assert.equal(parseEngineName('onnxruntime-web'), 'wasm');
  assert.equal(parseEngineName('TRT'), 'tensorrt');
  assert.throws(() => parseEngineName('tpu'), /unknown engine 'tpu'/);
  assert.equal(defaultGraphStyle('cpu'), 'ort');
  assert.equal(defaultGraphStyle('wasm'), 'portable');
  assert.equal(cleanError(new Error('[ONNXRuntimeError] : 1 : FAIL : Load model failed\nmore')), 'Load model failed');
});

test('default threads: ORT\'s own pool, unless the process may use fewer CPUs than the machine has', async () => {
  const { defaultThreads } = await import('../../src/engines/options.js');
  assert.equal(defaultThreads(8, 8), 0, 'all CPUs allowed: ORT decides (one per physical core)');
  assert.equal(defaultThreads(1, 2), 1);
  assert.equal(defaultThreads(3, 16), 3);
  // For real: a process pinned to one CPU resolves the default to one thread.
  const { spawnSync } = await import('node:child_process');
  const { cpus } = await import('node:os');
  const url = new URL('../../src/engines/options.js', import.meta.url).href;
  const script = `import(${JSON.stringify(url)}).then((m) => console.log(m.resolveEngineOptions({ threads: 0 }).threads))`;
  const r = spawnSync('taskset', ['-c', '0', process.execPath, '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(r.stdout.trim()), cpus().length > 1 ? 1 : 0);
});
