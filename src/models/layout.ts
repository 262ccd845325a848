/**
 * The expected weight names and shapes of a configuration, in the official Linen-numbered layout
 * (spec §2.2, §2.5). Used to validate imports, to generate random weights and to slice when pruning.
 */
import { type ModelConfig, mixerLayer, patchTokens, sequenceLength, vitLayer } from './config.js';
import { resnetShapes, stemChannels } from './resnet.js';

export const vitBlock = (l: number) => `Transformer/encoderblock_${l}`;
export const mixerBlock = (i: number) => `MixerBlock_${i}`;

export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = c.hidden;
  if (c.family === 'vit') {
    // A hybrid's ResNet stem comes first (spec §2.3); its feature map is the patch embedding's input.
    if (c.resnet) for (const [name, dims] of resnetShapes(c.resnet)) m.set(name, dims);
    m.set('embedding/kernel', [c.patch, c.patch, c.resnet ? stemChannels(c.resnet) : 3, D]);
    m.set('embedding/bias', [D]);
    if (c.classifier === 'token') m.set('cls', [1, 1, D]);
    m.set('Transformer/posembed_input/pos_embedding', [1, sequenceLength(c), D]);
    for (let l = 0; l < c.layers; l++) {
      const b = vitBlock(l);
      const { heads: H, headDim: hd, mlp } = vitLayer(c, l);
      const att = `${b}/MultiHeadDotProductAttention_0`;
      for (const ln of ['LayerNorm_0', 'LayerNorm_1']) {
        m.set(`${b}/${ln}/scale`, [D]);
        m.set(`${b}/${ln}/bias`, [D]);
      }
      for (const p of ['query', 'key', 'value']) {
        m.set(`${att}/${p}/kernel`, [D, H, hd]);
        m.set(`${att}/${p}/bias`, [H, hd]);
      }
      m.set(`${att}/out/kernel`, [H, hd, D]);
      m.set(`${att}/out/bias`, [D]);
      m.set(`${b}/MlpBlock_0/Dense_0/kernel`, [D, mlp]);
      m.set(`${b}/MlpBlock_0/Dense_0/bias`, [mlp]);
      m.set(`${b}/MlpBlock_0/Dense_1/kernel`, [mlp, D]);
      m.set(`${b}/MlpBlock_0/Dense_1/bias`, [D]);
    }
    m.set('Transformer/encoder_norm/scale', [D]);
    m.set('Transformer/encoder_norm/bias', [D]);
    if (c.representation) {
      m.set('pre_logits/kernel', [D, c.representation]);
      m.set('pre_logits/bias', [c.representation]);
    }
    m.set('head/kernel', [c.representation ?? D, c.classes]);
    m.set('head/bias', [c.classes]);
  } else {
    const S = patchTokens(c);
    m.set('stem/kernel', [c.patch, c.patch, 3, D]);
    m.set('stem/bias', [D]);
    for (let i = 0; i < c.blocks; i++) {
      const b = mixerBlock(i);
      const { tokensMlp, channelsMlp } = mixerLayer(c, i);
      for (const ln of ['LayerNorm_0', 'LayerNorm_1']) {
        m.set(`${b}/${ln}/scale`, [D]);
        m.set(`${b}/${ln}/bias`, [D]);
      }
      m.set(`${b}/token_mixing/Dense_0/kernel`, [S, tokensMlp]);
      m.set(`${b}/token_mixing/Dense_0/bias`, [tokensMlp]);
      m.set(`${b}/token_mixing/Dense_1/kernel`, [tokensMlp, S]);
      m.set(`${b}/token_mixing/Dense_1/bias`, [S]);
      m.set(`${b}/channel_mixing/Dense_0/kernel`, [D, channelsMlp]);
      m.set(`${b}/channel_mixing/Dense_0/bias`, [channelsMlp]);
      m.set(`${b}/channel_mixing/Dense_1/kernel`, [channelsMlp, D]);
      m.set(`${b}/channel_mixing/Dense_1/bias`, [D]);
    }
    m.set('pre_head_layer_norm/scale', [D]);
    m.set('pre_head_layer_norm/bias', [D]);
    m.set('head/kernel', [D, c.classes]);
    m.set('head/bias', [c.classes]);
  }
  return m;
}
