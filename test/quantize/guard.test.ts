import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { exportModel } from '../../src/export/index.js';
import { encodeNpy } from '../../src/formats/npy.js';
import { randomIR } from '../../src/models/random.js';
import { NpyDataset } from '../../src/data/npy-dataset.js';
import { guardedQuantize } from '../../src/tune/quantize-guard.js';
import { images, logits } from './fixtures.js';
import { tinyVit, tmp } from '../core/helpers.js';

test('accuracy guard: the measurably most sensitive layer goes back to float first, until the drop fits', async () => {
  // A tiny ViT where one matrix has a single huge weight: per-tensor int8 then flushes all its other
  // weights to zero, so that layer (and, by design, no other) breaks the quantized model.
  const ir = randomIR(tinyVit({ classes: 10 }), 3);
  // Random weights make the prediction depend on the position embeddings more than on the image; scale
  // the patch embedding up (and the constants down) so that images decide the class.
  for (const [name, f] of [['embedding/kernel', 25], ['Transformer/posembed_input/pos_embedding', 0.1], ['cls', 0.1], ['head/kernel', 10]] as const) {
    const t = ir.weights.get(name)!;
    t.data.set(t.data.map((v) => v * f));
  }
  ir.weights.get('Transformer/encoderblock_1/MultiHeadDotProductAttention_0/value/kernel')!.data[5] = 80;
  const model = exportModel(ir, 'ort');
  // Labels = the float model's own predictions, so float top-1 is 100% and every flip is a drop.
  const n = 160, x = images(n, 16, 77);
  const out = await logits(model, x);
  const labels = Array.from({ length: n }, (_, i) => {
    const row = out.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  });
  const nhwc = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) nhwc[(i * 256 + p) * 3 + c] = x.data[(i * 3 + c) * 256 + p]!;
  const dir = tmp();
  await fs.writeFile(path.join(dir, 'x.npy'), encodeNpy({ dims: [n, 16, 16, 3], data: nhwc }));
  await fs.writeFile(path.join(dir, 'y.txt'), labels.join('\n') + '\n');
  const data = await NpyDataset.open(path.join(dir, 'x.npy'), path.join(dir, 'y.txt'));

  const { result, guard } = await guardedQuantize(model, { mode: 'dynamic', perChannel: false }, {
    maxDrop: 1, data, resolution: 16, rankingSize: 64, engine: { threads: 1 },
  });
  assert.equal(guard.floatTop1, 1);
  assert.ok(guard.steps[0]!.drop > 1, `the unguarded model must miss the budget for this test to mean anything (${guard.steps[0]!.drop})`);
  assert.ok(guard.met && guard.drop <= 1, `drop ${guard.drop}`);
  assert.equal(guard.sensitivity.length, 8);
  const broken = 'Transformer/encoderblock_1/MultiHeadDotProductAttention_0/qkv';
  assert.equal(guard.sensitivity[0]!.label, broken, 'ranked first by measurement');
  assert.equal(guard.reverted[0]!.label, broken);
  const floatLayer = result.layers.find((l) => l.label === guard.reverted[0]!.label)!;
  assert.ok(!floatLayer.quantized && /accuracy guard: rank 1 of 8/.test(floatLayer.reason));
  assert.ok(result.layers.filter((l) => l.quantized).length >= 8 - guard.reverted.length);
  assert.equal(guard.steps.length, guard.reverted.length + 1);
  assert.ok(guard.images === n && guard.rankingImages === 64);
});
