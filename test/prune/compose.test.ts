import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { randomImages } from '../../src/data/random-images.js';
import { nhwcToNchw } from '../../src/tensor.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { pruneStructured } from '../../src/compress/prune/reconstruct-model.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { maxRelDiff, ortLogits, randomCalibration } from './fixtures.js';

for (const [name, ir] of [['ViT', randomIR(tinyVit({ hidden: 64, mlp: 128 }), 51)], ['Mixer', randomIR(tinyMixer({ hidden: 64, channelsMlp: 128 }), 52)]] as const) {
  test(`${name}: a pruned model quantizes (dynamic INT8) like any export, and its INT8 logits stay close`, async () => {
    const r = await pruneStructured(ir, randomCalibration(16, 32), { method: 'structured', targetFlops: 0.7 });
    const px = nhwcToNchw(randomImages(4, 16, { seed: 3, layout: 'nhwc' }));
    for (const style of ['ort', 'portable'] as const) {
      const fp32 = exportModel(r.ir, style);
      const q = await quantize(fp32, { mode: 'dynamic', include: ['head'] });
      assert.ok(q.layers.filter((l) => l.quantized).length >= 4, `${style}: ${q.layers.map((l) => `${l.label}:${l.reason}`).join('; ')}`);
      const want = await ortLogits(fp32, px);
      const got = await ortLogits(q.model, px);
      assert.ok(maxRelDiff(got, want) < 0.1, `${style}: ${maxRelDiff(got, want)}`);
    }
  });
}
