/**
 * The convolutions of a hybrid's ResNet stem in static INT8.
 *
 * ONNX Runtime runs a Conv between QuantizeLinear/DequantizeLinear pairs (DQ on the input, DQ on an
 * int8 per-output-channel kernel, Q on the output) as one QLinearConv: uint8 activations, int8 weights,
 * the same MLAS integer GEMM as the transformer's MatMulIntegerToFloat. The stem's GroupNorm, ReLU,
 * max-pool and residual additions stay float between the pairs (quantizing the residual adds as well,
 * QLinearAdd, is `--include 'block*\/unit*\/residual'`; measured inconclusive, docs/hybrids.md).
 *
 * Dynamic INT8 keeps the stem float: ORT's ConvInteger (the dynamic form) takes uint8 weights only and
 * has no fast path, so there is nothing to gain.
 *
 * Which convolutions: a Conv whose output reaches another Conv. In a hybrid every stem conv feeds the
 * patch embedding's Conv; the embedding itself (and a plain ViT's only Conv) feeds none and stays float.
 */
import { UserError } from '../../errors.js';
import { DataType, rawTensor, type NodeProto } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';
import { floatValues } from '../../graph/tensors.js';
import { cpuClass, type CpuClass } from '../../export/fusions.js';
import { detectCpu, type CpuInfo } from '../../util/cpu.js';
import type { WeightLayerResult } from './dynamic.js';
import { dequantizeWeight, type Int8Format, quantizeWeight, sqnr } from './int8.js';
import type { QdqInserter } from './static.js';
import { transposeValues } from '../../tensor.js';

export type StemChoice = 'float' | 'int8';
export const STEM_CHOICES: readonly (StemChoice | 'auto')[] = ['auto', 'float', 'int8'];

/**
 * Measured defaults for static INT8 (bench/hybrid-stem-int8.ts; figures in docs/hybrids.md).
 * avx512-vnni, 2026-12-02 (9 interleaved rounds, real-time priority): the R50 stem alone 1.27× (batch 1) /
 * 1.15× (batch 8) faster with QLinearConv; the whole R50+ViT-B/16 static INT8 model 1.12× / 1.10×.
 * avx2 (no VNNI): not measured; without VNNI the int8 kernels use 7-bit weights (u8s8-reduced) and
 * vpmaddubsw, whose speed-up over fp32 convolution is unknown here, so the stem stays float.
 */
export const MEASURED_STEM: Record<CpuClass, StemChoice> = { 'avx512-vnni': 'int8', avx2: 'float' };

export interface StemDecision {
  convs: StemChoice;
  basis: string;
}

export const DYNAMIC_STEM_REASON = 'dynamic INT8 keeps the ResNet stem float: ONNX Runtime has no fast dynamic int8 convolution ' +
  '(ConvInteger takes uint8 weights only); static INT8 can quantize it (QLinearConv)';

export function defaultStem(cpu: CpuInfo = detectCpu()): StemDecision {
  const k = cpuClass(cpu);
  return { convs: MEASURED_STEM[k], basis: `measured default for ${k} (${cpu.evidence})` };
}

/** Names of the Conv nodes whose output reaches another Conv: the stem of a hybrid (empty for a plain ViT). */
export function stemConvs(g: Graph): Set<string> {
  const upstream = new Set<NodeProto>();
  const stack: NodeProto[] = [];
  const visit = (t: string) => {
    const p = g.producer(t);
    if (p && !upstream.has(p)) { upstream.add(p); stack.push(p); }
  };
  for (const n of g.nodes) if (n.opType === 'Conv' && !n.domain) visit(n.input![0]!);
  while (stack.length) for (const t of stack.pop()!.input ?? []) if (t) visit(t);
  return new Set(g.nodes.filter((n) => n.opType === 'Conv' && !n.domain && upstream.has(n)).map((n) => n.name!));
}

/** The stem choice for a quantization: static follows `requested` (auto: measured default); other modes keep it float. */
export function decideStem(mode: string, requested: StemChoice | 'auto' | undefined, hasStem: boolean, cpu?: CpuInfo): StemDecision | undefined {
  const asked = requested ?? 'auto';
  if (!hasStem) {
    if (asked === 'int8') throw new UserError('--stem int8: this model has no convolutional stem (a hybrid ResNet+ViT has one)');
    return undefined;
  }
  if (mode !== 'static') {
    if (asked === 'int8') throw new UserError(`--stem int8 needs --mode static: ${DYNAMIC_STEM_REASON}`);
    return { convs: 'float', basis: mode === 'dynamic' ? DYNAMIC_STEM_REASON : `${mode} mode quantizes matrix multiplies only` };
  }
  if (asked !== 'auto') return { convs: asked, basis: 'requested (--stem)' };
  return defaultStem(cpu);
}

/**
 * Conv(x, W) -> Conv(DQ(Q(x)), DQ(W int8, axis 0)) with Q/DQ on its output: ONNX Runtime fuses the group
 * into QLinearConv. Weights are symmetric int8 per output channel (7-bit for u8s8-reduced; u8u8 uses
 * the 7-bit form too: QLinearConv takes one weight zero point per tensor, and 7 bits cannot saturate).
 */
export function quantizeConvStatic(g: Graph, qdq: QdqInserter, conv: NodeProto,
  o: { format: Int8Format; perChannel: boolean; compare: string }): WeightLayerResult {
  const [x, wName] = conv.input as [string, string];
  const w = floatValues(g.constant(wName)!);
  const cout = w.dims[0]!, per = w.data.length / cout;
  // OIHW viewed as [per, cout] columns: one column per output channel, as quantizeWeight expects.
  const cols = transposeValues(w.data, cout, per);
  const format: Int8Format = o.format === 'u8s8' ? 'u8s8' : 'u8s8-reduced';
  const q = quantizeWeight(cols, per, cout, { format, perChannel: o.perChannel });
  const oihw = transposeValues(q.data, per, cout);
  const base = wName;
  const dims = q.perChannel ? [cout] : [];
  const qw = g.addInitializer(rawTensor(`${base}/quantized`, DataType.INT8, w.dims, oihw));
  const s = g.addInitializer(rawTensor(`${base}/scale`, DataType.FLOAT, dims, q.scale));
  const z = g.addInitializer(rawTensor(`${base}/zero_point`, DataType.INT8, dims, q.zeroPoint));
  const dqw = g.makeNode('DequantizeLinear', [qw, s, z], { name: `${base}/DequantizeLinear`,
    attribute: q.perChannel ? [{ name: 'axis', type: 2, i: 0 }] : [] });
  const xd = qdq.activation(x, conv);
  g.insertBefore(conv, [dqw]);
  conv.input = [xd, dqw.output![0]!, ...conv.input!.slice(2)];
  g.touch();
  qdq.output(conv.output![0]!, conv);
  return { compare: o.compare, weightSqnr: sqnr(cols, dequantizeWeight(q)), floatBytes: w.data.length * 4,
    quantBytes: w.data.length + q.scale.length * 5 };
}
