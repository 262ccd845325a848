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
import { mixerBlock } from '../models/layout.js';
import { int, ints } from '../formats/onnx.js';
import { transpose2d } from '../tensor.js';
import { addAndNorm, biasGelu, type Ctx, dense, layerNorm } from './layers.js';
import { patchEmbedding } from './patch.js';


/** XLA SAME padding for a stride-P, P×P conv: [top, left, bottom, right]. */
function samePads(side: number, P: number): number[] {
  const out = Math.ceil(side / P);
  const total = Math.max((out - 1) * P + P - side, 0);
  const lo = Math.floor(total / 2);
  return [lo, lo, total - lo, total - lo];
}

export function buildMixer(c: Ctx, ir: ModelIR, pixels: string): string {
  const cfg = ir.config as MixerConfig;
  const g = c.g;
  let x = patchEmbedding(c, pixels, weight(ir, 'stem/kernel'), weight(ir, 'stem/bias'), 'stem',
    samePads(cfg.resolution, cfg.patch));
  const S = gridSize(cfg) ** 2;
  const w = (n: string) => weight(ir, n);
  let y = layerNorm(c, x, w(`${mixerBlock(0)}/LayerNorm_0/scale`), w(`${mixerBlock(0)}/LayerNorm_0/bias`), `${mixerBlock(0)}/LayerNorm_0`);
  for (let i = 0; i < cfg.blocks; i++) {
    const b = mixerBlock(i);
    const tm = `${b}/token_mixing`;
    // Token mixing: W1ᵀ @ y + b1 (per D_S row), gelu, W2ᵀ @ . + b2 (per token row).
    let t = g.op('MatMul', [g.weight(`${tm}/Dense_0/kernel_t`, transpose2d(w(`${tm}/Dense_0/kernel`))), y], {}, { name: `${tm}/Dense_0` });
    const b1 = w(`${tm}/Dense_0/bias`);
    t = g.op('Add', [t, g.weight(`${tm}/Dense_0/bias`, { dims: [mixerLayer(cfg, i).tokensMlp, 1], data: b1.data })]);
    t = biasGelu(c, t, null, `${tm}/gelu`);
    t = g.op('MatMul', [g.weight(`${tm}/Dense_1/kernel_t`, transpose2d(w(`${tm}/Dense_1/kernel`))), t], {}, { name: `${tm}/Dense_1` });
    t = g.op('Add', [t, g.weight(`${tm}/Dense_1/bias`, { dims: [S, 1], data: w(`${tm}/Dense_1/bias`).data })]);
    [y, x] = addAndNorm(c, t, x, null, w(`${b}/LayerNorm_1/scale`), w(`${b}/LayerNorm_1/bias`), `${b}/LayerNorm_1`);
    // Channel mixing.
    const cm = `${b}/channel_mixing`;
    const h = biasGelu(c, g.op('MatMul', [y, g.weight(`${cm}/Dense_0/kernel`, w(`${cm}/Dense_0/kernel`))]), w(`${cm}/Dense_0/bias`), `${cm}/gelu`);
    const m = g.op('MatMul', [h, g.weight(`${cm}/Dense_1/kernel`, w(`${cm}/Dense_1/kernel`))], {}, { name: `${cm}/Dense_1` });
    const last = i === cfg.blocks - 1;
    const next = last ? 'pre_head_layer_norm' : `${mixerBlock(i + 1)}/LayerNorm_0`;
    [y, x] = addAndNorm(c, m, x, w(`${cm}/Dense_1/bias`), w(`${next}/scale`), w(`${next}/bias`), next);
  }
  const z = g.op('ReduceMean', [y], { axes: ints([1]), keepdims: int(0) }, { name: 'pool_gap' });
  return dense(c, z, w('head/kernel'), w('head/bias'), 'head');
}
