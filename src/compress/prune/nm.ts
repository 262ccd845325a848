/**
 * N:M semi-structured sparsity (2:4 by default): in every group of M consecutive weights along the
 * reduction (input) dimension of each output column, only the N of largest |w| are kept. That is the
 * pattern NVIDIA's sparse tensor cores (Ampere and later, through TensorRT) execute at up to twice
 * the dense math rate. ONNX Runtime's CPU and WebAssembly kernels have no such path: on this
 * toolkit's targets a 2:4 model runs exactly as fast as the dense one, and it is reported as
 * sparsity and compressed size only (docs/pruning.md).
 *
 * A trailing group shorter than M (an input dimension not divisible by M, e.g. a Mixer's S = 49
 * tokens) keeps min(N, its length) weights; the report gives the sparsity actually reached.
 * Applied to the same matrices as magnitude pruning (magnitude.ts `sparsifiable`).
 */
import { UserError } from '../../errors.js';
import type { ModelIR } from '../../models/ir.js';
import { type SparsityResult, sparsifiable, sparsityReport } from './magnitude.js';
import { cloneIR } from './structured.js';

/** Apply N:M to a row-major [rows (input), cols (output)] matrix, in place. */
export function applyNM(w: Float32Array, rows: number, cols: number, n: number, m: number): void {
  const idx = new Int32Array(m);
  for (let j = 0; j < cols; j++) {
    for (let g0 = 0; g0 < rows; g0 += m) {
      const len = Math.min(m, rows - g0);
      if (len <= n) continue;
      for (let t = 0; t < len; t++) idx[t] = t;
      // Insertion sort of the group by |w| descending (M is tiny); ties keep the lower index.
      for (let a = 1; a < len; a++) {
        const v = idx[a]!, av = Math.abs(w[(g0 + v) * cols + j]!);
        let b = a - 1;
        while (b >= 0 && Math.abs(w[(g0 + idx[b]!) * cols + j]!) < av) { idx[b + 1] = idx[b]!; b--; }
        idx[b + 1] = v;
      }
      for (let t = n; t < len; t++) w[(g0 + idx[t]!) * cols + j] = 0;
    }
  }
}

export function parseNM(spec: string): { n: number; m: number } {
  const r = /^(\d+):(\d+)$/.exec(spec.trim());
  const n = r ? Number(r[1]) : NaN, m = r ? Number(r[2]) : NaN;
  if (!r || !(n >= 1 && m > n && m <= 64)) throw new UserError(`--nm ${spec}: expected N:M with 1 <= N < M <= 64, e.g. 2:4`);
  return { n, m };
}

export function nmPrune(ir: ModelIR, o: { n?: number; m?: number } = {}): SparsityResult {
  const n = o.n ?? 2, m = o.m ?? 4;
  const out = cloneIR(ir);
  const targets = sparsifiable(ir.config);
  for (const t of targets) {
    const w = ir.weights.get(t.name)!;
    const data = w.data.slice();
    applyNM(data, t.rows, t.cols, n, m);
    out.weights.set(t.name, { dims: w.dims, data });
  }
  return { ir: out, ...sparsityReport(out, targets) };
}
