/**
 * Float64 dense linear algebra for the refit, with the cubic work done by ONNX Runtime's CPU GEMM.
 *
 * Why: the refit of a ViT-B/16 MLP layer solves a ~3000 × 3000 system for 768 right-hand sides and
 * evaluates tr(WᵀGW) twice; in plain JavaScript that is ~3·10¹⁰ multiply-adds per layer, 30–50 s on
 * this project's 2-core VM, whatever the calibration size. ONNX Runtime's CPU MatMul/Gemm also
 * supports float64 (MLAS DGEMM, multi-threaded), 20–40× faster here, and it is already a dependency.
 * There is no Cholesky operator in ONNX, so the factorization is blocked: everything O(n³) is a
 * GEMM sent to ORT, and only the small diagonal blocks (nb × nb) are factorized and inverted in JS.
 * Everything stays float64; the result equals `choleskySolve` (reconstruct.ts, the plain-JS
 * definition the tests compare with) to rounding.
 */
import * as ort from '../../engines/runtime.js';
import { buildModel, DataType, GraphBuilder, int } from '../../formats/onnx.js';
import { sessionOptions } from '../../engines/ort-node.js';
import { createSession } from '../../engines/model-source.js';
import type { EngineOptions } from '../../engines/options.js';

/** Two float64 products, one session each (shapes are symbolic: one session serves every size). */
export class Gemm64 {
  private constructor(private readonly ab: ort.InferenceSession, private readonly abT: ort.InferenceSession) {}

  static async create(engine: EngineOptions = {}): Promise<Gemm64> {
    const session = async (transB: boolean) => {
      const g = new GraphBuilder();
      g.renameOutput(transB ? g.op('Gemm', ['a', 'b'], { transB: int(1) }) : g.op('MatMul', ['a', 'b']), 'c');
      const m = buildModel(g, {
        name: transB ? 'gemm_abt_f64' : 'matmul_f64',
        inputs: [{ name: 'a', elemType: DataType.DOUBLE, shape: ['m', 'k'] }, { name: 'b', elemType: DataType.DOUBLE, shape: transB ? ['n', 'k'] : ['k', 'n'] }],
        outputs: [{ name: 'c', elemType: DataType.DOUBLE, shape: ['m', 'n'] }],
      });
      return createSession(m, sessionOptions(engine));
    };
    return new Gemm64(await session(false), await session(true));
  }

  /**
   * a [m, k] · b [k, n], or a · bᵀ with b [n, k] when `transB`; row-major, float64. The inputs may be
   * subarrays; they are read, never kept.
   */
  async mul(a: Float64Array, m: number, k: number, b: Float64Array, n: number, transB = false): Promise<Float64Array> {
    if (m === 0 || n === 0) return new Float64Array(m * n);
    if (k === 0) return new Float64Array(m * n);
    if (a.length !== m * k || b.length !== k * n) throw new Error('internal: gemm operand sizes');
    const s = transB ? this.abT : this.ab;
    const o = await s.run({ a: new ort.Tensor('float64', a, [m, k]), b: new ort.Tensor('float64', b, transB ? [n, k] : [k, n]) });
    return o.c!.data as Float64Array;
  }

  async release(): Promise<void> {
    await this.ab.release();
    await this.abT.release();
  }
}

/** Block size of the factorization: large enough for efficient GEMMs, small enough for the JS parts. */
export const CHOLESKY_BLOCK = 256;

/**
 * In-place lower Cholesky factor of the w × w block `S` (row-major; the upper triangle is zeroed).
 * `col0` only numbers the columns in the error message (the global column of S's first column).
 */
function factorDiagonalBlock(S: Float64Array, w: number, col0: number): void {
  for (let j = 0; j < w; j++) {
    const rj = j * w;
    let s = S[rj + j]!;
    for (let p = 0; p < j; p++) s -= S[rj + p]! * S[rj + p]!;
    if (!(s > 0)) throw new Error(`internal: matrix not positive definite at column ${col0 + j} (pivot ${s})`);
    const ljj = Math.sqrt(s);
    S[rj + j] = ljj;
    for (let i = j + 1; i < w; i++) {
      const ri = i * w;
      let t = S[ri + j]!;
      for (let p = 0; p < j; p++) t -= S[ri + p]! * S[rj + p]!;
      S[ri + j] = t / ljj;
    }
    for (let p = j + 1; p < w; p++) S[rj + p] = 0;
  }
}

/** Inverse of a lower-triangular w × w matrix (row-major), by column-wise forward substitution. */
function invertLower(L: Float64Array, w: number): Float64Array {
  const X = new Float64Array(w * w);
  for (let c = 0; c < w; c++) {
    X[c * w + c] = 1 / L[c * w + c]!;
    for (let i = c + 1; i < w; i++) {
      let s = 0;
      for (let p = c; p < i; p++) s += L[i * w + p]! * X[p * w + c]!;
      X[i * w + c] = -s / L[i * w + i]!;
    }
  }
  return X;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** Rows [r0, r1) and columns [c0, c1) of a row-major matrix with `cols` columns, as a new array. */
function block(a: Float64Array, cols: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(a.subarray(i * cols + c0, i * cols + c1), (i - r0) * w);
  return out;
}

/**
 * Solve A X = B for symmetric positive definite A [k, k] (row-major; only the lower triangle is read)
 * and B [k, d]: blocked left-looking Cholesky A = L Lᵀ, then blocked forward and back substitution.
 * The off-diagonal work is GEMMs in ORT; diagonal blocks are factorized in JS and applied through
 * their explicit inverses (well conditioned: A carries the ridge, and L_JJ has the square root of
 * the condition number of A_JJ), which turns every triangular solve into a GEMM as well.
 */
export async function choleskySolveBlocked(A: Float64Array, k: number, B: Float64Array, d: number, gemm: Gemm64,
  nb = CHOLESKY_BLOCK): Promise<Float64Array> {
  const L = new Float64Array(k * k);
  const inv: Float64Array[] = [];
  for (let j0 = 0; j0 < k; j0 += nb) {
    const j1 = Math.min(k, j0 + nb), w = j1 - j0, h = k - j0;
    // S = A[j0:, J] − L[j0:, :j0] · L[J, :j0]ᵀ: block column J of A with every earlier column applied.
    const S = block(A, k, j0, k, j0, j1);
    if (j0 > 0) {
      const P = block(L, k, j0, k, 0, j0);
      const U = await gemm.mul(P, h, j0, P.subarray(0, w * j0), w, true);
      for (let i = 0; i < S.length; i++) S[i]! -= U[i]!;
    }
    const Ljj = S.subarray(0, w * w);
    factorDiagonalBlock(Ljj, w, j0);
    const Linv = invertLower(Ljj, w);
    inv.push(Linv);
    for (let i = 0; i < w; i++) L.set(Ljj.subarray(i * w, i * w + i + 1), (j0 + i) * k + j0);
    if (h > w) {
      // L[j1:, J] = S[w:] · L_JJ⁻ᵀ
      const panel = await gemm.mul(S.subarray(w * w), h - w, w, Linv, w, true);
      for (let i = 0; i < h - w; i++) L.set(panel.subarray(i * w, (i + 1) * w), (j1 + i) * k + j0);
    }
  }
  // L Z = B, block row by block row: Z_I = L_II⁻¹ (B_I − L[I, :i0] Z[:i0]).
  const X = new Float64Array(k * d);
  for (let i0 = 0, I = 0; i0 < k; i0 += nb, I++) {
    const i1 = Math.min(k, i0 + nb), w = i1 - i0;
    const R = B.slice(i0 * d, i1 * d);
    if (i0 > 0) {
      const U = await gemm.mul(block(L, k, i0, i1, 0, i0), w, i0, X.subarray(0, i0 * d), d);
      for (let i = 0; i < R.length; i++) R[i]! -= U[i]!;
    }
    X.set(await gemm.mul(inv[I]!, w, w, R, d), i0 * d);
  }
  // Lᵀ X = Z, from the last block row up: X_I = L_II⁻ᵀ (Z_I − L[i1:, I]ᵀ X[i1:]).
  for (let I = inv.length - 1; I >= 0; I--) {
    const i0 = I * nb, i1 = Math.min(k, i0 + nb), w = i1 - i0;
    const R = X.slice(i0 * d, i1 * d);
    if (i1 < k) {
      const U = await gemm.mul(transpose(block(L, k, i1, k, i0, i1), k - i1, w), w, k - i1, X.subarray(i1 * d), d);
      for (let i = 0; i < R.length; i++) R[i]! -= U[i]!;
    }
    X.set(await gemm.mul(transpose(inv[I]!, w, w), w, w, R, d), i0 * d);
  }
  return X;
}
