import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataType, initializerFloat, rawTensor, type ModelProto } from '../../src/formats/onnx.js';
import { cloneModel, Graph } from '../../src/graph/graph.js';
import { transpose2d } from '../../src/graph/tensors.js';
import { dequantizeBlockwise, quantize, quantizeBlockwise, type QuantizeResult } from '../../src/compress/quantize/index.js';
import { gaussian, rng } from '../../src/models/random.js';
import { foreign, images, logits, maxAbs, opCounts, relErr, tiny } from './fixtures.js';

test('block quantization: 4-bit values, packing order, padding past K, symmetric and asymmetric', () => {
  const r = gaussian(rng(2));
  const K = 40, N = 3; // K not a multiple of the block: the last block is padded
  const w = Float32Array.from({ length: K * N }, () => r());
  for (const symmetric of [false, true]) {
    const q = quantizeBlockwise(w, K, N, { blockSize: 16, symmetric });
    assert.equal(q.nBlocks, 3);
    assert.equal(q.packed.length, N * 3 * 8);
    assert.equal(q.zeroPoints === null, symmetric);
    const d = dequantizeBlockwise(q);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const s = Math.abs(q.scales[n * 3 + Math.floor(k / 16)]!);
        assert.ok(Math.abs(d[k * N + n]! - w[k * N + n]!) <= s / 2 + 1e-6, `k=${k} n=${n}`);
      }
    }
  }
  // Element j of column n's block b sits in byte j/2 of that block, even j in the low nibble.
  const one = new Float32Array(32 * 2);
  one[1 * 2 + 1] = 1; // k = 1, n = 1 -> column 1, block 0, j = 1: high nibble of byte 0
  const q = quantizeBlockwise(one, 32, 2, { blockSize: 32, symmetric: true });
  assert.equal(q.scales[1], -1 / 8);
  assert.equal(q.packed[16]! >> 4, 0, 'value 1 = (0 - 8) * (-1/8)');
  assert.equal(q.packed[16]! & 15, 8, 'zeros sit at the zero point 8');
});

/** The float model with each int4 layer's weight replaced by its dequantized values (same orientation as the original). */
function dequantizedReference(m: ModelProto, r: QuantizeResult, blockSize: number, symmetric: boolean): ModelProto {
  const c = cloneModel(m);
  const g = new Graph(c);
  for (const l of r.layers.filter((x) => x.quantized)) {
    const t = g.initializer(l.weight) ?? g.constant(l.weight)!;
    const w = initializerFloat(t);
    const node = g.nodes.find((n) => n.name === l.id || n.input!.includes(l.weight))!;
    const transB = node.opType === 'Gemm' && node.attribute!.some((a) => a.name === 'transB' && Number(a.i) === 1);
    const flip = l.kind === 'token-mixing' || transB; // stored as [N, K]
    const kn = flip ? transpose2d(w.data, l.N, l.K) : w.data;
    const dq = dequantizeBlockwise(quantizeBlockwise(kn, l.K, l.N, { blockSize, symmetric }));
    const back = flip ? transpose2d(dq, l.K, l.N) : dq;
    const i = c.graph!.initializer!.findIndex((x) => x.name === t.name);
    c.graph!.initializer![i] = rawTensor(t.name!, DataType.FLOAT, w.dims, back);
  }
  return c;
}

// Tolerance: MatMulNBits (accuracy_level 0 computes in float) against the same graph with the dequantized
// weights in float32: max |difference| <= 1e-4 of the largest logit.
const TOL = 1e-4;

const cases: [string, () => Promise<ModelProto>, number][] = [
  ['vit/ort', async () => tiny('vit', 'ort'), 16],
  ['vit/portable', async () => tiny('vit', 'portable'), 16],
  ['mixer/ort', async () => tiny('mixer', 'ort'), 16],
  ['foreign torchvision', () => foreign('torchvision'), 32],
  ['foreign hf', () => foreign('hf'), 32],
];
for (const [name, make, side] of cases) {
  test(`int4 ${name}: MatMulNBits equals the dequantized-weight float graph within ${TOL}`, async () => {
    const m = await make();
    const x = images(8, side);
    for (const [blockSize, symmetric] of [[16, false], [32, true]] as const) {
      const r = await quantize(m, { mode: 'int4', int4: { blockSize, symmetric }, exclude: ['Conv'] }); // Conv weights exact: compare MatMulNBits alone
      const n = r.layers.filter((l) => l.quantized).length;
      assert.ok(n > 0);
      assert.equal(opCounts(r.model).MatMulNBits, n);
      const out = await logits(r.model, x);
      const ref = await logits(dequantizedReference(m, r, blockSize, symmetric), x);
      const scale = Math.max(...ref.map(Math.abs));
      assert.ok(maxAbs(out, ref) <= TOL * scale, `${blockSize}/${symmetric}: ${maxAbs(out, ref) / scale}`);
      // And the 4-bit model is still the same function, roughly.
      assert.ok(relErr(out, await logits(m, x)) < 0.15);
    }
  });
}

test('int4 shrinks the weights to about 1/7 (block 32: 4 bits + a float scale and a 4-bit zero point per 32)', async () => {
  const m = tiny('vit', 'ort', { hidden: 64, mlp: 256, heads: 4 });
  const r = await quantize(m, { mode: 'int4' });
  for (const l of r.layers.filter((x) => x.quantized)) assert.ok(l.quantBytes / l.floatBytes < 0.17, `${l.label}`);
  await assert.rejects(quantize(m, { mode: 'int4', int4: { blockSize: 24 } }), /power of two/);
});
