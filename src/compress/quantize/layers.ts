/**
 * Weight layers: the matrix multiplies with a constant weight that quantization acts on, described
 * the same way whatever op carries them (MatMul, Gemm, the fused Attention's packed QKV projection,
 * Mixer's token mixing with the constant on the left).
 */
import type { NodeProto } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';

export type LayerKind =
  /** x @ W, W [K, N]. */
  | 'linear'
  /** The packed Q/K/V projection inside a fused com.microsoft Attention node. */
  | 'qkv'
  /** W @ x with the constant on the left (Mixer token mixing): computed as (xᵀ Wᵀ)ᵀ when quantized. */
  | 'token-mixing'
  /** A hybrid's ResNet stem Conv (static INT8 with --stem int8): K = cin·kh·kw, N = cout; quantized as QLinearConv (stem.ts). */
  | 'conv';

export interface Layer {
  /** Node name (unique in the graph). */
  id: string;
  /** Human-readable name: the weight's name without '/kernel', or the node name. */
  label: string;
  opType: string;
  kind: LayerKind;
  /** Name of the constant weight. */
  weight: string;
  /** Weight as MatMul B [K, N] (after any transpose). */
  K: number;
  N: number;
  /** The classifier head: its result reaches a graph output through no other weight layer. */
  head: boolean;
  /** The node's output in the float graph: what per-layer error is measured on. */
  output: string;
}

/** Ops a head's output may pass through on its way to the graph output. */
const PASS_THROUGH = new Set(['Add', 'Reshape', 'Flatten', 'Squeeze', 'Identity', 'Cast', 'Softmax', 'LogSoftmax',
  'Sigmoid', 'Mul', 'Div', 'Sub']);

/** True when `tensor` reaches a graph output through only bias/reshape-like ops (no other layer). */
export function feedsOutputDirectly(g: Graph, tensor: string, depth = 0): boolean {
  if (g.isGraphOutput(tensor)) return true;
  if (depth > 6) return false;
  const cs = g.consumers(tensor);
  if (cs.length === 0) return false;
  return cs.every((c) => {
    if (!PASS_THROUGH.has(c.opType!) || c.domain) return false;
    // Binary ops pass through only with a constant operand (a bias or a scale).
    if (c.input!.length > 1 && c.input!.filter((i) => i && i !== tensor).some((i) => !g.isConstant(i))) return false;
    return c.output!.some((o) => feedsOutputDirectly(g, o, depth + 1));
  });
}

/** A readable name for a layer: the weight's name when it means something, else the node's. */
export function layerLabel(n: NodeProto, weight: string): string {
  const generated = /^onnx::|^_?v_\d+$|^\d+$|^(initializer|const|Constant)_?\d*$/i.test(weight);
  if (generated) return n.name!;
  return weight.replace(/(\/kernel(_t|_std)?|\.weight|\/qkv\/kernel)$/, (m) => (m === '/qkv/kernel' ? '/qkv' : ''));
}

/** Give every node a unique, deterministic name (foreign graphs may have none). */
export function nameNodes(g: Graph): void {
  const seen = new Set<string>();
  g.nodes.forEach((n, i) => {
    let name = n.name || `${n.opType}_${i}`;
    while (seen.has(name)) name = `${name}_${i}`;
    seen.add(name);
    n.name = name;
  });
}
