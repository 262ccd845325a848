/**
 * Static INT8 in QDQ form: QuantizeLinear -> DequantizeLinear pairs carry the calibrated activation
 * scales (uint8, asymmetric) and the int8 weights (per channel along axis 1 of MatMul B). ONNX Runtime
 * fuses DQ -> MatMul into MatMulIntegerToFloat when it loads the model; other runtimes (TensorRT,
 * onnxruntime-web) read the same standard ops.
 *
 * One Q/DQ pair per activation tensor, read only by the nodes being quantized; other readers (a
 * LayerNorm kept float, say) keep reading the float tensor.
 */
import { DataType, rawTensor, type NodeProto } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';
import type { WeightLayerResult } from './dynamic.js';
import { activationParams, type Int8Format } from './int8.js';
import { storeQuantizedWeight } from './stored-weight.js';

export type Range = [number, number];

/** Shared Q/DQ pairs of one graph: tensor name -> dequantized name. */
export class QdqInserter {
  private done = new Map<string, string>();
  constructor(private readonly g: Graph, private readonly ranges: Map<string, Range>) {}

  /** The dequantized copy of activation `x` (made once), inserted before `reader`. */
  activation(x: string, reader: NodeProto): string {
    const have = this.done.get(x);
    if (have) return have;
    const r = this.ranges.get(x);
    if (!r) throw new Error(`internal: no calibrated range for ${x}`);
    const { scale, zeroPoint } = activationParams(r[0], r[1]);
    const g = this.g;
    const s = g.addInitializer(rawTensor(`${x}/scale`, DataType.FLOAT, [], Float32Array.of(scale)));
    const z = g.addInitializer(rawTensor(`${x}/zero_point`, DataType.UINT8, [], Uint8Array.of(zeroPoint)));
    const q = g.makeNode('QuantizeLinear', [x, s, z], { name: `${x}/QuantizeLinear` });
    const dq = g.makeNode('DequantizeLinear', [q.output![0]!, s, z], { name: `${x}/DequantizeLinear` });
    g.insertBefore(reader, [q, dq]);
    this.done.set(x, dq.output![0]!);
    return dq.output![0]!;
  }

  /** Quantize `x`'s value where it is produced: the producer writes x_float, readers see DQ(Q(x_float)). */
  output(x: string, producer: NodeProto): void {
    const g = this.g;
    const pre = g.uniqueName(`${x}/float`);
    producer.output = producer.output!.map((o) => (o === x ? pre : o));
    const r = this.ranges.get(x);
    if (!r) throw new Error(`internal: no calibrated range for ${x}`);
    const { scale, zeroPoint } = activationParams(r[0], r[1]);
    const s = g.addInitializer(rawTensor(`${x}/scale`, DataType.FLOAT, [], Float32Array.of(scale)));
    const z = g.addInitializer(rawTensor(`${x}/zero_point`, DataType.UINT8, [], Uint8Array.of(zeroPoint)));
    const q = g.makeNode('QuantizeLinear', [pre, s, z], { name: `${x}/QuantizeLinear` });
    const dq = g.makeNode('DequantizeLinear', [q.output![0]!, s, z], { name: `${x}/DequantizeLinear`, outputs: [x] });
    const i = g.nodes.indexOf(producer);
    g.nodes.splice(i + 1, 0, q, dq);
    g.touch();
    this.done.set(x, x);
  }
}

/** Canonical MatMul(x, W): Q/DQ on x from its calibrated range, int8 W behind a DequantizeLinear. */
export function quantizeStatic(g: Graph, qdq: QdqInserter, mm: NodeProto,
  o: { format: Int8Format; perChannel: boolean; compare: string }): WeightLayerResult {
  const [x, wName] = mm.input as [string, string];
  const sw = storeQuantizedWeight(g, wName, o, 'always');
  const dqw = g.makeNode('DequantizeLinear', [sw.quantized, sw.scale, sw.zeroPoint], { name: `${sw.base}/DequantizeLinear`,
    attribute: sw.perChannel ? [{ name: 'axis', type: 2, i: 1 }] : [] });
  const xd = qdq.activation(x, mm);
  g.insertBefore(mm, [dqw]);
  mm.input = [xd, dqw.output![0]!];
  g.touch();
  return { compare: o.compare, weightSqnr: sw.sqnr, floatBytes: sw.floatBytes, quantBytes: sw.quantBytes };
}

/**
 * A non-weight node (LayerNorm, Add, Softmax…) a user asked to quantize: Q/DQ on its float
 * activation inputs and outputs, as ONNX Runtime's generic QDQ operator does.
 */
export function quantizeActivationNode(g: Graph, qdq: QdqInserter, n: NodeProto, isFloat: (t: string) => boolean): string[] {
  const inputs = n.input!.map((x) => (x && isFloat(x) && !g.isConstant(x) ? qdq.activation(x, n) : x));
  n.input = inputs;
  g.touch();
  const outs = n.output!.filter((x) => x && isFloat(x));
  for (const x of outs) qdq.output(x, n);
  return outs;
}

/** Tensors whose ranges a plan needs calibrated. */
export function tensorsToCalibrate(g: Graph, canonical: NodeProto[], activationNodes: NodeProto[], isFloat: (t: string) => boolean): string[] {
  const s = new Set<string>();
  for (const mm of canonical) {
    s.add(mm.input![0]!);
    if (mm.opType === 'Conv') s.add(mm.output![0]!); // QLinearConv: its output is quantized too (stem.ts)
  }
  for (const n of activationNodes) {
    for (const x of n.input ?? []) if (x && isFloat(x) && !g.isConstant(x)) s.add(x);
    for (const x of n.output ?? []) if (x && isFloat(x)) s.add(x);
  }
  return [...s];
}
