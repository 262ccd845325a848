/**
 * Per-block figures of a structurally pruned model (src/compress/prune/ removes attention heads and
 * hidden units layer by layer): each block's widths, parameters and MACs, so the report shows where
 * pruning took what. Every other figure of src/analyze is already summed block by block; this is the
 * breakdown behind those sums. For a uniform model every row would be the same, so the report omits it.
 */
import { type ModelConfig, mixerLayer, vitLayer } from '../models/config.js';
import { mixerBlockMacs, vitBlockMacs } from './macs.js';
import { mixerBlockParams, vitBlockParams } from './params.js';

export interface LayerFigures {
  layer: number;
  /** ViT: heads, attention width A = heads·hd and MLP width M of this block. */
  heads?: number;
  attentionWidth?: number;
  mlp?: number;
  /** Mixer: token- and channel-mixing hidden widths of this block. */
  tokensMlp?: number;
  channelsMlp?: number;
  params: number;
  /** MACs per image of this block (at its own token count under Token Merging). */
  macs: number;
}

export function layerFigures(c: ModelConfig): LayerFigures[] {
  if (c.family === 'vit') {
    const blockMacs = vitBlockMacs(c);
    return blockMacs.map((b, l) => {
      const { heads, attention, mlp } = vitLayer(c, l);
      return { layer: l, heads, attentionWidth: attention, mlp, params: vitBlockParams(c, l), macs: b.total };
    });
  }
  return mixerBlockMacs(c).map((b, i) => {
    const { tokensMlp, channelsMlp } = mixerLayer(c, i);
    return { layer: i, tokensMlp, channelsMlp, params: mixerBlockParams(c, i), macs: b.total };
  });
}
