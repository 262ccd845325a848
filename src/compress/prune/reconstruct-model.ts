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
import { LeastSquares, NormalEquationsKernel, NormalEquationsPool } from './reconstruct.js';
import { Gemm64 } from './linalg64.js';
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
  /**
   * Most bytes of residual streams the refit keeps between steps (default MAX_STREAM_BYTES); above
   * it, each step recomputes its input from the pixels (slower, same result).
   */
  maxStreamBytes?: number;
  /** Images per capture run of the refit (default: sized by RUN_BYTES; the tests use small ones). */
  runImages?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_RIDGE = 1e-3;
export const DEFAULT_RANKING = 'global';
export const DEFAULT_TARGET: ReconstructionTarget = 'corrective';
/** 2 GiB: the streams of 512 ViT-H/14 images fit; beyond, memory matters more than time. */
export const MAX_STREAM_BYTES = 2 * 2 ** 30;
/** Bytes of the widest hidden activation per capture run of the refit (3 ViT-B/16 images). */
const RUN_BYTES = 8 * 2 ** 20;

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

/** A residual stream kept between refit steps: the output of `node` for every calibration batch. */
interface Stream {
  node: string;
  batches: Tensor[];
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
    // The residual streams at the last step's boundary, per calibration batch: the pruned model's
    // (input of the next sublayer) and, for the corrective target, the unpruned model's (its output).
    // Each step then runs only the blocks between two boundaries instead of the whole model up to the
    // sublayer: ViT-B/16 goes from ~12 forward passes per model (Σ over 24 sublayers of the depth
    // reached) to about one, at the cost of keeping these floats (2 × images × tokens × width × 4 B;
    // 310 MB for 256 ViT-B/16 images). Above `maxStreamBytes` every step starts from the pixels again.
    const streamBytes = (target === 'corrective' ? 2 : 1) * 4 * calib.images * subs[0]!.residualPerImage;
    const keepStreams = streamBytes <= (o.maxStreamBytes ?? MAX_STREAM_BYTES);
    // Images per capture run: few enough that a block's activations stay in cache. The portable
    // graph's elementwise ops (its GELU alone is ten of them) are memory-bound; ViT-B/16 blocks ran
    // 15–35% faster in runs of 4 images than of 32 on this VM. Sized by the widest hidden activation.
    const widest = Math.max(...sublayers(ir.config).map((x) => x.hiddenPerImage));
    const runImages = o.runImages ?? Math.max(1, Math.floor(RUN_BYTES / (4 * widest)));
    let curFrom = null as Stream | null;
    let origFrom = null as Stream | null;
    const gemm = await Gemm64.create(engine);
    const pool = new NormalEquationsPool(gemm, engine);
    try {
      let step = 0;
      for (const s of todo) {
        o.onProgress?.(`refit ${s.id}`, step++, todo.length);
        const keep = plan.get(s.id)!;
        const cols = keep.flatMap((u) => Array.from({ length: s.group }, (_, a) => u * s.group + a));
        const nodes = target === 'local' ? [s.hiddenNode, s.residualIn, s.residualOut] : [s.hiddenNode, s.residualIn];
        const capCur = await Capture.create(cur, nodes, engine, curFrom?.node);
        const capOrig = target === 'corrective' ? await Capture.create(ir, [s.residualOut], engine, origFrom?.node) : null;
        const kernel = await NormalEquationsKernel.fromPool(pool, { kFull: s.units * s.group, kept: cols, d: s.outDim, transposed: s.transposed });
        const ls = new LeastSquares(cols.length, s.outDim);
        // Statistics are accumulated over `chunk` images at a time (large GEMMs, captured bytes within
        // the budget), gathered from capture runs of `run` images.
        const chunk = captureChunk(s.hiddenPerImage + 2 * s.residualPerImage);
        const run = Math.min(chunk, runImages);
        const res = s.residualPerImage;
        // Batch bi of a stream is replaced as soon as it has been read: one copy of each is alive.
        const nextCur: Tensor[] = curFrom?.batches ?? [], nextOrig: Tensor[] = origFrom?.batches ?? [];
        try {
          for (const [bi, batch] of calib.batches.entries()) {
            const n = batch.dims[0]!;
            const curIn = curFrom?.batches[bi] ?? batch, origIn = origFrom?.batches[bi] ?? batch;
            // This batch's pruned residual stream (the regression's base) and the regression's target:
            // the unpruned stream after s (corrective; kept as its stream) or the unpruned sublayer's
            // output on the pruned input (local).
            const base = new Float32Array(n * res), goal = new Float32Array(n * res);
            let tail: number[] = [], hiddenTail: number[] = [];
            for (let i0 = 0; i0 < n; i0 += chunk) {
              const i1 = Math.min(n, i0 + chunk);
              const hidden = new Float32Array((i1 - i0) * s.hiddenPerImage);
              for (let r0 = i0; r0 < i1; r0 += run) {
                const r1 = Math.min(i1, r0 + run);
                const c = await capCur.run(imageSlice(curIn, r0, r1));
                const g = capOrig ? (await capOrig.run(imageSlice(origIn, r0, r1))).get(s.residualOut)! : c.get(s.residualOut)!;
                const h = c.get(s.hiddenNode)!, r = c.get(s.residualIn)!;
                hidden.set(h.data, (r0 - i0) * s.hiddenPerImage);
                base.set(r.data, r0 * res);
                goal.set(g.data, r0 * res);
                tail = r.dims.slice(1);
                hiddenTail = h.dims.slice(1);
              }
              const rows = (t: Float32Array, dims: number[]) => ({ dims: [i1 - i0, ...dims], data: t });
              await kernel.accumulate(ls, rows(hidden, hiddenTail), rows(goal.subarray(i0 * res, i1 * res), tail),
                rows(base.subarray(i0 * res, i1 * res), tail));
            }
            if (keepStreams) {
              nextCur[bi] = { dims: [n, ...tail], data: base };
              if (capOrig) nextOrig[bi] = { dims: [n, ...tail], data: goal };
            }
          }
        } finally {
          await capCur.release();
          await capOrig?.release();
          await kernel.release();
        }
        if (keepStreams) {
          // The pruned stream stays at this sublayer's input: the next step runs it refitted.
          curFrom = { node: s.residualIn, batches: nextCur };
          if (capOrig) origFrom = { node: s.residualOut, batches: nextOrig };
        }
        const W0 = keptRows(ir.weights.get(s.outKernel)!, cols, s.outDim);
        const fit = await ls.solveWith(gemm, ridge, W0, toF64(ir.weights.get(s.outBias)!.data));
        sliceSublayer(cur, s, keep, { kernel: Float32Array.from(fit.W), bias: Float32Array.from(fit.b) });
        fits.push({ id: s.id, kept: keep.length, units: s.units, rows: ls.n, lambda: fit.lambda,
          relErrorBefore: fit.relErrorBefore, relErrorAfter: fit.relErrorAfter });
      }
    } finally {
      await pool.release();
      await gemm.release();
    }
    o.onProgress?.('refit', todo.length, todo.length);
    result = cur;
  }
  return { ir: result, sliced, plan, subs, importance, fits, calibrationImages: calib.images };
}
