/**
 * One interface over the inference engines vitopt can drive:
 *
 *   cpu       onnxruntime-node, CPU execution provider
 *   webgpu    onnxruntime-node, WebGPU execution provider (Dawn; needs a GPU adapter)
 *   cuda      onnxruntime-node, CUDA execution provider (needs the provider libraries + CUDA 12)
 *   tensorrt  onnxruntime-node, TensorRT execution provider (same, plus TensorRT)
 *   wasm      onnxruntime-web, WebAssembly backend in Node (SIMD; threads through worker_threads)
 *
 * Every session records the settings it really ran with (`SessionSettings`): a number that does not
 * say how the session was configured cannot be reproduced. Engines that are absent or cannot start
 * throw `EngineUnavailableError`; models an engine cannot load throw `FileError`.
 *
 * `run` of onnxruntime-node is synchronous native work on the calling thread: where concurrency
 * matters, host sessions in worker threads (`WorkerSession`, ./worker.ts).
 */
import { UserError } from '../errors.js';
import type { GraphStyle } from '../export/layers.js';
import type { Tensor } from '../tensor.js';
import { type EngineOptions, resolveEngineOptions } from './options.js';

export type EngineName = 'cpu' | 'webgpu' | 'cuda' | 'tensorrt' | 'wasm';
export const ENGINE_NAMES: readonly EngineName[] = ['cpu', 'webgpu', 'cuda', 'tensorrt', 'wasm'];

export const ENGINE_LABELS: Record<EngineName, string> = {
  cpu: 'onnxruntime-node CPU',
  webgpu: 'onnxruntime-node WebGPU',
  cuda: 'onnxruntime-node CUDA',
  tensorrt: 'onnxruntime-node TensorRT',
  wasm: 'onnxruntime-web wasm',
};

/** Accepts the short names and a few spellings users type ('ort-cpu', 'onnxruntime-web', 'trt'). */
export function parseEngineName(s: string): EngineName {
  const k = s.trim().toLowerCase().replace(/^(ort|onnxruntime)(-node)?[-_:]?/, '');
  const alias: Record<string, EngineName> = { '': 'cpu', cpu: 'cpu', webgpu: 'webgpu', cuda: 'cuda', tensorrt: 'tensorrt', trt: 'tensorrt',
    wasm: 'wasm', web: 'wasm', 'web-wasm': 'wasm', webwasm: 'wasm' };
  const e = alias[k];
  if (!e) throw new UserError(`--engine: unknown engine '${s}' (expected ${ENGINE_NAMES.join(', ')} or all)`);
  return e;
}

/**
 * The graph style each engine runs best: ORT's fused com.microsoft ops for the CPU and CUDA providers,
 * the portable (standard-ops) graph for WebGPU, TensorRT and wasm, whose contrib-op coverage is partial.
 */
export function defaultGraphStyle(engine: EngineName): GraphStyle {
  return engine === 'cpu' || engine === 'cuda' ? 'ort' : 'portable';
}

/** What a session really ran with. */
export interface SessionSettings {
  engine: EngineName;
  /** Runtime package and version, e.g. 'onnxruntime-node 1.30.0'. */
  runtime: string;
  provider: string;
  /** True: no session options were passed at all (the runtime's defaults: the path a user gets without vitopt). */
  runtimeDefaults: boolean;
  /** Intra-op threads requested; 0 = the runtime's default. For wasm: env.wasm.numThreads in effect. */
  threads: number;
  interOpThreads: number;
  graphOptimization: NonNullable<EngineOptions['graphOptimization']>;
  arena: boolean;
  memPattern: boolean;
  spinning: boolean;
  executionMode: NonNullable<EngineOptions['executionMode']>;
  /** wasm only: what was asked for and what the runtime did. */
  wasm?: { requestedThreads: number; numThreads: number; simd: boolean; note?: string };
  /** Anything the engine changed or could not honour. */
  notes: string[];
}

/** A session's output: a plain tensor (its first output). */
export type RunOutput = Tensor;

/** A session's input: NCHW float32 pixels. Dims may be read-only (a Tensor fits as it is). */
export interface Pixels {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/**
 * A loaded model on one engine: one float32 input (NCHW pixels), first output returned. Every
 * classifier vitopt evaluates, verifies or serves is one of these (src/eval's `Classifier` is its run).
 */
export interface EngineSession {
  readonly engine: EngineName;
  readonly settings: SessionSettings;
  readonly inputName: string;
  readonly outputName: string;
  run(pixels: Pixels): Promise<RunOutput>;
  release(): Promise<void>;
}

export interface CreateSessionOptions extends EngineOptions {
  /** Pass no session options at all: the runtime's defaults (the naive baseline). */
  runtimeDefaults?: boolean;
  /** Runtime log level while creating (3 = errors, 4 = fatal only). Default 3. */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
}

/** An engine that is not installed, not usable on this machine, or failed to start. */
export class EngineUnavailableError extends UserError {
  override name = 'EngineUnavailableError';
  constructor(readonly engine: EngineName, readonly reason: string) {
    super(`engine ${engine} (${ENGINE_LABELS[engine]}) is not usable here: ${reason}`);
  }
}

/** The settings recorded for an onnxruntime-node session (runtime defaults spelled out). */
export function recordedSettings(engine: EngineName, runtime: string, o: CreateSessionOptions): SessionSettings {
  const r = resolveEngineOptions(o.runtimeDefaults ? {} : o);
  return {
    engine, runtime, provider: engine, runtimeDefaults: !!o.runtimeDefaults,
    threads: o.runtimeDefaults ? 0 : r.threads, interOpThreads: r.interOpThreads, graphOptimization: r.graphOptimization,
    arena: r.arena, memPattern: r.memPattern, spinning: r.spinning, executionMode: r.executionMode, notes: [],
  };
}

/** onnxruntime-node rejects views of a SharedArrayBuffer ("Invalid argument"): such inputs are copied once. */
export function ownedInput(data: Float32Array): Float32Array {
  return data.buffer instanceof SharedArrayBuffer ? new Float32Array(data) : data;
}

/** The name messages use for a model: its label, else its path, else '<in-memory model>'. */
export function sourceLabel(model: unknown, label?: string): string {
  return label ?? (typeof model === 'string' ? model : '<in-memory model>');
}

/** First line of a runtime error, without ORT's "[ONNXRuntimeError] : 1 : FAIL :" prefix and source paths. */
export function cleanError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const line = msg.split('\n').map((s) => s.trim()).find((s) => s.length > 0) ?? 'unknown error';
  return line.replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '').replace(/^\/onnxruntime_src\/\S+ /, '')
    .replace(/^onnxruntime::[\w:]+\(.*?\)(::<lambda\(\)>)? /, '').replace(/^\S.*? was false\. /, '');
}
