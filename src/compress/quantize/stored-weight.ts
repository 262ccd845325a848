/**
 * A MatMul's constant weight [K, N] quantized to 8 bits and stored as initializers
 * `<base>/quantized`, `<base>/scale` and (where the format has one) `<base>/zero_point`: the part
 * dynamic (DynamicQuantizeMatMul) and static (DequantizeLinear) quantization share.
 */
import { rawTensor, DataType } from '../../formats/onnx.js';
import type { Graph } from '../../graph/graph.js';
import { floatValues } from '../../graph/tensors.js';
import { dequantizeWeight, type Int8Format, quantizeWeight, sqnr } from './int8.js';

export interface StoredWeight {
  K: number;
  N: number;
  /** Base of the initializer names (the weight's name without a `_t` transpose suffix). */
  base: string;
  quantized: string;
  scale: string;
  /** '' when no zero point is stored (signed weights, where the kernels default it to 0). */
  zeroPoint: string;
  perChannel: boolean;
  /** SQNR of the quantized weight against the float one, in dB. */
  sqnr: number;
  floatBytes: number;
  quantBytes: number;
}

export function storeQuantizedWeight(g: Graph, wName: string, o: { format: Int8Format; perChannel: boolean },
  zeroPoint: 'always' | 'unsigned-only'): StoredWeight {
  const w = floatValues(g.constant(wName)!);
  const [K, N] = w.dims as [number, number];
  const q = quantizeWeight(w.data, K, N, o);
  const C = q.scale.length;
  const dims = q.perChannel ? [C] : [];
  const base = wName.replace(/_t$/, '');
  const withZero = zeroPoint === 'always' || q.dataType === DataType.UINT8;
  return {
    K, N, base, perChannel: q.perChannel,
    quantized: g.addInitializer(rawTensor(`${base}/quantized`, q.dataType, [K, N], q.data)),
    scale: g.addInitializer(rawTensor(`${base}/scale`, DataType.FLOAT, dims, q.scale)),
    zeroPoint: withZero ? g.addInitializer(rawTensor(`${base}/zero_point`, q.dataType, dims, q.zeroPoint)) : '',
    sqnr: sqnr(w.data, dequantizeWeight(q)),
    floatBytes: K * N * 4,
    quantBytes: K * N + C * (withZero ? 5 : 4),
  };
}
