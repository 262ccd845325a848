/**
 * The one generator of random input images: benchmark batches, calibration images where no data set is
 * given, export verification, the loadtest's synthetic pixels and the tests' images all come from here.
 *
 * Seeded and deterministic (mulberry32, src/models/random.ts): the same seed gives the same pixels on
 * every engine and every run. Values are in the models' input range [-1, 1]:
 *
 *   'gaussian' (default)  N(0, std²), std 0.5 unless given, clipped to [-1, 1] (about 95% of the values
 *                         lie inside at std 0.5): roughly the statistics of normalized natural images;
 *                         what calibration and verification use.
 *   'uniform'             U[-1, 1): every value equally likely; what the benchmarks feed (the speed of
 *                         an fp32 or INT8 graph does not depend on the values).
 *
 * A source draws from one stream: n values at once equal the same n values drawn in several calls.
 */
import { gaussian, rng } from '../models/random.js';
import type { Tensor } from '../tensor.js';

export type PixelDistribution = 'gaussian' | 'uniform';

export interface RandomPixelOptions {
  /** mulberry32 seed (default 1). */
  seed?: number;
  /** Default 'gaussian'. */
  distribution?: PixelDistribution;
  /** Standard deviation of the 'gaussian' distribution before clipping (default 0.5). */
  std?: number;
}

/** A stream of pixels: each call returns the next `count` values. */
export function pixelSource(o: RandomPixelOptions = {}): (count: number) => Float32Array {
  const r = rng(o.seed ?? 1);
  if ((o.distribution ?? 'gaussian') === 'uniform') {
    return (count) => {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = 2 * r() - 1;
      return out;
    };
  }
  const g = gaussian(r), std = o.std ?? 0.5;
  return (count) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = Math.max(-1, Math.min(1, std * g()));
    return out;
  };
}

/** `count` random pixels (a flat array: the caller's layout). */
export function randomPixels(count: number, o: RandomPixelOptions = {}): Float32Array {
  return pixelSource(o)(count);
}

/** n random RGB images of side × side, NCHW [n, 3, side, side] by default, or NHWC [n, side, side, 3]. */
export function randomImages(n: number, side: number, o: RandomPixelOptions & { layout?: 'nchw' | 'nhwc' } = {}): Tensor {
  const dims = o.layout === 'nhwc' ? [n, side, side, 3] : [n, 3, side, side];
  return { dims, data: randomPixels(n * 3 * side * side, o) };
}

/**
 * `images` random NCHW images in batches of `batch` (the last one smaller), drawn from one stream, or
 * exactly `fixedBatch` images per batch (a fixed-batch model) when given.
 */
export function randomBatches(images: number, batch: number, side: number, o: RandomPixelOptions & { fixedBatch?: number } = {}): Tensor[] {
  const next = pixelSource(o), per = 3 * side * side, out: Tensor[] = [];
  for (let i = 0; i < images; i += batch) {
    const k = o.fixedBatch ?? Math.min(batch, images - i);
    out.push({ dims: [k, 3, side, side], data: next(k * per) });
  }
  return out;
}
