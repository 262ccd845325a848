/** Reading and making initializer tensors (float32 values, 2-D transposes). */
import { DataType, initializerFloat, rawTensor, type TensorProto } from '../formats/onnx.js';
import { transposeValues, type Tensor } from '../tensor.js';

/** Float32 values of a constant (FLOAT only). */
export function floatValues(t: TensorProto): Tensor {
  return initializerFloat(t);
}

/** [rows, cols] float values -> [cols, rows] (src/tensor.ts's transposeValues). */
export const transpose2d = (data: Float32Array, rows: number, cols: number): Float32Array => transposeValues(data, rows, cols);

export function floatInit(name: string, dims: number[], data: Float32Array): TensorProto {
  return rawTensor(name, DataType.FLOAT, dims, data);
}

export function int64Init(name: string, values: number[], dims = [values.length]): TensorProto {
  return rawTensor(name, DataType.INT64, dims, BigInt64Array.from(values.map(BigInt)));
}

export const dimsOf = (t: TensorProto): number[] => (t.dims ?? []).map(Number);

export function byteSize(t: TensorProto): number {
  if (t.rawData?.length) return t.rawData.length;
  return (t.floatData?.length ?? 0) * 4 + (t.int32Data?.length ?? 0) * 4 + (t.int64Data?.length ?? 0) * 8 +
    (t.doubleData?.length ?? 0) * 8;
}
