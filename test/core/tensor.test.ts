import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hwioToOihw, oihwToHwio, permute4 } from '../../src/tensor.js';

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

test('permute4 moves every element to the index numpy transpose gives it', () => {
  const d = [2, 3, 4, 5];
  const t = { dims: d, data: iota(120) };
  const perm = [2, 0, 3, 1] as const;
  const out = permute4(t, perm);
  assert.deepEqual(out.dims, [4, 2, 5, 3]);
  for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) for (let e = 0; e < 5; e++) {
    const src = [a, b, c, e];
    const dst = perm.map((p) => src[p]!);
    const k = ((dst[0]! * 2 + dst[1]!) * 5 + dst[2]!) * 3 + dst[3]!;
    assert.equal(out.data[k], ((a * 3 + b) * 4 + c) * 5 + e);
  }
});

test('OIHW <-> HWIO are inverses and put (o, i, h, w) where flax expects it', () => {
  const [O, I, H, W] = [3, 2, 4, 5];
  const oihw = { dims: [O, I, H, W], data: iota(O * I * H * W) };
  const hwio = oihwToHwio(oihw);
  assert.deepEqual(hwio.dims, [H, W, I, O]);
  assert.equal(hwio.data[((1 * W + 2) * I + 1) * O + 2], ((2 * I + 1) * H + 1) * W + 2);
  assert.deepEqual(hwioToOihw(hwio), oihw);
});
