/** The benchmark's input batch. */
import { randomPixels } from '../data/random-images.js';
import { numel } from '../tensor.js';

/** Deterministic uniform pixels in [-1, 1] (src/data/random-images.ts): the same batch for every engine. */
export function benchInput(batch: number, dims: readonly number[], seed = 1): Float32Array {
  return randomPixels(numel([batch, ...dims]), { seed, distribution: 'uniform' });
}
