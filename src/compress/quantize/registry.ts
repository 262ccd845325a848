/**
 * The registry: op type -> how a node of that type is seen as a weight layer and rewritten into the
 * one canonical form every quantizer understands, MatMul(activation, W [K, N] constant). Like ONNX
 * Runtime's quantization registry, adding an op means adding one entry here; the quantizers
 * (dynamic.ts, static.ts, int4.ts) never look at the original op type.
 *
 * Modes may refuse an op outright (MODE_LIMITS): e.g. Conv has no usable dynamic int8 kernel.
 */
import { DataType, type NodeProto } from '../../formats/onnx.js';
import { attr, attrFloat, attrInt, type Graph } from '../../graph/graph.js';
import type { TensorInfo } from '../../graph/outputs.js';
import { dimsOf, floatInit, floatValues, int64Init, transpose2d } from '../../graph/tensors.js';
import { feedsOutputDirectly, type Layer, layerLabel } from './layers.js';

export const MS = 'com.microsoft';

export interface RegistryContext {
  g: Graph;
  info: Map<string, TensorInfo>;
  /** A hybrid's ResNet stem convolutions (stem.ts), with whether they are quantized and, if not, why. */
  stem?: { convs: Set<string>; quantize: boolean; floatReason: string };
}

export interface OpHandler {
  /** Describe `n` as a weight layer; a string says why it is not quantizable; null: not a weight layer at all. */
  match(c: RegistryContext, n: NodeProto): Layer | string | null;
  /** Rewrite the node in place into canonical form; returns the canonical MatMul node. */
  canonical(c: RegistryContext, n: NodeProto, layer: Layer): NodeProto;
}

const key = (n: NodeProto): string => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType!);

function floatConst(c: RegistryContext, name: string | undefined) {
  if (!name) return undefined;
  const t = c.g.constant(name);
  return t && t.dataType === DataType.FLOAT ? t : undefined;
}

function layer(c: RegistryContext, n: NodeProto, kind: Layer['kind'], weight: string, K: number, N: number): Layer {
  return { id: n.name!, label: layerLabel(n, weight), opType: n.opType!, kind, weight, K, N,
    head: feedsOutputDirectly(c.g, n.output![0]!), output: n.output![0]! };
}

/** A Split of the last axis into `sizes` (attribute before opset 13, input after). */
function splitLast(c: RegistryContext, x: string, sizes: number[], name: string): NodeProto {
  const g = c.g;
  const opset = g.opsetVersion('');
  if (opset >= 13) {
    return g.makeNode('Split', [x, g.addInitializer(int64Init(`${name}/sizes`, sizes))],
      { name, outputs: sizes.length, attribute: [{ name: 'axis', type: 2, i: -1 }] });
  }
  return g.makeNode('Split', [x], { name, outputs: sizes.length,
    attribute: [{ name: 'axis', type: 2, i: -1 }, { name: 'split', type: 7, ints: sizes }] });
}

const matmul: OpHandler = {
  match(c, n) {
    const [a, b] = n.input as [string, string];
    const wb = floatConst(c, b);
    if (wb) {
      const d = dimsOf(wb);
      if (c.g.isConstant(a)) return 'both inputs are constant (fold it instead)';
      if (d.length !== 2) return `weight ${b} is ${d.length}-D, not a 2-D matrix`;
      return layer(c, n, 'linear', b, d[0]!, d[1]!);
    }
    const wa = floatConst(c, a);
    if (wa) {
      const d = dimsOf(wa);
      if (d.length !== 2) return `constant ${a} is ${d.length}-D, not a 2-D matrix`;
      const rank = c.info.get(b)?.shape?.length;
      if (!rank || rank < 2) return `input ${b} has unknown rank`;
      // W [M, K] @ x [..., K, N] == (xᵀ [..., N, K] @ Wᵀ [K, M])ᵀ: the weight becomes B = Wᵀ [K, M].
      return layer(c, n, 'token-mixing', a, d[1]!, d[0]!);
    }
    return null; // activation x activation (attention scores): not a weight layer
  },
  canonical(c, n, l) {
    if (l.kind === 'linear') return n;
    const g = c.g;
    const rank = c.info.get(n.input![1]!)!.shape!.length;
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    const w = floatValues(g.constant(l.weight)!);
    const wt = g.addInitializer(floatInit(`${l.weight}_t`, [l.K, l.N], transpose2d(w.data, l.N, l.K)));
    const permAttr = [{ name: 'perm', type: 7, ints: perm }];
    const t1 = g.makeNode('Transpose', [n.input![1]!], { name: `${n.name}/x_t`, attribute: permAttr });
    const mm = g.makeNode('MatMul', [t1.output![0]!, wt], { name: `${n.name}/MatMul_t` });
    const t2 = g.makeNode('Transpose', [mm.output![0]!], { name: `${n.name}/y_t`, outputs: [n.output![0]!], attribute: permAttr });
    g.replace(n, [t1, mm, t2]);
    return mm;
  },
};

const gemm: OpHandler = {
  match(c, n) {
    const [, b, bias] = n.input as [string, string, string?];
    const wb = floatConst(c, b);
    if (!wb) return c.g.isConstant(b) ? 'weight is not float32' : null;
    if (attrInt(n, 'transA', 0)) return 'Gemm with transA=1 is not supported';
    if (bias && !floatConst(c, bias)) return 'Gemm with a non-constant C input is not supported';
    const d = dimsOf(wb);
    const tb = attrInt(n, 'transB', 0) === 1;
    return layer(c, n, 'linear', b, tb ? d[1]! : d[0]!, tb ? d[0]! : d[1]!);
  },
  canonical(c, n, l) {
    // Gemm(A, B, C) = alpha·A·op(B) + beta·C  ->  MatMul(A, alpha·op(B)) + beta·C.
    const g = c.g;
    const [a, b, bias] = n.input as [string, string, string?];
    const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
    const w = floatValues(g.constant(b)!);
    let data = attrInt(n, 'transB', 0) ? transpose2d(w.data, l.N, l.K) : w.data;
    if (alpha !== 1) data = data.map((v) => v * alpha);
    const wn = g.addInitializer(floatInit(`${b}_kn`, [l.K, l.N], data));
    const out = n.output![0]!;
    if (!bias) {
      const mm = g.makeNode('MatMul', [a, wn], { name: n.name!, outputs: [out] });
      g.replace(n, [mm]);
      return mm;
    }
    const cv = floatValues(g.constant(bias)!);
    const bn = beta === 1 ? bias : g.addInitializer(floatInit(`${bias}_scaled`, cv.dims, cv.data.map((v) => v * beta)));
    const mm = g.makeNode('MatMul', [a, wn], { name: n.name! });
    const add = g.makeNode('Add', [mm.output![0]!, bn], { name: `${n.name}/bias`, outputs: [out] });
    g.replace(n, [mm, add]);
    return mm;
  },
};

/** com.microsoft Attention: x @ Wqkv + b, then scaled dot-product attention. */
const attention: OpHandler = {
  match(c, n) {
    const [, w, b, mask, past, , ...rest] = n.input as string[];
    // attention_bias (input 5; e.g. Token Merging's log-size bias) carries over to MultiHeadAttention.
    if (mask || past || rest.some((x) => x)) return 'Attention with a mask or past state is not unpacked';
    if (attrInt(n, 'unidirectional', 0) || attrInt(n, 'do_rotary', 0) || attrInt(n, 'past_present_share_buffer', 0)) {
      return 'causal / rotary / shared-buffer Attention is not unpacked';
    }
    const wt = floatConst(c, w);
    if (!wt) return 'Attention weight is not a float32 constant';
    if (b && !floatConst(c, b)) return 'Attention bias is not a constant';
    const d = dimsOf(wt);
    return layer(c, n, 'qkv', w!, d[0]!, d[1]!);
  },
  canonical(c, n, l) {
    // Attention(x, W, b[, attention_bias]) == MultiHeadAttention(split(x @ W), bias = b[, attention_bias]): the projection becomes a
    // plain MatMul that every quantizer handles, the attention core stays one fused float kernel.
    const g = c.g;
    const [x, w, b, , , attentionBias] = n.input as string[];
    const sizes = attr(n, 'qkv_hidden_sizes')?.ints ?? [l.N / 3, l.N / 3, l.N / 3];
    const mm = g.makeNode('MatMul', [x!, w!], { name: `${n.name}/qkv` });
    const split = splitLast(c, mm.output![0]!, sizes, `${n.name}/split`);
    const mhaAttrs: NonNullable<NodeProto['attribute']> = [{ name: 'num_heads', type: 2, i: attrInt(n, 'num_heads', 1) }];
    const scale = attr(n, 'scale')?.f;
    if (scale) mhaAttrs.push({ name: 'scale', type: 1, f: scale });
    const mha = g.makeNode('MultiHeadAttention', [...split.output!, b ?? '', ...(attentionBias ? ['', attentionBias] : [])], {
      name: `${n.name}/mha`, domain: MS, outputs: [n.output![0]!], attribute: mhaAttrs });
    g.replace(n, [mm, split, mha]);
    return mm;
  },
};

/**
 * Conv: only a hybrid's stem convolutions, and only when the stem is quantized (static INT8, --stem int8).
 * There is no MatMul form: canonical() leaves the node as it is and the static quantizer writes it as
 * QDQ around the Conv (stem.ts), which ONNX Runtime runs as QLinearConv.
 */
const conv: OpHandler = {
  match(c, n) {
    if (!c.stem?.quantize || !c.stem.convs.has(n.name!)) return null;
    const [, w, bias] = n.input as [string, string, string?];
    const wt = floatConst(c, w);
    if (!wt) return 'stem Conv weight is not a float32 constant';
    if (bias) return 'stem Conv with a bias is not quantized (QLinearConv would need it in int32)';
    const d = dimsOf(wt);
    if (d.length !== 4) return `stem Conv weight ${w} is ${d.length}-D, not 2-D spatial`;
    return layer(c, n, 'conv', w, d[1]! * d[2]! * d[3]!, d[0]!);
  },
  canonical(_c, n) {
    return n;
  },
};

export const REGISTRY: Record<string, OpHandler> = {
  MatMul: matmul,
  Conv: conv,
  Gemm: gemm,
  [`${MS}.Attention`]: attention,
};

export function handlerFor(n: NodeProto): OpHandler | undefined {
  return REGISTRY[key(n)];
}

export type WeightMode = 'dynamic' | 'static' | 'int4';

/** Op types a mode cannot quantize, and why (a user who asks for them gets this message). */
export const MODE_LIMITS: Record<WeightMode, Record<string, string>> = {
  dynamic: {
    Conv: 'ConvInteger with int8 weights is not implemented in ONNX Runtime (the patch embedding stays float)',
  },
  static: {
    Conv: 'the patch-embedding convolution is kept float (static INT8 quantizes only a hybrid\'s ResNet stem convolutions, with --stem int8)',
  },
  int4: {
    Conv: 'MatMulNBits is a matrix multiply; convolutions stay float',
  },
};

/** Op types static (QDQ) mode can quantize beyond weight layers, when asked to (--include). */
export const STATIC_ACTIVATION_OPS = new Set([
  'Add', 'Mul', 'Sub', 'Softmax', 'LayerNormalization', 'Gelu', 'FastGelu', 'BiasGelu', 'Erf', 'Tanh', 'Relu',
  'MatMul', 'SkipLayerNormalization', 'ReduceMean', 'Concat', 'Transpose', 'Reshape', 'Gather',
]);
