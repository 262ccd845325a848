/**
 * Which ONNX Runtime contrib-op fusions an 'ort' graph uses, chosen by measurement on the CPU at hand.
 *
 * A fusion is not free: a fused kernel can be slower than the standard ops it replaces (on an
 * AVX-512 VNNI host ORT's SkipLayerNormalization measured several times the cost of its
 * LayerNormalization + Add, while its fused Attention beat the unfused attention core). So each
 * fusion is kept only where `bench/fusions.ts` measured it faster, per CPU class and precision, and
 * the table below records those measurements. The choice and its basis are written into the model's
 * metadata (`vitopt.fusions`), so a model says how and why its graph was built.
 */
import { detectCpu, type CpuInfo } from '../util/cpu.js';
import { UserError } from '../errors.js';
import { ALL_FUSIONS, type Fusions, NO_FUSIONS } from './layers.js';

export type Precision = 'fp32' | 'int8';
export type CpuClass = 'avx512-vnni' | 'avx2';

export interface FusionChoice {
  fusions: Fusions;
  /** Why: the CPU class and the measurement behind it. */
  basis: string;
}

export function cpuClass(cpu: CpuInfo): CpuClass {
  return cpu.avx512 && cpu.vnni ? 'avx512-vnni' : 'avx2';
}

/**
 * Measured choices (bench/fusions.ts; figures in docs/graph-fusions.md). Keys: CPU class, then the
 * precision the graph will run in (dynamic/static INT8 graphs are quantized from the fp32 export, and
 * the quantizer applies the int8 row through src/graph/unfuse.ts).
 *
 * avx512-vnni, measured 2026-12-02 (ViT-B/16 batch 8, ViT-B/32 batch 1 and 8, 2 threads): ORT's
 * SkipLayerNormalization costs ~7× the LayerNormalization + Add it replaces (88 against ~12 + ~10 ms
 * per ViT-B/16 batch-8 run); without it INT8 runs 1.10–1.15× faster and fp32 1.02–1.03×. The fused
 * Attention (fp32) / MultiHeadAttention core (INT8) and FastGelu each measured faster than their
 * standard-op forms (0.92–0.98× and 0.91–0.95× without them).
 * avx2 (no VNNI): not re-measured since the fusions became separable; every fusion stays on, as the
 * earlier measurements of the fused graph on such a host showed it at least as fast as the portable one.
 */
const MEASURED_VNNI: Fusions = { attention: true, skipLayerNorm: false, gelu: true };

export const MEASURED: Record<CpuClass, Record<Precision, Fusions>> = {
  'avx512-vnni': { fp32: MEASURED_VNNI, int8: MEASURED_VNNI },
  avx2: { fp32: ALL_FUSIONS, int8: ALL_FUSIONS },
};

export function defaultFusions(precision: Precision = 'fp32', cpu: CpuInfo = detectCpu()): FusionChoice {
  const k = cpuClass(cpu);
  return { fusions: MEASURED[k][precision], basis: `measured default for ${k} ${precision} (${cpu.evidence})` };
}

const NAMES: Record<keyof Fusions, string> = { attention: 'attention', skipLayerNorm: 'skip-layernorm', gelu: 'gelu' };

/** 'attention,skip-layernorm,gelu' / 'none'. */
export function describeFusions(f: Fusions): string {
  const on = (Object.keys(NAMES) as (keyof Fusions)[]).filter((k) => f[k]).map((k) => NAMES[k]);
  return on.length ? on.join(',') : 'none';
}

/** Parse `--fusions all|none|auto|attention,skip-layernorm,gelu` (null = auto). */
export function parseFusions(s: string, flag = '--fusions'): Fusions | null {
  const v = s.trim().toLowerCase();
  if (v === 'auto') return null;
  if (v === 'all') return ALL_FUSIONS;
  if (v === 'none') return NO_FUSIONS;
  const f: Fusions = { ...NO_FUSIONS };
  for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const k = (Object.keys(NAMES) as (keyof Fusions)[]).find((n) => NAMES[n] === part);
    if (!k) throw new UserError(`${flag}: unknown fusion '${part}' (expected auto, all, none or a list of ${Object.values(NAMES).join(', ')})`);
    f[k] = true;
  }
  return f;
}
