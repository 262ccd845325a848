/**
 * The tuner's vocabulary: what a candidate is, what was measured about it, the constraints it is
 * judged against and the decision. Plain JSON-able values: report.json is a TuneReport as it is.
 */
import type { MachineInfo } from '../bench/machine.js';

export type Objective = 'throughput' | 'latency' | 'size';
export const OBJECTIVES: readonly Objective[] = ['throughput', 'latency', 'size'];
export type TuneEngine = 'cpu' | 'wasm';
export const TUNE_ENGINES: readonly TuneEngine[] = ['cpu', 'wasm'];
/** The quantization stage of the pipeline ('none' = float32). */
export type QuantChoice = 'none' | 'dynamic' | 'static' | 'fp16' | 'int4';
export type GraphStyleChoice = 'ort' | 'portable';

/** Hard filters. Every field is optional; an absent one does not constrain. */
export interface Constraints {
  /** Largest top-1 drop against the baseline, percentage points (0.5 = half a point). */
  maxDrop?: number;
  /** Smallest top-1, percent (90 = 90%). */
  minAccuracy?: number;
  /** Largest p95 latency of one model call at the candidate's batch, milliseconds. */
  latencySloMs?: number;
  /** Largest peak resident memory of a process serving the model, bytes. */
  memoryBudgetBytes?: number;
  /** Smallest throughput, images per second. */
  minThroughput?: number;
}
export type ConstraintName = keyof Constraints;

/** The recipe of one candidate: the fixed pipeline's stage settings (compression), then session and batch. */
export interface CandidateSpec {
  /** Fraction of the FLOPs kept by structured pruning + refit (1 = not pruned). */
  prune: number;
  quant: QuantChoice;
  /** Static INT8: the calibration method. */
  calibration?: string;
  /** INT8 with the accuracy guard's layer fallback: the layers returned to float. */
  guardFloat?: string[];
  /** Token Merging: tokens merged per block (absent = none). */
  merge?: number;
  style: GraphStyleChoice;
  threads: number;
  batch: number;
}

/** Speed, measured in child processes interleaved with the baseline round by round. */
export interface SpeedFigures {
  /** Median images/s over rounds. */
  imagesPerSecond: number;
  /** (max − min) / median of the per-round images/s. */
  relSpread: number;
  /** Median over rounds of (this round's images/s) / (the baseline's images/s in the same round). */
  ratio: number;
  /** Smallest and largest per-round ratio. */
  ratioRange: [number, number];
  /** Latency of one model call (one batch), over every measured run of every round. */
  p50Ms: number;
  p95Ms: number;
  /** Peak resident memory of the measuring process (the largest over rounds). */
  peakRssBytes: number;
  rounds: number;
}

/** Top-1 on labelled data, paired with the baseline on the same images. */
export interface AccuracyFigures {
  images: number;
  /** Fraction correct (0.9054). */
  top1: number;
  /** The baseline's top-1 on the same images. */
  baselineTop1: number;
  /** 100 × (baselineTop1 − top1): percentage points lost. */
  drop: number;
  /** Fraction of images where the top-1 class equals the baseline's. */
  agreement: number;
  /** Discordant pairs: [baseline right & candidate wrong, baseline wrong & candidate right]. */
  discordant: [number, number];
  /** Exact two-sided McNemar p-value of "candidate and baseline are equally accurate". */
  pValue: number;
  /** 'screen': a subset (multi-fidelity first pass); 'full': the whole evaluation split. */
  fidelity: 'screen' | 'full';
}

/** Without labels (random weights): agreement and output SQNR against the float model on the calibration inputs. */
export interface QualityFigures {
  images: number;
  agreement: number;
  sqnrDb: number;
}

export type CandidateStatus = 'ok' | 'failed' | 'stopped';

export interface Candidate {
  /** Content-addressed: hash of the parent artifact, the stage settings, runtime and hardware. */
  id: string;
  /** Short human name, e.g. "prune 0.70 + dynamic INT8 · ort · b8 t2". */
  label: string;
  spec: CandidateSpec;
  /** Hash of the model artifact this candidate runs (candidates differing only in batch/threads share it). */
  artifactId: string;
  /** Model file size, external data included. */
  sizeBytes: number;
  /** ok: fully measured; failed: crashed / out of memory (reason); stopped: left after a cheap first pass (reason). */
  status: CandidateStatus;
  reason?: string;
  accuracy?: AccuracyFigures | null;
  quality?: QualityFigures | null;
  speed?: SpeedFigures | null;
  /** The vitopt commands that rebuild the artifact from the input model. */
  commands: string[];
}

/** How far a candidate is from one constraint (relative: (value − limit) / |limit|, > 0 = violated). */
export interface Violation {
  constraint: ConstraintName;
  value: number;
  limit: number;
  relative: number;
}

export interface Decision {
  /** The rule the choice followed, in words (it is printed in the report). */
  rule: string;
  /** Ids of candidates meeting every constraint. */
  feasible: string[];
  /** Ids on the Pareto front of the feasible candidates (objectives: speed, accuracy, size, memory). */
  front: string[];
  /** The chosen id, or null when nothing is feasible. */
  chosen: string | null;
  /** Candidates statistically indistinguishable from the chosen one on the objective, and why the choice fell as it did. */
  ties: { ids: string[]; note: string }[];
  /** When nothing is feasible: the nearest candidates, least total violation first. */
  nearest: { id: string; violations: Violation[]; total: number }[];
  /** When nothing is feasible: the constraint that rules out the most candidates (ties: the largest total violation). */
  binding: ConstraintName | null;
}

export interface TuneReport {
  tool: 'vitopt tune';
  version: string;
  date: string;
  machine: MachineInfo;
  /** SIMD flags of the CPU (avx2, avx512f, avx512_vnni, avx_vnni …) that speed figures depend on. */
  cpuFlags: string[];
  runtime: string;
  command: string;
  model: string;
  data: string | null;
  engine: TuneEngine;
  objective: Objective;
  /** As the user gave them. */
  constraints: Constraints;
  /** With accuracy: maxDrop and minAccuracy as one absolute floor on top-1 (percent); null without labels. */
  minTop1: number | null;
  /** False for random weights: the tune optimizes speed only, quality is SQNR/agreement. */
  hasAccuracy: boolean;
  /** The input model exported as given (fp32, the default graph), at the tune's batch and threads. */
  baseline: Candidate;
  /** The naive path (portable graph, ONNX Runtime defaults) at the same batch, measured in the same rounds. */
  naive: { imagesPerSecond: number; ratioToBaseline: number } | null;
  candidates: Candidate[];
  /** Points of the space dropped before any work, and why (capability table, objective, model kind). */
  dropped: { what: string; why: string }[];
  decision: Decision;
  /** The chosen candidate against the baseline: at the baseline's batch and threads, and at the chosen ones. */
  speedup: { sameSettings: number | null; chosenSettings: number | null; vsNaive: number | null };
  /** Where the time went, by stage. */
  timeline: { stage: string; seconds: number }[];
  /** Set when --time-budget ended the search early. */
  stoppedEarly: string | null;
  notes: string[];
  /** Files written in the output directory. */
  outputs: string[];
}
