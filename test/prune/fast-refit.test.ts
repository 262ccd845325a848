/**
 * The fast structured-pruning path against the plain definitions: float64 GEMMs in ONNX Runtime
 * (blocked Cholesky, block-triangular XᵀX, per-head moments), and refit steps that start from the
 * residual stream kept from the previous step instead of the pixels. Results must equal the
 * reference pipeline (reference-prune.ts) to float rounding: the same kept units, refit weights
 * within 1e-6 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomIR, gaussian, rng } from '../../src/models/random.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { openDataSpec } from '../../src/data/index.js';
import type { ModelIR } from '../../src/models/ir.js';
import { choleskySolve, LeastSquares, matmul, NormalEquationsKernel } from '../../src/compress/prune/reconstruct.js';
import { choleskySolveBlocked, Gemm64 } from '../../src/compress/prune/linalg64.js';
import { HeadMomentsKernel, UnitMoments } from '../../src/compress/prune/importance.js';
import { Capture, loadCalibration, type Calibration } from '../../src/compress/prune/capture.js';
import { pruneStructured, type StructuredOptions } from '../../src/compress/prune/reconstruct-model.js';
import { sublayers } from '../../src/compress/prune/structured.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { maxRelDiff, randomCalibration } from './fixtures.js';
import { pruneStructuredReference } from './reference-prune.js';

const normal = gaussian(rng(17));
const randn = (n: number) => Float64Array.from({ length: n }, () => normal());
const engine = { threads: 1 };

/** An SPD matrix with the spread of a ridge-regularized Gram: eigenvalues from λ to ~k·λ·10³. */
function spd(k: number): Float64Array {
  const rows = 2 * k;
  const X = randn(rows * k);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) X[r * k + i]! *= 1 + (i % 7); // unequal column scales
  for (let r = 0; r < rows; r++) for (let i = 1; i < k; i++) X[r * k + i]! += 0.9 * X[r * k + i - 1]!; // correlated columns
  const A = new Float64Array(k * k);
  let trace = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += X[r * k + i]! * X[r * k + j]!;
    A[i * k + j] = s;
    if (i === j) trace += s;
  }
  for (let i = 0; i < k; i++) A[i * k + i]! += 1e-3 * trace / k;
  return A;
}

test('blocked Cholesky with ORT float64 GEMMs equals the plain JS Cholesky (several blocks, a ragged last one, one block)', async () => {
  const gemm = await Gemm64.create(engine);
  try {
    for (const [k, d, nb] of [[150, 7, 32], [97, 40, 97], [20, 3, 256], [64, 5, 16]] as const) {
      const A = spd(k), B = randn(k * d);
      const want = choleskySolve(A, k, B, d);
      const got = await choleskySolveBlocked(A, k, B, d, gemm, nb);
      const r = maxRelDiff(got, want);
      assert.ok(r < 1e-10, `k=${k} nb=${nb}: max relative difference ${r}`);
      // And it solves the system.
      assert.ok(maxRelDiff(matmul(A, got, k, k, d), B) < 1e-10);
    }
    const notPD = Float64Array.of(1, 2, 2, 1);
    await assert.rejects(choleskySolveBlocked(notPD, 2, Float64Array.of(1, 1), 1, gemm, 1), /not positive definite at column 1/);
    // Products of subarrays, plain and with B transposed.
    const a = randn(3 * 4 + 5).subarray(5), b = randn(4 * 2 + 3).subarray(3);
    assert.ok(maxRelDiff(await gemm.mul(a, 3, 4, b, 2), matmul(a, b, 3, 4, 2)) < 1e-15);
    const bt = new Float64Array(8);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) bt[j * 4 + i] = b[i * 2 + j]!;
    assert.ok(maxRelDiff(await gemm.mul(a, 3, 4, bt, 2, true), matmul(a, b, 3, 4, 2)) < 1e-15);
  } finally {
    await gemm.release();
  }
});

test('LeastSquares.solveWith (ORT) equals solve (JS): weights, bias, λ and both errors', async () => {
  const k = 70, d = 9, rows = 400;
  const x = randn(rows * k).map((v, i) => v + 0.5 * (i % k) / k);
  for (let r = 0; r < rows; r++) for (let i = 1; i < k; i++) x[r * k + i]! += 0.8 * x[r * k + i - 1]!;
  const y = matmul(x, randn(k * d), rows, k, d).map((v) => v + 0.1 * normal());
  const ls = new LeastSquares(k, d);
  ls.add(x, y, rows);
  const W0 = randn(k * d), b0 = randn(d);
  const gemm = await Gemm64.create(engine);
  try {
    const want = ls.solve(1e-3, W0, b0);
    const got = await ls.solveWith(gemm, 1e-3, W0, b0);
    assert.ok(maxRelDiff(got.W, want.W) < 1e-10 && maxRelDiff(got.b, want.b) < 1e-10);
    assert.equal(got.lambda, want.lambda);
    assert.ok(Math.abs(got.relErrorBefore - want.relErrorBefore) < 1e-10 * want.relErrorBefore);
    assert.ok(Math.abs(got.relErrorAfter - want.relErrorAfter) < 1e-8 * want.relErrorAfter);
  } finally {
    await gemm.release();
  }
});

test('block-triangular XᵀX in ORT equals the plain JS accumulation across several blocks', async () => {
  for (const transposed of [false, true]) {
    const B = 2, kFull = 13, other = 9, d = 5;
    const kept = [0, 1, 3, 4, 5, 7, 8, 10, 12];
    const hDims = transposed ? [B, kFull, other] : [B, other, kFull];
    const yDims = transposed ? [B, d, other] : [B, other, d];
    const f32 = (n: number) => Float32Array.from(randn(n));
    const h = { dims: hDims, data: f32(B * kFull * other) };
    const target = { dims: yDims, data: f32(B * d * other) }, base = { dims: yDims, data: f32(B * d * other) };
    const viaOrt = new LeastSquares(kept.length, d);
    for (const block of [4, 3]) {
      const kernel = await NormalEquationsKernel.create({ kFull, kept, d, transposed, block }, engine);
      const one = new LeastSquares(kept.length, d);
      await kernel.accumulate(one, h, target, base);
      await kernel.accumulate(viaOrt, h, target, base);
      await kernel.release();
      assert.equal(one.n, B * other);
    }
    const rows = B * other, k = kept.length;
    const x = new Float64Array(rows * k), y = new Float64Array(rows * d);
    for (let b = 0; b < B; b++) for (let o = 0; o < other; o++) {
      const r = b * other + o;
      kept.forEach((c, i) => { x[r * k + i] = transposed ? h.data[(b * kFull + c) * other + o]! : h.data[(b * other + o) * kFull + c]!; });
      for (let j = 0; j < d; j++) {
        const idx = transposed ? (b * d + j) * other + o : (b * other + o) * d + j;
        y[r * d + j] = target.data[idx]! - base.data[idx]!;
      }
    }
    const viaJs = new LeastSquares(k, d);
    viaJs.add(x, y, rows);
    viaJs.add(x, y, rows);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) {
      const a = viaOrt.xtx[i * k + j]!, b = viaJs.xtx[i * k + j]!;
      assert.ok(Math.abs(a - b) < 1e-12 * (1 + Math.abs(b)), `xtx[${i},${j}] ${a} vs ${b}`);
    }
    assert.ok(maxRelDiff(viaOrt.xty, viaJs.xty) < 1e-13 && maxRelDiff(viaOrt.sx, viaJs.sx) < 1e-13);
    assert.ok(maxRelDiff(viaOrt.sy, viaJs.sy) < 1e-13 && maxRelDiff(viaOrt.syy, viaJs.syy) < 1e-13);
    assert.equal(viaOrt.n, viaJs.n);
  }
});

test('head moments in ORT equal UnitMoments.add', async () => {
  for (const [units, group] of [[3, 4], [2, 8]] as const) {
    const h = { dims: [2, 7, units * group], data: Float32Array.from(randn(2 * 7 * units * group)) };
    h.data[3] = 0; // the JS loop skips zeros in the Gram
    const js = new UnitMoments(units, group), viaOrt = new UnitMoments(units, group);
    js.add(h, false);
    js.add(h, false);
    const kernel = await HeadMomentsKernel.create(units, group, engine);
    await kernel.accumulate(viaOrt, h);
    await kernel.accumulate(viaOrt, h);
    await kernel.release();
    assert.equal(viaOrt.n, js.n);
    assert.ok(maxRelDiff(viaOrt.sum, js.sum) < 1e-14);
    const W = Float32Array.from(randn(units * group * 3));
    assert.ok(maxRelDiff(viaOrt.energies(W, 3), js.energies(W, 3)) < 1e-12);
  }
});

test('a capture that starts from a residual stream gives what the whole graph gives', async () => {
  for (const ir of [randomIR(tinyVit({ layers: 3 }), 3), randomIR(tinyMixer({ blocks: 3 }), 4)]) {
    const subs = sublayers(ir.config);
    const calib = randomCalibration(ir.config.resolution, 4, 4);
    const s = subs[3]!, prev = subs[1]!;
    const full = await Capture.create(ir, [prev.residualIn, s.hiddenNode, s.residualOut], engine);
    const all = await full.run(calib.batches[0]!);
    await full.release();
    const part = await Capture.create(ir, [s.hiddenNode, s.residualOut], engine, prev.residualIn);
    const got = await part.run(all.get(prev.residualIn)!);
    await part.release();
    for (const n of [s.hiddenNode, s.residualOut]) {
      assert.deepEqual(got.get(n)!.dims, all.get(n)!.dims);
      assert.ok(maxRelDiff(got.get(n)!.data, all.get(n)!.data) < 1e-6, n);
    }
  }
});

/** The pipeline against the reference: same kept units, refit weights and errors to rounding. */
async function compareWithReference(ir: ModelIR, calib: Calibration, o: StructuredOptions & { method: 'heads' | 'neurons' | 'structured' }) {
  const want = await pruneStructuredReference(ir, calib, o);
  // Streams kept or not; capture runs of the default size or of 3 images (several per statistics chunk).
  for (const [maxStreamBytes, runImages] of [[undefined, undefined], [0, 3], [undefined, 3]] as const) {
    const got = await pruneStructured(ir, calib, { ...o, engine, maxStreamBytes, runImages });
    const label = `${ir.config.family} ${o.target ?? 'corrective'} streams=${maxStreamBytes ?? 'kept'} run=${runImages ?? 'default'}`;
    assert.deepEqual([...got.plan], [...want.plan], `${label}: kept units`);
    assert.ok(got.fits.length > 0 && got.fits.length === want.fits.length);
    for (const s of got.subs) {
      for (const w of [s.outKernel, s.outBias]) {
        const r = maxRelDiff(got.ir.weights.get(w)!.data, want.ir.weights.get(w)!.data);
        assert.ok(r <= 1e-6, `${label}: ${w} differs by ${r}`);
      }
    }
    got.fits.forEach((f, i) => {
      const g = want.fits[i]!;
      assert.equal(f.id, g.id);
      assert.equal(f.rows, g.rows);
      assert.ok(Math.abs(f.lambda - g.lambda) <= 1e-6 * g.lambda, `${label}: ${f.id} λ`);
      assert.ok(Math.abs(f.relErrorAfter - g.relErrorAfter) <= 1e-6 * g.relErrorAfter + 1e-12, `${label}: ${f.id} error after`);
      assert.ok(Math.abs(f.relErrorBefore - g.relErrorBefore) <= 1e-6 * g.relErrorBefore + 1e-12, `${label}: ${f.id} error before`);
    });
  }
}

test('random ViT and Mixer: the fast pipeline prunes and refits as the reference does (both refit targets)', async () => {
  const vit = randomIR(tinyVit({ layers: 3 }), 51);
  await compareWithReference(vit, randomCalibration(16, 48), { method: 'structured', targetFlops: 0.7 });
  await compareWithReference(vit, randomCalibration(16, 48), { method: 'heads', ratio: 0.5, ranking: 'uniform', target: 'local' });
  const mixer = randomIR(tinyMixer({ blocks: 3 }), 52);
  await compareWithReference(mixer, randomCalibration(16, 48), { method: 'structured', targetFlops: 0.7 });
  await compareWithReference(mixer, randomCalibration(16, 48), { method: 'neurons', ratio: 0.3, target: 'local' });
});

test('the shipped fashion-vit on Fashion-MNIST: the fast pipeline prunes and refits as the reference does', async () => {
  const ir = await loadCheckpoint('fashion-vit');
  const calib = await loadCalibration(await openDataSpec('fashion-mnist-subset'), 64, ir.config.resolution, { normalize: ir.config.normalize });
  await compareWithReference(ir, calib, { method: 'structured', targetFlops: 0.7 });
});
