/**
 * ViT -> ONNX, reading like the forward pass of vit_jax/models_vit.py (spec §3.1):
 * patch conv -> tokens (+cls) + pos-emb -> L pre-LN blocks -> encoder_norm -> pool -> [pre_logits] -> head.
 */
import type { VitConfig } from '../models/config.js';
import { gridSize, vitLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import { type AttentionNames, type MlpNames, VIT, vitBlockNames } from '../models/names.js';
import { int, ints } from '../formats/onnx.js';
import type { Tensor } from '../tensor.js';
import { biasGelu, type Ctx, dense, MS, reshaped, splitHeads } from './layers.js';
import { patchEmbedding } from './patch.js';
import { type Branch, Residual } from './residual.js';
import { resnetStem } from './resnet.js';
import { TokenMerging } from './tome.js';

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
 * Encoder block l (pre-LN, spec §3.1), as the paper writes it. Where the graph fuses a residual add
 * into the LayerNorm after it, `Residual` does so (./residual.ts); Token Merging, when block l merges,
 * acts on the stream between the attention's residual add and ln2 (./tome.ts).
 */
function block(c: Ctx, cfg: VitConfig, ir: ModelIR, l: number, x: Residual, tome: TokenMerging): void {
  const n = vitBlockNames(l);
  const y = x.norm(n.ln1);
  x.add(attention(c, cfg, ir, y, l, tome.sizeBias(l))); // x = x + attn(ln1(x))
  tome.merge(x, y, l);
  x.add(mlp(c, ir, x.norm(n.ln2), n.mlp)); // x = x + mlp(ln2(x))
}

/**
 * Self-attention on LayerNorm output `y` ([B, T, D]); its output is returned before the out-projection's
 * bias, which the residual add carries. `bias` (ToMe's proportional attention, log token size per key)
 * is added to the scaled logits.
 */
function attention(c: Ctx, cfg: VitConfig, ir: ModelIR, y: string, l: number, bias: string | null): Branch {
  const D = cfg.hidden;
  const { heads: H, headDim: hd } = vitLayer(cfg, l);
  const A = H * hd; // attention width (< D when heads were pruned)
  const n = vitBlockNames(l).attn;
  const ctx = c.fusions.attention ? fusedAttention(c, ir, n, y, D, H, A, bias) : attentionCore(c, ir, n, y, D, H, hd, bias);
  const out = c.g.op('MatMul', [ctx, c.g.weight(n.out.kernel, reshaped(weight(ir, n.out.kernel), [A, D]))], {}, { name: n.out.matmul });
  return { out, bias: weight(ir, n.out.bias) };
}

/** IR query/key/value kernel [D, H, hd] as [D, A] and bias [H, hd] as [A]. */
const projection = (ir: ModelIR, d: { kernel: string; bias: string }, D: number, A: number) =>
  ({ kernel: reshaped(weight(ir, d.kernel), [D, A]), bias: reshaped(weight(ir, d.bias), [A]) });

/** One contrib Attention node: packed QKV projection, scaled dot product (1/sqrt(hd)), softmax. */
function fusedAttention(c: Ctx, ir: ModelIR, n: AttentionNames, y: string, D: number, H: number, A: number,
  bias: string | null): string {
  const [q, k, v] = [n.query, n.key, n.value].map((d) => projection(ir, d, D, A)) as [Proj, Proj, Proj];
  const w = c.g.weight(n.qkv.kernel, concatColumns([q.kernel, k.kernel, v.kernel]));
  const b = c.g.weight(n.qkv.bias, concat1d([q.bias, k.bias, v.bias]));
  // ToMe's size bias goes in as `attention_bias` (input 5; mask_index and past omitted).
  return c.g.op('Attention', bias ? [y, w, b, '', '', bias] : [y, w, b], { num_heads: int(H) }, { domain: MS, name: n.fused });
}
type Proj = ReturnType<typeof projection>;

/** Scaled dot-product attention in standard ops: the heads' context [B, T, A]. */
function attentionCore(c: Ctx, ir: ModelIR, n: AttentionNames, y: string, D: number, H: number, hd: number,
  bias: string | null): string {
  const g = c.g;
  const A = H * hd;
  const [q0, k0, v0] = [n.query, n.key, n.value].map((d) => projection(ir, d, D, A)) as [Proj, Proj, Proj];
  // The query is scaled before QK^T, as flax does (spec §3.2); folded into Wq and bq.
  const s = 1 / Math.sqrt(hd);
  const q = dense(c, y, scaled(q0.kernel, s), scaled(q0.bias, s), n.query);
  const k = dense(c, y, k0.kernel, k0.bias, n.key);
  const v = dense(c, y, v0.kernel, v0.bias, n.value);
  const qh = splitHeads(c, q, H, hd, [0, 2, 1, 3], n.qHeads); // [B, H, T, hd]
  const kt = splitHeads(c, k, H, hd, [0, 2, 3, 1], n.kHeads); // [B, H, hd, T]
  const vh = splitHeads(c, v, H, hd, [0, 2, 1, 3], n.vHeads);
  let scores = g.op('MatMul', [qh, kt], {}, { name: n.scores });
  if (bias) scores = g.op('Add', [scores, bias], {}, { name: n.sizeBias });
  const probs = g.op('Softmax', [scores], { axis: int(-1) }, { name: n.softmax });
  const o = g.op('Transpose', [g.op('MatMul', [probs, vh], {}, { name: n.context })], { perm: ints([0, 2, 1, 3]) });
  return g.op('Reshape', [o, g.int64(n.mergeShape, [0, 0, A])], {}, { name: n.mergeHeads });
}

/** MlpBlock_0: Dense_1(gelu(Dense_0(y))), returned before Dense_1's bias, which the residual add carries. */
function mlp(c: Ctx, ir: ModelIR, y: string, n: MlpNames): Branch {
  const g = c.g;
  const h = biasGelu(c, g.op('MatMul', [y, g.weight(n.fc1.kernel, weight(ir, n.fc1.kernel))]), weight(ir, n.fc1.bias), n);
  const out = g.op('MatMul', [h, g.weight(n.fc2.kernel, weight(ir, n.fc2.kernel))]);
  return { out, bias: weight(ir, n.fc2.bias) };
}

/** Patch tokens + their position embeddings, with the cls token prepended: the stream entering block 0. */
function embed(c: Ctx, cfg: VitConfig, ir: ModelIR, pixels: string): string {
  const g = c.g;
  const D = cfg.hidden;
  const N = gridSize(cfg) ** 2;
  const pos = weight(ir, VIT.posEmbedding);
  const hasCls = cfg.classifier === 'token';
  // A hybrid's patch embedding reads the ResNet stem's feature map (src/export/resnet.ts), not the pixels.
  const input = cfg.resnet ? resnetStem(c, ir, cfg.resnet, pixels, cfg.resolution) : pixels;
  let x = patchEmbedding(c, input, weight(ir, VIT.embedding.kernel), weight(ir, VIT.embedding.bias), VIT.embedding);
  const posPatches: Tensor = { dims: [1, N, D], data: pos.data.subarray(hasCls ? D : 0) };
  x = g.op('Add', [x, g.weight(VIT.posembedPatches, posPatches)], {}, { name: VIT.posembedAdd });
  if (hasCls) {
    // cls + pos[0] is a constant row; broadcast it over the batch and prepend.
    const clsRow = weight(ir, VIT.cls).data.map((v, i) => v + pos.data[i]!);
    const batch = g.op('Slice', [g.op('Shape', [pixels]), g.int64('zero', [0]), g.int64('one', [1])]);
    const shape = g.op('Concat', [batch, g.int64('cls_shape_tail', [1, D])], { axis: int(0) });
    const cls = g.op('Expand', [g.weight(VIT.clsPlusPos, { dims: [1, 1, D], data: clsRow }), shape], {}, { name: VIT.cls });
    x = g.op('Concat', [cls, x], { axis: int(1) }, { name: VIT.tokens });
  }
  return x;
}

export function buildVit(c: Ctx, ir: ModelIR, pixels: string): string {
  const cfg = ir.config as VitConfig;
  const g = c.g;
  const tome = new TokenMerging(c, cfg, ir);
  const x = new Residual(c, ir, embed(c, cfg, ir, pixels));
  for (let l = 0; l < cfg.layers; l++) block(c, cfg, ir, l, x, tome);
  const y = x.norm(VIT.encoderNorm);

  // Pool: the cls token, or the mean over all tokens.
  let z = cfg.classifier === 'token'
    ? g.op('Gather', [y, g.int64('cls_index', [0], [])], { axis: int(1) }, { name: VIT.poolToken })
    : tome.pool(y) ?? g.op('ReduceMean', [y], { axes: ints([1]), keepdims: int(0) }, { name: VIT.poolGap });
  if (cfg.representation) {
    z = g.op('Tanh', [dense(c, z, weight(ir, VIT.preLogits.kernel), weight(ir, VIT.preLogits.bias), VIT.preLogits)]);
  }
  return dense(c, z, weight(ir, VIT.head.kernel), weight(ir, VIT.head.bias), VIT.head);
}
