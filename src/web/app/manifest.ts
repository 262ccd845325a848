/**
 * What the site builder tells the page (site/manifest.json) and what the page and its worker say to
 * each other. Plain data only: this file is compiled for Node (the builder) and bundled for the browser.
 */

/** onnxruntime-web backends the app uses: the WebAssembly CPU build and the native WebGPU EP build. */
export type Backend = 'wasm' | 'webgpu';
export type Dtype = 'fp32' | 'fp16' | 'int8';

/** A known input/output pair: the first inference on a backend must reproduce it before it is trusted. */
export interface CheckPair {
  /** Seed of the deterministic input (check-input.ts), float32 [1, 3, R, R] in [-1, 1]. */
  seed: number;
  /** Logits of onnxruntime-node (CPU) on the same variant file. */
  expected: number[];
  /** Largest allowed max|got − expected| / max(1, max|expected|). */
  tolerance: number;
}

export interface Variant {
  /** Also the file stem: models/<id>.onnx */
  id: string;
  file: string;
  dtype: Dtype;
  /** 'portable' = standard ONNX ops only; 'ort' = ONNX Runtime fused ops (Attention, SkipLayerNormalization …). */
  graph: 'portable' | 'ort' | 'as-given';
  /** Backends this variant is meant for, best first. */
  backends: Backend[];
  bytes: number;
  /** The largest single initializer: a WebGPU buffer must hold it (adapter.limits.maxBufferSize). */
  largestTensorBytes: number;
  /** Needs the WebGPU `shader-f16` feature. */
  needsF16: boolean;
  check: CheckPair;
  /** One line for people: how it was made. */
  description: string;
}

export interface Manifest {
  format: 'vitopt-web/1';
  model: string;
  /** vitopt's description of the model, e.g. "ViT, patch 4, 6 layers …". */
  description: string;
  resolution: number;
  labels: string[];
  /** Per-channel normalization on the [0, 1] scale; null = the official (x − 127.5) / 127.5. */
  normalize: { mean: number[]; std: number[] } | null;
  inputName: string;
  outputName: string;
  variants: Variant[];
  /** Sample images shipped with the site (relative URLs) and their true labels where known. */
  samples: { url: string; label: string | null }[];
  /** onnxruntime-web runtime files, relative to the page (ort/…). */
  runtime: { dir: string; files: Record<Backend, { mjs: string; wasm: string }> };
  builtBy: string;
}

/** Options that force a choice (URL query of the page: ?backend=wasm&variant=int8&threads=2). */
export interface Preferences {
  backend?: Backend;
  variant?: string;
  /** wasm threads; 0/undefined = the app's choice (all cores up to 4 when cross-origin isolated, else 1). */
  threads?: number;
  /** Leave env.wasm.numThreads unset (onnxruntime-web's own default): the naive path of the benchmark. */
  ortDefaults?: boolean;
}

/** What a page's engine ended up using, and why. */
export interface EngineInfo {
  backend: Backend;
  variant: string;
  dtype: Dtype;
  threads: number;
  crossOriginIsolated: boolean;
  adapter: string | null;
  /** Everything the user should know: fallbacks with their reasons, single-thread reasons. */
  notes: string[];
  /** Largest relative deviation found by the check pair. */
  checkError: number;
  loadMs: number;
}

export interface Classification {
  label: string;
  index: number;
  /** Top-5 (or fewer), most likely first: softmax probabilities. */
  scores: { label: string; index: number; score: number }[];
  /** Inference only (session.run), milliseconds. */
  ms: number;
  /** Decode + resize + normalize, milliseconds. */
  preprocessMs: number;
  backend: Backend;
  variant: string;
}

/** Page → worker. */
export type Request =
  | { id: number; kind: 'init'; manifestUrl: string; prefs: Preferences }
  | { id: number; kind: 'classify'; source: string | Blob; name: string }
  | { id: number; kind: 'pixels'; source: string | Blob; name: string }
  | { id: number; kind: 'bench'; iterations: number; warmup: number };

/** A request before the page numbers it (Omit distributed over the union). */
export type RequestBody = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** Worker → page. */
export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
  | { id: -1; progress: string };
