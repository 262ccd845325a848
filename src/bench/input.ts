/** The benchmark's input batch. */
import { randomPixels } from '../data/random-images.js';

/** Deterministic uniform pixels in [-1, 1] (src/data/random-images.ts): the same batch for every engine. */
export function benchInput(batch: number, dims: readonly number[], seed = 1): Float32Array {
  return randomPixels(batch * dims.reduce((a, b) => a * b, 1), { seed, distribution: 'uniform' });
}
