/// <reference lib="dom" />
/**
 * The engine of the page, in a module worker so that decoding and inference never freeze the tab:
 * probes WebGPU, picks a model variant and backend (pick.ts), checks the first inference against the
 * site's known input/output pair, and falls back (saying why) when a backend fails or disagrees.
 */
import type * as OrtTypes from 'onnxruntime-web';
import type { Backend, Classification, EngineInfo, Manifest, Preferences, Reply, Request, Variant } from './manifest.js';
import { candidates, wasmThreads, type Capabilities, type Candidate } from './pick.js';
import { checkInput, relativeDeviation } from './check-input.js';
import { decodeImage } from './decode.js';
import { pixelsFromRgba } from './pixels.js';
import { softmax, topIndices } from '../../data/labels.js';

type Ort = typeof OrtTypes;

/** The worker's global scope, typed by hand (the project compiles with the DOM lib, not WebWorker). */
const scope = self as unknown as {
  postMessage(m: Reply): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  crossOriginIsolated: boolean;
  navigator: Navigator & { gpu?: GpuLike };
};

interface GpuAdapterLike {
  features: { has(f: string): boolean };
  limits: { maxBufferSize: number };
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> }

interface Engine {
  ort: Ort;
  session: OrtTypes.InferenceSession;
  manifest: Manifest;
  variant: Variant;
  info: EngineInfo;
}

let engine: Engine | null = null;
let manifestBase = '';

function progress(text: string): void {
  scope.postMessage({ id: -1, progress: text });
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 400);
}

function url(rel: string): string {
  return new URL(rel, manifestBase).href;
}

async function probe(): Promise<Capabilities> {
  const caps: Capabilities = {
    webgpu: null, webgpuReason: null, crossOriginIsolated: scope.crossOriginIsolated === true,
    hardwareConcurrency: scope.navigator.hardwareConcurrency || 1,
  };
  const gpu = scope.navigator.gpu;
  if (!gpu) {
    caps.webgpuReason = 'navigator.gpu is missing (this browser or context has no WebGPU)';
    return caps;
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      caps.webgpuReason = 'no WebGPU adapter was granted (no GPU, or WebGPU disabled)';
      return caps;
    }
    const info = adapter.info ?? {};
    const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? info.architecture === 'swiftshader';
    caps.webgpu = {
      fallbackAdapter: fallback, f16: adapter.features.has('shader-f16'), maxBufferSize: adapter.limits.maxBufferSize,
      description: [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter',
    };
  } catch (e) {
    caps.webgpuReason = `requesting a WebGPU adapter failed: ${message(e)}`;
  }
  return caps;
}

const ortModules = new Map<Backend, Ort>();

/** The onnxruntime-web build for a backend, its runtime files checked first (a clear message beats a stack). */
async function loadOrt(backend: Backend, manifest: Manifest, threads: number | null): Promise<Ort> {
  const cached = ortModules.get(backend);
  if (cached) return cached;
  const files = manifest.runtime.files[backend];
  for (const f of [files.mjs, files.wasm]) {
    let status: string;
    try {
      const r = await fetch(url(f), { method: 'HEAD' });
      if (r.ok) continue;
      status = `HTTP ${r.status}`;
    } catch (e) {
      status = message(e);
    }
    throw new Error(`onnxruntime-web runtime file ${f} is missing (${status}): the site is incomplete, rebuild it with 'vitopt web'`);
  }
  const ort = (backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm')) as Ort;
  ort.env.wasm.wasmPaths = { mjs: url(files.mjs), wasm: url(files.wasm) };
  if (threads !== null) ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  ortModules.set(backend, ort);
  return ort;
}

async function fetchModel(v: Variant): Promise<Uint8Array> {
  const r = await fetch(url(v.file));
  if (!r.ok) throw new Error(`model file ${v.file}: HTTP ${r.status}`);
  try {
    return new Uint8Array(await r.arrayBuffer());
  } catch (e) {
    throw new Error(`model file ${v.file} (${(v.bytes / 2 ** 20).toFixed(0)} MiB) could not be held in memory: too large for this device? (${message(e)})`);
  }
}

async function runOnce(ort: Ort, session: OrtTypes.InferenceSession, m: Manifest, data: Float32Array): Promise<Float32Array> {
  // A fresh tensor per run: onnxruntime-web may transfer (detach) the input's buffer.
  const input = new ort.Tensor('float32', data.slice(), [1, 3, m.resolution, m.resolution]);
  const out = await session.run({ [m.inputName]: input });
  const t = out[m.outputName]!;
  return Float32Array.from(t.data as ArrayLike<number>);
}

async function tryCandidate(m: Manifest, c: Candidate, threads: number | null): Promise<{ ort: Ort; session: OrtTypes.InferenceSession; deviation: number }> {
  const ort = await loadOrt(c.backend, m, c.backend === 'wasm' ? threads : null);
  progress(`downloading ${c.variant.file} (${(c.variant.bytes / 2 ** 20).toFixed(1)} MiB)`);
  const bytes = await fetchModel(c.variant);
  progress(`creating the ${c.backend} session for ${c.variant.id}`);
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [c.backend], graphOptimizationLevel: 'all' });
  } catch (e) {
    const msg = message(e);
    const oom = /memory|allocat|RangeError|Out of bounds/i.test(msg);
    throw new Error(oom ? `model too large for this device (${(c.variant.bytes / 2 ** 20).toFixed(0)} MiB): ${msg}` : msg);
  }
  progress(`checking ${c.backend}/${c.variant.id} against the known output`);
  let deviation: number;
  try {
    const got = await runOnce(ort, session, m, checkInput(c.variant.check.seed, m.resolution));
    deviation = relativeDeviation(got, c.variant.check.expected);
  } catch (e) {
    await session.release().catch(() => undefined);
    throw e;
  }
  return { ort, session, deviation };
}

async function init(manifestUrl: string, prefs: Preferences): Promise<EngineInfo> {
  const t0 = performance.now();
  manifestBase = new URL(manifestUrl, (self as unknown as { location: Location }).location.href).href;
  const r = await fetch(manifestBase);
  if (!r.ok) throw new Error(`${manifestUrl}: HTTP ${r.status} (is this a site built by 'vitopt web'?)`);
  const manifest = await r.json() as Manifest;
  const caps = await probe();
  const { list, notes } = candidates(manifest.variants, caps, prefs);
  const t = wasmThreads(caps, prefs);
  if (t.note) notes.push(t.note);
  const threads = prefs.ortDefaults ? null : t.threads;
  for (const c of list) {
    try {
      const { ort, session, deviation } = await tryCandidate(manifest, c, threads);
      if (!(deviation <= c.variant.check.tolerance)) {
        notes.push(`${c.backend}/${c.variant.id} gave wrong results on the check input (deviation ${deviation.toExponential(2)} > ${c.variant.check.tolerance}): not used`);
        await session.release().catch(() => undefined);
        continue;
      }
      const info: EngineInfo = {
        backend: c.backend, variant: c.variant.id, dtype: c.variant.dtype,
        threads: c.backend === 'wasm' ? Number(ort.env.wasm.numThreads) || 1 : 0,
        crossOriginIsolated: caps.crossOriginIsolated, adapter: caps.webgpu?.description ?? null,
        notes, checkError: deviation, loadMs: performance.now() - t0,
      };
      engine = { ort, session, manifest, variant: c.variant, info };
      return info;
    } catch (e) {
      notes.push(`${c.backend}/${c.variant.id} failed: ${message(e)}`);
    }
  }
  throw new Error(`no backend could run this model: ${notes.join('; ') || 'no variant fits these preferences'}`);
}

async function blobOf(source: string | Blob, name: string): Promise<Blob> {
  if (typeof source !== 'string') return source;
  const r = await fetch(url(source));
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return r.blob();
}

async function pixels(source: string | Blob, name: string): Promise<Float32Array> {
  const m = engine?.manifest;
  if (!m) throw new Error('the engine is not ready');
  const img = await decodeImage(await blobOf(source, name), name);
  return pixelsFromRgba(img.rgba, img.width, img.height, m.resolution, m.normalize).data;
}

async function classify(source: string | Blob, name: string): Promise<Classification> {
  if (!engine) throw new Error('the engine is not ready');
  const t0 = performance.now();
  const x = await pixels(source, name);
  const t1 = performance.now();
  const logits = await runOnce(engine.ort, engine.session, engine.manifest, x);
  const ms = performance.now() - t1;
  const p = softmax(logits);
  const labels = engine.manifest.labels;
  const top = topIndices(p, 5).map((i) => ({ index: i, label: labels[i] ?? `class_${i}`, score: p[i]! }));
  return {
    label: top[0]!.label, index: top[0]!.index, scores: top, ms, preprocessMs: t1 - t0,
    backend: engine.info.backend, variant: engine.info.variant,
  };
}

/** Latencies of `iterations` runs on the check input after `warmup` runs (the bench protocol, in the page). */
async function bench(iterations: number, warmup: number): Promise<{ latenciesMs: number[]; firstRunMs: number }> {
  if (!engine) throw new Error('the engine is not ready');
  const x = checkInput(1, engine.manifest.resolution);
  let firstRunMs = 0;
  for (let i = 0; i < warmup; i++) {
    const t = performance.now();
    await runOnce(engine.ort, engine.session, engine.manifest, x);
    if (i === 0) firstRunMs = performance.now() - t;
  }
  const latenciesMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await runOnce(engine.ort, engine.session, engine.manifest, x);
    latenciesMs.push(performance.now() - t);
  }
  return { latenciesMs, firstRunMs };
}

async function handle(req: Request): Promise<unknown> {
  switch (req.kind) {
    case 'init': return init(req.manifestUrl, req.prefs);
    case 'classify': return classify(req.source, req.name);
    case 'pixels': return Array.from(await pixels(req.source, req.name));
    case 'bench': return bench(req.iterations, req.warmup);
  }
}

// One request at a time: an onnxruntime-web session cannot run twice at once.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const req = ev.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage({ id: req.id, ok: true, value: await handle(req) });
    } catch (e) {
      scope.postMessage({ id: req.id, ok: false, error: message(e) });
    }
  });
};
