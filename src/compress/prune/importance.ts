/**
 * Importance of each head and hidden unit, measured on calibration data.
 *
 * Choice: the output change when the unit is removed, with the mean absorbed by the bias.
 * A unit u of a sublayer adds c_u = x_u W_u (its hidden values times its rows of the out-projection)
 * to the residual stream, so removing it changes the sublayer's output by exactly −c_u. Its mean
 * over the calibration set is free to restore (the refit's bias absorbs it, and a bias shift is what
 * any removal should come with), so the cost of removing u is the energy of the centered
 * contribution:
 *
 *     E_u = Σ_rows ‖(x_u − x̄_u) W_u‖² = tr(W_uᵀ Cov(x_u) W_u) · n
 *
 * which needs only the per-unit (head-size × head-size) covariance of the hidden activation: one
 * forward pass, no gradients. To compare units across layers (global ranking), E_u is divided by
 * the energy of the residual stream it is added to (Σ‖s‖² over the same rows): the next LayerNorm
 * sees relative, not absolute, perturbations, and the residual stream grows with depth.
 *
 * Why not a Fisher/Taylor estimate: ONNX Runtime gives no gradients, and a first-order estimate of
 * removing a whole head is poor anyway (removal is not a small step). Why not the loss change per
 * removed unit: one forward pass per unit (thousands for a ViT-B MLP). The exact single-removal
 * output change is the middle ground, and it is the quantity the refit then minimizes.
 */
import * as ort from '../../engines/runtime.js';
import { buildModel, DataType, GraphBuilder, int, ints } from '../../formats/onnx.js';
import { sessionOptions } from '../../engines/ort-node.js';
import { createSession } from '../../engines/model-source.js';
import type { EngineOptions } from '../../engines/options.js';
import type { ModelIR } from '../../models/ir.js';
import type { Tensor } from '../../tensor.js';
import { type Calibration, Capture } from './capture.js';
import type { Sublayer } from './structured.js';

export interface SublayerImportance {
  id: string;
  /** E_u per unit. */
  energy: Float64Array;
  /** Σ‖s‖² of the residual stream after the sublayer, over the same rows. */
  residualEnergy: number;
  /** E_u / residualEnergy: comparable across layers. */
  score: Float64Array;
  rows: number;
}

/** Captured bytes per run kept under this (a ViT-B/16 MLP activation is 2.4 MB per image). */
const CAPTURE_BUDGET_BYTES = 192 * 2 ** 20;

/**
 * Per-unit covariance accumulator over rows of a hidden activation. `add` is the plain-JS
 * definition; for heads the pipeline feeds it through `HeadMomentsKernel` (same sums, by ORT).
 */
export class UnitMoments {
  n = 0;
  readonly sum: Float64Array;
  /** [units, group, group], upper triangle per block. */
  readonly gram: Float64Array;
  residual = 0;

  constructor(readonly units: number, readonly group: number) {
    this.sum = new Float64Array(units * group);
    this.gram = new Float64Array(units * group * group);
  }

  add(h: Tensor, transposed: boolean): void {
    const { units: U, group: g } = this;
    const k = U * g;
    if (!transposed) {
      const rows = h.data.length / k, x = h.data;
      for (let r = 0; r < rows; r++) {
        const base = r * k;
        for (let u = 0; u < U; u++) {
          const o = base + u * g, go = u * g * g;
          for (let a = 0; a < g; a++) {
            const xa = x[o + a]!;
            this.sum[u * g + a]! += xa;
            if (xa === 0) continue;
            const ga = go + a * g;
            for (let b = a; b < g; b++) this.gram[ga + b]! += xa * x[o + b]!;
          }
        }
      }
      this.n += rows;
    } else {
      // [B, k, C] with group 1: rows are (b, c).
      const [B, , C] = h.dims as [number, number, number];
      for (let bi = 0; bi < B; bi++) {
        for (let j = 0; j < k; j++) {
          const o = (bi * k + j) * C;
          let s = 0, s2 = 0;
          for (let c = 0; c < C; c++) { const v = h.data[o + c]!; s += v; s2 += v * v; }
          this.sum[j]! += s;
          this.gram[j]! += s2;
        }
      }
      this.n += B * C;
    }
  }

  /** E_u for out-projection rows W [units·group, d]. */
  energies(W: Float32Array, d: number): Float64Array {
    const { units: U, group: g, n } = this;
    const out = new Float64Array(U);
    for (let u = 0; u < U; u++) {
      let e = 0;
      for (let a = 0; a < g; a++) {
        for (let b = a; b < g; b++) {
          const ia = u * g + a, ib = u * g + b;
          const cov = this.gram[u * g * g + a * g + b]! - this.sum[ia]! * this.sum[ib]! / n;
          let ww = 0;
          for (let j = 0; j < d; j++) ww += W[ia * d + j]! * W[ib * d + j]!;
          e += (a === b ? 1 : 2) * cov * ww;
        }
      }
      out[u] = Math.max(0, e);
    }
    return out;
  }
}

/**
 * The sums of `UnitMoments.add` for attention heads, computed by ONNX Runtime in float64: Σx per
 * column and each head's group × group block of XᵀX (one batched GEMM over the heads). In JS that is
 * ~25 k multiply-adds per token and layer of ViT-B/16, 33 ms per 3 images and layer, ~34 s for 256
 * images; this takes 5.5 ms (~6 s) on this VM. The float32 activations are cast first, so the
 * products are exact as in JS; only the summation order differs. Hidden units (group 1) stay in JS:
 * Σx and Σx² per column are memory-bound, and the JS loop measured 2× faster than the ORT graph.
 */
export class HeadMomentsKernel {
  private constructor(private readonly session: ort.InferenceSession, readonly units: number, readonly group: number) {}

  static async create(units: number, group: number, engine: EngineOptions = {}): Promise<HeadMomentsKernel> {
    const g = new GraphBuilder();
    const k = units * group;
    const noKeep = { keepdims: int(0) };
    // [B, R, units·group] -> [rows, units, group] -> per head [group, rows] · [rows, group].
    const x = g.op('Cast', [g.op('Reshape', ['h', g.int64('rows', [-1, units, group])])], { to: int(DataType.DOUBLE) });
    const sum = g.op('Reshape', [g.op('ReduceSum', [x, g.int64('axis0', [0])], noKeep), g.int64('flat', [k])]);
    const xu = g.op('Transpose', [x], { perm: ints([1, 0, 2]) }); // [units, rows, group]
    const gram = g.op('MatMul', [g.op('Transpose', [xu], { perm: ints([0, 2, 1]) }), xu]);
    g.renameOutput(sum, 'sum');
    g.renameOutput(gram, 'gram');
    const m = buildModel(g, {
      name: 'head_moments',
      inputs: [{ name: 'h', shape: ['b', 'r', k] }],
      outputs: [{ name: 'sum', elemType: DataType.DOUBLE, shape: [k] }, { name: 'gram', elemType: DataType.DOUBLE, shape: [units, group, group] }],
    });
    return new HeadMomentsKernel(await createSession(m, sessionOptions(engine)), units, group);
  }

  /** What `m.add(h, false)` does. */
  async accumulate(m: UnitMoments, h: Tensor): Promise<void> {
    const o = await this.session.run({ h: new ort.Tensor('float32', h.data, h.dims) });
    const sum = o.sum!.data as Float64Array, gram = o.gram!.data as Float64Array;
    for (let i = 0; i < sum.length; i++) m.sum[i]! += sum[i]!;
    // The full blocks; `energies` reads the upper triangle of each.
    for (let i = 0; i < gram.length; i++) m.gram[i]! += gram[i]!;
    m.n += h.data.length / (this.units * this.group);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function sumSquares(t: Tensor): number {
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += t.data[i]! * t.data[i]!;
  return s;
}

/** Slice images [i0, i1) of an NCHW batch. */
export function imageSlice(t: Tensor, i0: number, i1: number): Tensor {
  const per = t.data.length / t.dims[0]!;
  return { dims: [i1 - i0, ...t.dims.slice(1)], data: t.data.subarray(i0 * per, i1 * per) };
}

/** Images per capture run so that the captured activations stay within the budget. */
export function captureChunk(floatsPerImage: number): number {
  return Math.max(1, Math.floor(CAPTURE_BUDGET_BYTES / (4 * Math.max(1, floatsPerImage))));
}

/** One pass over the calibration set through the unpruned model. */
export async function measureImportance(ir: ModelIR, subs: readonly Sublayer[], calib: Calibration,
  engine: EngineOptions = {}, onProgress?: (done: number, total: number) => void): Promise<Map<string, SublayerImportance>> {
  const nodes = [...new Set(subs.flatMap((s) => [s.hiddenNode, s.residualOut]))];
  const capture = await Capture.create(ir, nodes, engine);
  const moments = new Map(subs.map((s) => [s.id, new UnitMoments(s.units, s.group)]));
  // One kernel per head shape (heads of every layer of an unpruned model share one).
  const kernels = new Map<string, HeadMomentsKernel>();
  const add = async (s: Sublayer, m: UnitMoments, h: Tensor) => {
    if (s.group === 1) return m.add(h, s.transposed);
    const key = `${s.units}/${s.group}`;
    if (!kernels.has(key)) kernels.set(key, await HeadMomentsKernel.create(s.units, s.group, engine));
    await kernels.get(key)!.accumulate(m, h);
  };
  const chunk = captureChunk(subs.reduce((a, s) => a + s.hiddenPerImage + s.residualPerImage, 0));
  let done = 0;
  try {
    for (const batch of calib.batches) {
      const n = batch.dims[0]!;
      for (let i0 = 0; i0 < n; i0 += chunk) {
        const out = await capture.run(imageSlice(batch, i0, Math.min(n, i0 + chunk)));
        const resid = new Map<string, number>();
        for (const s of subs) {
          const m = moments.get(s.id)!;
          await add(s, m, out.get(s.hiddenNode)!);
          if (!resid.has(s.residualOut)) resid.set(s.residualOut, sumSquares(out.get(s.residualOut)!));
          m.residual += resid.get(s.residualOut)!;
        }
      }
      done += n;
      onProgress?.(done, calib.images);
    }
  } finally {
    await capture.release();
    for (const k of kernels.values()) await k.release();
  }
  const result = new Map<string, SublayerImportance>();
  for (const s of subs) {
    const m = moments.get(s.id)!;
    const energy = m.energies(ir.weights.get(s.outKernel)!.data, s.outDim);
    const residualEnergy = m.residual;
    result.set(s.id, { id: s.id, energy, residualEnergy, score: energy.map((e) => e / Math.max(residualEnergy, 1e-300)), rows: m.n });
  }
  return result;
}
