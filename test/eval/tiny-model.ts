/**
 * A tiny ONNX classifier built in the test, so evaluate() is tested without any model file:
 * pixels [b, 3, R, R] -> GlobalAveragePool -> Flatten -> MatMul W [3, K] -> Add bias -> logits [b, K].
 * Its logits are mean_c · W[c, k] + bias[k], easy to compute by hand.
 */
import { onnx } from '../../src/formats/onnx.js';
import { writeFileSync } from 'node:fs';
import { openModel } from '../../src/engines/create.js';

export interface TinyModelSpec {
  resolution: number;
  /** Row-major [3, K]. */
  weights: number[];
  bias: number[];
  /** Written to metadata_props as vitopt.labels when given. */
  labels?: string[];
}

function floatTensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({
    name, dims, dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(new Float32Array(values).buffer),
  });
}

export function tinyClassifierBytes(s: TinyModelSpec): Uint8Array {
  const k = s.bias.length;
  if (s.weights.length !== 3 * k) throw new Error('weights must be [3, K]');
  const dim = (v: number | string) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v });
  const valueInfo = (name: string, dims: (number | string)[]) => onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } } },
  });
  const graph = onnx.GraphProto.create({
    name: 'tiny',
    node: [
      onnx.NodeProto.create({ opType: 'GlobalAveragePool', input: ['pixels'], output: ['pooled'] }),
      onnx.NodeProto.create({ opType: 'Flatten', input: ['pooled'], output: ['flat'],
        attribute: [onnx.AttributeProto.create({ name: 'axis', i: 1, type: onnx.AttributeProto.AttributeType.INT })] }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['flat', 'W'], output: ['mm'] }),
      onnx.NodeProto.create({ opType: 'Add', input: ['mm', 'b'], output: ['logits'] }),
    ],
    initializer: [floatTensor('W', [3, k], s.weights), floatTensor('b', [k], s.bias)],
    input: [valueInfo('pixels', ['batch', 3, s.resolution, s.resolution])],
    output: [valueInfo('logits', ['batch', k])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'vitopt-test',
    graph,
    metadataProps: s.labels ? [{ key: 'vitopt.labels', value: JSON.stringify(s.labels) }] : [],
  });
  return onnx.ModelProto.encode(model).finish();
}

export async function tinyClassifier(s: TinyModelSpec, name = 'tiny') {
  const model = await openModel(tinyClassifierBytes(s), {}, name);
  return { model, resolution: s.resolution, labels: s.labels ?? null, name };
}

export function writeTinyClassifier(file: string, s: TinyModelSpec): void {
  writeFileSync(file, tinyClassifierBytes(s));
}

/** Logits the tiny model gives for per-channel means m. */
export function tinyLogits(s: TinyModelSpec, means: [number, number, number]): number[] {
  return s.bias.map((b, j) => b + means[0] * s.weights[j]! + means[1] * s.weights[s.bias.length + j]! + means[2] * s.weights[2 * s.bias.length + j]!);
}
