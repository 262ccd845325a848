/**
 * Exact parameter counts from a configuration (spec §2.2, §2.5). They equal the official counts of
 * vit_jax/models_test.py for every zoo entry (checked in test/analyze/params.test.ts). Blocks are
 * counted one by one with their own widths, which is exact for structurally pruned models too
 * (checked against the initializers of pruned ONNX exports in test/analyze/pruned.test.ts).
 */
import { type MixerConfig, type ModelConfig, type VitConfig, mixerLayer, patchTokens, sequenceLength, vitLayer } from '../models/config.js';
import { resnetParams, stemChannels } from '../models/resnet.js';

export interface ParamBreakdown {
  /** Hybrid R+ViT: the ResNet stem's conv kernels and GroupNorms (0 otherwise). */
  resnet: number;
  embedding: number;
  /** cls token + position embedding (ViT only). */
  tokens: number;
  blocks: number;
  finalNorm: number;
  preLogits: number;
  head: number;
  total: number;
}

/** One ViT block l: q, k, v: D·A + A each, out: A·D + D (A = heads_l·headDim); MLP: 2·D·M_l + M_l + D; two LayerNorms: 4·D. */
export function vitBlockParams(c: VitConfig, l: number): number {
  const D = c.hidden;
  const { attention: A, mlp: M } = vitLayer(c, l);
  return 4 * D * A + 3 * A + D + 2 * D * M + M + D + 4 * D;
}

/** One Mixer block i: two LayerNorms 4·C, token mixing S→D_S,i→S, channel mixing C→D_C,i→C (kernels and biases). */
export function mixerBlockParams(c: MixerConfig, i: number): number {
  const C = c.hidden, S = patchTokens(c);
  const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
  return 4 * C + (S * DS + DS + DS * S + S) + (C * DC + DC + DC * C + C);
}

export function paramBreakdown(c: ModelConfig): ParamBreakdown {
  const resnet = c.family === 'vit' && c.resnet ? resnetParams(c.resnet) : 0;
  const cin = c.family === 'vit' && c.resnet ? stemChannels(c.resnet) : 3;
  const embedding = c.patch * c.patch * cin * c.hidden + c.hidden;
  let tokens = 0;
  let blocks: number;
  let preLogits = 0;
  let headIn = c.hidden;
  if (c.family === 'vit') {
    const D = c.hidden;
    tokens = (c.classifier === 'token' ? D : 0) + sequenceLength(c) * D;
    blocks = 0;
    for (let l = 0; l < c.layers; l++) blocks += vitBlockParams(c, l);
    if (c.representation) {
      preLogits = D * c.representation + c.representation;
      headIn = c.representation;
    }
  } else {
    blocks = 0;
    for (let i = 0; i < c.blocks; i++) blocks += mixerBlockParams(c, i);
  }
  const finalNorm = 2 * c.hidden;
  const head = c.classes > 0 ? headIn * c.classes + c.classes : 0;
  const total = resnet + embedding + tokens + blocks + finalNorm + preLogits + head;
  return { resnet, embedding, tokens, blocks, finalNorm, preLogits, head, total };
}

export function countParams(c: ModelConfig): number {
  return paramBreakdown(c).total;
}
