/**
 * The expected weight names and shapes of a configuration, in the official Linen-numbered layout
 * (spec §2.2, §2.5). Used to validate imports, to generate random weights and to slice when pruning.
 */
import { type ModelConfig, mixerLayer, patchTokens, sequenceLength, vitLayer } from './config.js';
import { type DenseNames, MIXER, mixerBlockNames, type NormNames, VIT, vitBlockNames } from './names.js';
import { resnetShapes, stemChannels } from './resnet.js';

export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = c.hidden;
  const dense = (d: DenseNames, kernel: number[], bias: number[]) => { m.set(d.kernel, kernel); m.set(d.bias, bias); };
  const norm = (n: NormNames) => { m.set(n.scale, [D]); m.set(n.bias, [D]); };
  if (c.family === 'vit') {
    // A hybrid's ResNet stem comes first (spec §2.3); its feature map is the patch embedding's input.
    if (c.resnet) for (const [name, dims] of resnetShapes(c.resnet)) m.set(name, dims);
    dense(VIT.embedding, [c.patch, c.patch, c.resnet ? stemChannels(c.resnet) : 3, D], [D]);
    if (c.classifier === 'token') m.set(VIT.cls, [1, 1, D]);
    m.set(VIT.posEmbedding, [1, sequenceLength(c), D]);
    for (let l = 0; l < c.layers; l++) {
      const n = vitBlockNames(l);
      const { heads: H, headDim: hd, mlp } = vitLayer(c, l);
      norm(n.ln1);
      norm(n.ln2);
      for (const p of [n.attn.query, n.attn.key, n.attn.value]) dense(p, [D, H, hd], [H, hd]);
      dense(n.attn.out, [H, hd, D], [D]);
      dense(n.mlp.fc1, [D, mlp], [mlp]);
      dense(n.mlp.fc2, [mlp, D], [D]);
    }
    norm(VIT.encoderNorm);
    if (c.representation) dense(VIT.preLogits, [D, c.representation], [c.representation]);
    dense(VIT.head, [c.representation ?? D, c.classes], [c.classes]);
  } else {
    const S = patchTokens(c);
    dense(MIXER.stem, [c.patch, c.patch, 3, D], [D]);
    for (let i = 0; i < c.blocks; i++) {
      const n = mixerBlockNames(i);
      const { tokensMlp, channelsMlp } = mixerLayer(c, i);
      norm(n.ln1);
      norm(n.ln2);
      dense(n.tokenMixing.fc1, [S, tokensMlp], [tokensMlp]);
      dense(n.tokenMixing.fc2, [tokensMlp, S], [S]);
      dense(n.channelMixing.fc1, [D, channelsMlp], [channelsMlp]);
      dense(n.channelMixing.fc2, [channelsMlp, D], [D]);
    }
    norm(MIXER.preHeadNorm);
    dense(MIXER.head, [D, c.classes], [c.classes]);
  }
  return m;
}
