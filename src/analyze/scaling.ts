/**
 * How the cost of an architecture grows with input resolution, and where ViT's quadratic attention term
 * overtakes its linear terms.
 *
 * ViT, per block: linear terms T·(4D² + 2DM) (q, k, v, out projections and the MLP), quadratic terms
 * 2·T²·D (q·kᵀ and probs×v). The quadratic term wins when 2T²D > T(4D² + 2DM), i.e. exactly when
 * T > 2D + M — independent of the number of heads. Against the attention projections alone (4TD²) it
 * wins when T > 2D.
 *
 * Mixer has no quadratic term: token mixing is 2·C·S·D_S and channel mixing 2·S·C·D_C per block, both
 * linear in S. But its token-mixing weights are S×D_S: a Mixer at another resolution is the same
 * *architecture* with new weights (its MACs are well defined; a checkpoint cannot run there).
 *
 * A structurally pruned ViT has per-layer attention widths A_l = heads_l·hd and MLP widths M_l. Block l's
 * quadratic terms are 2·T²·A_l and its linear ones T·(4D·A_l + 2D·M_l): it crosses over at
 * T > 2D + D·M_l/A_l, and all blocks together at T > 2D + D·ΣM_l/ΣA_l (= 2D + M when uniform).
 */
import { type ModelConfig, gridSize, isPruned, mixerLayer, patchTokens, sequenceLength, tokenStride, vitLayer } from '../models/config.js';
import { macs } from './macs.js';
import { unmerged } from '../models/tome.js';

export const DEFAULT_RESOLUTIONS = [112, 160, 224, 288, 384, 448, 512];

export interface ScalingRow {
  resolution: number;
  grid: number;
  /** Patch tokens N (ViT) / S (Mixer). */
  tokens: number;
  /** Sequence length T (N + 1 with cls). */
  sequence: number;
  totalMacs: number;
  /** MACs of terms linear in tokens (ViT: N·D² / T·D·M terms incl. patch embedding; Mixer: everything but the head). */
  linearMacs: number;
  /** MACs of terms quadratic in tokens (ViT attention T²·D; 0 for Mixer). */
  quadraticMacs: number;
  /** quadratic / linear. */
  quadraticToLinear: number;
  /** Mixer only: token- and channel-mixing MACs, and the token-mixing weights that resolution needs. */
  tokenMixingMacs?: number;
  channelMixingMacs?: number;
  tokenMixingParams?: number;
}

/** Resolutions at which the grid is whole: non-multiples waste pixels (ViT's VALID conv drops them, Mixer's SAME stem pads). */
export function usableResolutions(c: ModelConfig, resolutions = DEFAULT_RESOLUTIONS): number[] {
  const px = tokenStride(c); // the patch, times a hybrid's ResNet stride
  const set = new Set(resolutions.filter((r) => r % px === 0 && r >= px));
  set.add(c.resolution);
  return [...set].sort((a, b) => a - b);
}

/** The architecture's scaling: a Token Merging schedule belongs to one token count, so it is left out. */
export function scalingTable(c: ModelConfig, resolutions = DEFAULT_RESOLUTIONS): ScalingRow[] {
  return usableResolutions(c, resolutions).map((resolution) => {
    const at: ModelConfig = { ...unmerged(c), resolution };
    const m = macs(at);
    const row: ScalingRow = {
      resolution,
      grid: gridSize(at),
      tokens: m.tokens,
      sequence: m.sequence,
      totalMacs: m.total,
      linearMacs: m.linear,
      quadraticMacs: m.quadratic,
      quadraticToLinear: m.quadratic / m.linear,
    };
    if (at.family === 'mixer') {
      const S = patchTokens(at);
      row.tokenMixingMacs = m.components.find((x) => x.key === 'tokenMixing')!.macs;
      row.channelMixingMacs = m.components.find((x) => x.key === 'channelMixing')!.macs;
      let params = 0;
      for (let i = 0; i < at.blocks; i++) {
        const DS = mixerLayer(at, i).tokensMlp;
        params += 2 * S * DS + DS + S;
      }
      row.tokenMixingParams = params;
    }
    return row;
  });
}

export interface Crossover {
  /**
   * Sequence length where one block's 2·T²·D equals its T·(4D² + 2DM): T = 2D + M. Pruned: where all
   * blocks' quadratic MACs together equal their linear ones, T = 2D + D·ΣM_l/ΣA_l (not always whole).
   */
  blockT: number;
  /** Pruned models only: each block's own crossover 2D + D·M_l/A_l. */
  layerT?: number[];
  /** Sequence length where 2·T²·D equals the attention projections 4·T·D²: T = 2D (2·T²·A_l against 4·T·D·A_l when pruned: the same). */
  projectionsT: number;
  /** Smallest square grid (and resolution = grid·P) where the whole model's quadratic MACs exceed its linear ones (patch embedding included). */
  modelGrid: number;
  modelResolution: number;
  modelT: number;
  formula: string;
}

/** Where ViT's quadratic attention starts to dominate; null for Mixer (no quadratic term). */
export function crossover(c: ModelConfig): Crossover | null {
  if (c.family !== 'vit') return null;
  const v = unmerged(c);
  const D = v.hidden;
  const A = (l: number) => vitLayer(v, l).attention, M = (l: number) => vitLayer(v, l).mlp;
  const layers = Array.from({ length: v.layers }, (_, l) => l);
  const sumA = layers.reduce((s, l) => s + A(l), 0), sumM = layers.reduce((s, l) => s + M(l), 0);
  const pruned = isPruned(v);
  const px = tokenStride(v);
  let g = 1;
  for (;; g++) {
    const m = macs({ ...v, resolution: g * px });
    if (m.quadratic > m.linear) break;
  }
  return {
    blockT: 2 * D + D * sumM / sumA,
    ...(pruned ? { layerT: layers.map((l) => 2 * D + D * M(l) / A(l)) } : {}),
    projectionsT: 2 * D,
    modelGrid: g,
    modelResolution: g * px,
    modelT: sequenceLength({ ...v, resolution: g * px }),
    formula: pruned ? 'Σ_l 2·T²·A_l > T·Σ_l (4D·A_l + 2D·M_l)  ⇔  T > 2D + D·ΣM_l/ΣA_l'
      : '2·T²·D > T·(4D² + 2DM)  ⇔  T > 2D + M',
  };
}
