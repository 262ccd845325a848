/**
 * Models and helpers for the server tests: a tiny classifier whose logits are computable by hand
 * (test/eval/tiny-model.ts), a deliberately slow model (so a request is surely in flight when a
 * worker is killed or SIGTERM arrives), and Triton-layout repositories in temporary folders.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { onnx } from '../../src/formats/onnx.js';
import { tinyClassifierBytes } from '../eval/tiny-model.js';

export const TINY = {
  resolution: 4,
  weights: [1, 0, -1, 0.5, 2, 0, -1, 0.25, 0, 1, 1, 3], // [3, 4]
  bias: [0.1, -0.2, 0.3, 0],
  labels: ['zero', 'one', 'two', 'three'],
};

/** What the tiny model computes: mean of each channel · W + bias, per image of pixels [n, 3, R, R]. */
export function tinyLogits(pixels: Float32Array, n: number): number[][] {
  const plane = TINY.resolution ** 2, k = TINY.bias.length;
  return Array.from({ length: n }, (_, i) => {
    const means = [0, 1, 2].map((c) => {
      let s = 0;
      for (let j = 0; j < plane; j++) s += pixels[(i * 3 + c) * plane + j]!;
      return s / plane;
    });
    return Array.from({ length: k }, (_, j) => means.reduce((s, m, c) => s + m * TINY.weights[c * k + j]!, 0) + TINY.bias[j]!);
  });
}

export function tempDir(prefix = 'vitopt-serve-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A repository <dir>/<name>/<version>/model.onnx (+ config.json) holding the tiny model. */
export function tinyRepository(models: Record<string, { version?: number; config?: unknown }> = { tiny: {} }): string {
  const dir = tempDir();
  for (const [name, o] of Object.entries(models)) {
    mkdirSync(path.join(dir, name, String(o.version ?? 1)), { recursive: true });
    writeFileSync(path.join(dir, name, String(o.version ?? 1), 'model.onnx'), tinyClassifierBytes(TINY));
    if (o.config) writeFileSync(path.join(dir, name, 'config.json'), JSON.stringify(o.config));
  }
  return dir;
}

/** The tiny model as a file. */
export function tinyModelFile(): string {
  const f = path.join(tempDir(), 'tiny.onnx');
  writeFileSync(f, tinyClassifierBytes(TINY));
  return f;
}

/**
 * A slow classifier: pixels [b, 3, 64, 64] → `steps` chained MatMuls by a 64×64 matrix → mean → logits [b, 64].
 * One image takes about steps × 0.8 MMAC; sized by the test to run for a few hundred milliseconds.
 */
export function slowModelFile(steps = 400, size = 64): string {
  const dim = (v: number | string) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v });
  const vi = (name: string, dims: (number | string)[]) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } } },
  });
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) w[i * size + i] = 1; // identity: values stay bounded however many steps
  const nodes = [];
  let x = 'pixels';
  for (let i = 0; i < steps; i++) {
    nodes.push(onnx.NodeProto.create({ opType: 'MatMul', input: [x, 'W'], output: [`m${i}`] }));
    x = `m${i}`;
  }
  nodes.push(onnx.NodeProto.create({ opType: 'ReduceMean', input: [x], output: ['r'],
    attribute: [onnx.AttributeProto.create({ name: 'axes', ints: [1, 2], type: onnx.AttributeProto.AttributeType.INTS }),
      onnx.AttributeProto.create({ name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT })] }));
  nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: ['r'], output: ['logits'] }));
  const graph = onnx.GraphProto.create({
    name: 'slow', node: nodes,
    initializer: [onnx.TensorProto.create({ name: 'W', dims: [size, size], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(w.buffer) })],
    input: [vi('pixels', ['batch', 3, size, size])], output: [vi('logits', ['batch', size])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'vitopt-test', graph });
  const f = path.join(tempDir(), 'slow.onnx');
  writeFileSync(f, onnx.ModelProto.encode(model).finish());
  return f;
}

/** A binary-extension request body: JSON header + raw tensors, and its header length. */
export function binaryBody(header: unknown, ...tensors: Uint8Array[]): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([head, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]), headerLength: head.length };
}

/** BYTES elements as the binary extension lays them out: 4-byte LE length, then the bytes. */
export function lengthPrefixed(...elements: Uint8Array[]): Uint8Array {
  return Buffer.concat(elements.flatMap((e) => {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(e.length);
    return [n, Buffer.from(e)];
  }));
}

/** Split a binary response into its JSON header and binary section. */
export async function readBinaryResponse(res: Response): Promise<{ header: any; binary: Buffer }> {
  const body = Buffer.from(await res.arrayBuffer());
  const n = Number(res.headers.get('inference-header-content-length'));
  return { header: JSON.parse(body.subarray(0, n).toString('utf8')), binary: body.subarray(n) };
}

/** Float32 values of a little-endian byte range. */
export function f32(b: Buffer): Float32Array {
  return new Float32Array(new Uint8Array(b).buffer);
}
