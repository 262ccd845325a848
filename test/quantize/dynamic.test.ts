import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DataType, encodeModel, metadata } from '../../src/formats/onnx.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { images, logits, opCounts, optimizedOps, relErr, tiny, top1Agreement } from './fixtures.js';
import { tmp } from '../core/helpers.js';

// Tolerances (random weights, inputs in [-1, 1]): logits within 3% relative error of the float model and
// the same top-1 class on at least 90% of 64 images. Measured: 0.1-0.2% and 100%.
const REL = 0.03, AGREE = 0.9;
const x = images(64, 16);
const dir = tmp();

for (const [family, style] of [['vit', 'ort'], ['vit', 'portable'], ['mixer', 'ort'], ['mixer', 'portable']] as const) {
  test(`dynamic int8 ${family}/${style}: every weight MatMul but the head becomes DynamicQuantizeMatMul; numerics close to float`, async () => {
    const m = tiny(family, style);
    const before = encodeModel(m);
    const r = await quantize(m, { mode: 'dynamic' });
    assert.deepEqual(encodeModel(m), before, 'the input model is not modified');
    const ops = opCounts(r.model);
    const quantized = r.layers.filter((l) => l.quantized);
    assert.equal(ops.DynamicQuantizeMatMul, quantized.length);
    assert.equal(r.layers.filter((l) => !l.quantized).map((l) => l.label).join(), 'head', 'only the classifier head stays float');
    assert.ok(r.kept.some((k) => k.opType === 'Conv'), 'the patch convolution is reported as kept float');
    assert.equal(ops.Conv, 1);
    if (family === 'vit' && style === 'ort') {
      assert.equal(ops.Attention ?? 0, 0);
      assert.equal(ops.MultiHeadAttention, 2, 'fused attention unpacked: QKV projection quantized, core in MultiHeadAttention');
      assert.ok(r.layers.some((l) => l.kind === 'qkv' && l.N === 96 && l.quantized));
    }
    if (family === 'mixer') assert.equal(r.layers.filter((l) => l.kind === 'token-mixing' && l.quantized).length, 4);
    // Bias Adds after weight MatMuls fold into the kernel (portable graphs have them).
    if (style === 'portable' && family === 'vit') assert.ok(r.model.graph!.node!.filter((n) => n.opType === 'DynamicQuantizeMatMul').every((n) => n.input!.length === 5));
    const ref = await logits(m, x), out = await logits(r.model, x);
    const classes = ref.length / 64;
    assert.ok(relErr(out, ref) < REL, `relative error ${relErr(out, ref)}`);
    assert.ok(top1Agreement(out, ref, classes) >= AGREE);
    assert.ok(r.layers.filter((l) => l.quantized).every((l) => l.weightSqnr! > 30));
    assert.equal(JSON.parse(metadata(r.model)['vitopt.quantization']!).mode, 'dynamic');
    assert.ok(metadata(r.model)['vitopt.config'], 'vitopt metadata travels with the model');
  });
}

test('dynamic int8: formats, per-tensor weights, --include head, --exclude by prefix and op type', async () => {
  const m = tiny('vit', 'ort');
  const ref = await logits(m, x);
  for (const format of ['u8s8-reduced', 'u8u8'] as const) {
    for (const perChannel of [true, false]) {
      const r = await quantize(m, { mode: 'dynamic', format, perChannel });
      assert.equal(r.settings.format, format);
      const err = relErr(await logits(r.model, x), ref);
      assert.ok(err < REL, `${format} perChannel=${perChannel}: ${err}`);
    }
  }
  const withHead = await quantize(m, { mode: 'dynamic', include: ['head'] });
  assert.ok(withHead.layers.every((l) => l.quantized));
  const ex = await quantize(m, { mode: 'dynamic', exclude: ['Transformer/encoderblock_1'] });
  const fl = ex.layers.filter((l) => !l.quantized).map((l) => l.label);
  assert.deepEqual(fl.sort(), ['Transformer/encoderblock_1/MlpBlock_0/Dense_0', 'Transformer/encoderblock_1/MlpBlock_0/Dense_1',
    'Transformer/encoderblock_1/MultiHeadDotProductAttention_0/out', 'Transformer/encoderblock_1/MultiHeadDotProductAttention_0/qkv', 'head'].sort());
  assert.equal(opCounts(ex.model).Attention, 1, 'an excluded fused Attention stays fused');
  const noAtt = await quantize(m, { mode: 'dynamic', exclude: ['Attention'] });
  assert.equal(noAtt.layers.filter((l) => l.kind === 'qkv' && l.quantized).length, 0);
  assert.ok(relErr(await logits(ex.model, x), ref) < REL);
});

test('ONNX Runtime runs the dynamic graph as DynamicQuantizeMatMul; the fp16-stored Conv kernel is folded at load', async () => {
  const m = tiny('vit', 'portable', { patch: 8, hidden: 64, mlp: 128 }); // a 12k-value Conv kernel (smaller ones stay float32)
  const r = await quantize(m, { mode: 'dynamic' });
  const conv = r.model.graph!.node!.find((n) => n.opType === 'Conv')!;
  const cast = r.model.graph!.node!.find((n) => n.output![0] === conv.input![1])!;
  assert.equal(cast.opType, 'Cast');
  assert.equal(r.model.graph!.initializer!.find((t) => t.name === cast.input![0])!.dataType, DataType.FLOAT16);
  assert.ok(r.notes.some((n) => /stored as float16/.test(n)));
  const ops = await optimizedOps(r.model, path.join(dir, 'dyn-opt.onnx'));
  assert.equal(ops.DynamicQuantizeMatMul, r.layers.filter((l) => l.quantized).length);
  assert.equal(ops.Cast ?? 0, 0, 'Cast of a constant folded away');
  const exact = await quantize(m, { mode: 'dynamic', exclude: ['Conv'] });
  assert.ok(!exact.model.graph!.node!.some((n) => n.opType === 'Cast'));
});
