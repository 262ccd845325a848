/**
 * Undo ONNX Runtime contrib-op fusions in any graph, writing the same function in standard ONNX ops:
 *
 *   SkipLayerNormalization(x, skip, γ, β, bias) -> sum = (x + bias) + skip; LayerNormalization(sum, γ, β)
 *   FastGelu(x, bias)                           -> the tanh form of GELU on x + bias
 *   BiasGelu(x, bias), Gelu(x)                  -> the exact erf form of GELU
 *   Attention(x, W, b[, attention_bias])        -> MatMul + Add, per-head Reshape/Transpose, q·kᵀ (scaled),
 *                                                  Softmax, ·v, merge heads
 *
 * Why: a fused kernel is not always the faster one. The choice is measured per CPU and precision
 * (src/export/fusions.ts); the quantizer applies its int8 row to the fp32 graph it is given, so an
 * INT8 model gets the graph that runs fastest in INT8 even though it was exported for fp32.
 * Nodes whose extra outputs are read (SkipLayerNormalization's mean / inv-std), or that use a mask,
 * past state or unusual attributes, are left fused.
 */
import { floatTensor, int64Tensor, type ModelProto, type NodeProto } from '../formats/onnx.js';
import type { Fusions } from '../export/layers.js';
import { attr, attrFloat, attrInt, cloneModel, Graph } from './graph.js';

const MS = 'com.microsoft';

export interface UnfuseResult {
  model: ModelProto;
  /** Op type -> nodes rewritten. */
  unfused: Record<string, number>;
}

function scalar(g: Graph, name: string, v: number): string {
  return g.addInitializer(floatTensor(name, { dims: [], data: Float32Array.of(v) }));
}

function int64s(g: Graph, name: string, v: number[]): string {
  return g.addInitializer(int64Tensor(name, v));
}

/** GELU of `x` into `out`, in the form the graph's exporter uses for each (tanh or erf). */
function gelu(g: Graph, x: string, out: string, form: 'tanh' | 'erf', name: string): NodeProto[] {
  const mul = (a: string, b: string, o?: string) => g.makeNode('Mul', [a, b], { name: `${name}/mul`, ...(o ? { outputs: [o] } : {}) });
  const add = (a: string, b: string) => g.makeNode('Add', [a, b], { name: `${name}/add` });
  const half = scalar(g, `${name}/half`, 0.5), one = scalar(g, `${name}/one`, 1);
  const xh = mul(x, half);
  if (form === 'erf') {
    const s = mul(x, scalar(g, `${name}/inv_sqrt2`, Math.SQRT1_2));
    const e = g.makeNode('Erf', [s.output![0]!], { name: `${name}/erf` });
    const e1 = add(e.output![0]!, one);
    return [xh, s, e, e1, mul(xh.output![0]!, e1.output![0]!, out)];
  }
  const x2 = mul(x, x), x3 = mul(x2.output![0]!, x);
  const c = mul(x3.output![0]!, scalar(g, `${name}/c`, 0.044715));
  const inner = add(x, c.output![0]!);
  const scaled = mul(inner.output![0]!, scalar(g, `${name}/sqrt_2_over_pi`, Math.sqrt(2 / Math.PI)));
  const t = g.makeNode('Tanh', [scaled.output![0]!], { name: `${name}/tanh` });
  const t1 = add(t.output![0]!, one);
  return [xh, x2, x3, c, inner, scaled, t, t1, mul(xh.output![0]!, t1.output![0]!, out)];
}

/** x + bias (an Add appended to `nodes`), or x itself without a bias. */
function addBias(g: Graph, x: string, bias: string | undefined, name: string, nodes: NodeProto[]): string {
  if (!bias) return x;
  const a = g.makeNode('Add', [x, bias], { name: `${name}/bias` });
  nodes.push(a);
  return a.output![0]!;
}

function unfuseSkipLayerNorm(g: Graph, n: NodeProto): NodeProto[] | null {
  const [x, skip, gamma, beta, bias] = n.input as (string | undefined)[];
  const [out, mean, invStd, sumOut] = n.output as (string | undefined)[];
  const read = (t: string | undefined) => !!t && (g.consumers(t).length > 0 || g.isGraphOutput(t));
  if (read(mean) || read(invStd)) return null;
  const name = n.name ?? 'SkipLayerNormalization';
  const nodes: NodeProto[] = [];
  const xb = addBias(g, x!, bias, name, nodes);
  const sum = g.makeNode('Add', [xb, skip!], { name: `${name}/residual`, ...(read(sumOut) ? { outputs: [sumOut!] } : {}) });
  // ORT's SkipLayerNormalization defaults epsilon to 1e-12 (LayerNormalization's default is 1e-5).
  const ln = g.makeNode('LayerNormalization', [sum.output![0]!, gamma!, ...(beta ? [beta] : [])], {
    name, outputs: [out!],
    attribute: [{ name: 'axis', type: 2, i: -1 }, { name: 'epsilon', type: 1, f: attrFloat(n, 'epsilon', 1e-12) }],
  });
  return [...nodes, sum, ln];
}

function unfuseGelu(g: Graph, n: NodeProto): NodeProto[] {
  const [x, bias] = n.input as (string | undefined)[];
  const name = n.name ?? n.opType!;
  const nodes: NodeProto[] = [];
  const xb = addBias(g, x!, bias, name, nodes);
  return [...nodes, ...gelu(g, xb, n.output![0]!, n.opType === 'FastGelu' ? 'tanh' : 'erf', name)];
}

function unfuseAttention(g: Graph, n: NodeProto): NodeProto[] | null {
  const [x, w, b, mask, past, attentionBias, ...rest] = n.input as (string | undefined)[];
  if (mask || past || rest.some((v) => v) || (n.output ?? []).slice(1).some((o) => o)) return null;
  if (attrInt(n, 'unidirectional', 0) || attrInt(n, 'do_rotary', 0) || attr(n, 'qkv_hidden_sizes')) return null;
  const wt = g.constant(w!);
  if (!wt?.dims || wt.dims.length !== 2) return null;
  const H = attrInt(n, 'num_heads', 1);
  const A = Number(wt.dims[1]) / 3;
  if (!Number.isInteger(A) || A % H !== 0) return null;
  const hd = A / H;
  const name = n.name ?? 'Attention';
  const nodes: NodeProto[] = [];
  const push = (node: NodeProto) => { nodes.push(node); return node.output![0]!; };
  let qkv = push(g.makeNode('MatMul', [x!, w!], { name: `${name}/qkv` }));
  if (b) qkv = push(g.makeNode('Add', [qkv, b], { name: `${name}/qkv_bias` }));
  const split = g.makeNode('Split', [qkv, int64s(g, `${name}/split_sizes`, [A, A, A])], {
    name: `${name}/split`, outputs: 3, attribute: [{ name: 'axis', type: 2, i: -1 }] });
  nodes.push(split);
  const heads = int64s(g, `${name}/heads_shape`, [0, 0, H, hd]);
  const perHead = (t: string, perm: number[], tag: string) => push(g.makeNode('Transpose', [push(g.makeNode('Reshape', [t, heads], { name: `${name}/${tag}_reshape` }))], {
    name: `${name}/${tag}_heads`, attribute: [{ name: 'perm', type: 7, ints: perm }] }));
  const scale = attr(n, 'scale')?.f || 1 / Math.sqrt(hd);
  const q = push(g.makeNode('Mul', [perHead(split.output![0]!, [0, 2, 1, 3], 'q'), scalar(g, `${name}/scale`, scale)], { name: `${name}/q_scaled` }));
  const kt = perHead(split.output![1]!, [0, 2, 3, 1], 'k');
  const v = perHead(split.output![2]!, [0, 2, 1, 3], 'v');
  let scores = push(g.makeNode('MatMul', [q, kt], { name: `${name}/scores` }));
  if (attentionBias) scores = push(g.makeNode('Add', [scores, attentionBias], { name: `${name}/attention_bias` }));
  const probs = push(g.makeNode('Softmax', [scores], { name: `${name}/softmax`, attribute: [{ name: 'axis', type: 2, i: -1 }] }));
  const ctx = push(g.makeNode('MatMul', [probs, v], { name: `${name}/context` }));
  const merged = push(g.makeNode('Transpose', [ctx], { name: `${name}/merge_transpose`, attribute: [{ name: 'perm', type: 7, ints: [0, 2, 1, 3] }] }));
  nodes.push(g.makeNode('Reshape', [merged, int64s(g, `${name}/merge_shape`, [0, 0, A])], { name: `${name}/merge_heads`, outputs: [n.output![0]!] }));
  return nodes;
}

/** Rewrite the fusions that `keep` switches off; everything else is left as it is. The input is not changed. */
export function unfuse(model: ModelProto, keep: Fusions): UnfuseResult {
  const m = cloneModel(model);
  const g = new Graph(m);
  const unfused: Record<string, number> = {};
  for (const n of [...g.nodes]) {
    if ((n.domain ?? '') !== MS) continue;
    let rep: NodeProto[] | null = null;
    if (n.opType === 'SkipLayerNormalization' && !keep.skipLayerNorm) rep = unfuseSkipLayerNorm(g, n);
    else if ((n.opType === 'FastGelu' || n.opType === 'BiasGelu' || n.opType === 'Gelu') && !keep.gelu) rep = unfuseGelu(g, n);
    else if (n.opType === 'Attention' && !keep.attention) rep = unfuseAttention(g, n);
    if (!rep) continue;
    g.replace(n, rep);
    unfused[n.opType!] = (unfused[n.opType!] ?? 0) + 1;
  }
  if (Object.keys(unfused).length) {
    // Opset 17 at least: LayerNormalization, Split with a sizes input.
    const std = (m.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
    if (std && Number(std.version) < 17) std.version = 17;
    g.removeUnused();
  }
  return { model: m, unfused };
}
