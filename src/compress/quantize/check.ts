/** Refuse inputs quantization cannot sensibly take: models already quantized or converted to fp16. */
import { UserError } from '../../errors.js';
import { DataType, type ModelProto } from '../../formats/onnx.js';

const QUANTIZED_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger',
  'QLinearMatMul', 'QLinearConv', 'QLinearAdd', 'QLinearMul', 'QGemm', 'QAttention', 'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat', 'MatMulNBits', 'MatMulBnb4', 'GatherBlockQuantized', 'DynamicQuantizeLSTM', 'QLinearSoftmax']);

/** The reason a model is already compressed, or null. */
export function alreadyQuantized(m: ModelProto): string | null {
  const g = m.graph!;
  const q = (g.node ?? []).find((n) => QUANTIZED_OPS.has(n.opType!));
  if (q) return `it is already quantized (it has a ${q.opType} node${q.name ? ` '${q.name}'` : ''})`;
  const inits = g.initializer ?? [];
  const big = (t: (typeof inits)[number]) => (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1) >= 256;
  const half = inits.find((t) => t.dataType === DataType.FLOAT16 && big(t));
  if (half) return `its weights are already float16 (e.g. '${half.name}')`;
  const int8 = inits.find((t) => (t.dataType === DataType.INT8 || t.dataType === DataType.UINT8) && big(t));
  if (int8) return `it already has 8-bit weights (e.g. '${int8.name}')`;
  return null;
}

export function assertQuantizable(m: ModelProto, file: string): void {
  const why = alreadyQuantized(m);
  if (why) throw new UserError(`${file}: cannot quantize: ${why}`);
  const inputs = (m.graph!.input ?? []).filter((v) => !(m.graph!.initializer ?? []).some((t) => t.name === v.name));
  const elem = inputs[0]?.type?.tensorType?.elemType;
  if (inputs.length !== 1 || elem !== DataType.FLOAT) {
    throw new UserError(`${file}: cannot quantize: expected one float32 image input, found ${inputs.length} input(s)` +
      (elem && elem !== DataType.FLOAT ? ` of element type ${elem}` : ''));
  }
}
