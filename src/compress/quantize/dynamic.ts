/**
 * Dynamic INT8: each canonical MatMul(x, W) becomes com.microsoft.DynamicQuantizeMatMul(x, Wq,
 * scale, zero_point, bias): the weights are int8 (or uint8) constants, the activation is quantized to
 * uint8 at run time from its own min/max. That one fused kernel is ONNX Runtime's fastest CPU int8 path;
 * a bias Add right after the MatMul folds into its bias input.
 */
import { rawTensor, DataType, type NodeProto } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';
import { dimsOf, floatValues } from '../../graph/tensors.js';
import type { Int8Format } from './int8.js';
import { storeQuantizedWeight } from './stored-weight.js';
import { MS } from './registry.js';

export interface WeightLayerResult {
  /** Tensor that holds this layer's result in both the float and the quantized graph. */
  compare: string;
  /** SQNR of the quantized weights against the float weights, dB. */
  weightSqnr: number;
  /** Bytes of the weight before and after. */
  floatBytes: number;
  quantBytes: number;
}

/** The Add that adds a constant [N] bias to `mm`'s output (its only reader), or null. */
export function biasAddOf(g: Graph, mm: NodeProto, N: number): { add: NodeProto; bias: string } | null {
  const out = mm.output![0]!;
  if (g.isGraphOutput(out)) return null;
  const cs = g.consumers(out);
  if (cs.length !== 1 || cs[0]!.opType !== 'Add' || cs[0]!.domain) return null;
  const add = cs[0]!;
  const other = add.input!.find((x) => x !== out);
  if (!other || add.input!.filter((x) => x === out).length !== 1) return null;
  const t = g.constant(other);
  if (!t || t.dataType !== DataType.FLOAT) return null;
  const d = dimsOf(t);
  if (d.reduce((a, b) => a * b, 1) !== N || d[d.length - 1] !== N) return null;
  return { add, bias: other };
}

export function quantizeDynamic(g: Graph, mm: NodeProto, o: { format: Int8Format; perChannel: boolean; compare: string }): WeightLayerResult {
  const [x, wName] = mm.input as [string, string];
  const sw = storeQuantizedWeight(g, wName, o, 'unsigned-only');
  const N = sw.N;
  const inputs = [x, sw.quantized, sw.scale, sw.zeroPoint];
  let outName = mm.output![0]!;
  let compare = o.compare;
  const folded = biasAddOf(g, mm, N);
  if (folded) {
    // A bias of shape [1, N] etc. is read as [N] by the kernel: same values, row-major.
    const b = floatValues(g.constant(folded.bias)!);
    inputs.push(b.dims.length === 1 ? folded.bias : g.addInitializer(rawTensor(`${folded.bias}/flat`, DataType.FLOAT, [N], b.data)));
    outName = folded.add.output![0]!;
    if (compare === mm.output![0]) compare = outName;
    g.remove(folded.add);
  }
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const dq = g.makeNode('DynamicQuantizeMatMul', inputs, { name: `${mm.name}/int8`, domain: MS, outputs: [outName] });
  g.replace(mm, [dq]);
  return { compare, weightSqnr: sw.sqnr, floatBytes: sw.floatBytes, quantBytes: sw.quantBytes };
}
