/** The benchmark's input batch. */
import { rng } from '../models/random.js';

/** Deterministic pixels in [-1, 1] (the models' input range): the same batch for every engine. */
export function benchInput(batch: number, dims: readonly number[], seed = 1): Float32Array {
  const n = batch * dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const r = rng(seed);
  for (let i = 0; i < n; i++) out[i] = 2 * r() - 1;
  return out;
}

