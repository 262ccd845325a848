/**
 * MLP-Mixer -> ONNX, reading like vit_jax/models_mixer.py (spec §3.4):
 * stem conv -> tokens [B, S, C] -> blocks (token mixing, channel mixing) -> pre-head LN -> mean -> head.
 *
 * Token mixing acts along S. Instead of transposing [B, S, C] -> [B, C, S] and back, the graph
 * computes the same thing as a left multiplication: W1ᵀ [D_S, S] @ y [B, S, C] -> [B, D_S, C],
 * so no Transpose nodes are needed and the MatMuls see contiguous operands.
 */
import type { MixerConfig } from '../models/config.js';
import { gridSize, mixerLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import { MIXER, mixerBlockNames, type MlpNames } from '../models/names.js';
import { int, ints } from '../formats/onnx.js';
import { transpose2d } from '../tensor.js';
import { biasGelu, type Ctx, dense } from './layers.js';
import { patchEmbedding } from './patch.js';
import { type Branch, Residual } from './residual.js';

/** XLA SAME padding for a stride-P, P×P conv: [top, left, bottom, right]. */
function samePads(side: number, P: number): number[] {
  const out = Math.ceil(side / P);
  const total = Math.max((out - 1) * P + P - side, 0);
  const lo = Math.floor(total / 2);
  return [lo, lo, total - lo, total - lo];
}

/**
 * Token mixing, W2ᵀ gelu(W1ᵀ y + b1) + b2 along S, as left multiplications: the kernels are stored
 * transposed (`kernel_t`) and the biases as columns ([D_S, 1] per D_S row, [S, 1] per token row).
 * Both biases are added here, so the residual add carries none.
 */
function tokenMixing(c: Ctx, ir: ModelIR, y: string, n: MlpNames, DS: number, S: number): Branch {
  const g = c.g;
  const w = (name: string) => weight(ir, name);
  let t = g.op('MatMul', [g.weight(n.fc1.kernelT, transpose2d(w(n.fc1.kernel))), y], {}, { name: n.fc1.scope });
  t = g.op('Add', [t, g.weight(n.fc1.bias, { dims: [DS, 1], data: w(n.fc1.bias).data })]);
  t = biasGelu(c, t, null, n);
  t = g.op('MatMul', [g.weight(n.fc2.kernelT, transpose2d(w(n.fc2.kernel))), t], {}, { name: n.fc2.scope });
  t = g.op('Add', [t, g.weight(n.fc2.bias, { dims: [S, 1], data: w(n.fc2.bias).data })]);
  return { out: t, bias: null };
}

/** Channel mixing: Dense_1(gelu(Dense_0(y))) along C, before Dense_1's bias, which the residual add carries. */
function channelMixing(c: Ctx, ir: ModelIR, y: string, n: MlpNames): Branch {
  const g = c.g;
  const h = biasGelu(c, g.op('MatMul', [y, g.weight(n.fc1.kernel, weight(ir, n.fc1.kernel))]), weight(ir, n.fc1.bias), n);
  const out = g.op('MatMul', [h, g.weight(n.fc2.kernel, weight(ir, n.fc2.kernel))], {}, { name: n.fc2.scope });
  return { out, bias: weight(ir, n.fc2.bias) };
}

export function buildMixer(c: Ctx, ir: ModelIR, pixels: string): string {
  const cfg = ir.config as MixerConfig;
  const g = c.g;
  const S = gridSize(cfg) ** 2;
  const tokens = patchEmbedding(c, pixels, weight(ir, MIXER.stem.kernel), weight(ir, MIXER.stem.bias), MIXER.stem,
    samePads(cfg.resolution, cfg.patch));
  const x = new Residual(c, ir, tokens);
  for (let i = 0; i < cfg.blocks; i++) {
    // Mixer block i (spec §3.4); residual adds fuse with the LayerNorm after them as in the ViT (./residual.ts).
    const n = mixerBlockNames(i);
    x.add(tokenMixing(c, ir, x.norm(n.ln1), n.tokenMixing, mixerLayer(cfg, i).tokensMlp, S)); // x = x + token_mixing(ln1(x))
    x.add(channelMixing(c, ir, x.norm(n.ln2), n.channelMixing)); // x = x + channel_mixing(ln2(x))
  }
  const y = x.norm(MIXER.preHeadNorm);
  const z = g.op('ReduceMean', [y], { axes: ints([1]), keepdims: int(0) }, { name: MIXER.poolGap });
  return dense(c, z, weight(ir, MIXER.head.kernel), weight(ir, MIXER.head.bias), MIXER.head);
}
