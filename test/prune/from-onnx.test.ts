import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel } from '../../src/export/index.js';
import { randomImages } from '../../src/data/random-images.js';
import { buildModel, GraphBuilder, onnx, rawTensor, DataType } from '../../src/formats/onnx.js';
import { randomIR } from '../../src/models/random.js';
import { expectedShapes } from '../../src/models/layout.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import { nhwcToNchw } from '../../src/tensor.js';
import { isUserError } from '../../src/errors.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { maxRelDiff, ortLogits } from './fixtures.js';

const variants = [
  ['ViT token', () => randomIR(tinyVit(), 1)],
  ['ViT gap + pre_logits', () => randomIR(tinyVit({ classifier: 'gap', representation: 12 }), 2)],
  ['ViT pruned (per-layer heads and MLP)', () => randomIR(tinyVit({ layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8 }), 3)],
  ['Mixer', () => randomIR(tinyMixer(), 4)],
  ['Mixer pruned', () => randomIR(tinyMixer({ layerTokensMlp: [5, 8], layerChannelsMlp: [48, 13] }), 5)],
] as const;

for (const [name, make] of variants) {
  for (const style of ['ort', 'portable'] as const) {
    test(`irFromOnnx inverts the ${style} export: ${name}`, async () => {
      const ir = make();
      const back = irFromOnnx(exportModel(ir, style), 'x.onnx');
      assert.deepEqual(back.config, ir.config);
      for (const [k, dims] of expectedShapes(ir.config)) assert.deepEqual(back.weights.get(k)?.dims, dims, k);
      // Weights other than the query scaling and the folded cls row come back bit for bit.
      for (const k of ['head/kernel', ir.config.family === 'vit' ? 'Transformer/encoderblock_1/MlpBlock_0/Dense_1/bias' : 'MixerBlock_1/token_mixing/Dense_0/kernel']) {
        assert.deepEqual(back.weights.get(k)!.data, ir.weights.get(k)!.data, k);
      }
      // IR -> export -> IR -> export (both styles) computes the same logits.
      const px = nhwcToNchw(randomImages(3, ir.config.resolution, { seed: 7, layout: 'nhwc' }));
      const want = await ortLogits(ir, px, 'ort');
      for (const s2 of ['ort', 'portable'] as const) {
        const got = await ortLogits(back, px, s2);
        assert.ok(maxRelDiff(got, want) < 1e-5, `${s2}: ${maxRelDiff(got, want)}`);
      }
    });
  }
}

test('irFromOnnx rejects graphs that are not vitopt ViT/Mixer exports', () => {
  const g = new GraphBuilder();
  g.renameOutput(g.op('Relu', ['pixels']), 'logits');
  const foreign = buildModel(g, { name: 'x', inputs: [{ name: 'pixels', shape: [1, 3, 16, 16] }], outputs: [{ name: 'logits', shape: [1, 3, 16, 16] }] });
  assert.throws(() => irFromOnnx(foreign, 'foreign.onnx'), (e) => isUserError(e) && /foreign\.onnx: .*not a vitopt ViT\/Mixer export.*metadata/.test((e as Error).message));

  // Right metadata, wrong graph.
  const vit = exportModel(randomIR(tinyVit(), 1), 'ort');
  const broken = onnx.ModelProto.create({ ...vit, graph: { ...vit.graph!, initializer: vit.graph!.initializer!.filter((t) => !t.name!.includes('encoderblock_1/MlpBlock_0/Dense_0')) } });
  assert.throws(() => irFromOnnx(broken, 'b.onnx'), (e) => isUserError(e) && /encoderblock_1\/MlpBlock_0\/Dense_0\/kernel' is missing/.test((e as Error).message));

  // Quantized weights: a clear message.
  const q = exportModel(randomIR(tinyVit(), 1), 'ort');
  const inits = q.graph!.initializer!.map((t) => t.name === 'head/kernel'
    ? rawTensor('head/kernel', DataType.INT8, t.dims!.map(Number), new Int8Array(32 * 7)) : t);
  const quant = onnx.ModelProto.create({ ...q, graph: { ...q.graph!, initializer: inits } });
  assert.throws(() => irFromOnnx(quant, 'q.onnx'), (e) => isUserError(e) && /not float32.*prune the fp32 model, then quantize/.test((e as Error).message));

  // Metadata that is not a configuration.
  const bad = onnx.ModelProto.create({ ...vit, metadataProps: [{ key: 'vitopt.config', value: '{"family":"resnet"}' }] });
  assert.throws(() => irFromOnnx(bad, 'c.onnx'), (e) => isUserError(e) && /not a ViT or Mixer configuration/.test((e as Error).message));
});
