/**
 * Unstructured magnitude pruning: zero the weights of smallest |w| in the blocks' weight matrices
 * (q/k/v/out and the two MLP kernels of a ViT block; the token- and channel-mixing kernels of a
 * Mixer block). Embedding, position embedding, LayerNorms, biases and the head are left dense, as
 * is usual: they are a few percent of the weights and the most sensitive ones.
 *
 * Honest note (docs/pruning.md): the matrices keep their shapes and the zeros are stored, so a dense
 * CPU kernel does exactly the same work: the speed does not change. What changes is how well the
 * file compresses (gzip), which the report measures.
 *
 * The threshold is exact: the k = round(ratio · n) smallest magnitudes are zeroed (ties broken by
 * position), found by a two-pass radix select over the float32 bit patterns of |w| (for
 * non-negative floats the bit pattern orders like the value), so no copy of all weights is sorted.
 */
import { UserError } from '../../errors.js';
import { type ModelConfig, mixerLayer, vitLayer } from '../../models/config.js';
import type { ModelIR } from '../../models/ir.js';
import { mixerBlockNames, vitBlockNames } from '../../models/names.js';
import type { Tensor } from '../../tensor.js';
import { cloneIR } from './structured.js';

/** A weight matrix seen as [in, out] (the reduction dimension first). */
export interface SparseTarget { name: string; rows: number; cols: number }

/** The matrices magnitude and N:M pruning touch. */
export function sparsifiable(c: ModelConfig): SparseTarget[] {
  const out: SparseTarget[] = [];
  if (c.family === 'vit') {
    const D = c.hidden;
    for (let l = 0; l < c.layers; l++) {
      const n = vitBlockNames(l), a = n.attn;
      const { attention: A, mlp } = vitLayer(c, l);
      for (const d of [a.query, a.key, a.value]) out.push({ name: d.kernel, rows: D, cols: A });
      out.push({ name: a.out.kernel, rows: A, cols: D });
      out.push({ name: n.mlp.fc1.kernel, rows: D, cols: mlp });
      out.push({ name: n.mlp.fc2.kernel, rows: mlp, cols: D });
    }
  } else {
    const C = c.hidden, g = Math.ceil(c.resolution / c.patch), S = g * g;
    for (let i = 0; i < c.blocks; i++) {
      const { tokenMixing: tm, channelMixing: cm } = mixerBlockNames(i);
      const { tokensMlp, channelsMlp } = mixerLayer(c, i);
      out.push({ name: tm.fc1.kernel, rows: S, cols: tokensMlp });
      out.push({ name: tm.fc2.kernel, rows: tokensMlp, cols: S });
      out.push({ name: cm.fc1.kernel, rows: C, cols: channelsMlp });
      out.push({ name: cm.fc2.kernel, rows: channelsMlp, cols: C });
    }
  }
  return out;
}

export interface MatrixSparsity { name: string; size: number; zeros: number }

export interface SparsityResult {
  ir: ModelIR;
  matrices: MatrixSparsity[];
  /** Zeros / size over the pruned matrices. */
  sparsity: number;
  /** Zeros / all parameters of the model. */
  modelSparsity: number;
}

/** Bit pattern of |v| (sign cleared) for float32 values. */
function absBits(t: Float32Array): Uint32Array {
  return new Uint32Array(t.buffer, t.byteOffset, t.length);
}

/** The k-th smallest (0-based) of |w| over several arrays, as a float32 bit pattern. */
export function kthAbsBits(arrays: readonly Float32Array[], k: number): number {
  const hist = new Float64Array(65536);
  for (const a of arrays) { const u = absBits(a); for (let i = 0; i < u.length; i++) hist[(u[i]! & 0x7fffffff) >>> 16]!++; }
  let hi = 0, before = 0;
  while (before + hist[hi]! <= k) { before += hist[hi]!; hi++; }
  hist.fill(0);
  for (const a of arrays) {
    const u = absBits(a);
    for (let i = 0; i < u.length; i++) { const v = u[i]! & 0x7fffffff; if (v >>> 16 === hi) hist[v & 0xffff]!++; }
  }
  let lo = 0;
  while (before + hist[lo]! <= k) { before += hist[lo]!; lo++; }
  return ((hi << 16) | lo) >>> 0;
}

/** Zero the `count` smallest |w| of the arrays (in place on copies made by the caller). */
function zeroSmallest(arrays: Float32Array[], count: number): void {
  if (count <= 0) return;
  const total = arrays.reduce((s, a) => s + a.length, 0);
  if (count >= total) { for (const a of arrays) a.fill(0); return; }
  const thr = kthAbsBits(arrays, count - 1);
  // Everything strictly below the threshold goes; then ties at the threshold, first come first.
  let below = 0;
  for (const a of arrays) { const u = absBits(a); for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7fffffff) < thr) below++; }
  let ties = count - below;
  for (const a of arrays) {
    const u = absBits(a);
    for (let i = 0; i < u.length; i++) {
      const v = u[i]! & 0x7fffffff;
      if (v < thr) a[i] = 0;
      else if (v === thr && ties > 0) { a[i] = 0; ties--; }
    }
  }
}

function countZeros(a: Float32Array): number {
  let z = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === 0) z++;
  return z;
}

export function sparsityReport(ir: ModelIR, targets: readonly SparseTarget[]): Omit<SparsityResult, 'ir'> {
  const matrices = targets.map((t) => { const d = ir.weights.get(t.name)!.data; return { name: t.name, size: d.length, zeros: countZeros(d) }; });
  const size = matrices.reduce((s, m) => s + m.size, 0), zeros = matrices.reduce((s, m) => s + m.zeros, 0);
  let all = 0, allZeros = 0;
  for (const t of ir.weights.values()) { all += t.data.length; allZeros += countZeros(t.data); }
  return { matrices, sparsity: zeros / size, modelSparsity: allZeros / all };
}

/**
 * Zero a fraction `ratio` of the weights of the block matrices: per matrix ('layer': each matrix
 * loses the same fraction) or with one threshold over all of them ('global').
 */
export function magnitudePrune(ir: ModelIR, o: { ratio: number; scope?: 'layer' | 'global' }): SparsityResult {
  if (!(o.ratio > 0 && o.ratio < 1)) throw new UserError(`--ratio ${o.ratio}: must be strictly between 0 and 1`);
  const out = cloneIR(ir);
  const targets = sparsifiable(ir.config);
  const copies = targets.map((t) => {
    const w = ir.weights.get(t.name)!;
    const c: Tensor = { dims: w.dims, data: w.data.slice() };
    out.weights.set(t.name, c);
    return c.data;
  });
  if ((o.scope ?? 'layer') === 'layer') {
    for (const a of copies) zeroSmallest([a], Math.round(o.ratio * a.length));
  } else {
    zeroSmallest(copies, Math.round(o.ratio * copies.reduce((s, a) => s + a.length, 0)));
  }
  return { ir: out, ...sparsityReport(out, targets) };
}
