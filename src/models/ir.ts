/**
 * The model IR: a configuration plus named float32 weights in the official (Linen-numbered) layout
 * of google-research/vision_transformer, e.g. `Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel`
 * with shape (D, H, hd). Every importer produces this; every exporter consumes it.
 */
import type { ModelConfig } from './config.js';
import type { Tensor } from '../tensor.js';

export interface ModelIR {
  config: ModelConfig;
  weights: Map<string, Tensor>;
  /** Class names, index-aligned with the logits, when known. */
  labels: string[] | null;
  /** Where the weights came from (a path, 'random:seed=0', …). */
  source: string;
}

export function weight(ir: ModelIR, name: string): Tensor {
  const t = ir.weights.get(name);
  if (!t) throw new Error(`internal: weight '${name}' missing from a validated model`);
  return t;
}
