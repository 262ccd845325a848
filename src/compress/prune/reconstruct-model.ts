/**
 * Structured pruning end to end on the IR: importance (one pass through the unpruned model), the
 * plan, and the layer-by-layer refit.
 *
 * The refit runs sublayer by sublayer in forward order. When sublayer s is refitted, every sublayer
 * before it is already pruned and refitted, so its input comes from the pruned model itself
 * (sequential). Its target is, by default, the unpruned model's residual stream after s
 * ("corrective"): out'(x') ≈ s_orig − r', which asks the refit to also absorb the drift that the
 * earlier cuts left in the residual stream r'. `target: 'local'` instead matches the unpruned
 * sublayer's own output on the same (pruned-model) input: out'(x'_kept) ≈ out(x'_all). The benchmark
 * (bench/prune.ts) compares both; docs/pruning.md has the numbers behind the default.
 */
import type { EngineOptions } from '../../engines/options.js';
import { UserError } from '../../errors.js';
import type { ModelIR } from '../../models/ir.js';
import type { Tensor } from '../../tensor.js';
import { type Calibration, Capture } from './capture.js';
import { captureChunk, imageSlice, measureImportance, type SublayerImportance } from './importance.js';
import { LeastSquares, NormalEquationsKernel } from './reconstruct.js';
import {
  cloneIR, kindsFor, type Plan, planStructured, sliceSublayer, type StructuredMethod, type Sublayer, sublayers,
} from './structured.js';

export type ReconstructionTarget = 'corrective' | 'local';

export interface StructuredOptions {
  method: StructuredMethod;
  ratio?: number;
  targetFlops?: number;
  ranking?: 'uniform' | 'global';
  /** Refit the out-projections / Dense_1 by least squares (default true). */
  reconstruct?: boolean;
  /** Relative ridge λ/mean(diag XᵀX) (default 1e-3). */
  ridge?: number;
  target?: ReconstructionTarget;
  engine?: EngineOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_RIDGE = 1e-3;
export const DEFAULT_RANKING = 'global';
export const DEFAULT_TARGET: ReconstructionTarget = 'corrective';

export interface SublayerFit {
  id: string;
  kept: number;
  units: number;
  rows: number;
  lambda: number;
  /** Relative squared error of this sublayer's contribution on the calibration rows (see reconstruct.ts). */
  relErrorBefore: number;
  relErrorAfter: number;
}

export interface StructuredResult {
  /** The pruned model: refitted when reconstruction is on, else the same as `sliced`. */
  ir: ModelIR;
  /** Plain slicing of the unpruned weights, no refit. */
  sliced: ModelIR;
  plan: Plan;
  subs: Sublayer[];
  importance: Map<string, SublayerImportance>;
  fits: SublayerFit[];
  calibrationImages: number;
}

function toF64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

/** Rows [kept columns] of a [rows, d] kernel, in float64. */
function keptRows(t: Tensor, cols: readonly number[], d: number): Float64Array {
  const out = new Float64Array(cols.length * d);
  cols.forEach((c, i) => out.set(t.data.subarray(c * d, (c + 1) * d), i * d));
  return out;
}

export async function pruneStructured(ir: ModelIR, calib: Calibration, o: StructuredOptions): Promise<StructuredResult> {
  const kinds = kindsFor(o.method, ir.config);
  const subs = sublayers(ir.config).filter((s) => kinds.includes(s.kind));
  const ranking = o.ranking ?? DEFAULT_RANKING;
  const engine = o.engine ?? {};
  // Validate the request before any pass over the data.
  if ((o.ratio === undefined) === (o.targetFlops === undefined)) {
    throw new UserError('give exactly one of --ratio (fraction of units removed) or --target-flops (fraction of FLOPs kept)');
  }
  const flat = new Map(subs.map((s) => [s.id, new Float64Array(s.units)]));
  planStructured(ir.config, subs, flat, { ratio: o.ratio, targetFlops: o.targetFlops, ranking });

  const importance = await measureImportance(ir, subs, calib, engine, (d, t) => o.onProgress?.('importance', d, t));
  const plan = planStructured(ir.config, subs, new Map([...importance].map(([k, v]) => [k, v.score])), {
    ratio: o.ratio, targetFlops: o.targetFlops, ranking,
  });

  const sliced = cloneIR(ir);
  for (const s of subs) {
    const keep = plan.get(s.id)!;
    if (keep.length < s.units) sliceSublayer(sliced, s, keep);
  }

  const fits: SublayerFit[] = [];
  let result = sliced;
  if (o.reconstruct ?? true) {
    const target = o.target ?? DEFAULT_TARGET;
    const ridge = o.ridge ?? DEFAULT_RIDGE;
    if (!(ridge > 0)) throw new UserError(`--ridge ${ridge}: must be positive`);
    const todo = subs.filter((s) => plan.get(s.id)!.length < s.units);
    for (const s of todo) {
      const keep = plan.get(s.id)!;
      const cols = keep.flatMap((u) => Array.from({ length: s.group }, (_, a) => u * s.group + a));
      const rows = calib.images * s.rowsPerImage;
      if (rows < cols.length + 1) {
        throw new UserError(`--calibration-size ${calib.images}: gives ${rows} rows to refit ${s.id} with ${cols.length + 1} unknowns per output; ` +
          `use at least ${Math.ceil((cols.length + 1) / s.rowsPerImage)} images, or --no-reconstruct`);
      }
    }
    const cur = cloneIR(ir);
    let step = 0;
    for (const s of todo) {
      o.onProgress?.(`refit ${s.id}`, step++, todo.length);
      const keep = plan.get(s.id)!;
      const cols = keep.flatMap((u) => Array.from({ length: s.group }, (_, a) => u * s.group + a));
      const nodes = target === 'local' ? [s.hiddenNode, s.residualIn, s.residualOut] : [s.hiddenNode, s.residualIn];
      const capCur = await Capture.create(cur, nodes, engine);
      const capOrig = target === 'corrective' ? await Capture.create(ir, [s.residualOut], engine) : null;
      const kernel = await NormalEquationsKernel.create({ kFull: s.units * s.group, kept: cols, d: s.outDim, transposed: s.transposed }, engine);
      const ls = new LeastSquares(cols.length, s.outDim);
      const chunk = captureChunk(s.hiddenPerImage + 2 * s.residualPerImage);
      try {
        for (const batch of calib.batches) {
          const n = batch.dims[0]!;
          for (let i0 = 0; i0 < n; i0 += chunk) {
            const px = imageSlice(batch, i0, Math.min(n, i0 + chunk));
            const c = await capCur.run(px);
            const goal = capOrig ? (await capOrig.run(px)).get(s.residualOut)! : c.get(s.residualOut)!;
            await kernel.accumulate(ls, c.get(s.hiddenNode)!, goal, c.get(s.residualIn)!);
          }
        }
      } finally {
        await capCur.release();
        await capOrig?.release();
        await kernel.release();
      }
      const W0 = keptRows(ir.weights.get(s.outKernel)!, cols, s.outDim);
      const fit = ls.solve(ridge, W0, toF64(ir.weights.get(s.outBias)!.data));
      sliceSublayer(cur, s, keep, { kernel: Float32Array.from(fit.W), bias: Float32Array.from(fit.b) });
      fits.push({ id: s.id, kept: keep.length, units: s.units, rows: ls.n, lambda: fit.lambda,
        relErrorBefore: fit.relErrorBefore, relErrorAfter: fit.relErrorAfter });
    }
    o.onProgress?.('refit', todo.length, todo.length);
    result = cur;
  }
  return { ir: result, sliced, plan, subs, importance, fits, calibrationImages: calib.images };
}
