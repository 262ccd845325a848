/**
 * Roofline bounds: the fastest a model can possibly run on a machine with given ceilings.
 *
 *   compute time  ≥ matmul FLOPs / peak rate          (elementwise work not counted: a lower bound)
 *   memory time   ≥ compulsory bytes / bandwidth      (weights read once per batch + input + logits)
 *   time          ≥ max(compute, memory);  images/s ≤ batch / time
 *
 * For int8, the Dense kernels run at the int8 rate and the rest (patch-embedding/stem conv, ViT's two
 * attention products) stays fp32 — how dynamic INT8 graphs actually run (cpu-ceilings.md).
 * Arithmetic intensity is FLOPs / (weight bytes + every activation byte written once): the intensity of
 * a pass where no activation stays in cache. Compare it with the ridge point peak / bandwidth.
 */
import type { ModelConfig } from '../models/config.js';
import { macs } from './macs.js';
import { activationMemory, weightBytes } from './memory.js';

export interface HardwareProfile {
  fp32GflopsPerS: number;
  int8GopsPerS?: number;
  memBandwidthGBs?: number;
  /** Where the figures come from (measured, a flag, a default). */
  source?: string;
}

/**
 * The measured ORT ceilings of the project's 2-core Zen 5 VM with AVX-512 VNNI (`vitopt hw`, 2026-11):
 * ORT fp32 MatMul 285–365 GFLOP/s, DynamicQuantizeMatMul 920–1,150 GOP/s. Bandwidth was not measured.
 */
export const DEFAULT_PROFILE: HardwareProfile = {
  fp32GflopsPerS: 300,
  int8GopsPerS: 1000,
  source: 'default: ORT MatMul ceilings measured on the project VM (cpu-ceilings.md: fp32 285–365 GFLOP/s, ' +
    'int8 DynamicQuantizeMatMul 920–1,150 GOP/s); run on your machine with --fp32-gflops/--int8-gops',
};

/** MAC components that int8 quantization moves to integer kernels (the Dense layers). */
const QUANTIZED = new Set(['qkv', 'attentionOut', 'mlp', 'preLogits', 'head', 'tokenMixing', 'channelMixing']);

export interface RooflinePoint {
  precision: 'fp32' | 'int8';
  batch: number;
  /** Matmul FLOPs for the whole batch; of which those at the int8 rate (0 for fp32). */
  flops: number;
  int8Flops: number;
  weightBytes: number;
  activationBytes: number;
  arithmeticIntensity: number;
  computeSeconds: number;
  /** null when the profile has no bandwidth. */
  memorySeconds: number | null;
  boundSeconds: number;
  /** Upper bound on throughput. */
  imagesPerSecond: number;
  limitedBy: 'compute' | 'memory';
}

export interface RooflineBound {
  profile: HardwareProfile;
  /** FLOP/byte above which the machine is compute-bound (null without bandwidth). */
  ridgeIntensity: number | null;
  fp32: RooflinePoint;
  int8: RooflinePoint | null;
}

function point(c: ModelConfig, batch: number, profile: HardwareProfile, precision: 'fp32' | 'int8'): RooflinePoint {
  const m = macs(c);
  const flops = 2 * batch * m.total;
  const int8Flops = precision === 'int8'
    ? 2 * batch * m.components.filter((x) => QUANTIZED.has(x.key)).reduce((s, x) => s + x.macs, 0) : 0;
  const w = weightBytes(c);
  const wBytes = precision === 'int8' ? w.int8 : w.fp32;
  const activationBytes = activationMemory(c, batch).writtenBytes;
  const computeSeconds = (flops - int8Flops) / (profile.fp32GflopsPerS * 1e9)
    + (int8Flops ? int8Flops / (profile.int8GopsPerS! * 1e9) : 0);
  const ioBytes = 4 * batch * (3 * c.resolution * c.resolution + c.classes);
  const memorySeconds = profile.memBandwidthGBs ? (wBytes + ioBytes) / (profile.memBandwidthGBs * 1e9) : null;
  const boundSeconds = Math.max(computeSeconds, memorySeconds ?? 0);
  return {
    precision, batch, flops, int8Flops, weightBytes: wBytes, activationBytes,
    arithmeticIntensity: flops / (wBytes + activationBytes),
    computeSeconds, memorySeconds, boundSeconds,
    imagesPerSecond: batch / boundSeconds,
    limitedBy: memorySeconds !== null && memorySeconds > computeSeconds ? 'memory' : 'compute',
  };
}

export function rooflineBound(c: ModelConfig, batch: number, profile: HardwareProfile = DEFAULT_PROFILE): RooflineBound {
  return {
    profile,
    ridgeIntensity: profile.memBandwidthGBs ? profile.fp32GflopsPerS / profile.memBandwidthGBs : null,
    fp32: point(c, batch, profile, 'fp32'),
    int8: profile.int8GopsPerS ? point(c, batch, profile, 'int8') : null,
  };
}
