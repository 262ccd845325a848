/**
 * ONNX models: a small builder for the graphs vitopt writes, and read/write of ModelProto through the
 * current ONNX schema (src/formats/onnx-proto: the vendored onnx.proto on protobufjs), so fields of
 * newer IR versions and opsets survive a decode and re-encode. Weights of large models go to ONNX
 * external data (the protobuf limit is 2 GB).
 */
import { printable } from '../util/printable.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { writeFilesAtomic } from '../util/atomic.js';
import { ownedBuffer } from './npy.js';
import { onnx } from './onnx-proto/schema.js';
import type { onnx as OnnxTypes } from './onnx-proto/types.js';

export { onnx };
export type ModelProto = OnnxTypes.ModelProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;

export type Attr =
  | { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { str: string }
  | { tensor: TensorProto };

export const int = (v: number): Attr => ({ int: v });
export const float = (v: number): Attr => ({ float: v });
export const ints = (v: number[]): Attr => ({ ints: v });
export const str = (v: string): Attr => ({ str: v });

function attribute(name: string, a: Attr): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  if ('str' in a) return { name, type: T.STRING, s: new TextEncoder().encode(a.str) };
  return { name, type: T.TENSOR, t: a.tensor };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function floatTensor(name: string, t: Tensor): TensorProto {
  return { name, dims: t.dims, dataType: DataType.FLOAT, rawData: bytesOf(t.data) };
}

export function int64Tensor(name: string, values: number[], dims = [values.length]): TensorProto {
  return { name, dims, dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) };
}

export function rawTensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorProto {
  return { name, dims, dataType, rawData: bytesOf(data) };
}

/** Builds one graph: nodes in topological order, initializers, named inputs and outputs. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly domains = new Set<string>();
  private counter = 0;
  private names = new Set<string>();

  private unique(base: string): string {
    let n = base;
    while (this.names.has(n)) n = `${base}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** Add a float initializer; returns its name. */
  weight(name: string, t: Tensor): string {
    const n = this.unique(name);
    this.initializers.push(floatTensor(n, t));
    return n;
  }

  int64(name: string, values: number[], dims?: number[]): string {
    const n = this.unique(name);
    this.initializers.push(int64Tensor(n, values, dims));
    return n;
  }

  initializer(t: TensorProto): string {
    const n = this.unique(t.name!);
    this.initializers.push({ ...t, name: n });
    return n;
  }

  /** Add a node; returns its output names (count from `outputs`, default 1). Empty input names = omitted optional. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {},
    o: { domain?: string; outputs?: number; name?: string } = {}): string[] {
    const base = o.name ?? opType;
    const nodeName = this.unique(base);
    const outputs = Array.from({ length: o.outputs ?? 1 }, (_, i) => this.unique(`${nodeName}_out${i}`));
    if (o.domain) this.domains.add(o.domain);
    this.nodes.push({
      opType, name: nodeName, input: inputs, output: outputs, domain: o.domain ?? '',
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** One-output shorthand. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, o: { domain?: string; name?: string } = {}): string {
    return this.node(opType, inputs, attrs, o)[0]!;
  }

  /** Rename the producer's output (used to give the final node the graph output name). */
  renameOutput(from: string, to: string): void {
    for (const n of this.nodes) {
      n.output = n.output!.map((x) => (x === from ? to : x));
      n.input = n.input!.map((x) => (x === from ? to : x));
    }
  }
}

export interface ValueSpec { name: string; elemType?: number; shape: (number | string)[] }

function valueInfo(v: ValueSpec): OnnxTypes.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType ?? DataType.FLOAT,
      shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export function buildModel(g: GraphBuilder, o: { name: string; inputs: ValueSpec[]; outputs: ValueSpec[];
  opset?: number; metadata?: Record<string, string>; docString?: string }): ModelProto {
  const opsetImport = [{ domain: '', version: o.opset ?? 17 }];
  for (const d of g.domains) opsetImport.push({ domain: d, version: 1 });
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'vitopt',
    producerVersion: '0.1.0',
    opsetImport,
    docString: o.docString ?? '',
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: o.name,
      node: g.nodes,
      initializer: g.initializers,
      input: o.inputs.map(valueInfo),
      output: o.outputs.map(valueInfo),
    },
  });
}

/** Above this, weights go to an external data file (protobuf cannot exceed 2 GB). */
export const EXTERNAL_DATA_THRESHOLD = 1.8e9;

export function initializerBytes(m: ModelProto): number {
  return (m.graph?.initializer ?? []).reduce((s, t) => s + (t.rawData?.length ?? 0), 0);
}

/** Bytes the model encodes to, without building them (a > 2 GB model cannot be). */
export function encodedSize(m: ModelProto): number {
  return onnx.ModelProto.encode(m).len;
}

export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/**
 * Write a model atomically. With `external` (or automatically above the threshold), every initializer
 * over 1 KiB moves to `<file>.data`, 64-byte aligned, referenced by relative location.
 */
export async function saveModel(file: string, m: ModelProto, o: { external?: boolean } = {}): Promise<{ files: string[] }> {
  const external = o.external ?? initializerBytes(m) > EXTERNAL_DATA_THRESHOLD;
  if (!external) {
    await writeFilesAtomic([{ path: file, data: encodeModel(m) }]);
    return { files: [file] };
  }
  const dataFile = `${file}.data`;
  const location = path.basename(dataFile);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const inits = (m.graph!.initializer ?? []).map((t) => {
    const raw = t.rawData;
    if (!raw || raw.length <= 1024) return t;
    const pad = (64 - (offset % 64)) % 64;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(raw);
    const entry = { ...t, rawData: undefined, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) }] };
    offset += raw.length;
    return entry;
  });
  const data = Buffer.concat(chunks);
  const slim = onnx.ModelProto.create({ ...m, graph: { ...m.graph!, initializer: inits } });
  await writeFilesAtomic([{ path: dataFile, data }, { path: file, data: encodeModel(slim) }]);
  return { files: [file, dataFile] };
}

/** A decimal byte count or offset of external data, or null when it is not one. */
function byteCount(v: string | null | undefined): number | null {
  return v !== undefined && v !== null && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : null;
}

/**
 * Load one initializer's external data into raw_data. Checked before anything is allocated: the
 * location stays inside the model's folder (as ONNX Runtime requires; a model must not read other
 * files), and offset + length lie within the data file, so memory follows the file, never a claim.
 */
async function readExternalData(file: string, t: TensorProto): Promise<void> {
  const kv: Record<string, string | undefined> = Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.location ?? '';
  if (location === '' || path.isAbsolute(location) || location.split(/[\\/]/).some((part: string) => part === '..')) {
    throw new FileError(file, `initializer '${printable(t.name ?? '')}': external data location '${printable(location)}' is not a file beside the model`);
  }
  const df = path.join(path.dirname(file), location);
  const offset = kv.offset === undefined ? 0 : byteCount(kv.offset);
  if (offset === null) throw new FileError(file, `initializer '${printable(t.name ?? '')}': external data offset '${printable(kv.offset ?? '')}' is not a byte count`);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(df);
  } catch {
    throw new FileError(file, `external data file ${printable(df, 200)} is missing`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileError(df, 'external data is not a file');
    const length = kv.length === undefined ? st.size - offset : byteCount(kv.length);
    if (length === null) throw new FileError(file, `initializer '${printable(t.name ?? '')}': external data length '${printable(kv.length ?? '')}' is not a byte count`);
    if (length < 0 || offset + length > st.size) throw new FileError(df, `truncated external data for '${printable(t.name ?? '')}'`);
    const buf = Buffer.alloc(length);
    for (let got = 0; got < length;) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new FileError(df, `truncated external data for '${printable(t.name ?? '')}'`);
      got += bytesRead;
    }
    t.rawData = buf;
  } finally {
    await fh.close();
  }
  t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  t.externalData = [];
}

/** Read and decode an ONNX model; external data is loaded into raw_data. */
export async function loadModel(file: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(file, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an ONNX model' : `cannot read: ${code}`);
  }
  let m: ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new FileError(file, `not a valid ONNX model (protobuf decode failed: ${(e as Error).message})`);
  }
  if (!m.graph || !m.graph.node?.length) throw new FileError(file, 'not a valid ONNX model (no graph)');
  for (const t of m.graph.initializer ?? []) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) await readExternalData(file, t);
  }
  return m;
}

export function metadata(m: ModelProto): Record<string, string> {
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

/** An initializer's values as float32 (FLOAT raw_data or float_data). */
export function initializerFloat(t: TensorProto): Tensor {
  const dims = (t.dims ?? []).map(Number);
  if (t.dataType !== DataType.FLOAT) throw new Error(`internal: initializer ${t.name} is not float32`);
  const data = t.rawData && t.rawData.length
    ? new Float32Array(ownedBuffer(t.rawData))
    : Float32Array.from(t.floatData ?? []);
  return { dims, data };
}
