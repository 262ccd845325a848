import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeModel } from '../../src/formats/onnx.js';
import { arraySource, quantize } from '../../src/compress/quantize/index.js';
import { batches, foreign, images, logits, opCounts, relErr, top1Agreement } from './fixtures.js';

// Foreign PyTorch exports (tools/make_foreign_vit.py): random weights with larger activations than
// vitopt's tiny models. Tolerance: logits within 5% relative error, top-1 agreement >= 90% on 64 images
// (measured ~1% and 97-100%).
const REL = 0.05, AGREE = 0.9;
const x = images(64, 32);
const calib = arraySource('random', batches(4, 8, 32));

for (const which of ['torchvision', 'hf'] as const) {
  test(`foreign ${which} ViT: weight layers found (packed in_proj, Gemm out_proj, q/k/v Linear); head kept float; int8 close to float`, async () => {
    const m = await foreign(which);
    const before = encodeModel(m);
    const ref = await logits(m, x);
    for (const mode of ['dynamic', 'static'] as const) {
      const r = await quantize(m, { mode, calibration: calib });
      const q = r.layers.filter((l) => l.quantized);
      assert.equal(q.length, which === 'hf' ? 12 : 8, r.layers.map((l) => l.label).join());
      const head = r.layers.filter((l) => l.head);
      assert.equal(head.length, 1);
      assert.ok(!head[0]!.quantized && head[0]!.opType === 'Gemm');
      if (which === 'torchvision') {
        assert.ok(q.some((l) => l.N === 144), 'the packed q/k/v in_proj');
        assert.ok(q.filter((l) => l.opType === 'Gemm').length === 2, 'out_proj Gemm (bias shared through an Identity)');
      }
      assert.ok(r.kept.some((k) => k.opType === 'Conv'));
      if (mode === 'dynamic') assert.equal(opCounts(r.model).DynamicQuantizeMatMul, q.length);
      const out = await logits(r.model, x);
      assert.ok(relErr(out, ref) < REL, `${mode}: ${relErr(out, ref)}`);
      assert.ok(top1Agreement(out, ref, 10) >= AGREE, `${mode}: agreement ${top1Agreement(out, ref, 10)}`);
    }
    assert.deepEqual(encodeModel(m), before, 'the input model is not modified');
  });
}
