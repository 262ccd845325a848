/**
 * INT8 numbers: weight quantization (per tensor or per output channel), activation parameters from a
 * calibrated range, and SQNR. Weights are [K, N] row-major (MatMul B): a "channel" is a column n,
 * so per-channel scales have N entries (ONNX axis 1).
 */
import { DataType } from '../../formats/onnx.js';

/**
 * How activations x weights are stored for ONNX Runtime's integer kernels:
 * - u8s8: uint8 activations, int8 symmetric weights in [-127, 127]. Fastest; exact on CPUs with VNNI
 *   (and ARM). On x86 without VNNI the kernel's VPMADDUBSW sums pairs of u8·s8 products in int16 and
 *   saturates (255·127·2 > 32767): with real activations that is a large error.
 * - u8s8-reduced: the same with 7-bit weights in [-63, 63], which cannot saturate (ORT's reduce_range).
 * - u8u8: uint8 asymmetric weights; no saturation (the kernel widens to int16 first), ~15% slower.
 */
export type Int8Format = 'u8s8' | 'u8s8-reduced' | 'u8u8';
export const INT8_FORMATS: readonly Int8Format[] = ['u8s8', 'u8s8-reduced', 'u8u8'];

export interface QuantizedWeight {
  /** [K, N] quantized values. */
  data: Int8Array | Uint8Array;
  dataType: number;
  /** One scale (per tensor) or N (per channel). */
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array;
  perChannel: boolean;
  K: number;
  N: number;
}

/** [lo, hi] of each column (or of all values when !perChannel), always including 0. */
function ranges(w: Float32Array, K: number, N: number, perChannel: boolean): { lo: Float32Array; hi: Float32Array } {
  const C = perChannel ? N : 1;
  const lo = new Float32Array(C), hi = new Float32Array(C);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) {
      const v = w[row + n]!, c = perChannel ? n : 0;
      if (v < lo[c]!) lo[c] = v;
      if (v > hi[c]!) hi[c] = v;
    }
  }
  return { lo, hi };
}

export function quantizeWeight(w: Float32Array, K: number, N: number, o: { format: Int8Format; perChannel: boolean }): QuantizedWeight {
  if (w.length !== K * N) throw new Error(`internal: weight has ${w.length} values, expected ${K}x${N}`);
  const { lo, hi } = ranges(w, K, N, o.perChannel);
  const C = lo.length;
  const scale = new Float32Array(C);
  if (o.format === 'u8u8') {
    const zp = new Uint8Array(C);
    for (let c = 0; c < C; c++) {
      const s = (hi[c]! - lo[c]!) / 255;
      scale[c] = s > 0 ? s : 1;
      zp[c] = Math.min(255, Math.max(0, Math.round(-lo[c]! / scale[c]!)));
    }
    const q = new Uint8Array(K * N);
    for (let i = 0; i < q.length; i++) {
      const c = o.perChannel ? i % N : 0;
      q[i] = Math.min(255, Math.max(0, Math.round(w[i]! / scale[c]!) + zp[c]!));
    }
    return { data: q, dataType: DataType.UINT8, scale, zeroPoint: zp, perChannel: o.perChannel, K, N };
  }
  const qmax = o.format === 'u8s8-reduced' ? 63 : 127;
  for (let c = 0; c < C; c++) {
    const m = Math.max(-lo[c]!, hi[c]!);
    scale[c] = m > 0 ? m / qmax : 1;
  }
  const q = new Int8Array(K * N);
  for (let i = 0; i < q.length; i++) {
    const c = o.perChannel ? i % N : 0;
    q[i] = Math.min(qmax, Math.max(-qmax, Math.round(w[i]! / scale[c]!)));
  }
  return { data: q, dataType: DataType.INT8, scale, zeroPoint: new Int8Array(C), perChannel: o.perChannel, K, N };
}

export function dequantizeWeight(q: QuantizedWeight): Float32Array {
  const out = new Float32Array(q.data.length);
  for (let i = 0; i < out.length; i++) {
    const c = q.perChannel ? i % q.N : 0;
    out[i] = (q.data[i]! - q.zeroPoint[c]!) * q.scale[c]!;
  }
  return out;
}

/** uint8 asymmetric parameters for an activation range (the range is widened to include 0). */
export function activationParams(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const a = Math.min(lo, 0), b = Math.max(hi, 0);
  const scale = b - a > 0 ? (b - a) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-a / scale)));
  return { scale: Math.fround(scale), zeroPoint };
}

/** Signal-to-quantization-noise ratio in dB: 10·log10(Σref² / Σ(ref − x)²); Infinity when exact. */
export function sqnr(ref: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0, e = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    s += r * r;
    const d = r - x[i]!;
    e += d * d;
  }
  if (e === 0) return Infinity;
  if (s === 0) return -Infinity;
  return 10 * Math.log10(s / e);
}
