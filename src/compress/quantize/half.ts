/** IEEE float16 from float32, round to nearest even, with the clamping fp16 conversion needs. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half-precision bits of `v` (round to nearest even; overflow -> ±Infinity). */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return h;
}

export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export const HALF_MAX = 65504;

/**
 * float32 values to float16 bits, clamping what fp16 cannot hold: |v| > 65504 -> ±65504 (not
 * Infinity), 0 < |v| < minPositive -> ±minPositive (a tiny epsilon constant must not become 0).
 */
export function toHalfArray(values: Float32Array, minPositive = 1e-7): { bits: Uint16Array; clamped: number } {
  const bits = new Uint16Array(values.length);
  let clamped = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    const a = Math.abs(v);
    if (a > HALF_MAX && Number.isFinite(v)) { v = Math.sign(v) * HALF_MAX; clamped++; }
    else if (a > 0 && a < minPositive) { v = Math.sign(v) * minPositive; clamped++; }
    bits[i] = toHalfBits(v);
  }
  return { bits, clamped };
}
