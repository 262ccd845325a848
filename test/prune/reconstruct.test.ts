import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskySolve, LeastSquares, matmul, NormalEquationsKernel } from '../../src/compress/prune/reconstruct.js';
import { gaussian, rng } from '../../src/models/random.js';

const normal = gaussian(rng(5));
const randn = (n: number) => Float64Array.from({ length: n }, () => normal());

test('Cholesky solves a symmetric positive definite system', () => {
  const k = 6, d = 3;
  const M = randn(k * k);
  const A = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = i === j ? 0.5 : 0;
    for (let p = 0; p < k; p++) s += M[i * k + p]! * M[j * k + p]!;
    A[i * k + j] = s;
  }
  const X = randn(k * d);
  const got = choleskySolve(A, k, matmul(A, X, k, k, d), d);
  for (let i = 0; i < X.length; i++) assert.ok(Math.abs(got[i]! - X[i]!) < 1e-9);
});

test('ridge least squares recovers W and b from noiseless data, and returns W0 when W0 already fits', () => {
  const k = 5, d = 4, rows = 200;
  const W = randn(k * d), b = randn(d);
  const x = randn(rows * k).map((v, i) => v + (i % k)); // non-zero means: the intercept matters
  const y = matmul(x, W, rows, k, d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) y[r * d + j]! += b[j]!;
  const ls = new LeastSquares(k, d);
  ls.add(x.subarray(0, 77 * k), y.subarray(0, 77 * d), 77); // streaming: two batches
  ls.add(x.subarray(77 * k), y.subarray(77 * d), rows - 77);
  const zero = new Float64Array(k * d);
  const fit = ls.solve(1e-10, zero, new Float64Array(d));
  for (let i = 0; i < W.length; i++) assert.ok(Math.abs(fit.W[i]! - W[i]!) < 1e-6, `W[${i}]`);
  for (let j = 0; j < d; j++) assert.ok(Math.abs(fit.b[j]! - b[j]!) < 1e-6, `b[${j}]`);
  assert.ok(fit.relErrorAfter < 1e-12 && fit.relErrorBefore > 0.5);
  // A large ridge toward the true W still returns it exactly: the prior costs nothing when it fits.
  const exact = ls.solve(10, W, b);
  for (let i = 0; i < W.length; i++) assert.ok(Math.abs(exact.W[i]! - W[i]!) < 1e-9);
  assert.ok(exact.relErrorBefore < 1e-12);
  // and toward zero it shrinks, with a larger error.
  const shrunk = ls.solve(10, zero, new Float64Array(d));
  assert.ok(shrunk.relErrorAfter > 1e-3);
});

test('the ONNX Runtime float64 statistics equal the plain JS accumulation (kept columns, transposed layout)', async () => {
  for (const transposed of [false, true]) {
    const B = 3, kFull = 7, other = 5, d = transposed ? 4 : 6;
    const kept = [0, 2, 3, 6];
    // Not transposed: hidden [B, R=other, kFull], target/base [B, R, d]. Transposed: hidden [B, kFull, C=other], target/base [B, d, C].
    const hDims = transposed ? [B, kFull, other] : [B, other, kFull];
    const yDims = transposed ? [B, d, other] : [B, other, d];
    const f32 = (n: number) => Float32Array.from(randn(n));
    const h = { dims: hDims, data: f32(B * kFull * other) };
    const target = { dims: yDims, data: f32(B * d * other) };
    const base = { dims: yDims, data: f32(B * d * other) };
    const kernel = await NormalEquationsKernel.create({ kFull, kept, d, transposed });
    const viaOrt = new LeastSquares(kept.length, d);
    await kernel.accumulate(viaOrt, h, target, base);
    await kernel.release();
    const rows = B * other;
    const x = new Float64Array(rows * kept.length), y = new Float64Array(rows * d);
    for (let b = 0; b < B; b++) for (let o = 0; o < other; o++) {
      const r = b * other + o;
      kept.forEach((c, i) => { x[r * kept.length + i] = transposed ? h.data[(b * kFull + c) * other + o]! : h.data[(b * other + o) * kFull + c]!; });
      for (let j = 0; j < d; j++) {
        const idx = transposed ? (b * d + j) * other + o : (b * other + o) * d + j;
        y[r * d + j] = target.data[idx]! - base.data[idx]!;
      }
    }
    const viaJs = new LeastSquares(kept.length, d);
    viaJs.add(x, y, rows);
    assert.equal(viaOrt.n, viaJs.n);
    const close = (a: Float64Array, b: Float64Array, upperK?: number) => {
      for (let i = 0; i < b.length; i++) {
        if (upperK && (i % upperK) < Math.floor(i / upperK)) continue; // JS fills the upper triangle only
        assert.ok(Math.abs(a[i]! - b[i]!) < 1e-9 * (1 + Math.abs(b[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
      }
    };
    close(viaOrt.xtx, viaJs.xtx, kept.length);
    close(viaOrt.xty, viaJs.xty);
    close(viaOrt.sx, viaJs.sx);
    close(viaOrt.sy, viaJs.sy);
    close(viaOrt.syy, viaJs.syy);
  }
});
