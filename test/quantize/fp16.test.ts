import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, DataType, encodeModel, GraphBuilder, type ModelProto } from '../../src/formats/onnx.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { fromHalfBits, toHalfBits } from '../../src/compress/quantize/half.js';
import { foreign, images, logits, opCounts, relErr, tiny } from './fixtures.js';

// Tolerance: fp16 weights and activations against float32: logits within 1% relative error
// (measured 0.03-0.05%; ONNX Runtime on CPU casts fp16 ops without fp16 kernels back to float).
const REL = 0.01;

test('float16 bits: round to nearest even, subnormals, overflow', () => {
  for (const v of [0, 1, -2.5, 0.1, 65504, 6.1e-5, 5.96e-8, 1e-3]) assert.ok(Math.abs(fromHalfBits(toHalfBits(v)) - v) <= Math.abs(v) * 1e-3 + 3e-8, `${v}`);
  assert.equal(toHalfBits(1 + 2 ** -11), toHalfBits(1), 'tie to even');
  assert.equal(fromHalfBits(toHalfBits(1e6)), Infinity);
  assert.equal(toHalfBits(1e-9), 0);
});

function inputType(m: ModelProto) {
  return [m.graph!.input![0]!.type!.tensorType!.elemType, m.graph!.output![0]!.type!.tensorType!.elemType];
}

const cases: [string, () => Promise<ModelProto>, number][] = [
  ['vit/ort', async () => tiny('vit', 'ort'), 16],
  ['vit/portable', async () => tiny('vit', 'portable'), 16],
  ['mixer/portable', async () => tiny('mixer', 'portable'), 16],
  ['foreign torchvision', () => foreign('torchvision'), 32],
  ['foreign hf', () => foreign('hf'), 32],
];
for (const [name, make, side] of cases) {
  test(`fp16 ${name}: float32 I/O kept, weights in float16, LayerNorm blocked, close to float`, async () => {
    const m = await make();
    const before = encodeModel(m);
    const r = await quantize(m, { mode: 'fp16' });
    assert.deepEqual(encodeModel(m), before, 'the input model is not modified');
    assert.deepEqual(inputType(r.model), [DataType.FLOAT, DataType.FLOAT]);
    assert.equal(r.model.graph!.input![0]!.name, m.graph!.input![0]!.name);
    assert.equal(r.model.graph!.output![0]!.name, m.graph!.output![0]!.name);
    const inits = r.model.graph!.initializer!;
    const big = inits.filter((t) => (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1) >= 64);
    const half = big.filter((t) => t.dataType === DataType.FLOAT16).length;
    assert.ok(half / big.length > 0.8, `${half}/${big.length} large initializers in fp16`);
    const ops = opCounts(r.model);
    assert.ok(ops.Cast! >= 2);
    const blockedLn = r.kept.filter((k) => /LayerNormalization/.test(k.opType));
    if (ops.LayerNormalization || ops.SkipLayerNormalization) assert.ok(blockedLn.length > 0);
    const x = images(16, side);
    const ref = await logits(m, x), out = await logits(r.model, x);
    assert.ok(relErr(out, ref) < REL, `relative error ${relErr(out, ref)}`);
    if (name === 'foreign hf') assert.ok(r.fp16!.clamped > 0, 'the decomposed LayerNorm epsilon 1e-12 is clamped, not rounded to 0');
  });
}

test('fp16: --include lifts a block, --exclude keeps ops in float32; constants clamped to ±65504', async () => {
  const m = tiny('vit', 'portable');
  const all = await quantize(m, { mode: 'fp16', include: ['LayerNormalization'] });
  assert.equal(all.kept.length, 0);
  const ln = all.model.graph!.node!.filter((n) => n.opType === 'LayerNormalization');
  assert.ok(ln.every((n) => all.model.graph!.initializer!.find((t) => t.name === n.input![1])!.dataType === DataType.FLOAT16));
  const ex = await quantize(m, { mode: 'fp16', exclude: ['MatMul'] });
  assert.ok(ex.kept.some((k) => k.opType === 'MatMul'));
  const x = images(8, 16);
  assert.ok(relErr(await logits(ex.model, x), await logits(m, x)) < REL);

  const g = new GraphBuilder();
  const y = g.op('Mul', [g.op('Mul', ['x', g.weight('big', { dims: [1], data: Float32Array.of(1e5) })]), g.weight('small', { dims: [1], data: Float32Array.of(1e-5) })]);
  g.renameOutput(y, 'y');
  const tinyModel = buildModel(g, { name: 't', inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'y', shape: [2] }] });
  const r = await quantize(tinyModel, { mode: 'fp16' });
  assert.equal(r.fp16!.clamped, 1);
  const out = await logits(r.model, { dims: [2], data: Float32Array.of(1, 0.5) });
  assert.ok(out.every(Number.isFinite));
  assert.ok(Math.abs(out[0]! - 0.655) < 0.01, `${out[0]}: 1e5 clamped to 65504`);
});
