/**
 * Random weights for any configuration (benchmarks and tests need no checkpoint). Seeded and
 * deterministic. Scales follow the usual truncated-normal-ish init (std 0.02 for matrices), with
 * LayerNorm scales near 1, so activations stay in a realistic range through deep stacks.
 */
import type { ModelConfig } from './config.js';
import type { ModelIR } from './ir.js';
import { expectedShapes } from './layout.js';
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';

/** mulberry32: small, fast, good enough for weights. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12), v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function randomIR(config: ModelConfig, seed = 0): ModelIR {
  const normal = gaussian(rng(seed));
  const weights = new Map<string, Tensor>();
  for (const [name, dims] of expectedShapes(config)) {
    const data = new Float32Array(numel(dims));
    let mean = 0, std = 0.02;
    // Norm scales near 1 (the hybrid stem's GroupNorms too: gn_root, gn_proj, gn1…gn3).
    if (/LayerNorm_\d\/scale|encoder_norm\/scale|pre_head_layer_norm\/scale|(^|\/)gn(\d+|_root|_proj)\/scale/.test(name)) { mean = 1; std = 0.1; }
    else if (name.endsWith('bias')) std = 0.02;
    else if (name === 'cls' || name.endsWith('pos_embedding')) std = 0.5;
    for (let i = 0; i < data.length; i++) data[i] = mean + std * normal();
    weights.set(name, { dims, data });
  }
  return { config, weights, labels: null, source: `random:seed=${seed}` };
}
