/**
 * Building blocks shared by the ViT and Mixer graphs, in two styles:
 * - 'ort': ONNX Runtime contrib ops (Attention with packed QKV, SkipLayerNormalization,
 *   FastGelu/BiasGelu), each one used only where `Fusions` says so: whether a fusion pays off
 *   depends on the CPU and on the precision (./fusions.ts holds the measured choices);
 * - 'portable': standard ONNX (opset 17) only, so any runtime loads it (no fusions).
 * Weight names do not depend on the fusions (prune/from-onnx.ts reads either form back); they all
 * come from ../models/names.ts.
 */
import { float, GraphBuilder, int, ints } from '../formats/onnx.js';
import type { Tensor } from '../tensor.js';
import type { Numerics } from '../models/config.js';
import type { DenseNames, MlpNames, NormNames } from '../models/names.js';

export type GraphStyle = 'ort' | 'portable';
export const MS = 'com.microsoft';

/** Which contrib-op fusions an 'ort' graph uses (a 'portable' graph uses none). */
export interface Fusions {
  /** com.microsoft Attention: packed QKV projection + scaled dot product + softmax in one node. */
  attention: boolean;
  /** SkipLayerNormalization: residual add + bias + LayerNorm in one node (4th output: the sum). */
  skipLayerNorm: boolean;
  /** FastGelu / BiasGelu: bias add + GELU in one node. */
  gelu: boolean;
}

export const ALL_FUSIONS: Fusions = { attention: true, skipLayerNorm: true, gelu: true };
export const NO_FUSIONS: Fusions = { attention: false, skipLayerNorm: false, gelu: false };

export interface Ctx {
  g: GraphBuilder;
  style: GraphStyle;
  fusions: Fusions;
  numerics: Numerics;
}

/** Reinterpret a tensor with new dims (same row-major data). */
export function reshaped(t: Tensor, dims: number[]): Tensor {
  return { dims, data: t.data };
}

/** [in, out] kernel: y = x @ kernel + bias. */
export function dense(c: Ctx, x: string, kernel: Tensor, bias: Tensor | null, n: DenseNames): string {
  const y = c.g.op('MatMul', [x, c.g.weight(n.kernel, kernel)], {}, { name: n.matmul });
  return bias ? c.g.op('Add', [y, c.g.weight(n.bias, bias)], {}, { name: n.add }) : y;
}

export function layerNorm(c: Ctx, x: string, scale: Tensor, bias: Tensor, n: NormNames): string {
  return c.g.op('LayerNormalization', [x, c.g.weight(n.scale, scale), c.g.weight(n.bias, bias)],
    { axis: int(-1), epsilon: float(c.numerics.layerNormEps) }, { name: n.scope });
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

/** gelu(x + bias) (bias over the last axis, or null): the activation of MLP `m`, which carries Dense_0's bias. */
export function biasGelu(c: Ctx, x: string, bias: Tensor | null, m: MlpNames): string {
  const g = c.g;
  const name = m.gelu;
  if (c.fusions.gelu) {
    const b = bias ? [g.weight(m.geluBias, bias)] : [];
    if (c.numerics.gelu === 'tanh') return g.op('FastGelu', [x, ...b], {}, { domain: MS, name });
    return b.length ? g.op('BiasGelu', [x, ...b], {}, { domain: MS, name }) : g.op('Gelu', [x], {}, { domain: MS, name });
  }
  const xb = bias ? g.op('Add', [x, g.weight(m.geluBias, bias)]) : x;
  return geluPortable(c, xb, name);
}

/**
 * residual + (x + bias), in standard ops. Named after the LayerNorm `n` that follows it, which also
 * names the bias (`skip_bias`): the same names as the fused form, so readers need not know which.
 */
export function residualAdd(c: Ctx, x: string, residual: string, bias: Tensor | null, n: NormNames): string {
  const g = c.g;
  const xb = bias ? g.op('Add', [x, g.weight(n.skipBias, bias)]) : x;
  return g.op('Add', [xb, residual], {}, { name: n.residual });
}

/**
 * Residual add followed by LayerNorm `n`: returns [normalized, sum]. Fused, one
 * SkipLayerNormalization computes both (its 4th output is input + skip + bias).
 */
export function addAndNorm(c: Ctx, x: string, residual: string, bias: Tensor | null, scale: Tensor, lnBias: Tensor,
  n: NormNames): [string, string] {
  const g = c.g;
  if (c.fusions.skipLayerNorm) {
    const inputs = [x, residual, g.weight(n.scale, scale), g.weight(n.bias, lnBias)];
    if (bias) inputs.push(g.weight(n.skipBias, bias));
    const outs = g.node('SkipLayerNormalization', inputs, { epsilon: float(c.numerics.layerNormEps) },
      { domain: MS, outputs: 4, name: n.scope });
    return [outs[0]!, outs[3]!];
  }
  const sum = residualAdd(c, x, residual, bias, n);
  return [layerNorm(c, sum, scale, lnBias, n), sum];
}

/** [B, T, D] -> [B, T, H, hd] -> perm. */
export function splitHeads(c: Ctx, x: string, heads: number, headDim: number, perm: number[], name: string): string {
  const shape = c.g.int64(`${name}/shape`, [0, 0, heads, headDim]);
  return c.g.op('Transpose', [c.g.op('Reshape', [x, shape])], { perm: ints(perm) }, { name });
}
