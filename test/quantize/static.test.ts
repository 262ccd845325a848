import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DataType } from '../../src/formats/onnx.js';
import { arraySource, collectRanges, quantize, analyze, CALIBRATION_METHODS } from '../../src/compress/quantize/index.js';
import { isUserError } from '../../src/errors.js';
import { batches, images, logits, opCounts, optimizedOps, relErr, tiny, top1Agreement } from './fixtures.js';
import { tmp } from '../core/helpers.js';

// Tolerances as for dynamic: logits within 3% relative error, top-1 agreement >= 90% on 64 images.
const REL = 0.03, AGREE = 0.9;
const x = images(64, 16);
const calib = arraySource('random', batches(4, 8, 16));
const dir = tmp();

for (const [family, style] of [['vit', 'ort'], ['vit', 'portable'], ['mixer', 'ort'], ['mixer', 'portable']] as const) {
  test(`static QDQ ${family}/${style}: Q/DQ only around weight MatMuls; fused by ORT into MatMulIntegerToFloat; close to float`, async () => {
    const m = tiny(family, style);
    const r = await quantize(m, { mode: 'static', calibration: calib });
    const n = r.layers.filter((l) => l.quantized).length;
    const ops = opCounts(r.model);
    // One DequantizeLinear per weight, one Q/DQ pair per distinct activation.
    const acts = new Set(r.model.graph!.node!.filter((x) => x.opType === 'QuantizeLinear').map((x) => x.input![0]));
    assert.equal(ops.QuantizeLinear, acts.size);
    assert.equal(ops.DequantizeLinear, n + acts.size);
    assert.equal(r.calibration!.images, 32);
    assert.equal(r.calibration!.tensors, acts.size);
    // ViT-aware defaults: no norm, softmax, GELU or residual Add reads a dequantized tensor.
    const dq = new Set(r.model.graph!.node!.filter((x) => x.opType === 'DequantizeLinear').map((x) => x.output![0]));
    for (const node of r.model.graph!.node!) {
      if (node.input!.some((i) => dq.has(i))) assert.ok(['MatMul', 'QuantizeLinear'].includes(node.opType!), `${node.opType} ${node.name} reads a DQ output`);
    }
    const wdq = r.model.graph!.node!.filter((x) => x.opType === 'DequantizeLinear' && r.model.graph!.initializer!.some((t) => t.name === x.input![0] && t.dataType === DataType.INT8));
    assert.equal(wdq.length, n);
    assert.ok(wdq.every((x) => x.attribute!.some((a) => a.name === 'axis' && Number(a.i) === 1)), 'per-channel weights along axis 1');
    const fused = await optimizedOps(r.model, path.join(dir, `${family}-${style}-opt.onnx`));
    assert.equal(fused.MatMulIntegerToFloat, n, 'every QDQ MatMul fused');
    assert.equal(fused.DequantizeLinear ?? 0, 0);
    const ref = await logits(m, x), out = await logits(r.model, x);
    assert.ok(relErr(out, ref) < REL, `relative error ${relErr(out, ref)}`);
    assert.ok(top1Agreement(out, ref, ref.length / 64) >= AGREE);
  });
}

test('static: every calibration method gives a working model; per-tensor weights; u8u8', async () => {
  const m = tiny('vit', 'portable');
  const ref = await logits(m, x);
  const analysis = await analyze(m);
  for (const method of CALIBRATION_METHODS) {
    const r = await quantize(m, { mode: 'static', calibration: calib, method, analysis });
    assert.equal(r.settings.method, method);
    const err = relErr(await logits(r.model, x), ref);
    assert.ok(err < REL, `${method}: ${err}`);
  }
  for (const o of [{ perChannel: false }, { format: 'u8u8' as const }]) {
    const r = await quantize(m, { mode: 'static', calibration: calib, analysis, ...o });
    assert.ok(relErr(await logits(r.model, x), ref) < REL, JSON.stringify(o));
  }
});

test('static: --include LayerNormalization / Softmax brackets those ops too (on request only)', async () => {
  const m = tiny('vit', 'portable');
  const r = await quantize(m, { mode: 'static', calibration: calib, include: ['LayerNormalization', 'Softmax'] });
  assert.equal(r.activationNodes.length, 5 + 2);
  const dq = new Set(r.model.graph!.node!.filter((x) => x.opType === 'DequantizeLinear').map((x) => x.output![0]));
  const ln = r.model.graph!.node!.filter((x) => x.opType === 'LayerNormalization');
  assert.ok(ln.every((n) => dq.has(n.input![0]!)), 'LayerNorm inputs are dequantized');
  const ref = await logits(m, x);
  assert.ok(relErr(await logits(r.model, x), ref) < 0.1);
});

test('calibration: bounded passes give the same ranges; a batch of the wrong shape is a user error', async () => {
  const m = tiny('mixer', 'portable');
  const a = await analyze(m);
  const tensors = [...a.info.keys()].filter((t) => a.info.get(t)!.elemType === DataType.FLOAT && /LayerNorm|gelu/.test(t)).slice(0, 6);
  assert.ok(tensors.length >= 3);
  const one = await collectRanges(a.named, tensors, a.info, calib, { method: 'percentile' });
  const many = await collectRanges(a.named, tensors, a.info, calib, { method: 'percentile', budgetBytes: 1 });
  assert.equal(one.passes, 1);
  assert.equal(many.passes, tensors.length);
  assert.deepEqual([...many.ranges], [...one.ranges]);
  await assert.rejects(collectRanges(a.named, tensors, a.info, arraySource('bad', [images(2, 20)]), { method: 'minmax' }),
    (e: Error) => isUserError(e) && /does not fit the model input/.test(e.message));
  await assert.rejects(quantize(m, { mode: 'static' }), (e: Error) => isUserError(e) && /calibration data/.test(e.message));
});
