/**
 * Correctness: ONNX Runtime output of both graph styles against the independent float64 reference,
 * relative error (max |Δ| / max |ref|) at most 1e-4, for every model variant the importers produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { randomIR } from '../../src/models/random.js';
import { exportModel, type GraphStyle } from '../../src/export/index.js';
import { ALL_FUSIONS } from '../../src/export/layers.js';
import { encodeModel } from '../../src/formats/onnx.js';
import { openModel } from '../../src/engines/create.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { randomImages } from '../../src/data/random-images.js';
import { nhwcToNchw } from '../../src/tensor.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import type { ModelIR } from '../../src/models/ir.js';
import { tinyMixer, tinyVit, tmp, writeHfCheckpoint, writeOfficialNpz } from './helpers.js';

const TOL = 1e-4;

async function check(ir: ModelIR, style: GraphStyle, n = 3): Promise<number> {
  const x = randomImages(n, ir.config.resolution, { seed: 11, layout: 'nhwc' });
  const model = await openModel(encodeModel(exportModel(ir, style)), { threads: 1 });
  const got = await model.run(nhwcToNchw(x));
  await model.release();
  assert.deepEqual(got.dims, [n, ir.config.classes]);
  const err = relativeError(got.data, referenceForward(ir, x).data);
  assert.ok(err <= TOL, `relative error ${err} > ${TOL}`);
  return err;
}

const variants: [string, () => Promise<ModelIR>][] = [
  ['ViT token', async () => randomIR(tinyVit(), 1)],
  ['ViT gap', async () => randomIR(tinyVit({ classifier: 'gap' }), 2)],
  ['ViT token + pre_logits', async () => randomIR(tinyVit({ representation: 24 }), 3)],
  ['ViT gap + pre_logits, erf GELU, eps 1e-12', async () => randomIR(tinyVit({ classifier: 'gap', representation: 16, gelu: 'erf', layerNormEps: 1e-12 }), 4)],
  ['ViT non-multiple resolution (VALID conv drops the remainder)', async () => randomIR(tinyVit({ resolution: 18 }), 5)],
  ['ViT pruned (per-layer heads and MLP widths)', async () => randomIR(tinyVit({ layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8 }), 6)],
  ['Mixer', async () => randomIR(tinyMixer(), 7)],
  ['Mixer SAME padding (side not a multiple of the patch)', async () => randomIR(tinyMixer({ resolution: 14 }), 8)],
  ['Mixer pruned', async () => randomIR(tinyMixer({ layerTokensMlp: [5, 8], layerChannelsMlp: [48, 13] }), 9)],
  ['ViT from an official .npz, resized 16px -> 28px (4x4 -> 7x7 grid)', async () => {
    const file = await writeOfficialNpz(randomIR(tinyVit(), 10), path.join(tmp(), 'vit.npz'), { preLinen: true });
    const ir = await loadCheckpoint(file, { resolution: 28 });
    assert.equal(ir.config.resolution, 28);
    assert.deepEqual(ir.weights.get('Transformer/posembed_input/pos_embedding')!.dims, [1, 50, 32]);
    return ir;
  }],
  ['gap ViT from .npz, resized 16px -> 24px', async () => {
    const file = await writeOfficialNpz(randomIR(tinyVit({ classifier: 'gap' }), 12), path.join(tmp(), 'vit.npz'), { preLinen: true });
    return loadCheckpoint(file, { resolution: 24 });
  }],
  ['Hugging Face safetensors ViT', async () => {
    const file = await writeHfCheckpoint(randomIR(tinyVit({ gelu: 'erf', layerNormEps: 1e-12 }), 13), tmp());
    const ir = await loadCheckpoint(file);
    assert.equal(ir.config.gelu, 'erf');
    assert.equal(ir.config.layerNormEps, 1e-12);
    assert.equal(ir.labels?.[3], 'thing 3');
    return ir;
  }],
];

for (const [name, make] of variants) {
  for (const style of ['ort', 'portable'] as const) {
    test(`${name}: ${style} graph matches the float64 reference`, async () => {
      await check(await make(), style);
    });
  }
}

test('the ort graph with every fusion uses the fused contrib ops and the portable graph only standard ONNX', () => {
  const ir = randomIR(tinyVit(), 1);
  const ops = (s: GraphStyle) => new Set(exportModel(ir, s, { fusions: ALL_FUSIONS }).graph!.node!.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`));
  const fused = ops('ort');
  for (const op of ['com.microsoft:Attention', 'com.microsoft:SkipLayerNormalization', 'com.microsoft:FastGelu']) assert.ok(fused.has(op), op);
  for (const op of ops('portable')) assert.ok(op.startsWith('ai.onnx:'), `portable graph has ${op}`);
  const model = exportModel(ir, 'portable');
  assert.equal(model.graph!.input![0]!.name, 'pixels');
  assert.equal(model.graph!.output![0]!.name, 'logits');
  assert.equal(model.graph!.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam, 'batch');
});

test('a batch of 1 and a batch of 5 give the same per-image logits (dynamic batch)', async () => {
  const ir = randomIR(tinyVit(), 21);
  const model = await openModel(encodeModel(exportModel(ir, 'ort')), { threads: 1 });
  const x = nhwcToNchw(randomImages(5, 16, { seed: 3, layout: 'nhwc' }));
  const all = await model.run(x);
  const per = 3 * 16 * 16;
  const one = await model.run({ dims: [1, 3, 16, 16], data: x.data.subarray(2 * per, 3 * per) });
  assert.ok(relativeError(one.data, all.data.subarray(2 * 7, 3 * 7)) < 1e-6);
});
