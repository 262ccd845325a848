/**
 * Model configurations: the exact ViT and MLP-Mixer definitions of google-research/vision_transformer
 * (docs/models.md). One plain object per model; nothing else is needed to build
 * the graph, count parameters or run the reference forward pass.
 */
import { type ResnetConfig, describeResnet, stemSide, stemStride } from './resnet.js';

/** Activation and normalization conventions. Official checkpoints: tanh GELU, LayerNorm eps 1e-6. */
export interface Numerics {
  /** 'tanh' = jax.nn.gelu default (official); 'erf' = exact GELU (Hugging Face / PyTorch ports). */
  gelu: 'tanh' | 'erf';
  /** LayerNorm epsilon: 1e-6 for Flax checkpoints, config.layer_norm_eps (usually 1e-12) for HF. */
  layerNormEps: number;
  /**
   * Input normalization the model was trained with, per RGB channel on the [0, 1] scale:
   * x = (pixel/255 - mean) / std. Absent = the official pipeline, (x - 127.5) / 127.5
   * (mean = std = 0.5). Hugging Face models carry theirs in preprocessor_config.json.
   */
  normalize?: { mean: [number, number, number]; std: [number, number, number] };
}

export interface VitConfig extends Numerics {
  family: 'vit';
  /** Zoo name, e.g. 'ViT-B_16', when known. */
  name?: string;
  /** Hybrid R+ViT: the ResNet stem whose feature map the patch embedding reads (absent = pixels). */
  resnet?: ResnetConfig;
  /** Patch side, on the stem's feature map for a hybrid (1 for R50+ViT-B_16). */
  patch: number;
  hidden: number;
  mlp: number;
  heads: number;
  layers: number;
  /** 'token': a cls token is prepended and read out; 'gap': mean over all tokens, no cls. */
  classifier: 'token' | 'gap';
  /** Size of the optional pre_logits Dense+tanh layer (null when absent). */
  representation: number | null;
  classes: number;
  /** Input side in pixels (square). */
  resolution: number;
  /**
   * Per-layer head counts and MLP widths after structured pruning (absent = `heads`/`mlp` in every
   * layer). The head size stays `headDim` (= hidden / heads of the unpruned model).
   */
  layerHeads?: number[];
  layerMlp?: number[];
  headDim?: number;
  /**
   * Token Merging (ToMe, docs/token-merging.md): tokens merged in each block, one entry per layer
   * (absent = none). See src/models/tome.ts.
   */
  mergeTokens?: number[];
  /** gap models with ToMe: 'weighted' (Σ size·x / Σ size, default) or 'mean' (plain, as the reference code). */
  mergePool?: 'weighted' | 'mean';
}

export interface MixerConfig extends Numerics {
  family: 'mixer';
  name?: string;
  patch: number;
  hidden: number;
  blocks: number;
  tokensMlp: number;
  channelsMlp: number;
  classes: number;
  /** Input side in pixels; Mixer's token-mixing weights tie it to one resolution. */
  resolution: number;
  /** Per-block hidden widths after structured pruning (absent = `tokensMlp`/`channelsMlp` everywhere). */
  layerTokensMlp?: number[];
  layerChannelsMlp?: number[];
}

export type ModelConfig = VitConfig | MixerConfig;

export const FLAX_NUMERICS: Numerics = { gelu: 'tanh', layerNormEps: 1e-6 };

/** Tokens per side: VALID patch conv for ViT (floor; on the ResNet's feature map for a hybrid), SAME for Mixer (ceil). */
export function gridSize(c: ModelConfig): number {
  if (c.family === 'mixer') return Math.ceil(c.resolution / c.patch);
  return Math.floor((c.resnet ? stemSide(c.resnet, c.resolution) : c.resolution) / c.patch);
}

/** Input pixels per token side: the patch, times the ResNet stem's stride for a hybrid (16 for R50+ViT-B_16). */
export function tokenStride(c: ModelConfig): number {
  return c.patch * (c.family === 'vit' && c.resnet ? stemStride(c.resnet) : 1);
}

/** Number of patch tokens N (excluding a cls token). */
export function patchTokens(c: ModelConfig): number {
  const g = gridSize(c);
  return g * g;
}

/** Sequence length seen by the encoder: N (+1 with a cls token). */
export function sequenceLength(c: ModelConfig): number {
  return patchTokens(c) + (c.family === 'vit' && c.classifier === 'token' ? 1 : 0);
}

/** One encoder block's widths; `attention` = heads · headDim, the q/k/v width (D unless heads were pruned). */
export interface VitLayerDims { heads: number; headDim: number; attention: number; mlp: number }

export function vitLayer(c: VitConfig, l: number): VitLayerDims {
  const heads = c.layerHeads?.[l] ?? c.heads, headDim = c.headDim ?? c.hidden / c.heads;
  return { heads, headDim, attention: heads * headDim, mlp: c.layerMlp?.[l] ?? c.mlp };
}

export function mixerLayer(c: MixerConfig, i: number): { tokensMlp: number; channelsMlp: number } {
  return { tokensMlp: c.layerTokensMlp?.[i] ?? c.tokensMlp, channelsMlp: c.layerChannelsMlp?.[i] ?? c.channelsMlp };
}

/** True when some layer differs from the uniform configuration (a structurally pruned model). */
export function isPruned(c: ModelConfig): boolean {
  return c.family === 'vit' ? Boolean(c.layerHeads || c.layerMlp) : Boolean(c.layerTokensMlp || c.layerChannelsMlp);
}

export function describe(c: ModelConfig): string {
  if (c.family === 'vit') {
    return (c.resnet ? `${describeResnet(c.resnet)} + ` : '') + `ViT patch ${c.patch}, D=${c.hidden}, MLP=${c.mlp}, heads=${c.heads}, layers=${c.layers}, ` +
      `${c.classifier}${c.representation ? `, pre_logits ${c.representation}` : ''}, ${c.classes} classes, ${c.resolution}px` +
      (isPruned(c) ? `; pruned: heads [${Array.from({ length: c.layers }, (_, l) => vitLayer(c, l).heads)}], ` +
        `MLP [${Array.from({ length: c.layers }, (_, l) => vitLayer(c, l).mlp)}]` : '') +
      (c.mergeTokens?.some((r) => r > 0) ? `; ToMe r [${c.mergeTokens}]${c.classifier === 'gap' ? ` (${c.mergePool ?? 'weighted'} pooling)` : ''}` : '');
  }
  return `Mixer patch ${c.patch}, C=${c.hidden}, blocks=${c.blocks}, D_S=${c.tokensMlp}, D_C=${c.channelsMlp}, ` +
    `${c.classes} classes, ${c.resolution}px` +
    (isPruned(c) ? `; pruned: D_S [${Array.from({ length: c.blocks }, (_, i) => mixerLayer(c, i).tokensMlp)}], ` +
      `D_C [${Array.from({ length: c.blocks }, (_, i) => mixerLayer(c, i).channelsMlp)}]` : '');
}
