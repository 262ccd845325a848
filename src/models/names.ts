/**
 * Every name vitopt gives a weight, an ONNX initializer or an ONNX node of a ViT / Mixer / hybrid, in
 * one place, so that the exporter (src/export) and the code that reads its graphs back (prune:
 * from-onnx.ts reads the initializers, structured.ts captures named nodes) cannot disagree.
 *
 * Two vocabularies, one scheme:
 *   - IR weights: the official checkpoint layout of google-research/vision_transformer (Linen
 *     numbering, spec §2.2), e.g. `Transformer/encoderblock_3/MlpBlock_0/Dense_0/kernel`;
 *   - the ONNX graph: each layer's nodes and initializers are named under that layer's checkpoint
 *     path (its scope), plus a suffix wherever the export stores something other than the IR weight:
 *     `qkv` (packed query/key/value), `kernel_t` (transposed), `kernel_std` (weight-standardized),
 *     `skip_bias` (a bias carried by the residual add of the LayerNorm that follows it), `residual`
 *     (the add itself, whose output is the residual stream).
 * No imports: models/, export/, graph/ and compress/ can all depend on it.
 */

/** A Dense layer (or conv) under `scope`: IR weights `kernel` [in, out] and `bias` [out]. */
export interface DenseNames {
  scope: string;
  kernel: string;
  bias: string;
  /** Graph: the MatMul and the bias Add of a plain dense layer. */
  matmul: string;
  add: string;
  /** Graph: the kernel stored transposed (Mixer token mixing multiplies from the left). */
  kernelT: string;
  /** Graph: a StdConv kernel stored standardized, OIHW (hybrid stem). */
  kernelStd: string;
}

export function dense(scope: string): DenseNames {
  return {
    scope, kernel: `${scope}/kernel`, bias: `${scope}/bias`, matmul: `${scope}/MatMul`, add: `${scope}/Add`,
    kernelT: `${scope}/kernel_t`, kernelStd: `${scope}/kernel_std`,
  };
}

/** A patch embedding: a P×P stride-P conv under `scope` (IR weights `kernel`, `bias`), then tokens. */
export interface PatchNames extends DenseNames {
  /** Graph: the [B, D, N] -> [B, N, D] tokens node (the stream entering the first block). */
  flattenShape: string;
  tokens: string;
}

export function patch(scope: string): PatchNames {
  return { ...dense(scope), flattenShape: `${scope}/flatten_shape`, tokens: `${scope}/tokens` };
}

/** A LayerNorm / GroupNorm under `scope` (also its node's name). */
export interface NormNames {
  scope: string;
  scale: string;
  bias: string;
  /**
   * Graph: the residual add that precedes this LayerNorm (its output is the residual stream), and
   * the bias of the branch's last Dense, which the add carries (SkipLayerNormalization's 5th input;
   * a plain Add in the unfused graph) rather than the Dense itself.
   */
  residual: string;
  skipBias: string;
}

export function norm(scope: string): NormNames {
  return { scope, scale: `${scope}/scale`, bias: `${scope}/bias`, residual: `${scope}/residual`, skipBias: `${scope}/skip_bias` };
}

/** An MLP: Dense_0 -> GELU -> Dense_1 (ViT MlpBlock_0, Mixer token_mixing / channel_mixing). */
export interface MlpNames {
  scope: string;
  fc1: DenseNames;
  fc2: DenseNames;
  /** Graph: the GELU node (its output is the hidden activation prune measures), and Dense_0's bias, which it carries. */
  gelu: string;
  geluBias: string;
}

export function mlp(scope: string): MlpNames {
  const gelu = `${scope}/gelu`;
  return { scope, fc1: dense(`${scope}/Dense_0`), fc2: dense(`${scope}/Dense_1`), gelu, geluBias: `${gelu}/bias` };
}

// ------------------------------------------------------------------------------------------------
// ViT

export const VIT_BLOCK_PREFIX = 'Transformer/encoderblock_';

export interface AttentionNames {
  scope: string;
  query: DenseNames;
  key: DenseNames;
  value: DenseNames;
  out: DenseNames;
  /** Graph ('ort' with the attention fusion): packed [D, 3A] kernel and [3A] bias, and the contrib Attention node. */
  qkv: DenseNames;
  fused: string;
  /** Graph (standard ops): heads split / merged, and the attention core. */
  qHeads: string;
  kHeads: string;
  vHeads: string;
  scores: string;
  sizeBias: string;
  softmax: string;
  context: string;
  mergeShape: string;
  /** Its output is the attention's hidden activation [B, T, A] entering `out` (what prune measures). */
  mergeHeads: string;
}

function attention(scope: string): AttentionNames {
  return {
    scope, query: dense(`${scope}/query`), key: dense(`${scope}/key`), value: dense(`${scope}/value`), out: dense(`${scope}/out`),
    qkv: dense(`${scope}/qkv`), fused: `${scope}/Attention`,
    qHeads: `${scope}/q_heads`, kHeads: `${scope}/k_heads`, vHeads: `${scope}/v_heads`, scores: `${scope}/scores`,
    sizeBias: `${scope}/size_bias`, softmax: `${scope}/softmax`, context: `${scope}/context`,
    mergeShape: `${scope}/merge_shape`, mergeHeads: `${scope}/merge_heads`,
  };
}

/** Token Merging's nodes in a block (src/export/tome.ts names their parts under these scopes). */
export interface TomeNames {
  sizeBias: string;
  /** The merge metric: the keys averaged over heads, one dense layer (its Add node is named `scope`). */
  metric: DenseNames;
  merge: string;
}

/** One encoder block: x = x + attn(ln1(x)); x = x + mlp(ln2(x)). */
export interface VitBlockNames {
  scope: string;
  ln1: NormNames;
  attn: AttentionNames;
  ln2: NormNames;
  mlp: MlpNames;
  tome: TomeNames;
}

export function vitBlockNames(l: number): VitBlockNames {
  const b = `${VIT_BLOCK_PREFIX}${l}`;
  return {
    scope: b, ln1: norm(`${b}/LayerNorm_0`), attn: attention(`${b}/MultiHeadDotProductAttention_0`), ln2: norm(`${b}/LayerNorm_1`),
    mlp: mlp(`${b}/MlpBlock_0`), tome: { sizeBias: `${b}/tome/size_bias`, metric: dense(`${b}/tome/metric`), merge: `${b}/tome/merge` },
  };
}

/** Names outside the blocks. */
export const VIT = {
  embedding: patch('embedding'),
  cls: 'cls',
  posEmbedding: 'Transformer/posembed_input/pos_embedding',
  encoderNorm: norm('Transformer/encoder_norm'),
  preLogits: dense('pre_logits'),
  head: dense('head'),
  /** Graph: the position embedding's patch rows, and the constant row cls + pos[0] (the forward pass only uses their sum). */
  posembedPatches: 'posembed_patches',
  clsPlusPos: 'cls_plus_pos',
  /** Graph nodes: patch tokens + position embedding; the cls row prepended (the stream entering block 0). */
  posembedAdd: 'posembed_input',
  tokens: 'tokens',
  /** Graph nodes: pooling (the cls token, or the mean over the tokens). */
  poolToken: 'pool_token',
  poolGap: 'pool_gap',
} as const;

/** The LayerNorm after block l of L: the next block's ln1, or encoder_norm. It carries block l's fc2 bias. */
export function vitNormAfter(l: number, layers: number): NormNames {
  return l === layers - 1 ? VIT.encoderNorm : vitBlockNames(l + 1).ln1;
}

// ------------------------------------------------------------------------------------------------
// MLP-Mixer

export const MIXER_BLOCK_PREFIX = 'MixerBlock_';

/** One Mixer block: x = x + token_mixing(ln1(x)); x = x + channel_mixing(ln2(x)). */
export interface MixerBlockNames {
  scope: string;
  ln1: NormNames;
  tokenMixing: MlpNames;
  ln2: NormNames;
  channelMixing: MlpNames;
}

export function mixerBlockNames(i: number): MixerBlockNames {
  const b = `${MIXER_BLOCK_PREFIX}${i}`;
  return {
    scope: b, ln1: norm(`${b}/LayerNorm_0`), tokenMixing: mlp(`${b}/token_mixing`), ln2: norm(`${b}/LayerNorm_1`),
    channelMixing: mlp(`${b}/channel_mixing`),
  };
}

export const MIXER = {
  stem: patch('stem'),
  preHeadNorm: norm('pre_head_layer_norm'),
  head: dense('head'),
  poolGap: 'pool_gap',
} as const;

/** The LayerNorm after block i of n: the next block's ln1, or pre_head_layer_norm. */
export function mixerNormAfter(i: number, blocks: number): NormNames {
  return i === blocks - 1 ? MIXER.preHeadNorm : mixerBlockNames(i + 1).ln1;
}

// ------------------------------------------------------------------------------------------------
// Hybrid ResNet stem

/** The GroupNorm that follows a convolution: conv_root -> gn_root, …/conv_proj -> …/gn_proj, …/conv2 -> …/gn2. */
export function groupNormOf(conv: string): NormNames {
  return norm(conv.replace(/conv(_root|_proj|\d)$/, 'gn$1'));
}

// ------------------------------------------------------------------------------------------------
// Reading names back

/** The part of a block a name belongs to (the checkpoint's sub-scope: LayerNorm_0, MlpBlock_0, token_mixing, …). */
export interface BlockName {
  family: 'vit' | 'mixer';
  block: number;
  /** The first path component inside the block, e.g. 'MultiHeadDotProductAttention_0'. */
  part: string;
  /** The rest of the path after `part` ('' when none), e.g. 'query/kernel'. */
  rest: string;
}

const BLOCK_RE = new RegExp(`^(?:(${VIT_BLOCK_PREFIX})|${MIXER_BLOCK_PREFIX})(\\d+)(?:/([^/]+)(?:/(.*))?)?$`);

/** Inverse of `vitBlockNames(l)` / `mixerBlockNames(i)` for any name under a block; null for others. */
export function parseBlockName(name: string): BlockName | null {
  const m = BLOCK_RE.exec(name);
  if (!m) return null;
  return { family: m[1] ? 'vit' : 'mixer', block: Number(m[2]), part: m[3] ?? '', rest: m[4] ?? '' };
}
