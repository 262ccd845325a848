/**
 * Exact parameter counts from a configuration (spec §2.2, §2.5). They equal the official counts of
 * vit_jax/models_test.py for every zoo entry (checked in test/analyze/params.test.ts).
 */
import { type ModelConfig, patchTokens, sequenceLength } from '../models/config.js';

export interface ParamBreakdown {
  embedding: number;
  /** cls token + position embedding (ViT only). */
  tokens: number;
  blocks: number;
  finalNorm: number;
  preLogits: number;
  head: number;
  total: number;
}

export function paramBreakdown(c: ModelConfig): ParamBreakdown {
  const embedding = c.patch * c.patch * 3 * c.hidden + c.hidden;
  let tokens = 0;
  let blocks: number;
  let preLogits = 0;
  let headIn = c.hidden;
  if (c.family === 'vit') {
    const D = c.hidden, M = c.mlp;
    tokens = (c.classifier === 'token' ? D : 0) + sequenceLength(c) * D;
    blocks = c.layers * (4 * D * D + 2 * D * M + 9 * D + M);
    if (c.representation) {
      preLogits = D * c.representation + c.representation;
      headIn = c.representation;
    }
  } else {
    const C = c.hidden, S = patchTokens(c), DS = c.tokensMlp, DC = c.channelsMlp;
    blocks = c.blocks * (4 * C + (S * DS + DS + DS * S + S) + (C * DC + DC + DC * C + C));
  }
  const finalNorm = 2 * c.hidden;
  const head = c.classes > 0 ? headIn * c.classes + c.classes : 0;
  const total = embedding + tokens + blocks + finalNorm + preLogits + head;
  return { embedding, tokens, blocks, finalNorm, preLogits, head, total };
}

export function countParams(c: ModelConfig): number {
  return paramBreakdown(c).total;
}
