/**
 * Token Merging (ToMe) in the exported graph, in standard ONNX ops only (both graph styles), following
 * the reference code facebookresearch/ToMe, tome/merge.py (bipartite_soft_matching, merge_wavg) and
 * tome/patch/timm.py (ToMeBlock, ToMeAttention). Every shape is static: block l merges a fixed r_l.
 *
 *   metric    = mean over heads of the block's attention keys        MatMul with the head-averaged key kernel [D, hd]
 *   a, b      = metric[:, 0::2], metric[:, 1::2], L2-normalized      LpNormalization, Slice (step 2)
 *   scores    = a · bᵀ; best match of each A token in B              MatMul, TopK k=1 (ties: lowest B index)
 *   cls       = never merged: its best score is −∞                   Add
 *   order     = A tokens by best score, descending                   TopK k=|A| (ties: lowest A index first)
 *   src / unm = the first r / the rest (cls model: rest in index order, as the reference sorts them)
 *   merge_wavg: x·size and size scatter-added from the r sources into their destinations, then the
 *               tokens kept gathered in the new order (unm, then all B); x = Σ x·size / Σ size
 *                                                                    GatherElements, GatherND (batch_dims 1),
 *                                                                    ScatterND (reduction add), Range, Div
 *   later blocks: proportional attention, log(size) added to the logits per key.
 */
import { int, ints, str } from '../formats/onnx.js';
import type { VitConfig } from '../models/config.js';
import { patchTokens, sequenceLength, vitLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import { VIT, vitBlockNames } from '../models/names.js';
import { checkMergeSchedule, type MergePool, mergePool, mergeSchedule } from '../models/tome.js';
import type { Ctx } from './layers.js';
import type { Residual } from './residual.js';

/** Token sizes [B, T, 1] (float), or null while every size is 1 (no merge yet). */
type Sizes = string | null;

/**
 * The merge metric of block l: the keys averaged over heads, [B, T, hd]. The mean over heads is linear,
 * so it folds into one head-averaged key kernel [D, hd] and bias [hd] (Σ_h W_k[:, h, :] / H).
 */
function mergeMetric(c: Ctx, cfg: VitConfig, ir: ModelIR, y: string, l: number): string {
  const D = cfg.hidden;
  const { heads: H, headDim: hd } = vitLayer(cfg, l);
  const n = vitBlockNames(l);
  const k = weight(ir, n.attn.key.kernel).data, kb = weight(ir, n.attn.key.bias).data; // [D, H, hd], [H, hd]
  const w = new Float32Array(D * hd), b = new Float32Array(hd);
  for (let d = 0; d < D; d++) {
    for (let j = 0; j < hd; j++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += k[(d * H + h) * hd + j]!;
      w[d * hd + j] = s / H;
    }
  }
  for (let j = 0; j < hd; j++) {
    let s = 0;
    for (let h = 0; h < H; h++) s += kb[h * hd + j]!;
    b[j] = s / H;
  }
  const g = c.g;
  const m = n.tome.metric;
  const mm = g.op('MatMul', [y, g.weight(m.kernel, { dims: [D, hd], data: w })], {}, { name: m.matmul });
  return g.op('Add', [mm, g.weight(m.bias, { dims: [hd], data: b })], {}, { name: m.scope });
}

/**
 * Proportional attention: log(size) per key, shaped for the attention of a T-token block: [B, 1, 1, T]
 * (broadcast over heads and queries by the portable graph's Add), or [B, 1, T, T] for the contrib
 * Attention / MultiHeadAttention `attention_bias` input (batch_size or 1, num_heads or 1, S, T).
 */
function sizeBias(c: Ctx, size: string, T: number, name: string): string {
  const g = c.g;
  const log = g.op('Log', [size], {}, { name: `${name}/log` });
  const perKey = g.op('Reshape', [log, g.int64(`${name}/shape`, [0, 1, 1, T])], {}, { name: `${name}/per_key` });
  if (!c.fusions.attention) return perKey;
  return g.op('Expand', [perKey, g.int64(`${name}/expand`, [1, 1, T, T])], {}, { name });
}

const slice = (c: Ctx, x: string, start: number, end: number, axis: number, step: number, name: string) =>
  c.g.op('Slice', [x, c.g.int64(`${name}/starts`, [start]), c.g.int64(`${name}/ends`, [end]),
    c.g.int64(`${name}/axes`, [axis]), c.g.int64(`${name}/steps`, [step])], {}, { name });

/** Batch-shaped helpers built once per graph (from the first merge's input) and shared by every merge. */
interface BatchHelpers {
  /** [B, 1, 1] (int64): Expand target that broadcasts a [1, n, 1] constant over the batch. */
  shape: string;
  /** [B, 1, 1] (int64): 0 … B−1, the batch coordinate of ScatterND indices. */
  index: string;
}
const batchHelpers = new WeakMap<Ctx['g'], BatchHelpers>();

function helpers(c: Ctx, x: string): BatchHelpers {
  const g = c.g;
  let h = batchHelpers.get(g);
  if (!h) {
    const batch = g.op('Gather', [g.op('Shape', [x], {}, { name: 'tome/shape' }), g.int64('tome/zero', [0], [])], { axis: int(0) }, { name: 'tome/batch' });
    const shape = g.op('Concat', [g.op('Reshape', [batch, g.int64('tome/one_dim', [1])]), g.int64('tome/ones_tail', [1, 1])], { axis: int(0) },
      { name: 'tome/batch_shape' });
    const range = g.op('Range', [g.int64('tome/range_start', [0], []), batch, g.int64('tome/range_step', [1], [])], {}, { name: 'tome/range' });
    h = { shape, index: g.op('Reshape', [range, g.int64('tome/index_shape', [-1, 1, 1])], {}, { name: 'tome/batch_index' }) };
    batchHelpers.set(g, h);
  }
  return h;
}

/**
 * Bipartite soft matching + size-weighted merge of `x` [B, T, D] (the residual stream after the
 * attention residual) by `metric` [B, T, hd]: returns the T − r merged tokens and their sizes.
 * Index tensors are kept as columns [B, n, 1], the form GatherND / ScatterND / GatherElements take.
 */
function mergeTokens(c: Ctx, x: string, size: Sizes, metric: string, o: { T: number; r: number;
  hasCls: boolean; name: string }): { x: string; size: string } {
  const g = c.g;
  const { T, r, hasCls, name } = o;
  const nA = Math.ceil(T / 2), nB = Math.floor(T / 2);
  const k = (n: string, v: number) => g.int64(`${name}/${n}`, [v]);
  const h = helpers(c, x);

  // Scores between the two alternating sets, and each A token's best B token (TopK: ties -> lowest index).
  const m = g.op('LpNormalization', [metric], { axis: int(-1), p: int(2) }, { name: `${name}/normalize` });
  const a = slice(c, m, 0, T, 1, 2, `${name}/a`);
  const b = slice(c, m, 1, T, 1, 2, `${name}/b`);
  const bt = g.op('Transpose', [b], { perm: ints([0, 2, 1]) }, { name: `${name}/b_t` });
  const scores = g.op('MatMul', [a, bt], {}, { name: `${name}/scores` }); // [B, nA, nB]
  let [nodeMax, nodeIdx] = g.node('TopK', [scores, k('one', 1)], { axis: int(-1), largest: int(1), sorted: int(1) },
    { outputs: 2, name: `${name}/best` }) as [string, string]; // [B, nA, 1]
  if (hasCls) {
    const mask = new Float32Array(nA);
    mask[0] = -Infinity;
    nodeMax = g.op('Add', [nodeMax, g.weight(`${name}/protect_cls`, { dims: [nA, 1], data: mask })], {}, { name: `${name}/protect_cls` });
  }
  // A tokens by best score, descending (TopK: ties keep the lower index first); token position = 2 · A index.
  const edge = g.node('TopK', [nodeMax, k('all', nA)], { axis: int(1), largest: int(1), sorted: int(1) },
    { outputs: 2, name: `${name}/order` })[1]!; // [B, nA, 1]
  const edgePos = g.op('Mul', [edge, g.int64(`${name}/two`, [2], [])], {}, { name: `${name}/order_pos` });
  const srcIdx = slice(c, edge, 0, r, 1, 1, `${name}/src_idx`); // [B, r, 1]
  const srcPos = slice(c, edgePos, 0, r, 1, 1, `${name}/src_pos`);
  let unmPos = slice(c, edgePos, r, nA, 1, 1, `${name}/unm_pos`); // [B, nA - r, 1]
  if (hasCls) {
    // The reference sorts the unmerged indices so that cls stays first: ascending index order.
    const f = g.op('Cast', [unmPos], { to: int(1) }, { name: `${name}/unm_pos_f` });
    const sorted = g.node('TopK', [f, k('unm', nA - r)], { axis: int(1), largest: int(0), sorted: int(1) },
      { outputs: 2, name: `${name}/unm_sort` })[0]!;
    unmPos = g.op('Cast', [sorted], { to: int(7) }, { name: `${name}/unm_pos_sorted` });
  }
  // Each source's destination: B token j is at position 2j + 1.
  const dstIdx = g.op('GatherElements', [nodeIdx, srcIdx], { axis: int(1) }, { name: `${name}/dst_idx` }); // [B, r, 1]
  const dstPos = g.op('Add', [g.op('Mul', [dstIdx, g.int64(`${name}/two_dst`, [2], [])]), g.int64(`${name}/one_dst`, [1], [])], {},
    { name: `${name}/dst_pos` });
  const scatterIdx = g.op('Concat', [g.op('Expand', [h.index, g.int64(`${name}/r_shape`, [1, r, 1])], {}, { name: `${name}/batch_col` }), dstPos],
    { axis: int(-1) }, { name: `${name}/scatter_idx` }); // [B, r, 2]: (batch, position)
  // Tokens kept, in their new order: the unmerged A tokens, then every B token.
  const odd = g.int64(`${name}/b_positions`, Array.from({ length: nB }, (_, j) => 2 * j + 1), [1, nB, 1]);
  const keep = g.op('Concat', [unmPos, g.op('Expand', [odd, h.shape], {}, { name: `${name}/b_pos` })], { axis: int(1) },
    { name: `${name}/keep` }); // [B, T-r, 1]

  // merge_wavg: Σ x·size and Σ size over each destination's group; unmerged tokens keep theirs.
  const sz = size ?? g.op('Expand', [g.weight(`${name}/ones`, { dims: [1, T, 1], data: new Float32Array(T).fill(1) }), h.shape], {},
    { name: `${name}/ones` });
  const xs = size ? g.op('Mul', [x, size], {}, { name: `${name}/x_size` }) : x;
  const add = (data: string, n: string) => {
    const src = g.op('GatherND', [data, srcPos], { batch_dims: int(1) }, { name: `${name}/${n}_src` }); // [B, r, ·]
    const summed = g.op('ScatterND', [data, scatterIdx, src], { reduction: str('add') }, { name: `${name}/${n}_scatter` });
    return g.op('GatherND', [summed, keep], { batch_dims: int(1) }, { name: `${name}/${n}_keep` }); // [B, T-r, ·]
  };
  const sumX = add(xs, 'x'), newSize = add(sz, 'size');
  return { x: g.op('Div', [sumX, newSize], {}, { name }), size: newSize };
}

/**
 * Mean pooling of a gap model's final (merged) tokens `y` [B, T, D]: the plain mean (as the reference
 * code), or the size-weighted mean Σ size·y / Σ size, where Σ size is the original token count N.
 */
function poolMerged(c: Ctx, y: string, size: string, N: number, pool: MergePool): string {
  const g = c.g;
  const name = VIT.poolGap;
  if (pool === 'mean') return g.op('ReduceMean', [y], { axes: ints([1]), keepdims: int(0) }, { name });
  const s = g.op('ReduceSum', [g.op('Mul', [y, size], {}, { name: `${name}/weighted` }), g.int64(`${name}/axes`, [1])],
    { keepdims: int(0) }, { name: `${name}/sum` });
  return g.op('Div', [s, g.weight(`${name}/tokens`, { dims: [], data: Float32Array.of(N) })], {}, { name });
}

/**
 * Token Merging across the encoder: the schedule r_l, the token count T and the sizes so far. Block l
 * asks it for its attention's size bias, then lets it merge r_l tokens of the stream between the
 * attention's residual add and ln2 (a no-op where r_l = 0, as in every block of a model without ToMe).
 */
export class TokenMerging {
  private readonly r: number[];
  private T: number;
  private size: Sizes = null;

  constructor(private readonly c: Ctx, private readonly cfg: VitConfig, private readonly ir: ModelIR) {
    if (cfg.mergeTokens) checkMergeSchedule(cfg, cfg.mergeTokens, 'merge schedule (mergeTokens)');
    this.r = mergeSchedule(cfg);
    this.T = sequenceLength(cfg);
  }

  /** Proportional attention's bias for block l, or null while every token has size 1. */
  sizeBias(l: number): string | null {
    return this.size && sizeBias(this.c, this.size, this.T, vitBlockNames(l).tome.sizeBias);
  }

  /** Block l: x + attention, merged by the metric from `y` (ln1's output); ln2 then sees the T − r_l tokens. */
  merge(x: Residual, y: string, l: number): void {
    const r = this.r[l]!;
    if (r === 0) return;
    const n = vitBlockNames(l);
    const metric = mergeMetric(this.c, this.cfg, this.ir, y, l);
    x.between(n.ln2, (sum) => {
      const merged = mergeTokens(this.c, sum, this.size, metric, { T: this.T, r, hasCls: this.cfg.classifier === 'token', name: n.tome.merge });
      this.size = merged.size;
      this.T -= r;
      return merged.x;
    });
  }

  /** Mean pooling of a gap model whose tokens were merged (null when none were). */
  pool(y: string): string | null {
    return this.size ? poolMerged(this.c, y, this.size, patchTokens(this.cfg), mergePool(this.cfg)) : null;
  }
}
