/**
 * The search space of the fixed canonical pipeline, and what is dropped from it before any work.
 *
 *   structured prune + refit (FLOPs kept) -> export graph style -> quantize -> session (threads) -> batch
 *
 * Not a search over pass order (Olive removed its global pass-order search: fixed pipelines did
 * better). Compression stages make an *artifact* (accuracy is measured once per artifact); threads
 * and batch change only speed (measured per artifact × settings).
 *
 * The capability table says which points cannot run, or cannot pay off, on an engine, with the
 * measurement or fact behind it; the report lists every dropped point and why.
 */
import type { GraphStyleChoice, Objective, QuantChoice, TuneEngine } from './types.js';

export const DEFAULT_PRUNE_LEVELS = [1, 0.85, 0.7, 0.5];
export const QUANT_CHOICES: readonly QuantChoice[] = ['none', 'dynamic', 'static', 'fp16', 'int4'];
export const STYLES: readonly GraphStyleChoice[] = ['ort', 'portable'];

/** Why a quantization choice is left out on an engine; null when it stays in. */
export function capability(engine: TuneEngine, quant: QuantChoice, objective: Objective): string | null {
  if (quant === 'fp16') {
    return engine === 'cpu'
      ? 'FP16 on the CPU provider: no fp16 matmul kernels, ONNX Runtime computes through casts (measured 0.90–1.05× fp32, docs/quantization.md); FP16 is for GPU/WebGPU'
      : 'FP16 on wasm: no fp16 kernels (needs WebGPU with shader-f16)';
  }
  if (quant === 'int4' && objective !== 'size') {
    return 'INT4 (MatMulNBits) is a size lever, not a speed lever here: 2–3× slower than the int8 kernels (measured 0.93–1.13× fp32); it stays in with --objective size';
  }
  return null;
}

/** One artifact of the pipeline: what the compression stages do. */
export interface ArtifactRecipe {
  prune: number;
  style: GraphStyleChoice;
  quant: QuantChoice;
  /** INT8 with the accuracy guard's layer fallback (layers returned to float until the drop fits). */
  guard?: boolean;
  /** Token Merging: tokens merged per block (0 or absent = none). */
  merge?: number;
}

export function recipeKey(r: ArtifactRecipe): string {
  return `p${r.prune}${r.merge ? `-m${r.merge}` : ''}-${r.style}-${r.quant}${r.guard ? '-guard' : ''}`;
}

const QUANT_NAMES: Record<QuantChoice, string> = { none: 'fp32', dynamic: 'dynamic INT8', static: 'static INT8', fp16: 'FP16', int4: 'INT4' };

export function recipeLabel(r: ArtifactRecipe): string {
  const parts = [r.prune < 1 ? `prune ${Math.round(r.prune * 100)}%` : '', r.merge ? `ToMe r${r.merge}` : '', QUANT_NAMES[r.quant] + (r.guard ? ' (guard)' : '')].filter(Boolean);
  return `${parts.join(' + ')} · ${r.style}`;
}

export function candidateLabel(r: ArtifactRecipe, batch: number, threads: number): string {
  return `${recipeLabel(r)} · b${batch} t${threads}`;
}

export interface SpaceInput {
  engine: TuneEngine;
  objective: Objective;
  pruneLevels: number[];
  /** Why the model cannot be pruned (no vitopt IR, no calibration images), or null. */
  cannotPrune: string | null;
  /** Why the model cannot be quantized (already quantized, no weight layers), or null. */
  cannotQuantize: string | null;
  /** Static INT8 needs calibration images. */
  hasCalibration: boolean;
  /** Graph styles the input can be had in (an ONNX file: only its own). */
  styles: GraphStyleChoice[];
  /** Token Merging levels (tokens merged per block; 0 = none). */
  mergeLevels?: number[];
  /** Why the model cannot merge tokens (a Mixer, no IR), or null. */
  cannotMerge?: string | null;
}

export interface Space {
  recipes: ArtifactRecipe[];
  dropped: { what: string; why: string }[];
}

/** Every artifact recipe of the pipeline for this input, minus what cannot run or pay off, with the reasons. */
export function buildSpace(s: SpaceInput): Space {
  const dropped: Space['dropped'] = [];
  let prunes = [...new Set([1, ...s.pruneLevels])].sort((a, b) => b - a);
  if (s.cannotPrune) {
    if (prunes.some((p) => p < 1)) dropped.push({ what: `structured pruning (${prunes.filter((p) => p < 1).map((p) => `${Math.round(p * 100)}%`).join(', ')} FLOPs)`, why: s.cannotPrune });
    prunes = [1];
  }
  const styles = s.styles;
  const other = STYLES.filter((x) => !styles.includes(x));
  if (other.length) {
    dropped.push({ what: `the ${other.join(', ')} graph style`, why: `the input is an ONNX file: it keeps the graph it has (${styles.join(', ')}); tune its checkpoint to compare graph styles` });
  }
  const quants: QuantChoice[] = [];
  for (const q of QUANT_CHOICES) {
    if (q === 'none') { quants.push(q); continue; }
    const why = s.cannotQuantize ?? capability(s.engine, q, s.objective) ??
      (q === 'static' && !s.hasCalibration ? 'static INT8 needs calibration images: give --data' : null);
    if (why) dropped.push({ what: QUANT_NAMES[q], why });
    else quants.push(q);
  }
  let merges = [...new Set([0, ...(s.mergeLevels ?? [])])].sort((a, b) => a - b);
  if (s.cannotMerge && merges.length > 1) {
    dropped.push({ what: `token merging (r ${merges.filter((m) => m > 0).join(', ')})`, why: s.cannotMerge });
    merges = [0];
  }
  const recipes: ArtifactRecipe[] = [];
  for (const prune of prunes) for (const merge of merges) for (const style of styles) for (const quant of quants) {
    recipes.push({ prune, style, quant, ...(merge ? { merge } : {}) });
  }
  return { recipes, dropped };
}
