import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoomGrid, resizePosEmbedding } from '../../src/models/posemb.js';

test('zoom 4 -> 6 samples input rows 0, 0.6, 1.2, 1.8, 2.4, 3.0 (align-corners bilinear)', () => {
  // A grid whose value is its row index: the output row k must be k * 3/5.
  const g = new Float32Array(16);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) g[y * 4 + x] = y;
  const out = zoomGrid(g, 4, 6, 1);
  const rows = Array.from({ length: 6 }, (_, k) => out[k * 6 + 2]!);
  assert.deepEqual(rows.map((v) => Math.round(v * 1e5) / 1e5), [0, 0.6, 1.2, 1.8, 2.4, 3]);
});

test('corners are copied exactly (14 -> 24)', () => {
  const g = Float32Array.from({ length: 14 * 14 * 2 }, (_, i) => Math.sin(i) * 3.7);
  const out = zoomGrid(g, 14, 24, 2);
  const at = (a: Float32Array, side: number, y: number, x: number, d: number) => a[(y * side + x) * 2 + d];
  for (const [y, x] of [[0, 0], [0, 13], [13, 0], [13, 13]] as const) {
    const oy = y === 0 ? 0 : 23, ox = x === 0 ? 0 : 23;
    assert.equal(at(out, 24, oy, ox, 1), at(g, 14, y, x, 1));
  }
});

test("scipy's constant-mode quirk: 28 -> 48 zeroes the last row and column, 14 -> 24 does not", () => {
  const g = new Float32Array(28 * 28).fill(1);
  const out = zoomGrid(g, 28, 48, 1);
  assert.equal(out[47 * 48 + 10], 0);
  assert.equal(out[10 * 48 + 47], 0);
  assert.equal(out[46 * 48 + 46], 1);
  const ok = zoomGrid(new Float32Array(14 * 14).fill(1), 14, 24, 1);
  assert.equal(ok[23 * 24 + 23], 1);
});

test('the cls row is kept as it is; only the grid is resized', () => {
  const pe = { dims: [1, 5, 3], data: Float32Array.from({ length: 15 }, (_, i) => i + 0.5) };
  const r = resizePosEmbedding(pe, true, 3);
  assert.deepEqual(r.dims, [1, 10, 3]);
  assert.deepEqual([...r.data.subarray(0, 3)], [0.5, 1.5, 2.5]);
  assert.deepEqual([...r.data.subarray(3, 6)], [3.5, 4.5, 5.5]); // corner (0, 0) = old grid (0, 0)
});
