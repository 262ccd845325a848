/**
 * The deterministic input of the check pair: the builder (Node) and the page (browser) both make it
 * from a seed, so the site ships 4 bytes instead of a 600 kB tensor. mulberry32: a tiny, well-known
 * 32-bit PRNG whose integer arithmetic is exact in every JavaScript engine.
 */
export function checkInput(seed: number, resolution: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(3 * resolution * resolution);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = Math.fround(u * 2 - 1);
  }
  return out;
}

/** max|got − expected| / max(1, max|expected|): the check pair's measure (NaN counts as infinitely wrong). */
export function relativeDeviation(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (got.length !== expected.length) return Infinity;
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(got[i]! - expected[i]!);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst / scale;
}
