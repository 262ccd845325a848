import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisInterpolation, normalizeToUnitRange, preprocessBatch, preprocessImage, resizeBilinear } from '../../src/data/preprocess.js';

function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('axis weights 2 -> 4 (scale 0.5): in = (i + 0.5)·0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25', () => {
  const a = axisInterpolation(2, 4);
  assert.deepEqual([...a.lo], [0, 0, 0, 1]);
  assert.deepEqual([...a.hi], [0, 1, 1, 1]); // ceil(1.25) = 2 clamps to 1
  assert.deepEqual([...a.frac], [0.75, 0.25, 0.75, 0.25]); // frac of −0.25 is 0.75 (lo = hi, so no effect)
});

test('axis weights 4 -> 3 (scale fround(4/3)): in ≈ 1/6, 3/2, 17/6', () => {
  const a = axisInterpolation(4, 3);
  assert.deepEqual([...a.lo], [0, 1, 2]);
  assert.deepEqual([...a.hi], [1, 2, 3]);
  close(a.frac, [1 / 6, 0.5, 5 / 6], 1e-6, 'frac');
  // float32 arithmetic as TF does it: (2 + 0.5)·1.3333334f = 3.3333335f, − 0.5 = 2.8333335f
  assert.equal(a.frac[2], Math.fround(Math.fround(Math.fround(2.5 * Math.fround(4 / 3)) - 0.5) - 2));
});

test('resize 2x2 -> 4x4 matches the hand computation', () => {
  // [[0, 100], [200, 40]]; row 0 across: 0, 0+100·0.25, 0+100·0.75, 100; row 1: 200, 160, 80, 40;
  // output rows mix them with fy = 0 (clamped), 0.25, 0.75, 1 (clamped).
  const out = resizeBilinear(new Uint8Array([0, 100, 200, 40]), 2, 2, 1, 4, 4);
  assert.deepEqual([...out], [
    0, 25, 75, 100,
    50, 58.75, 76.25, 85,
    150, 126.25, 78.75, 55,
    200, 160, 80, 40,
  ]);
});

test('resize 4x4 -> 3x3 of a linear ramp samples the ramp at 1/6, 3/2, 17/6', () => {
  const src = new Uint8Array(16);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) src[y * 4 + x] = 10 * x + 50 * y;
  const out = resizeBilinear(src, 4, 4, 1, 3, 3);
  const at = [1 / 6, 1.5, 17 / 6];
  const expected: number[] = [];
  for (const y of at) for (const x of at) expected.push(10 * x + 50 * y);
  close(out, expected, 2e-5, 'ramp');
});

test('resize keeps channels separate (HWC)', () => {
  // 1x2 RGB: left (0, 10, 20), right (100, 110, 120) -> 1x4
  const out = resizeBilinear(new Uint8Array([0, 10, 20, 100, 110, 120]), 1, 2, 3, 1, 4);
  assert.deepEqual([...out], [0, 10, 20, 25, 35, 45, 75, 85, 95, 100, 110, 120]);
});

test('same size is a plain cast', () => {
  const src = new Uint8Array([0, 1, 254, 255]);
  assert.deepEqual([...resizeBilinear(src, 2, 2, 1, 2, 2)], [0, 1, 254, 255]);
});

test('normalization (x − 127.5)/127.5 in float32', () => {
  const v = normalizeToUnitRange(new Float32Array([0, 255, 127, 128, 63.75]));
  assert.equal(v[0], -1);
  assert.equal(v[1], 1);
  assert.equal(v[2], Math.fround(-0.5 / 127.5));
  assert.equal(v[3], Math.fround(0.5 / 127.5));
  assert.equal(v[4], -0.5);
});

test('grey is replicated to RGB; batch is NCHW; floats are not renormalized', () => {
  const grey = { kind: 'uint8' as const, height: 1, width: 2, channels: 1 as const, data: new Uint8Array([0, 255]) };
  const rgb = { kind: 'uint8' as const, height: 1, width: 2, channels: 3 as const, data: new Uint8Array([255, 0, 0, 0, 255, 0]) };
  const flt = { kind: 'float' as const, height: 1, width: 2, channels: 3 as const, data: new Float32Array([0.5, 0, -0.5, 0.25, 0, 0]) };
  const t = preprocessBatch([grey, rgb, flt], 1, 2);
  assert.deepEqual(t.dims, [3, 3, 1, 2]);
  assert.deepEqual([...t.data.subarray(0, 6)], [-1, 1, -1, 1, -1, 1]);
  assert.deepEqual([...t.data.subarray(6, 12)], [1, -1, -1, 1, -1, -1]);
  assert.deepEqual([...t.data.subarray(12, 18)], [0.5, 0.25, 0, 0, -0.5, 0]);
  assert.deepEqual([...preprocessImage(flt, 1, 2)], [0.5, 0, -0.5, 0.25, 0, 0]);
});

test('28x28 grey -> 224: constant image stays constant', () => {
  const img = { kind: 'uint8' as const, height: 28, width: 28, channels: 1 as const, data: new Uint8Array(784).fill(51) };
  const t = preprocessBatch([img], 224);
  assert.deepEqual(t.dims, [1, 3, 224, 224]);
  const want = Math.fround(Math.fround(51 - 127.5) / 127.5);
  assert.ok(t.data.every((v) => v === want));
});

test('agrees with ONNX Runtime Resize(linear, half_pixel) on random images (up to float rounding)', async () => {
  const { onnx } = await import('../../src/formats/onnx.js');
  const ort = await import('onnxruntime-node');
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const [h, w, oh, ow] of [[37, 53, 24, 24], [13, 9, 96, 80], [28, 28, 224, 224], [300, 200, 224, 224]] as const) {
    const hwc = new Uint8Array(h * w * 3).map(() => Math.floor(rand() * 256));
    const chw = new Float32Array(3 * h * w);
    for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) chw[c * h * w + i] = hwc[i * 3 + c]!;
    const sizes = onnx.TensorProto.create({ name: 'sizes', dims: [4], dataType: onnx.TensorProto.DataType.INT64,
      int64Data: [1, 3, oh, ow] });
    const vi = (name: string, dims: number[]) => onnx.ValueInfoProto.create({ name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
    const str = (name: string, s: string) => onnx.AttributeProto.create({ name, s: new TextEncoder().encode(s), type: onnx.AttributeProto.AttributeType.STRING });
    const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph: onnx.GraphProto.create({
      name: 'resize',
      node: [onnx.NodeProto.create({ opType: 'Resize', input: ['x', '', '', 'sizes'], output: ['y'],
        attribute: [str('mode', 'linear'), str('coordinate_transformation_mode', 'half_pixel')] })],
      initializer: [sizes], input: [vi('x', [1, 3, h, w])], output: [vi('y', [1, 3, oh, ow])] }) });
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const y = (await session.run({ x: new ort.Tensor('float32', chw, [1, 3, h, w]) })).y!.data as Float32Array;
    const ours = resizeBilinear(hwc, h, w, 3, oh, ow);
    let maxDiff = 0;
    for (let i = 0; i < oh * ow; i++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(ours[i * 3 + c]! - y[c * oh * ow + i]!));
    // Both compute the source coordinate in float32 (TF: (i+0.5)·(in/out); ORT: (i+0.5)/(out/in)), each
    // off by up to ~2e-5 pixel at these sizes; times a neighbour difference of up to 255 that is ~0.01.
    assert.ok(maxDiff < 0.015, `${h}x${w} -> ${oh}x${ow}: max |ours − ORT| = ${maxDiff}`);
    await session.release();
  }
});

test('both resize paths (row reuse when upscaling, direct when not) equal the formula exactly', () => {
  const f = Math.fround;
  // The spec's formula, written out per pixel with no reuse.
  const reference = (src: Uint8Array, h: number, w: number, c: number, oh: number, ow: number) => {
    const axis = (n: number, o: number) => Array.from({ length: o }, (_, i) => {
      const x = f(f(f(i + 0.5) * f(n / o)) - 0.5);
      return { lo: Math.max(Math.floor(x), 0), hi: Math.min(Math.ceil(x), n - 1), fr: f(x - Math.floor(x)) };
    });
    const ys = axis(h, oh);
    const xs = axis(w, ow);
    const out: number[] = [];
    for (const y of ys) for (const x of xs) for (let k = 0; k < c; k++) {
      const p = (r: number, q: number) => src[(r * w + q) * c + k]!;
      const top = f(p(y.lo, x.lo) + f(f(p(y.lo, x.hi) - p(y.lo, x.lo)) * x.fr));
      const bot = f(p(y.hi, x.lo) + f(f(p(y.hi, x.hi) - p(y.hi, x.lo)) * x.fr));
      out.push(f(top + f(f(bot - top) * y.fr)));
    }
    return out;
  };
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const [h, w, c, oh, ow] of [[5, 7, 3, 13, 11], [7, 5, 1, 3, 9], [9, 9, 3, 20, 4], [3, 2, 1, 3, 5], [1, 1, 3, 4, 4]] as const) {
    const src = new Uint8Array(h * w * c).map(() => Math.floor(rand() * 256));
    assert.deepEqual([...resizeBilinear(src, h, w, c, oh, ow)], reference(src, h, w, c, oh, ow), `${h}x${w} -> ${oh}x${ow}`);
  }
});

test('a model-specific normalization maps pixels to (p/255 - mean) / std per channel', () => {
  const img = { kind: 'uint8' as const, height: 1, width: 2, channels: 3 as const, data: Uint8Array.of(0, 255, 51, 255, 0, 102) };
  const t = preprocessBatch([img], 1, 2, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const want = [(0 - 0.485) / 0.229, (1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225, (0.4 - 0.406) / 0.225];
  want.forEach((w, i) => assert.ok(Math.abs(t.data[i]! - w) < 1e-5, `${i}: ${t.data[i]} vs ${w}`));
});
