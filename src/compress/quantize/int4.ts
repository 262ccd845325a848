/**
 * INT4 weight-only: each canonical MatMul(x, W [K, N]) becomes com.microsoft.MatMulNBits with 4-bit
 * weights quantized in blocks of `blockSize` along K, one scale (and, asymmetric, one 4-bit zero
 * point) per block and column. Activations stay float. This is for download size (about 1/7 of
 * fp32): on CPUs the int8 paths are faster.
 *
 * Layout (onnxruntime contrib_defs, MatMulNBits): B uint8 [N, n_blocks, block_size / 2], column n's
 * block b holds W[b·bs + j, n] for j = 0..bs-1, two per byte, even j in the low nibble; scales
 * float [N · n_blocks] (column-major by block); zero points uint8 [N · ceil(n_blocks / 2)], also two
 * per byte, low nibble first; absent = 8. Dequantized value = (q − zp) · scale.
 */
import { DataType, rawTensor, type NodeProto } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';
import { floatValues } from '../../graph/tensors.js';
import type { WeightLayerResult } from './dynamic.js';
import { sqnr } from './int8.js';
import { MS } from './registry.js';

export interface Int4Options {
  /** Power of two, >= 16 (default 32). */
  blockSize: number;
  /** Symmetric: zero point 8 (not stored), the block's largest magnitude maps to −8. Default: asymmetric. */
  symmetric: boolean;
  /** MatMulNBits accuracy_level (0 = unset: float compute). 4 computes with int8 activations. */
  accuracyLevel: number;
}

export const DEFAULT_INT4: Int4Options = { blockSize: 32, symmetric: false, accuracyLevel: 0 };

export interface BlockQuantized {
  K: number;
  N: number;
  blockSize: number;
  nBlocks: number;
  /** [N, nBlocks, blockSize/2] */
  packed: Uint8Array;
  scales: Float32Array;
  /** Packed zero points, or null (symmetric: 8). */
  zeroPoints: Uint8Array | null;
}

export function quantizeBlockwise(w: Float32Array, K: number, N: number, o: Pick<Int4Options, 'blockSize' | 'symmetric'>): BlockQuantized {
  const bs = o.blockSize;
  const nBlocks = Math.ceil(K / bs);
  const blob = bs / 2;
  const packed = new Uint8Array(N * nBlocks * blob);
  const scales = new Float32Array(N * nBlocks);
  const zpBytes = Math.ceil(nBlocks / 2);
  const zeroPoints = o.symmetric ? null : new Uint8Array(N * zpBytes);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * bs, k1 = Math.min(K, k0 + bs);
      let scale: number, zp: number;
      if (o.symmetric) {
        let amax = 0;
        for (let k = k0; k < k1; k++) { const v = w[k * N + n]!; if (Math.abs(v) > Math.abs(amax)) amax = v; }
        scale = amax === 0 ? 1 : Math.fround(amax / -8);
        zp = 8;
      } else {
        let lo = 0, hi = 0;
        for (let k = k0; k < k1; k++) { const v = w[k * N + n]!; if (v < lo) lo = v; if (v > hi) hi = v; }
        scale = hi - lo > 0 ? Math.fround((hi - lo) / 15) : 1;
        zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
        zeroPoints![n * zpBytes + (b >> 1)]! |= zp << ((b & 1) * 4);
      }
      scales[n * nBlocks + b] = scale;
      const base = (n * nBlocks + b) * blob;
      for (let j = 0; j < bs; j++) {
        const k = k0 + j;
        // Padding past K holds the zero point, i.e. dequantizes to exactly 0.
        const q = k < k1 ? Math.min(15, Math.max(0, Math.round(w[k * N + n]! / scale) + zp)) : zp;
        packed[base + (j >> 1)]! |= q << ((j & 1) * 4);
      }
    }
  }
  return { K, N, blockSize: bs, nBlocks, packed, scales, zeroPoints };
}

/** Back to float [K, N] (the reference the tests compare MatMulNBits against). */
export function dequantizeBlockwise(q: BlockQuantized): Float32Array {
  const { K, N, blockSize: bs, nBlocks } = q;
  const out = new Float32Array(K * N);
  const zpBytes = Math.ceil(nBlocks / 2);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const scale = q.scales[n * nBlocks + b]!;
      const zp = q.zeroPoints ? (q.zeroPoints[n * zpBytes + (b >> 1)]! >> ((b & 1) * 4)) & 15 : 8;
      const base = (n * nBlocks + b) * (bs / 2);
      for (let j = 0; j < bs && b * bs + j < K; j++) {
        const v = (q.packed[base + (j >> 1)]! >> ((j & 1) * 4)) & 15;
        out[(b * bs + j) * N + n] = (v - zp) * scale;
      }
    }
  }
  return out;
}

export function quantizeInt4(g: Graph, mm: NodeProto, o: Int4Options & { compare: string }): WeightLayerResult {
  const [x, wName] = mm.input as [string, string];
  const w = floatValues(g.constant(wName)!);
  const [K, N] = w.dims as [number, number];
  const q = quantizeBlockwise(w.data, K, N, o);
  const base = wName.replace(/_t$/, '');
  const inputs = [x,
    g.addInitializer(rawTensor(`${base}/int4`, DataType.UINT8, [N, q.nBlocks, o.blockSize / 2], q.packed)),
    g.addInitializer(rawTensor(`${base}/scales`, DataType.FLOAT, [N * q.nBlocks], q.scales))];
  if (q.zeroPoints) inputs.push(g.addInitializer(rawTensor(`${base}/zero_points`, DataType.UINT8, [q.zeroPoints.length], q.zeroPoints)));
  const attribute: NonNullable<NodeProto['attribute']> = [
    { name: 'K', type: 2, i: K }, { name: 'N', type: 2, i: N }, { name: 'bits', type: 2, i: 4 },
    { name: 'block_size', type: 2, i: o.blockSize }];
  if (o.accuracyLevel) attribute.push({ name: 'accuracy_level', type: 2, i: o.accuracyLevel });
  const nb = g.makeNode('MatMulNBits', inputs, { name: `${mm.name}/int4`, domain: MS, outputs: [mm.output![0]!], attribute });
  g.replace(mm, [nb]);
  return { compare: o.compare, weightSqnr: sqnr(w.data, dequantizeBlockwise(q)), floatBytes: K * N * 4,
    quantBytes: q.packed.length + q.scales.length * 4 + (q.zeroPoints?.length ?? 0) };
}
