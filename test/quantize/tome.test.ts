/** Token Merging models quantize (dynamic, static) like any other: the merge ops stay float, the size bias reaches MultiHeadAttention. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metadata } from '../../src/formats/onnx.js';
import { exportModel } from '../../src/export/index.js';
import { randomIR } from '../../src/models/random.js';
import { withMergeSchedule } from '../../src/models/tome.js';
import { arraySource, quantize } from '../../src/compress/quantize/index.js';
import { batches, images, logits, opCounts, relErr, top1Agreement } from './fixtures.js';
import { tinyVit } from '../core/helpers.js';

// As for the unmerged models (dynamic.test.ts): within 3% relative error, top-1 agreement >= 90% on 64 images.
const REL = 0.03, AGREE = 0.9;
const x = images(64, 16);
const calib = arraySource('random', batches(4, 8, 16));

for (const style of ['ort', 'portable'] as const) {
  for (const mode of ['dynamic', 'static'] as const) {
    test(`ToMe ViT ${style}, ${mode} int8: every weight MatMul but the head quantized; close to float; schedule kept`, async () => {
      const m = exportModel(withMergeSchedule(randomIR(tinyVit({ layers: 3 }), 2), [2, 3, 2]), style);
      const r = await quantize(m, { mode, calibration: mode === 'static' ? calib : undefined });
      // Per block: qkv (or q, k, v), out, MLP ×2 and the ToMe metric projection.
      assert.equal(r.layers.filter((l) => !l.quantized).map((l) => l.label).join(), 'head');
      assert.equal(r.layers.filter((l) => /tome\/metric/.test(l.label)).length, 3);
      const ops = opCounts(r.model);
      assert.equal(ops.ScatterND, 6, 'the merge itself stays float');
      if (style === 'ort') {
        assert.equal(ops.Attention ?? 0, 0);
        const mha = r.model.graph!.node!.filter((n) => n.opType === 'MultiHeadAttention');
        assert.deepEqual(mha.map((n) => Boolean(n.input![5])), [false, true, true], 'attention_bias carried over in the merged blocks');
      }
      const ref = await logits(m, x), out = await logits(r.model, x);
      assert.ok(relErr(out, ref) < REL, `relative error ${relErr(out, ref)}`);
      assert.ok(top1Agreement(out, ref, 7) >= AGREE);
      assert.deepEqual(JSON.parse(metadata(r.model)['vitopt.config']!).mergeTokens, [2, 3, 2]);
    });
  }
}
