/**
 * Exact multiply-accumulates (MACs) per image, by component, from a configuration at its resolution
 * (spec §3.1, §3.4). Only the matrix products are counted: every Dense, the patch-embedding conv (a
 * matmul of patches [N, P²·3] by [P²·3, D]), and ViT's two attention products. One MAC = one multiply +
 * one add, so matmul FLOPs = 2·MACs. Bias adds, LayerNorm, softmax, GELU and residual adds are counted
 * separately by `elementwiseFlops`, as a labelled estimate.
 *
 * Every term is also classified by how it grows with the number of tokens: 'linear' (N·D²-like: a weight
 * matrix applied to every token), 'quadratic' (N²·D: token-by-token products, only ViT attention), or
 * 'constant' (applied once to the pooled vector: pre_logits, head).
 *
 * Every block term is summed over the layers with that layer's own widths, so a structurally pruned
 * model (per-layer heads A_l = heads_l·hd, MLP width M_l; Mixer D_S,l and D_C,l) is counted exactly;
 * its formulas are printed as sums over l. A uniform model is the case where every layer is the same.
 */
import { type MixerConfig, type ModelConfig, type VitConfig, isPruned, mixerLayer, patchTokens, sequenceLength, vitLayer } from '../models/config.js';
import { hasMerging, mergeSchedule, tokenCounts } from '../models/tome.js';
import { resnetConvs, stemChannels } from '../models/resnet.js';

export type TokenScaling = 'linear' | 'quadratic' | 'constant';

export interface MacComponent {
  /** Stable key, e.g. 'qkv', 'attentionScores', 'tokenMixing'. */
  key: string;
  label: string;
  /** Closed form per image, in the symbols of the spec. */
  formula: string;
  /** MACs per image, all layers together. */
  macs: number;
  /** MACs per image in one block (0 for components outside the blocks). */
  perLayer: number;
  scaling: TokenScaling;
}

export interface MacsReport {
  family: ModelConfig['family'];
  resolution: number;
  /** Patch tokens N (ViT) or S (Mixer). */
  tokens: number;
  /** Sequence length T the blocks see (N + 1 with a cls token). */
  sequence: number;
  components: MacComponent[];
  /** One block's MACs. */
  perLayerTotal: number;
  total: number;
  /** Totals by token scaling. */
  linear: number;
  quadratic: number;
  constant: number;
  /** 2·total: the matmul FLOPs. */
  flops: number;
  /** Token Merging (ViT with a merge schedule): each block's tokens and MACs. Absent otherwise. */
  blocks?: BlockMacs[];
}

/** One block of a token-merging ViT: attention runs on `tokens`, the MLP on `tokens − merged`. */
export interface BlockMacs {
  layer: number;
  tokens: number;
  merged: number;
  /** q/k/v, scores, values and output projection on `tokens`. */
  attention: number;
  /** The merge itself: head-averaged key projection T·D·hd and the A×B similarity ⌈T/2⌉·⌊T/2⌋·hd. */
  merge: number;
  /** The MLP on the `tokens − merged` tokens left. */
  mlp: number;
  total: number;
}

/** Per-block MACs of a ViT, with the token counts its merge schedule gives (constant without one). */
export function vitBlockMacs(c: VitConfig): BlockMacs[] {
  const D = c.hidden, t = tokenCounts(c), r = mergeSchedule(c);
  return Array.from({ length: c.layers }, (_, l) => {
    const { heads, headDim: hd, mlp: M } = vitLayer(c, l);
    const A = heads * hd, T = t[l]!;
    const attention = 3 * T * D * A + 2 * T * T * A + T * A * D;
    const merge = r[l]! > 0 ? T * D * hd + Math.ceil(T / 2) * Math.floor(T / 2) * hd : 0;
    const mlp = 2 * t[l + 1]! * D * M;
    return { layer: l, tokens: T, merged: r[l]!, attention, merge, mlp, total: attention + merge + mlp };
  });
}

/** Per-block MACs of a Mixer: block i's token mixing 2·C·S·D_S,i and channel mixing 2·S·C·D_C,i. */
export function mixerBlockMacs(c: MixerConfig): { layer: number; tokenMixing: number; channelMixing: number; total: number }[] {
  const S = patchTokens(c), C = c.hidden;
  return Array.from({ length: c.blocks }, (_, i) => {
    const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
    const tokenMixing = 2 * C * S * DS, channelMixing = 2 * S * C * DC;
    return { layer: i, tokenMixing, channelMixing, total: tokenMixing + channelMixing };
  });
}

/** `total` over all layers; `perLayer` is one block's share (the mean when pruned layers differ). */
function component(key: string, label: string, formula: string, total: number, layers: number,
  scaling: TokenScaling, outside = 0): MacComponent {
  return { key, label, formula, macs: total + outside, perLayer: layers ? total / layers : 0, scaling };
}

/** Σ over layers of f(layer). */
function overLayers(n: number, f: (l: number) => number): number {
  let s = 0;
  for (let l = 0; l < n; l++) s += f(l);
  return s;
}

/**
 * A hybrid's ResNet stem, one component per stage (the root: conv 7×7/2; stage s: its units' 1×1, 3×3 and
 * projection convs), each conv out²·k²·cin·cout; then the patch embedding on its feature map. Pure ViT:
 * only the patch embedding, on the pixels.
 */
function stemComponents(c: VitConfig): MacComponent[] {
  const N = patchTokens(c), D = c.hidden, P = c.patch;
  if (!c.resnet) return [component('patchEmbedding', 'patch embedding (conv P×P/P)', 'N·P²·3·D', 0, 0, 'linear', N * P * P * 3 * D)];
  const convs = resnetConvs(c.resnet, c.resolution);
  const stages = [...new Set(convs.map((x) => x.stage))];
  return [
    ...stages.map((s) => {
      const mine = convs.filter((x) => x.stage === s);
      const macs = mine.reduce((a, x) => a + x.outSide ** 2 * x.k ** 2 * x.cin * x.cout, 0);
      return s === 0
        ? component('resnetRoot', `ResNet root (conv 7×7/2, ${mine[0]!.outSide}² out)`, 'out²·7²·3·width', 0, 0, 'linear', macs)
        : component(`resnetStage${s}`, `ResNet stage ${s} (${c.resnet!.layers[s - 1]} units, ${mine[mine.length - 1]!.outSide}² out)`,
          'Σ convs out²·k²·cin·cout', 0, 0, 'linear', macs);
    }),
    component('patchEmbedding', `patch embedding (conv P×P/P on the ${stemChannels(c.resnet)}-channel map)`, 'N·P²·C_stem·D', 0, 0, 'linear',
      N * P * P * stemChannels(c.resnet) * D),
  ];
}

/** A pruned layer l has its own attention width A_l = heads_l·hd and MLP width M_l: the formulas sum over l. */
const UNIFORM_FORMULAS = { qkv: 'L·3·T·D²', scores: 'L·H·T²·hd = L·T²·D', values: 'L·T²·D', out: 'L·T·D²', mlp: 'L·2·T·D·M' };
const PRUNED_FORMULAS = { qkv: 'Σ_l 3·T·D·A_l', scores: 'Σ_l H_l·T²·hd = Σ_l T²·A_l', values: 'Σ_l T²·A_l', out: 'Σ_l T·A_l·D', mlp: 'Σ_l 2·T·D·M_l' };

function vitComponents(c: VitConfig): MacComponent[] {
  if (hasMerging(c)) return mergingVitComponents(c);
  const T = sequenceLength(c), D = c.hidden, L = c.layers;
  const R = c.representation ?? 0;
  const headIn = R || D;
  // A = heads·headDim: the attention width of a layer (= D unless heads were pruned).
  const A = (l: number) => vitLayer(c, l).attention;
  const f = isPruned(c) ? PRUNED_FORMULAS : UNIFORM_FORMULAS;
  return [
    ...stemComponents(c),
    component('qkv', 'attention q, k, v projections', f.qkv, overLayers(L, (l) => 3 * T * D * A(l)), L, 'linear'),
    // H heads of T×T scores over hd = D/H channels: H·T²·hd = T²·D, whatever the head count.
    component('attentionScores', 'attention scores q·kᵀ', f.scores, overLayers(L, (l) => T * T * A(l)), L, 'quadratic'),
    component('attentionValues', 'attention probs × v', f.values, overLayers(L, (l) => T * T * A(l)), L, 'quadratic'),
    component('attentionOut', 'attention output projection', f.out, overLayers(L, (l) => T * A(l) * D), L, 'linear'),
    component('mlp', 'MLP (D→M→D)', f.mlp, overLayers(L, (l) => 2 * T * D * vitLayer(c, l).mlp), L, 'linear'),
    component('preLogits', 'pre_logits (D→R)', 'D·R', 0, 0, 'constant', D * R),
    component('head', 'classifier head', `${R ? 'R' : 'D'}·K`, 0, 0, 'constant', headIn * c.classes),
  ];
}

/** A ViT with Token Merging: block l's attention sees T_l tokens, its MLP T_l − r_l (src/models/tome.ts). */
function mergingVitComponents(c: VitConfig): MacComponent[] {
  const D = c.hidden, L = c.layers;
  const R = c.representation ?? 0;
  const headIn = R || D;
  const t = tokenCounts(c), r = mergeSchedule(c);
  const A = (l: number) => vitLayer(c, l).attention;
  const hd = (l: number) => vitLayer(c, l).headDim;
  const merging = (l: number) => r[l]! > 0;
  // A pruned model's layers have their own attention width A_l (D otherwise) and MLP width M_l.
  const [DA, Aw, M] = isPruned(c) ? ['D·A_l', 'A_l', 'M_l'] : ['D²', 'D', 'M'];
  return [
    ...stemComponents(c),
    component('qkv', 'attention q, k, v projections', `Σ_l 3·T_l·${DA}`, overLayers(L, (l) => 3 * t[l]! * D * A(l)), L, 'linear'),
    component('attentionScores', 'attention scores q·kᵀ', `Σ_l T_l²·${Aw}`, overLayers(L, (l) => t[l]! * t[l]! * A(l)), L, 'quadratic'),
    component('attentionValues', 'attention probs × v', `Σ_l T_l²·${Aw}`, overLayers(L, (l) => t[l]! * t[l]! * A(l)), L, 'quadratic'),
    component('attentionOut', 'attention output projection', `Σ_l T_l·${DA}`, overLayers(L, (l) => t[l]! * A(l) * D), L, 'linear'),
    component('mergeMetric', 'ToMe metric (head-averaged keys)', 'Σ_{r_l>0} T_l·D·hd', overLayers(L, (l) => (merging(l) ? t[l]! * D * hd(l) : 0)), L, 'linear'),
    component('mergeScores', 'ToMe similarity A×B', 'Σ_{r_l>0} ⌈T_l/2⌉·⌊T_l/2⌋·hd',
      overLayers(L, (l) => (merging(l) ? Math.ceil(t[l]! / 2) * Math.floor(t[l]! / 2) * hd(l) : 0)), L, 'quadratic'),
    component('mlp', 'MLP (D→M→D) on T_l − r_l tokens', `Σ_l 2·(T_l − r_l)·D·${M}`, overLayers(L, (l) => 2 * t[l + 1]! * D * vitLayer(c, l).mlp), L, 'linear'),
    component('preLogits', 'pre_logits (D→R)', 'D·R', 0, 0, 'constant', D * R),
    component('head', 'classifier head', `${R ? 'R' : 'D'}·K`, 0, 0, 'constant', headIn * c.classes),
  ];
}

function mixerComponents(c: MixerConfig): MacComponent[] {
  const S = patchTokens(c), C = c.hidden, P = c.patch, L = c.blocks;
  const [token, channel] = isPruned(c) ? ['Σ_l 2·C·S·D_S,l', 'Σ_l 2·S·C·D_C,l'] : ['L·2·C·S·D_S', 'L·2·S·C·D_C'];
  return [
    component('stem', 'stem (conv P×P/P)', 'S·P²·3·C', 0, 0, 'linear', S * P * P * 3 * C),
    // Each of the C channels runs an S→D_S→S MLP across tokens: linear in S for a fixed D_S, and the
    // weights themselves are S×D_S, so a Mixer at another resolution is another set of weights.
    component('tokenMixing', 'token mixing (S→D_S→S per channel)', token, overLayers(L, (i) => 2 * C * S * mixerLayer(c, i).tokensMlp), L, 'linear'),
    component('channelMixing', 'channel mixing (C→D_C→C per token)', channel, overLayers(L, (i) => 2 * S * C * mixerLayer(c, i).channelsMlp), L, 'linear'),
    component('head', 'classifier head', 'C·K', 0, 0, 'constant', C * c.classes),
  ];
}

export function macs(c: ModelConfig): MacsReport {
  const components = c.family === 'vit' ? vitComponents(c) : mixerComponents(c);
  const sum = (f: (m: MacComponent) => boolean) => components.filter(f).reduce((s, m) => s + m.macs, 0);
  const total = sum(() => true);
  return {
    family: c.family,
    resolution: c.resolution,
    tokens: patchTokens(c),
    sequence: sequenceLength(c),
    components,
    perLayerTotal: components.reduce((s, m) => s + m.perLayer, 0),
    total,
    linear: sum((m) => m.scaling === 'linear'),
    quadratic: sum((m) => m.scaling === 'quadratic'),
    constant: sum((m) => m.scaling === 'constant'),
    flops: 2 * total,
    ...(hasMerging(c) ? { blocks: vitBlockMacs(c) } : {}),
  };
}

export function totalMacs(c: ModelConfig): number {
  return macs(c).total;
}

// ---------------------------------------------------------------------------------------------------
// Elementwise work: an ESTIMATE. Each add, multiply, compare, exp, tanh, erf or rsqrt is counted as one
// FLOP; on a real CPU a transcendental costs several, and these ops are usually memory-bound anyway.
// Per-row work (a LayerNorm's mean/rsqrt, a softmax's reciprocal) is omitted: it is O(rows), not O(elements).

/** LayerNorm, one-pass form (spec §3.2): Σx (1), Σx² (2), x−mean (1), rsqrt·scale (1), ·that (1), +bias (1). */
export const LAYERNORM_FLOPS_PER_ELEMENT = 7;
/** Softmax: max (1), x−max (1), exp (1), Σ (1), ·1/Σ (1). */
export const SOFTMAX_FLOPS_PER_ELEMENT = 5;
/** tanh GELU: x³ (2), ·0.044715 (1), +x (1), ·√(2/π) (1), tanh (1), +1 (1), ·0.5 (1), ·x (1). */
export const GELU_TANH_FLOPS_PER_ELEMENT = 9;
/** erf GELU: x/√2 (1), erf (1), +1 (1), ·0.5 (1), ·x (1). */
export const GELU_ERF_FLOPS_PER_ELEMENT = 5;

export interface ElementwiseEstimate {
  estimate: true;
  assumption: string;
  layerNorm: number;
  softmax: number;
  gelu: number;
  /** Dense/conv bias adds, the query scaling 1/√hd, the position-embedding add, pooling, tanh of pre_logits (hybrids: the stem's ReLUs and max-pool). */
  biasAndMisc: number;
  residual: number;
  total: number;
}

export function elementwiseFlops(c: ModelConfig): ElementwiseEstimate {
  const gelu1 = c.gelu === 'tanh' ? GELU_TANH_FLOPS_PER_ELEMENT : GELU_ERF_FLOPS_PER_ELEMENT;
  const LN = LAYERNORM_FLOPS_PER_ELEMENT;
  let layerNorm: number, softmax = 0, gelu: number, biasAndMisc: number, residual: number;
  if (c.family === 'vit') {
    const N = patchTokens(c), T = sequenceLength(c), D = c.hidden, L = c.layers;
    const R = c.representation ?? 0;
    // Per layer: H_l heads, attention width A_l = H_l·hd and MLP width M_l (all uniform unless pruned).
    const H = (l: number) => vitLayer(c, l).heads, A = (l: number) => H(l) * vitLayer(c, l).headDim;
    const M = (l: number) => vitLayer(c, l).mlp;
    layerNorm = (2 * L + 1) * T * D * LN; // two per block + encoder_norm (applied to all tokens)
    softmax = overLayers(L, (l) => H(l) * T * T) * SOFTMAX_FLOPS_PER_ELEMENT;
    gelu = overLayers(L, (l) => T * M(l)) * gelu1;
    biasAndMisc = N * D + T * D // patch-embedding bias, position embedding
      + overLayers(L, (l) => 3 * T * A(l) + T * D + T * M(l) + T * D) // q/k/v, out, fc1, fc2 biases
      + overLayers(L, (l) => T * A(l)) // q / √hd
      + (c.classifier === 'gap' ? T * D : 0) // mean over tokens
      + 2 * R // pre_logits bias + tanh
      + c.classes; // head bias
    residual = 2 * L * T * D;
    if (c.resnet) {
      // The hybrid stem: a GroupNorm (counted as a LayerNorm) after every conv, ReLUs, the units'
      // residual adds, and the 3×3 max-pool (8 compares per output).
      const convs = resnetConvs(c.resnet, c.resolution);
      const out = (x: { cout: number; outSide: number }) => x.cout * x.outSide ** 2;
      const units = convs.filter((x) => x.name.endsWith('/conv3'));
      layerNorm += convs.reduce((a, x) => a + out(x), 0) * LN;
      residual += units.reduce((a, x) => a + out(x), 0);
      biasAndMisc += convs.filter((x) => !/conv(3|_proj)$/.test(x.name)).reduce((a, x) => a + out(x), 0) // ReLU after gn_root, gn1, gn2
        + units.reduce((a, x) => a + out(x), 0) // ReLU after each residual add
        + 8 * convs[0]!.cout * Math.ceil(convs[0]!.outSide / 2) ** 2; // max-pool
    }
  } else {
    const S = patchTokens(c), C = c.hidden, L = c.blocks;
    const DS = (i: number) => mixerLayer(c, i).tokensMlp, DC = (i: number) => mixerLayer(c, i).channelsMlp;
    layerNorm = (2 * L + 1) * S * C * LN;
    gelu = overLayers(L, (i) => C * DS(i) + S * DC(i)) * gelu1;
    biasAndMisc = S * C // stem bias
      + overLayers(L, (i) => C * DS(i) + C * S + S * DC(i) + S * C) // token- and channel-mixing biases
      + S * C // global average pool
      + c.classes;
    residual = 2 * L * S * C;
  }
  return {
    estimate: true,
    assumption: 'each add/mul/compare/exp/tanh/erf/rsqrt = 1 FLOP; per-row work omitted; ' +
      `LayerNorm ${LN}, softmax ${SOFTMAX_FLOPS_PER_ELEMENT}, GELU (${c.gelu}) ${gelu1} FLOPs per element`,
    layerNorm, softmax, gelu, biasAndMisc, residual,
    total: layerNorm + softmax + gelu + biasAndMisc + residual,
  };
}
