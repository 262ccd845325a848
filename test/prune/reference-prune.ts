/**
 * The structured-pruning pipeline as it was written first, kept as the reference the fast path is
 * tested against (fast-refit.test.ts): every statistic accumulated in plain JS (UnitMoments.add,
 * LeastSquares.add), the plain-JS Cholesky solve, and every refit step capturing its activations
 * from the pixels through the whole model up to the sublayer. Same plan, same refit, only slower.
 */
import type { ModelIR } from '../../src/models/ir.js';
import type { Tensor } from '../../src/tensor.js';
import { type Calibration, Capture } from '../../src/compress/prune/capture.js';
import { captureChunk, imageSlice, UnitMoments } from '../../src/compress/prune/importance.js';
import { LeastSquares } from '../../src/compress/prune/reconstruct.js';
import { type ReconstructionTarget } from '../../src/compress/prune/reconstruct-model.js';
import {
  cloneIR, kindsFor, type Plan, planStructured, sliceSublayer, type StructuredMethod, type Sublayer, sublayers,
} from '../../src/compress/prune/structured.js';

export interface ReferenceResult {
  ir: ModelIR;
  plan: Plan;
  scores: Map<string, Float64Array>;
  fits: { id: string; rows: number; lambda: number; relErrorBefore: number; relErrorAfter: number }[];
}

function sumSquares(t: Tensor): number {
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += t.data[i]! * t.data[i]!;
  return s;
}

/** Rows of the regression from one captured chunk: x = kept hidden columns, y = target − base. */
function regressionRows(s: Sublayer, cols: readonly number[], h: Tensor, target: Tensor, base: Tensor): { x: Float64Array; y: Float64Array; rows: number } {
  const kFull = s.units * s.group, k = cols.length, d = s.outDim;
  const B = h.dims[0]!;
  const other = s.transposed ? h.dims[2]! : h.dims[1]!;
  const rows = B * other;
  const x = new Float64Array(rows * k), y = new Float64Array(rows * d);
  for (let b = 0; b < B; b++) for (let o = 0; o < other; o++) {
    const r = b * other + o;
    for (let i = 0; i < k; i++) {
      const c = cols[i]!;
      x[r * k + i] = s.transposed ? h.data[(b * kFull + c) * other + o]! : h.data[(b * other + o) * kFull + c]!;
    }
    for (let j = 0; j < d; j++) {
      const idx = s.transposed ? (b * d + j) * other + o : (b * other + o) * d + j;
      y[r * d + j] = target.data[idx]! - base.data[idx]!;
    }
  }
  return { x, y, rows };
}

export async function pruneStructuredReference(ir: ModelIR, calib: Calibration, o: {
  method: StructuredMethod; ratio?: number; targetFlops?: number; ranking?: 'uniform' | 'global';
  ridge?: number; target?: ReconstructionTarget;
}): Promise<ReferenceResult> {
  const engine = { threads: 1 };
  const kinds = kindsFor(o.method, ir.config);
  const subs = sublayers(ir.config).filter((s) => kinds.includes(s.kind));
  const ranking = o.ranking ?? 'global';

  // Importance: one capture of every hidden activation and residual stream, moments in JS.
  const nodes = [...new Set(subs.flatMap((s) => [s.hiddenNode, s.residualOut]))];
  const capture = await Capture.create(ir, nodes, engine);
  const moments = new Map(subs.map((s) => [s.id, new UnitMoments(s.units, s.group)]));
  const chunk = captureChunk(subs.reduce((a, s) => a + s.hiddenPerImage + s.residualPerImage, 0));
  try {
    for (const batch of calib.batches) {
      for (let i0 = 0; i0 < batch.dims[0]!; i0 += chunk) {
        const out = await capture.run(imageSlice(batch, i0, Math.min(batch.dims[0]!, i0 + chunk)));
        for (const s of subs) {
          const m = moments.get(s.id)!;
          m.add(out.get(s.hiddenNode)!, s.transposed);
          m.residual += sumSquares(out.get(s.residualOut)!);
        }
      }
    }
  } finally {
    await capture.release();
  }
  const scores = new Map(subs.map((s) => {
    const m = moments.get(s.id)!;
    const e = m.energies(ir.weights.get(s.outKernel)!.data, s.outDim);
    return [s.id, e.map((v) => v / Math.max(m.residual, 1e-300))] as const;
  }));
  const plan = planStructured(ir.config, subs, scores, { ratio: o.ratio, targetFlops: o.targetFlops, ranking });

  // Sequential refit, each step from the pixels.
  const target = o.target ?? 'corrective';
  const cur = cloneIR(ir);
  const fits: ReferenceResult['fits'] = [];
  for (const s of subs.filter((s) => plan.get(s.id)!.length < s.units)) {
    const keep = plan.get(s.id)!;
    const cols = keep.flatMap((u) => Array.from({ length: s.group }, (_, a) => u * s.group + a));
    const capCur = await Capture.create(cur, target === 'local' ? [s.hiddenNode, s.residualIn, s.residualOut] : [s.hiddenNode, s.residualIn], engine);
    const capOrig = target === 'corrective' ? await Capture.create(ir, [s.residualOut], engine) : null;
    const ls = new LeastSquares(cols.length, s.outDim);
    try {
      for (const batch of calib.batches) {
        const c = await capCur.run(batch);
        const goal = capOrig ? (await capOrig.run(batch)).get(s.residualOut)! : c.get(s.residualOut)!;
        const { x, y, rows } = regressionRows(s, cols, c.get(s.hiddenNode)!, goal, c.get(s.residualIn)!);
        ls.add(x, y, rows);
      }
    } finally {
      await capCur.release();
      await capOrig?.release();
    }
    const kernel = ir.weights.get(s.outKernel)!;
    const W0 = new Float64Array(cols.length * s.outDim);
    cols.forEach((c, i) => W0.set(kernel.data.subarray(c * s.outDim, (c + 1) * s.outDim), i * s.outDim));
    const fit = ls.solve(o.ridge ?? 1e-3, W0, Float64Array.from(ir.weights.get(s.outBias)!.data));
    sliceSublayer(cur, s, keep, { kernel: Float32Array.from(fit.W), bias: Float32Array.from(fit.b) });
    fits.push({ id: s.id, rows: ls.n, lambda: fit.lambda, relErrorBefore: fit.relErrorBefore, relErrorAfter: fit.relErrorAfter });
  }
  return { ir: cur, plan, scores, fits };
}
