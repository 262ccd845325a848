/**
 * Hybrid R+ViT export: both graph styles against the independent float64 reference (src/reference/
 * resnet.ts + forward.ts) to 1e-4 relative, on small random models in the official layout — stems with
 * and without stages, even and odd input sides (XLA SAME puts the odd padding pixel at the end), a batch
 * of 3 through the dynamic batch axis; and the export read back (prune / convert take .onnx hybrids).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VitConfig } from '../../src/models/config.js';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { verifyExport } from '../../src/export/verify.js';
import { randomImages } from '../../src/data/random-images.js';
import { standardizeKernel, unstandardizeKernel } from '../../src/export/resnet.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import { openModel } from '../../src/engines/create.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { nhwcToNchw } from '../../src/tensor.js';
import { rng } from '../../src/models/random.js';
import { tinyHybrid } from '../models/hybrid-fixtures.js';

const CASES: [string, VitConfig][] = [
  ['two stages, 32 px (even sides: pads (2,3), (0,1))', tinyHybrid({ layers: [1, 1], width: 32 })],
  ['three stages, 38 px (odd sides inside the stem)', tinyHybrid({ layers: [2, 1, 1], width: 32 }, { resolution: 38 })],
  ['root only, patch 2, 30 px, gap classifier', tinyHybrid({ layers: [], width: 32 }, { patch: 2, resolution: 30, classifier: 'gap' })],
  ['one stage, width 64, patch 2, pre_logits', tinyHybrid({ layers: [2], width: 64 }, { patch: 2, resolution: 40, representation: 16 })],
];

for (const [name, config] of CASES) {
  test(`hybrid export matches the float64 reference, both styles: ${name}`, async () => {
    const ir = randomIR(config, 7);
    for (const style of ['ort', 'portable'] as const) {
      const r = await verifyExport(ir, exportModel(ir, style), 2);
      assert.ok(r.relativeError <= 1e-4, `${style}: ${r.relativeError}`);
    }
  });
}

test('the stem is standard ONNX ops with the standardized kernels folded in; batch 3 runs', async () => {
  const ir = randomIR(tinyHybrid({ layers: [1, 1], width: 32 }), 3);
  const proto = exportModel(ir, 'portable');
  const ops = new Set(proto.graph!.node!.map((n) => `${n.domain || 'ai.onnx'}:${n.opType}`));
  for (const op of ['Conv', 'InstanceNormalization', 'MaxPool', 'Relu']) assert.ok(ops.has(`ai.onnx:${op}`), op);
  assert.ok([...ops].every((o) => o.startsWith('ai.onnx:')), [...ops].join());
  assert.ok(proto.graph!.initializer!.some((t) => t.name === 'block2/unit1/conv2/kernel_std'));
  const x = randomImages(3, 32, { seed: 11, layout: 'nhwc' });
  const model = await openModel(proto, { threads: 1 });
  const got = await model.run(nhwcToNchw(x));
  await model.release();
  assert.deepEqual(got.dims, [3, 7]);
  assert.ok(relativeError(got.data, referenceForward(ir, x).data) <= 1e-4);
});

test('StdConv standardization: per output channel mean 0, std σ/(σ+1e-5); the inverse reproduces it', () => {
  const r = rng(5);
  const dims = [3, 3, 4, 2];
  const data = Float32Array.from({ length: 72 }, (_, i) => (i % 2 ? 0.02 : 3) * (r() - 0.5) + (i % 2 ? 0.1 : -1));
  const s = standardizeKernel({ dims, data });
  for (let o = 0; o < 2; o++) {
    const w = Array.from({ length: 36 }, (_, i) => data[i * 2 + o]!), v = Array.from({ length: 36 }, (_, i) => s.data[i * 2 + o]!);
    const mean = w.reduce((a, b) => a + b) / 36, sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / 36);
    v.forEach((x, i) => assert.ok(Math.abs(x - (w[i]! - mean) / (sd + 1e-5)) < 1e-5 * Math.max(1, Math.abs(x))));
  }
  const again = standardizeKernel(unstandardizeKernel(s));
  assert.ok(relativeError(again.data, s.data) < 1e-5, `${relativeError(again.data, s.data)}`);
});

test('a hybrid export reads back to an IR that exports to the same function (prune / convert of an .onnx hybrid)', async () => {
  const ir = randomIR(tinyHybrid({ layers: [1, 2], width: 32 }, { resolution: 36 }), 9);
  for (const style of ['ort', 'portable'] as const) {
    const back = irFromOnnx(exportModel(ir, style), `hybrid-${style}.onnx`);
    assert.deepEqual(back.config.family === 'vit' && back.config.resnet, { layers: [1, 2], width: 32 });
    const r = await verifyExport(back, exportModel(back, style), 2);
    assert.ok(r.relativeError <= 1e-4);
    // Same logits as the original model's reference.
    const x = randomImages(2, 36, { seed: 1, layout: 'nhwc' });
    assert.ok(relativeError(referenceForward(back, x).data, referenceForward(ir, x).data) < 1e-4);
  }
});

test('the reference tells XLA SAME padding from symmetric padding (a PyTorch-style stem fails verification)', async () => {
  const ir = randomIR(tinyHybrid({ layers: [1, 1], width: 32 }), 13);
  const proto = exportModel(ir, 'portable');
  const root = proto.graph!.node!.find((n) => n.name === 'conv_root')!;
  const pads = root.attribute!.find((a) => a.name === 'pads')!;
  assert.deepEqual(pads.ints!.map(Number), [2, 2, 3, 3]); // 7×7/2 on 32 px: the odd pixel at the end
  pads.ints = [3, 3, 3, 3]; // same output size, shifted window
  await assert.rejects(verifyExport(ir, proto, 1), /verification failed/);
});
