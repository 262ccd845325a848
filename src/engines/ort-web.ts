/**
 * onnxruntime-web's WebAssembly backend, in Node. SIMD is always on in the shipped builds
 * (ort-wasm-simd-threaded); threads come from `env.wasm.numThreads` (worker_threads in Node), which
 * the runtime reads once, when the first session of the process (or worker thread) starts. The
 * runtime itself falls back to one thread where wasm threads are not available (no
 * SharedArrayBuffer): the recorded settings say what it did, and any fallback note.
 */
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import type * as OrtWeb from 'onnxruntime-web';
import { FileError } from '../errors.js';
import { resolveEngineOptions } from './options.js';
import {
  type CreateSessionOptions, type EngineSession, type Pixels, type RunOutput, type SessionSettings,
  EngineUnavailableError, cleanError, ownedInput, sourceLabel,
} from './engine.js';
import { probeModel } from './probe-model.js';

type Web = typeof OrtWeb;

let loading: Promise<Web> | null = null;

/** Import onnxruntime-web (lazily: the CPU path never loads it). */
export function loadOrtWeb(): Promise<Web> {
  loading ??= import('onnxruntime-web').then((m) => m as Web, (e) => {
    loading = null;
    throw new EngineUnavailableError('wasm', `onnxruntime-web is not installed or failed to load: ${cleanError(e)}`);
  });
  return loading;
}

/** What the wasm runtime of this process (or worker thread) was started with; null until the first session. */
let started: { requested: number; numThreads: number; note?: string } | null = null;
let starting: Promise<void> | null = null;

/** The runtime's default thread count when none is asked for (its own rule: min(4, ceil(cores / 2))). */
export function wasmDefaultThreads(): number {
  return Math.min(4, Math.ceil(availableParallelism() / 2));
}

async function start(web: Web, requested: number, runtimeDefaults: boolean): Promise<void> {
  if (!runtimeDefaults) web.env.wasm.numThreads = requested; // 0 = the runtime's default
  web.env.logLevel = 'error';
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => { warnings.push(a.map(String).join(' ')); };
  try {
    // A one-node model first: a failure here is the engine's, not the model's.
    const s = await web.InferenceSession.create(probeModel(), { executionProviders: ['wasm'] });
    await s.run({ x: new web.Tensor('float32', new Float32Array(4), [1, 4]) });
    await s.release();
  } catch (e) {
    const threads = requested || wasmDefaultThreads();
    throw new EngineUnavailableError('wasm', `the WebAssembly runtime failed to start with ${threads} thread(s): ${cleanError(e)}`);
  } finally {
    console.warn = warn;
  }
  const numThreads = Number(web.env.wasm.numThreads) || 1;
  const fellBack = warnings.find((w) => /single-thread|multi-threading/i.test(w));
  started = { requested, numThreads, note: fellBack ? `the runtime fell back to ${numThreads} thread: ${fellBack}` : undefined };
}

class WasmSession implements EngineSession {
  readonly engine = 'wasm' as const;
  constructor(private readonly web: Web, readonly session: OrtWeb.InferenceSession, readonly settings: SessionSettings) {}
  get inputName(): string {
    return this.session.inputNames[0]!;
  }
  get outputName(): string {
    return this.session.outputNames[0]!;
  }
  async run(pixels: Pixels): Promise<RunOutput> {
    const out = await this.session.run({ [this.inputName]: new this.web.Tensor('float32', ownedInput(pixels.data), pixels.dims) });
    const t = out[this.outputName]!;
    return { data: t.data as Float32Array, dims: [...t.dims] };
  }
  release(): Promise<void> {
    return this.session.release();
  }
}

export async function createWasmSession(model: string | Uint8Array, o: CreateSessionOptions = {}, label?: string): Promise<EngineSession> {
  const web = await loadOrtWeb();
  const requested = o.runtimeDefaults ? 0 : (o.threads ?? 0);
  if (!started) {
    starting ??= start(web, requested, !!o.runtimeDefaults).finally(() => { starting = null; });
    await starting;
  }
  const s = started!;
  const r = resolveEngineOptions(o.runtimeDefaults ? {} : o);
  const notes: string[] = [];
  if (s.note) notes.push(s.note);
  if (requested !== s.requested) {
    notes.push(`the wasm runtime of this process was already started with ${s.numThreads} thread(s); the request for ` +
      `${requested || 'the default number of'} thread(s) cannot take effect`);
  }
  if (!o.runtimeDefaults && r.interOpThreads !== 1) notes.push('interOpThreads does not apply to wasm');
  const settings: SessionSettings = {
    engine: 'wasm', runtime: `onnxruntime-web ${web.env.versions?.web ?? '?'}`, provider: 'wasm', runtimeDefaults: !!o.runtimeDefaults,
    threads: s.numThreads, interOpThreads: 1, graphOptimization: r.graphOptimization, arena: r.arena, memPattern: r.memPattern,
    spinning: r.spinning, executionMode: r.executionMode,
    wasm: { requestedThreads: requested, numThreads: s.numThreads, simd: true, ...(s.note ? { note: s.note } : {}) },
    notes,
  };
  const source = sourceLabel(model, label);
  let bytes: Uint8Array;
  if (typeof model === 'string') {
    try {
      bytes = await fs.readFile(model);
    } catch (e) {
      throw new FileError(source, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? cleanError(e)}`);
    }
  } else {
    bytes = model;
  }
  const opts: OrtWeb.InferenceSession.SessionOptions = o.runtimeDefaults ? { executionProviders: ['wasm'] } : {
    executionProviders: ['wasm'],
    graphOptimizationLevel: r.graphOptimization,
    enableCpuMemArena: r.arena,
    enableMemPattern: r.memPattern,
    executionMode: r.executionMode,
    extra: { session: { intra_op: { allow_spinning: r.spinning ? '1' : '0' } } },
  };
  try {
    const session = await web.InferenceSession.create(bytes, opts);
    return new WasmSession(web, session, settings);
  } catch (e) {
    throw new FileError(source, `cannot be loaded by onnxruntime-web (wasm): ${cleanError(e)}`);
  }
}

/** The wasm runtime's state in this process, for reports (null before the first session). */
export function wasmRuntimeState(): { requested: number; numThreads: number; note?: string } | null {
  return started;
}
