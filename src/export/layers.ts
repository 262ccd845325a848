/**
 * Building blocks shared by the ViT and Mixer graphs, in two styles:
 * - 'ort': fused ONNX Runtime contrib ops where its CPU kernels are faster (Attention,
 *   SkipLayerNormalization, FastGelu/BiasGelu);
 * - 'portable': standard ONNX (opset 17) only, so onnxruntime-web and other runtimes load it.
 */
import { float, GraphBuilder, int, ints } from '../formats/onnx.js';
import type { Tensor } from '../tensor.js';
import type { Numerics } from '../models/config.js';

export type GraphStyle = 'ort' | 'portable';
export const MS = 'com.microsoft';

export interface Ctx {
  g: GraphBuilder;
  style: GraphStyle;
  numerics: Numerics;
}

/** Reinterpret a tensor with new dims (same row-major data). */
export function reshaped(t: Tensor, dims: number[]): Tensor {
  return { dims, data: t.data };
}

/** [in, out] kernel: y = x @ kernel + bias. */
export function dense(c: Ctx, x: string, kernel: Tensor, bias: Tensor | null, name: string): string {
  const y = c.g.op('MatMul', [x, c.g.weight(`${name}/kernel`, kernel)], {}, { name: `${name}/MatMul` });
  return bias ? c.g.op('Add', [y, c.g.weight(`${name}/bias`, bias)], {}, { name: `${name}/Add` }) : y;
}

export function layerNorm(c: Ctx, x: string, scale: Tensor, bias: Tensor, name: string): string {
  return c.g.op('LayerNormalization', [x, c.g.weight(`${name}/scale`, scale), c.g.weight(`${name}/bias`, bias)],
    { axis: int(-1), epsilon: float(c.numerics.layerNormEps) }, { name });
}

/** GELU written out in standard ops: tanh form (jax default) or exact erf form. */
function geluPortable(c: Ctx, x: string, name: string): string {
  const g = c.g;
  const k = (v: number, n: string) => g.weight(`${name}/${n}`, { dims: [], data: Float32Array.of(v) });
  if (c.numerics.gelu === 'erf') {
    const e = g.op('Erf', [g.op('Mul', [x, k(Math.SQRT1_2, 'inv_sqrt2')])]);
    return g.op('Mul', [g.op('Mul', [x, k(0.5, 'half')]), g.op('Add', [e, k(1, 'one')])], {}, { name });
  }
  const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, k(0.044715, 'c')])]), k(Math.sqrt(2 / Math.PI), 'sqrt_2_over_pi')]);
  const t = g.op('Tanh', [inner]);
  return g.op('Mul', [g.op('Mul', [x, k(0.5, 'half')]), g.op('Add', [t, k(1, 'one')])], {}, { name });
}

/** gelu(x + bias) (bias over the last axis, or null). */
export function biasGelu(c: Ctx, x: string, bias: Tensor | null, name: string): string {
  const g = c.g;
  if (c.style === 'ort') {
    const b = bias ? [g.weight(`${name}/bias`, bias)] : [];
    if (c.numerics.gelu === 'tanh') return g.op('FastGelu', [x, ...b], {}, { domain: MS, name });
    return b.length ? g.op('BiasGelu', [x, ...b], {}, { domain: MS, name }) : g.op('Gelu', [x], {}, { domain: MS, name });
  }
  const xb = bias ? g.op('Add', [x, g.weight(`${name}/bias`, bias)]) : x;
  return geluPortable(c, xb, name);
}

/**
 * Residual add followed by LayerNorm: returns [normalized, sum]. In the 'ort' style one
 * SkipLayerNormalization computes both (its 4th output is input + skip + bias).
 */
export function addAndNorm(c: Ctx, x: string, residual: string, bias: Tensor | null, scale: Tensor, lnBias: Tensor,
  name: string): [string, string] {
  const g = c.g;
  if (c.style === 'ort') {
    const inputs = [x, residual, g.weight(`${name}/scale`, scale), g.weight(`${name}/bias`, lnBias)];
    if (bias) inputs.push(g.weight(`${name}/skip_bias`, bias));
    const outs = g.node('SkipLayerNormalization', inputs, { epsilon: float(c.numerics.layerNormEps) },
      { domain: MS, outputs: 4, name });
    return [outs[0]!, outs[3]!];
  }
  const xb = bias ? g.op('Add', [x, g.weight(`${name}/skip_bias`, bias)]) : x;
  const sum = g.op('Add', [xb, residual], {}, { name: `${name}/residual` });
  return [layerNorm(c, sum, scale, lnBias, name), sum];
}

/** [B, T, D] -> [B, T, H, hd] -> perm. */
export function splitHeads(c: Ctx, x: string, heads: number, headDim: number, perm: number[], name: string): string {
  const shape = c.g.int64(`${name}/shape`, [0, 0, heads, headDim]);
  return c.g.op('Transpose', [c.g.op('Reshape', [x, shape])], { perm: ints(perm) }, { name });
}
