/**
 * Ridge least squares in float64, accumulated over calibration batches: the refit of the layer that
 * follows a cut (attention out-projection, MLP Dense_1, Mixer token/channel Dense_1).
 *
 *   min_{W,b} Σ_rows ‖x W + b − y‖² + λ ‖W − W0‖²
 *
 * x = the kept hidden units of one row (a token, or a (image, channel) pair for token mixing),
 * y = the target output. The ridge pulls W toward W0 (the sliced original weights), not toward 0:
 * with little data or collinear units the fit falls back to plain slicing instead of shrinking the
 * layer, and when the kept units already reproduce y exactly (pruned units that contributed nothing)
 * the solution is W0 itself. The bias is not regularized: the data are centered, so
 * b = ȳ − x̄ W.
 *
 * Only sufficient statistics are kept (n, Σx, Σy, XᵀX, XᵀY, Σ‖y − ȳ‖²), so memory is O(k² + k·d)
 * however many images are used, and the fit error before and after can be computed from them
 * without another pass. Everything is float64: XᵀX sums tens of thousands of products of float32
 * activations whose scales differ by orders of magnitude, and the normal equations square the
 * condition number, so float32 would lose the digits the solution needs.
 *
 * The solver is Cholesky: the matrix is symmetric positive definite by construction (λ > 0). The
 * hand-written JS factorization (`choleskySolve`, about 30 lines) is the definition; the pipeline
 * uses the blocked one of linalg64.ts, whose cubic parts are float64 GEMMs in ONNX Runtime (a
 * ViT-B/16 MLP refit is ~3000 wide with 768 right-hand sides: 30–50 s per layer in JS, ~1 s there).
 */

import * as ort from '../../engines/runtime.js';
import { buildModel, DataType, GraphBuilder, int, ints } from '../../formats/onnx.js';
import { sessionOptions } from '../../engines/ort-node.js';
import { createSession } from '../../engines/model-source.js';
import type { EngineOptions } from '../../engines/options.js';
import type { Tensor } from '../../tensor.js';
import { choleskySolveBlocked, Gemm64 } from './linalg64.js';

export interface LeastSquaresFit {
  /** [k, d] row-major. */
  W: Float64Array;
  /** [d]. */
  b: Float64Array;
  /** λ actually used (ridge × mean diagonal of the centered XᵀX). */
  lambda: number;
  /** Σ‖xW0 + b0 − y‖² / Σ‖y − ȳ‖²: the relative error of the sliced layer on the calibration rows. */
  relErrorBefore: number;
  /** The same for the refitted layer. */
  relErrorAfter: number;
}

export class LeastSquares {
  n = 0;
  readonly sx: Float64Array;
  readonly sy: Float64Array;
  /** Upper triangle used; [k, k]. */
  readonly xtx: Float64Array;
  /** [k, d]. */
  readonly xty: Float64Array;
  /** Σ y² per output column. */
  readonly syy: Float64Array;
  private colX = new Float64Array(0);
  private colY = new Float64Array(0);

  constructor(readonly k: number, readonly d: number) {
    this.sx = new Float64Array(k);
    this.sy = new Float64Array(d);
    this.xtx = new Float64Array(k * k);
    this.xty = new Float64Array(k * d);
    this.syy = new Float64Array(d);
  }

  /** Add `rows` rows: x [rows, k] and y [rows, d], row-major. */
  add(x: Float64Array, y: Float64Array, rows: number): void {
    const { k, d } = this;
    if (x.length < rows * k || y.length < rows * d) throw new Error('internal: least-squares batch shape');
    // Column-major copies make every entry of XᵀX and XᵀY a contiguous dot product.
    if (this.colX.length < rows * k) this.colX = new Float64Array(rows * k);
    if (this.colY.length < rows * d) this.colY = new Float64Array(rows * d);
    const cx = this.colX, cy = this.colY;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < k; i++) cx[i * rows + r] = x[r * k + i]!;
      for (let j = 0; j < d; j++) cy[j * rows + r] = y[r * d + j]!;
    }
    for (let i = 0; i < k; i++) {
      let s = 0;
      const oi = i * rows;
      for (let r = 0; r < rows; r++) s += cx[oi + r]!;
      this.sx[i]! += s;
    }
    for (let j = 0; j < d; j++) {
      let s = 0, s2 = 0;
      const oj = j * rows;
      for (let r = 0; r < rows; r++) { const v = cy[oj + r]!; s += v; s2 += v * v; }
      this.sy[j]! += s;
      this.syy[j]! += s2;
    }
    dotBlock(cx, cx, rows, k, k, this.xtx, true);
    dotBlock(cx, cy, rows, k, d, this.xty, false);
    this.n += rows;
  }

  /** Add statistics computed elsewhere for `rows` rows (xtx is the full k×k XᵀX, or null: added by the caller). */
  addStats(rows: number, sx: Float64Array, sy: Float64Array, xtx: Float64Array | null, xty: Float64Array, syy: Float64Array): void {
    for (let i = 0; i < this.k; i++) this.sx[i]! += sx[i]!;
    for (let j = 0; j < this.d; j++) { this.sy[j]! += sy[j]!; this.syy[j]! += syy[j]!; }
    if (xtx) for (let i = 0; i < xtx.length; i++) this.xtx[i]! += xtx[i]!;
    for (let i = 0; i < xty.length; i++) this.xty[i]! += xty[i]!;
    this.n += rows;
  }

  /**
   * Solve with λ = ridge · (mean diagonal of the centered XᵀX). W0 [k, d] and b0 [d] are the sliced
   * original weights (the prior, and the "before" of the reported error). Plain JS: the definition
   * `solveWith` is tested against, and fast enough for small k.
   */
  solve(ridge: number, W0: Float64Array, b0: Float64Array): LeastSquaresFit {
    const p = this.normalEquations(ridge, W0);
    const W = choleskySolve(p.A, this.k, p.rhs, this.d);
    const { k, d } = this;
    return this.fit(p, W, matmul(p.G, W0, k, k, d), matmul(p.G, W, k, k, d), W0, b0);
  }

  /**
   * The same solution with the cubic work (the factorization, the substitutions and the two GWs of
   * the reported errors) done by float64 GEMMs in ONNX Runtime: 30–50 s → ~1 s for a ViT-B/16 MLP
   * layer on this project's 2-core VM (linalg64.ts).
   */
  async solveWith(gemm: Gemm64, ridge: number, W0: Float64Array, b0: Float64Array): Promise<LeastSquaresFit> {
    const p = this.normalEquations(ridge, W0);
    const { k, d } = this;
    const W = await choleskySolveBlocked(p.A, k, p.rhs, d, gemm);
    return this.fit(p, W, await gemm.mul(p.G, k, k, W0, d), await gemm.mul(p.G, k, k, W, d), W0, b0);
  }

  /** Centered statistics and the system (G + λI) W = C + λ W0. */
  private normalEquations(ridge: number, W0: Float64Array): NormalEquations {
    const { k, d, n } = this;
    if (n === 0) throw new Error('internal: least squares without data');
    const mx = this.sx.map((v) => v / n), my = this.sy.map((v) => v / n);
    // Centered statistics: G = XᵀX − n·x̄x̄ᵀ (full symmetric), C = XᵀY − n·x̄ȳᵀ.
    const G = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) {
      const v = this.xtx[i * k + j]! - n * mx[i]! * mx[j]!;
      G[i * k + j] = v;
      G[j * k + i] = v;
    }
    const C = new Float64Array(k * d);
    for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) C[i * d + j] = this.xty[i * d + j]! - n * mx[i]! * my[j]!;
    let syyC = 0;
    for (let j = 0; j < d; j++) syyC += this.syy[j]! - n * my[j]! * my[j]!;
    let trace = 0;
    for (let i = 0; i < k; i++) trace += G[i * k + i]!;
    const lambda = Math.max(ridge * trace / Math.max(1, k), 1e-12 * (trace / Math.max(1, k)) + 1e-300);
    // (G + λI) W = C + λ W0
    const A = G.slice();
    for (let i = 0; i < k; i++) A[i * k + i]! += lambda;
    const rhs = new Float64Array(k * d);
    for (let i = 0; i < k * d; i++) rhs[i] = C[i]! + lambda * W0[i]!;
    return { G, C, mx, my, syyC, lambda, A, rhs };
  }

  /** Bias and relative errors for the solution W; GW0 = G·W0 and GW = G·W. */
  private fit(p: NormalEquations, W: Float64Array, GW0: Float64Array, GW: Float64Array, W0: Float64Array, b0: Float64Array): LeastSquaresFit {
    const { k, d, n } = this;
    const { C, mx, my, syyC } = p;
    const sse = (W: Float64Array, b: Float64Array, GW: Float64Array): number => {
      // Σ‖xW + b − y‖² = tr(WᵀGW) − 2 tr(WᵀC) + Σ‖y − ȳ‖² + n‖x̄W + b − ȳ‖²
      let q = 0;
      for (let i = 0; i < k * d; i++) q += W[i]! * (GW[i]! - 2 * C[i]!);
      let off = 0;
      for (let j = 0; j < d; j++) {
        let m = b[j]! - my[j]!;
        for (let i = 0; i < k; i++) m += mx[i]! * W[i * d + j]!;
        off += m * m;
      }
      return Math.max(0, q + syyC + n * off);
    };
    const b = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let v = my[j]!;
      for (let i = 0; i < k; i++) v -= mx[i]! * W[i * d + j]!;
      b[j] = v;
    }
    const denom = syyC > 0 ? syyC : 1;
    return { W, b, lambda: p.lambda, relErrorBefore: sse(W0, b0, GW0) / denom, relErrorAfter: sse(W, b, GW) / denom };
  }
}

interface NormalEquations {
  G: Float64Array;
  C: Float64Array;
  mx: Float64Array;
  my: Float64Array;
  syyC: number;
  lambda: number;
  /** G + λI. */
  A: Float64Array;
  /** C + λ W0. */
  rhs: Float64Array;
}

/** out[i, j] += Σ_r a[i·rows + r] · b[j·rows + r] (column-major inputs); `upper`: only j ≥ i. */
function dotBlock(a: Float64Array, b: Float64Array, rows: number, ka: number, kb: number, out: Float64Array, upper: boolean): void {
  for (let i = 0; i < ka; i++) {
    const oi = i * rows;
    let j = upper ? i : 0;
    // Four columns at a time: each a[i] value is loaded once for four products.
    for (; j + 3 < kb; j += 4) {
      const o0 = j * rows, o1 = o0 + rows, o2 = o1 + rows, o3 = o2 + rows;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let r = 0; r < rows; r++) {
        const v = a[oi + r]!;
        s0 += v * b[o0 + r]!;
        s1 += v * b[o1 + r]!;
        s2 += v * b[o2 + r]!;
        s3 += v * b[o3 + r]!;
      }
      const base = i * kb + j;
      out[base]! += s0;
      out[base + 1]! += s1;
      out[base + 2]! += s2;
      out[base + 3]! += s3;
    }
    for (; j < kb; j++) {
      const oj = j * rows;
      let s = 0;
      for (let r = 0; r < rows; r++) s += a[oi + r]! * b[oj + r]!;
      out[i * kb + j]! += s;
    }
  }
}

/** [m, k] × [k, n], row-major, float64. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p]!;
      if (v === 0) continue;
      const bo = p * n, oo = i * n;
      for (let j = 0; j < n; j++) out[oo + j]! += v * b[bo + j]!;
    }
  }
  return out;
}

/**
 * Solve A X = B for symmetric positive definite A [k, k] (row-major) and B [k, d]: A = L Lᵀ, then
 * forward and back substitution for all d right-hand sides at once.
 */
export function choleskySolve(A: Float64Array, k: number, B: Float64Array, d: number): Float64Array {
  const L = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let s = A[j * k + j]!;
    for (let p = 0; p < j; p++) s -= L[j * k + p]! * L[j * k + p]!;
    if (!(s > 0)) throw new Error(`internal: matrix not positive definite at column ${j} (pivot ${s})`);
    const ljj = Math.sqrt(s);
    L[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let t = A[i * k + j]!;
      for (let p = 0; p < j; p++) t -= L[i * k + p]! * L[j * k + p]!;
      L[i * k + j] = t / ljj;
    }
  }
  const X = B.slice();
  // L Z = B
  for (let i = 0; i < k; i++) {
    const xi = i * d;
    for (let p = 0; p < i; p++) {
      const l = L[i * k + p]!;
      if (l === 0) continue;
      const xp = p * d;
      for (let j = 0; j < d; j++) X[xi + j]! -= l * X[xp + j]!;
    }
    const inv = 1 / L[i * k + i]!;
    for (let j = 0; j < d; j++) X[xi + j]! *= inv;
  }
  // Lᵀ X = Z
  for (let i = k - 1; i >= 0; i--) {
    const xi = i * d;
    for (let p = i + 1; p < k; p++) {
      const l = L[p * k + i]!;
      if (l === 0) continue;
      const xp = p * d;
      for (let j = 0; j < d; j++) X[xi + j]! -= l * X[xp + j]!;
    }
    const inv = 1 / L[i * k + i]!;
    for (let j = 0; j < d; j++) X[xi + j]! *= inv;
  }
  return X;
}

// ---------------------------------------------------------------------------------------------------
// The same statistics computed by ONNX Runtime. XᵀX is the bulk of the work (rows·k² per batch); a
// float64 GEMM in ORT runs it 20-30× faster than a JS loop on this machine, still in float64 (the
// float32 activations are cast before any product). `LeastSquares.add` stays as the plain-JS
// definition the tests compare this against.
//
// XᵀX is symmetric and only its upper triangle is read, so it is computed by block rows of
// `GRAM_BLOCK` regressors, each against the regressors from its own block on: X[:, I]ᵀ · X[:, i0:].
// That is half the multiply-adds of the full product (plus one diagonal block per row), measured 2×
// faster for k = 2048 on this VM. Why not float32 products (MLAS sgemm is ~5× faster than dgemm
// here): a float32 sum of a few hundred products keeps 6–7 digits, and the solve amplifies the error
// of G by the condition number of G + λI (up to 1 + k/ridge: λ is ridge × the mean eigenvalue),
// which would break "identical to rounding"; products of float32 activations are exact in float64.

/** Columns per block row of the XᵀX computation. */
export const GRAM_BLOCK = 256;

export interface StatsLayout {
  /** Width of the captured hidden activation (all units). */
  kFull: number;
  /** Columns of the hidden activation that are kept (the regressors), ascending. */
  kept: number[];
  /** Output width. */
  d: number;
  /**
   * false: activations are [B, R, k] and rows are (b, r). true (Mixer token mixing): they are
   * [B, k, C] and rows are (b, c), so they are transposed first.
   */
  transposed: boolean;
  /** Block size of XᵀX (default GRAM_BLOCK; the tests use small ones). */
  block?: number;
}

/**
 * The graph that prepares one batch: Xᵀ [k, rows] in float64 (kept columns gathered, cast, one row
 * per regressor), XᵀY, Σx, Σy and Σy². `kept` is an input, so one session serves every sublayer with
 * the same activation shape. Everything works on Xᵀ: the block rows of XᵀX are then contiguous
 * subarrays handed to the float64 GEMM without a copy (slicing columns of X inside the graph
 * measured ~1.5× slower, and a session per sublayer paid its first-run allocations every time).
 * Rows are (b, r), or (b, c) for the [B, k, C] token-mixing layout.
 */
async function prepareSession(layout: Pick<StatsLayout, 'kFull' | 'd' | 'transposed'>, engine: EngineOptions): Promise<ort.InferenceSession> {
  const g = new GraphBuilder();
  const toDouble = (x: string) => g.op('Cast', [x], { to: int(DataType.DOUBLE) });
  const columns = (x: string, width: number, name: string): string => {
    const t = g.op('Transpose', [x], { perm: ints(layout.transposed ? [1, 0, 2] : [2, 0, 1]) });
    return g.op('Reshape', [t, g.int64(`${name}/shape`, [width, -1])], {}, { name });
  };
  const Xt = toDouble(g.op('Gather', [columns('h', layout.kFull, 'h_cols'), 'kept'], { axis: int(0) }));
  const Yt = g.op('Sub', [toDouble(columns('target', layout.d, 'target_cols')), toDouble(columns('base', layout.d, 'base_cols'))]);
  const axis1 = g.int64('axis1', [1]);
  const outs: Record<string, string> = {
    xty: g.op('Gemm', [Xt, Yt], { transB: int(1) }),
    sx: g.op('ReduceSum', [Xt, axis1], { keepdims: int(0) }),
    sy: g.op('ReduceSum', [Yt, axis1], { keepdims: int(0) }),
    syy: g.op('ReduceSum', [g.op('Mul', [Yt, Yt]), axis1], { keepdims: int(0) }),
  };
  for (const [name, v] of Object.entries(outs)) g.renameOutput(v, name);
  g.renameOutput(Xt, 'xt');
  const m = buildModel(g, {
    name: 'normal_equations',
    inputs: [{ name: 'h', shape: ['b', 'h1', 'h2'] }, { name: 'target', shape: ['b', 'y1', 'y2'] }, { name: 'base', shape: ['b', 'y1', 'y2'] },
      { name: 'kept', elemType: DataType.INT64, shape: ['k'] }],
    outputs: [
      { name: 'xt', elemType: DataType.DOUBLE, shape: ['k', 'rows'] }, { name: 'xty', elemType: DataType.DOUBLE, shape: ['k', layout.d] },
      { name: 'sx', elemType: DataType.DOUBLE, shape: ['k'] }, { name: 'sy', elemType: DataType.DOUBLE, shape: [layout.d] },
      { name: 'syy', elemType: DataType.DOUBLE, shape: [layout.d] },
    ],
  });
  return createSession(m, sessionOptions(engine));
}

/** Maps (hidden, target, base) batches to the sufficient statistics of x -> (target − base). */
export class NormalEquationsKernel {
  private readonly kept: ort.Tensor;

  private constructor(private readonly prepare: ort.InferenceSession, private readonly gemm: Gemm64, readonly layout: StatsLayout,
    private readonly owned: boolean) {
    this.kept = new ort.Tensor('int64', BigInt64Array.from(layout.kept.map(BigInt)), [layout.kept.length]);
  }

  /** A kernel with sessions of its own (freed by `release`). */
  static async create(layout: StatsLayout, engine: EngineOptions = {}): Promise<NormalEquationsKernel> {
    return new NormalEquationsKernel(await prepareSession(layout, engine), await Gemm64.create(engine), layout, true);
  }

  /** A kernel using sessions of `pool` (freed with the pool). */
  static async fromPool(pool: NormalEquationsPool, layout: StatsLayout): Promise<NormalEquationsKernel> {
    return new NormalEquationsKernel(await pool.prepareFor(layout), pool.gemm, layout, false);
  }

  /** Add one batch: rows of x are `hidden`'s kept units, rows of y are target − base. */
  async accumulate(ls: LeastSquares, hidden: Tensor, target: Tensor, base: Tensor): Promise<void> {
    const t = (v: Tensor) => new ort.Tensor('float32', v.data, v.dims);
    const o = await this.prepare.run({ h: t(hidden), target: t(target), base: t(base), kept: this.kept });
    const f = (n: string) => o[n]!.data as Float64Array;
    const k = ls.k, xt = f('xt'), rows = xt.length / k, nb = this.layout.block ?? GRAM_BLOCK;
    // Only the upper triangle of ls.xtx is read (solve): block row I is X[:, I]ᵀ · X[:, i0:]. The
    // few entries it also fills below the diagonal, inside the diagonal block, are ignored.
    for (let i0 = 0; i0 < k; i0 += nb) {
      const i1 = Math.min(k, i0 + nb), w = k - i0;
      const part = await this.gemm.mul(xt.subarray(i0 * rows, i1 * rows), i1 - i0, rows, xt.subarray(i0 * rows), w, true);
      for (let i = i0; i < i1; i++) {
        const src = (i - i0) * w - i0, dst = i * k;
        for (let j = i; j < k; j++) ls.xtx[dst + j]! += part[src + j]!;
      }
    }
    ls.addStats(rows, f('sx'), f('sy'), null, f('xty'), f('syy'));
  }

  async release(): Promise<void> {
    if (!this.owned) return;
    await this.prepare.release();
    await this.gemm.release();
  }
}

/** The sessions every refit step of one pruning run shares: one preparation graph per activation shape, one GEMM. */
export class NormalEquationsPool {
  private readonly prepares = new Map<string, Promise<ort.InferenceSession>>();

  constructor(readonly gemm: Gemm64, private readonly engine: EngineOptions = {}) {}

  prepareFor(layout: StatsLayout): Promise<ort.InferenceSession> {
    const key = `${layout.kFull}/${layout.d}/${layout.transposed}`;
    if (!this.prepares.has(key)) this.prepares.set(key, prepareSession(layout, this.engine));
    return this.prepares.get(key)!;
  }

  /** Frees the preparation sessions (not the GEMM, which belongs to the caller). */
  async release(): Promise<void> {
    for (const p of this.prepares.values()) await (await p).release();
    this.prepares.clear();
  }
}
