/**
 * ViT -> ONNX, reading like the forward pass of vit_jax/models_vit.py (spec §3.1):
 * patch conv -> tokens (+cls) + pos-emb -> L pre-LN blocks -> encoder_norm -> pool -> [pre_logits] -> head.
 */
import type { VitConfig } from '../models/config.js';
import { gridSize, sequenceLength, vitLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import { vitBlock } from '../models/layout.js';
import { int, ints } from '../formats/onnx.js';
import type { Tensor } from '../tensor.js';
import { addAndNorm, biasGelu, type Ctx, dense, layerNorm, MS, reshaped, splitHeads } from './layers.js';
import { patchEmbedding } from './patch.js';
import { resnetStem } from './resnet.js';
import { checkMergeSchedule, mergePool, mergeSchedule } from '../models/tome.js';
import { mergeMetric, mergeTokens, poolMerged, sizeBias, type Sizes } from './tome.js';

function scaled(t: Tensor, s: number): Tensor {
  return { dims: t.dims, data: t.data.map((v) => v * s) };
}

/** Concatenate 2-D [D, n_i] matrices along columns. */
function concatColumns(parts: Tensor[]): Tensor {
  const rows = parts[0]!.dims[0]!;
  const cols = parts.reduce((s, p) => s + p.dims[1]!, 0);
  const out = new Float32Array(rows * cols);
  let c0 = 0;
  for (const p of parts) {
    const n = p.dims[1]!;
    for (let r = 0; r < rows; r++) out.set(p.data.subarray(r * n, (r + 1) * n), r * cols + c0);
    c0 += n;
  }
  return { dims: [rows, cols], data: out };
}

function concat1d(parts: Tensor[]): Tensor {
  const out = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p.data, o); o += p.data.length; }
  return { dims: [out.length], data: out };
}

/**
 * Self-attention on LayerNorm output `y` ([B, T, D]); returns the projected output before the bias.
 * `bias` (ToMe's proportional attention, log token size per key) is added to the scaled logits.
 */
function attention(c: Ctx, cfg: VitConfig, ir: ModelIR, y: string, l: number, bias: string | null = null): { out: string; outBias: Tensor } {
  const D = cfg.hidden;
  const { heads: H, headDim: hd } = vitLayer(cfg, l);
  const A = H * hd; // attention width (< D when heads were pruned)
  const p = `${vitBlock(l)}/MultiHeadDotProductAttention_0`;
  const k2 = (n: string) => reshaped(weight(ir, `${p}/${n}/kernel`), [D, A]);
  const b1 = (n: string) => reshaped(weight(ir, `${p}/${n}/bias`), [A]);
  const wo = reshaped(weight(ir, `${p}/out/kernel`), [A, D]);
  const g = c.g;
  let ctx: string;
  if (c.fusions.attention) {
    // One contrib Attention node: packed QKV projection, scaled dot product (1/sqrt(hd)), softmax.
    const w = g.weight(`${p}/qkv/kernel`, concatColumns([k2('query'), k2('key'), k2('value')]));
    const b = g.weight(`${p}/qkv/bias`, concat1d([b1('query'), b1('key'), b1('value')]));
    // ToMe's size bias goes in as `attention_bias` (input 5; mask_index and past omitted).
    ctx = g.op('Attention', bias ? [y, w, b, '', '', bias] : [y, w, b], { num_heads: int(H) }, { domain: MS, name: `${p}/Attention` });
  } else {
    // The query is scaled before QK^T, as flax does (spec §3.2); folded into Wq and bq.
    const s = 1 / Math.sqrt(hd);
    const q = dense(c, y, scaled(k2('query'), s), scaled(b1('query'), s), `${p}/query`);
    const k = dense(c, y, k2('key'), b1('key'), `${p}/key`);
    const v = dense(c, y, k2('value'), b1('value'), `${p}/value`);
    const qh = splitHeads(c, q, H, hd, [0, 2, 1, 3], `${p}/q_heads`); // [B, H, T, hd]
    const kt = splitHeads(c, k, H, hd, [0, 2, 3, 1], `${p}/k_heads`); // [B, H, hd, T]
    const vh = splitHeads(c, v, H, hd, [0, 2, 1, 3], `${p}/v_heads`);
    let scores = g.op('MatMul', [qh, kt], {}, { name: `${p}/scores` });
    if (bias) scores = g.op('Add', [scores, bias], {}, { name: `${p}/size_bias` });
    const probs = g.op('Softmax', [scores], { axis: int(-1) }, { name: `${p}/softmax` });
    const o = g.op('Transpose', [g.op('MatMul', [probs, vh], {}, { name: `${p}/context` })], { perm: ints([0, 2, 1, 3]) });
    ctx = g.op('Reshape', [o, g.int64(`${p}/merge_shape`, [0, 0, A])], {}, { name: `${p}/merge_heads` });
  }
  const out = g.op('MatMul', [ctx, g.weight(`${p}/out/kernel`, wo)], {}, { name: `${p}/out/MatMul` });
  return { out, outBias: weight(ir, `${p}/out/bias`) };
}

export function buildVit(c: Ctx, ir: ModelIR, pixels: string): string {
  const cfg = ir.config as VitConfig;
  const g = c.g;
  const D = cfg.hidden;
  const N = gridSize(cfg) ** 2;
  const pos = weight(ir, 'Transformer/posembed_input/pos_embedding');
  const hasCls = cfg.classifier === 'token';
  if (cfg.mergeTokens) checkMergeSchedule(cfg, cfg.mergeTokens, 'merge schedule (mergeTokens)');

  // Patch tokens + their position embeddings.
  // A hybrid's patch embedding reads the ResNet stem's feature map (src/export/resnet.ts), not the pixels.
  const input = cfg.resnet ? resnetStem(c, ir, cfg.resnet, pixels, cfg.resolution) : pixels;
  let x = patchEmbedding(c, input, weight(ir, 'embedding/kernel'), weight(ir, 'embedding/bias'), 'embedding');
  const posPatches: Tensor = { dims: [1, N, D], data: pos.data.subarray(hasCls ? D : 0) };
  x = g.op('Add', [x, g.weight('posembed_patches', posPatches)], {}, { name: 'posembed_input' });
  if (hasCls) {
    // cls + pos[0] is a constant row; broadcast it over the batch and prepend.
    const clsRow = weight(ir, 'cls').data.map((v, i) => v + pos.data[i]!);
    const batch = g.op('Slice', [g.op('Shape', [pixels]), g.int64('zero', [0]), g.int64('one', [1])]);
    const shape = g.op('Concat', [batch, g.int64('cls_shape_tail', [1, D])], { axis: int(0) });
    const cls = g.op('Expand', [g.weight('cls_plus_pos', { dims: [1, 1, D], data: clsRow }), shape], {}, { name: 'cls' });
    x = g.op('Concat', [cls, x], { axis: int(1) }, { name: 'tokens' });
  }

  // Encoder: y = LN(x) is carried between blocks so that each residual add fuses with the next LN.
  const ln = (l: number, i: 0 | 1) => [weight(ir, `${vitBlock(l)}/LayerNorm_${i}/scale`), weight(ir, `${vitBlock(l)}/LayerNorm_${i}/bias`)] as const;
  let y = layerNorm(c, x, ...ln(0, 0), `${vitBlock(0)}/LayerNorm_0`);
  // Token Merging (src/export/tome.ts): block l merges r[l] tokens between attention and MLP.
  const r = mergeSchedule(cfg);
  let T = sequenceLength(cfg);
  let size: Sizes = null;
  for (let l = 0; l < cfg.layers; l++) {
    const b = vitBlock(l);
    const att = attention(c, cfg, ir, y, l, size && sizeBias(c, size, T, `${b}/tome/size_bias`));
    if (r[l]! > 0) {
      // x + attention, merged, then LayerNorm_1 on the T − r tokens.
      const metric = mergeMetric(c, cfg, ir, y, l);
      const res = g.op('Add', [g.op('Add', [att.out, g.weight(`${b}/LayerNorm_1/skip_bias`, att.outBias)]), x], {},
        { name: `${b}/LayerNorm_1/residual` });
      ({ x, size } = mergeTokens(c, res, size, metric, { T, r: r[l]!, hasCls, name: `${b}/tome/merge` }));
      T -= r[l]!;
      y = layerNorm(c, x, ...ln(l, 1), `${b}/LayerNorm_1`);
    } else {
      [y, x] = addAndNorm(c, att.out, x, att.outBias, ...ln(l, 1), `${b}/LayerNorm_1`);
    }
    const h = biasGelu(c, g.op('MatMul', [y, g.weight(`${b}/MlpBlock_0/Dense_0/kernel`, weight(ir, `${b}/MlpBlock_0/Dense_0/kernel`))]),
      weight(ir, `${b}/MlpBlock_0/Dense_0/bias`), `${b}/MlpBlock_0/gelu`);
    const m = g.op('MatMul', [h, g.weight(`${b}/MlpBlock_0/Dense_1/kernel`, weight(ir, `${b}/MlpBlock_0/Dense_1/kernel`))]);
    const last = l === cfg.layers - 1;
    const [s, bb] = last
      ? [weight(ir, 'Transformer/encoder_norm/scale'), weight(ir, 'Transformer/encoder_norm/bias')]
      : ln(l + 1, 0);
    [y, x] = addAndNorm(c, m, x, weight(ir, `${b}/MlpBlock_0/Dense_1/bias`), s, bb,
      last ? 'Transformer/encoder_norm' : `${vitBlock(l + 1)}/LayerNorm_0`);
  }

  // Pool: the cls token, or the mean over all tokens.
  let z = hasCls
    ? g.op('Gather', [y, g.int64('cls_index', [0], [])], { axis: int(1) }, { name: 'pool_token' })
    : size ? poolMerged(c, y, size, N, mergePool(cfg))
      : g.op('ReduceMean', [y], { axes: ints([1]), keepdims: int(0) }, { name: 'pool_gap' });
  if (cfg.representation) {
    z = g.op('Tanh', [dense(c, z, weight(ir, 'pre_logits/kernel'), weight(ir, 'pre_logits/bias'), 'pre_logits')]);
  }
  return dense(c, z, weight(ir, 'head/kernel'), weight(ir, 'head/bias'), 'head');
}
