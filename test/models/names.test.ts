/**
 * src/models/names.ts is shared by the exporter and the code that reads its graphs back: these tests
 * check both sides against it, for every graph style and fusion combination (the names must not
 * depend on the fusions), without running a model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../src/export/index.js';
import type { Fusions } from '../../src/export/layers.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import { sublayers } from '../../src/compress/prune/structured.js';
import { expectedShapes } from '../../src/models/layout.js';
import { MIXER, mixerBlockNames, parseBlockName, VIT, vitBlockNames, vitNormAfter } from '../../src/models/names.js';
import { randomIR } from '../../src/models/random.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { tinyHybrid } from './hybrid-fixtures.js';

test('parseBlockName inverts vitBlockNames and mixerBlockNames', () => {
  const v = vitBlockNames(11);
  assert.deepEqual(parseBlockName(v.attn.query.kernel), { family: 'vit', block: 11, part: 'MultiHeadDotProductAttention_0', rest: 'query/kernel' });
  assert.deepEqual(parseBlockName(v.ln2.skipBias), { family: 'vit', block: 11, part: 'LayerNorm_1', rest: 'skip_bias' });
  assert.deepEqual(parseBlockName(v.scope), { family: 'vit', block: 11, part: '', rest: '' });
  const m = mixerBlockNames(3);
  assert.deepEqual(parseBlockName(m.tokenMixing.fc1.kernelT), { family: 'mixer', block: 3, part: 'token_mixing', rest: 'Dense_0/kernel_t' });
  for (const n of [VIT.head.kernel, VIT.encoderNorm.scale, VIT.posEmbedding, MIXER.preHeadNorm.bias, 'block1/unit1/conv1/kernel', 'Transformer/encoderblock_x/LayerNorm_0/scale']) {
    assert.equal(parseBlockName(n), null, n);
  }
  // The LayerNorm after the last block is the final norm, and carries that block's fc2 bias.
  assert.equal(vitNormAfter(2, 3), VIT.encoderNorm);
  assert.equal(vitNormAfter(0, 3).scope, vitBlockNames(1).ln1.scope);
});

const models = [
  ['ViT token', () => randomIR(tinyVit(), 1)],
  ['ViT gap + pre_logits, pruned', () => randomIR(tinyVit({ classifier: 'gap', representation: 12, layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8 }), 2)],
  ['ViT with ToMe', () => randomIR(tinyVit({ mergeTokens: [2, 1] }), 3)],
  ['hybrid', () => randomIR(tinyHybrid({ layers: [], width: 32 }), 4)],
  ['Mixer', () => randomIR(tinyMixer({ layerTokensMlp: [5, 8] }), 5)],
] as const;

const combos: Fusions[] = [false, true].flatMap((attention) => [false, true].flatMap((skipLayerNorm) =>
  [false, true].map((gelu) => ({ attention, skipLayerNorm, gelu }))));

const BLOCK_PARTS = new Set(['LayerNorm_0', 'MultiHeadDotProductAttention_0', 'LayerNorm_1', 'MlpBlock_0', 'tome', 'token_mixing', 'channel_mixing']);

for (const [name, make] of models) {
  test(`names: the exporter's initializers are read back in every fusion combination: ${name}`, () => {
    const ir = make();
    const graphs = [exportModel(ir, 'portable'), ...combos.map((fusions) => exportModel(ir, 'ort', { fusions }))];
    for (const m of graphs) {
      // Every initializer under a block sits in one of the block's named parts.
      for (const t of m.graph!.initializer!) {
        const b = parseBlockName(t.name!);
        if (b) assert.ok(BLOCK_PARTS.has(b.part), `${t.name}: unexpected part '${b.part}'`);
      }
      // The reader recovers every IR weight, bit for bit but where the export transformed it: the
      // rescaled query, the cls row folded with pos[0], the weight-standardized stem kernels.
      const back = irFromOnnx(m, 'x.onnx');
      const transformed = (k: string) => k.includes('/query/') || k === VIT.cls || k === VIT.posEmbedding || /(^|\/)conv[^/]*\/kernel$/.test(k);
      for (const [k, dims] of expectedShapes(ir.config)) {
        assert.deepEqual(back.weights.get(k)?.dims, dims, k);
        if (!transformed(k)) assert.deepEqual(back.weights.get(k)!.data, ir.weights.get(k)!.data, k);
      }
    }
  });

  if (name === 'ViT with ToMe') continue; // prune reads unmerged models
  test(`names: the nodes structured pruning captures exist in the portable export: ${name}`, () => {
    const ir = make();
    const nodes = new Set(exportModel(ir, 'portable').graph!.node!.map((n) => n.name));
    for (const s of sublayers(ir.config)) {
      for (const n of [s.hiddenNode, s.residualIn, s.residualOut]) assert.ok(nodes.has(n), `${s.id}: node '${n}'`);
      for (const w of [s.outKernel, s.outBias, ...s.inputs.map((i) => i.name)]) assert.ok(ir.weights.has(w), `${s.id}: weight '${w}'`);
    }
  });
}
