/**
 * What the benchmark parent and its per-configuration child processes say to each other (IPC
 * messages of `child_process.fork`). One child measures one configuration once and exits, so each
 * configuration's peak memory is its own.
 */
import type { CreateSessionOptions, EngineName, SessionSettings } from '../engines/engine.js';
import type { EngineAvailability } from '../engines/detect.js';

/** Deliberate faults, for testing the harness's failure paths (library use only; no CLI flag). */
export type Fault = 'crash' | 'hang' | 'oom' | 'throw';

export interface MeasureJob {
  kind: 'measure';
  engine: EngineName;
  modelPath: string;
  /** Shown in messages. */
  label: string;
  batch: number;
  /** [channels, height, width] of one image. */
  imageDims: [number, number, number];
  options: CreateSessionOptions;
  /** Concurrent sessions, each in its own worker thread (1 = run on the child's main thread). */
  workers: number;
  /** Warm-up runs (excluded). */
  warmup: number;
  /** Measure for this many seconds (at least `minIterations` runs) … */
  duration?: number;
  /** … or exactly this many runs (per worker). */
  iterations?: number;
  minIterations: number;
  /** Consecutive groups the measured runs are split into for the within-run spread. */
  slices: number;
  fault?: Fault;
}

export interface ProbeJob {
  kind: 'probe';
  engines: EngineName[];
  wasmThreads: number;
}

export type ChildJob = MeasureJob | ProbeJob;

/** One measurement of one configuration (one child process). */
export interface Sample {
  /** The child process that measured it. */
  pid: number;
  batch: number;
  workers: number;
  runs: number;
  images: number;
  /** Wall time of the measured phase. */
  seconds: number;
  imagesPerSecond: number;
  /** Every measured run's latency, in order. */
  latenciesMs: number[];
  /** Throughput of consecutive groups of runs (within-run noise). */
  sliceImagesPerSecond: number[];
  sessionCreateMs: number;
  /** The first (warm-up) run: what a cold start costs. */
  firstRunMs: number;
  /** Peak resident memory of the child process (VmHWM on Linux; resourceUsage().maxRSS elsewhere). */
  peakRssBytes: number;
  /** The peak up to the end of session creation (loading has its own transient peak). */
  loadPeakRssBytes: number;
  /** The peak during warm-up and measurement alone (null where the high-water mark cannot be reset). */
  runPeakRssBytes: number | null;
  /** Resident memory before the session was created (Node + runtime libraries) and right after. */
  rssBeforeLoadBytes: number;
  rssAfterLoadBytes: number;
  settings: SessionSettings;
  outputDims: number[];
  /** The first values of the first output row: lets the parent check that engines agree. */
  firstLogits: number[];
}

export type ChildMessage =
  | { type: 'progress'; phase: 'load' | 'warmup' | 'measure'; done: number; total: number }
  | { type: 'result'; sample: Sample }
  | { type: 'failed'; stage: 'start' | 'load' | 'run'; reason: string; engineUnavailable: boolean }
  | { type: 'probed'; engines: EngineAvailability[] };
