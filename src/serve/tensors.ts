/**
 * Tensors on the wire: the Open Inference Protocol's JSON tensors and Triton's binary tensor data
 * extension (the JSON header, then the raw tensors in input order; `Inference-Header-Content-Length`
 * says where the header ends; each binary input carries `parameters.binary_data_size`).
 *
 * Everything a request declares (shape, datatype, sizes) is checked against limits and against the
 * bytes really present BEFORE any tensor memory is allocated: a 20-byte request cannot make the
 * server allocate gigabytes.
 */
import { badRequest } from './errors.js';

export type Params = Record<string, string | number | boolean>;

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Params;
  data?: unknown;
}

export interface RequestOutput {
  name: string;
  parameters?: Params;
}

export interface InferRequest {
  id?: string;
  parameters?: Params;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

/** An input tensor, decoded: FP32 values or BYTES elements. */
export type DecodedInput =
  | { name: string; datatype: 'FP32'; shape: number[]; values: Float32Array }
  | { name: string; datatype: 'BYTES'; shape: number[]; elements: Uint8Array[] };

export interface ParsedInfer {
  request: InferRequest;
  inputs: DecodedInput[];
  /** Raw binary request (Inference-Header-Content-Length: 0): the body is the single input, outputs binary. */
  raw: boolean;
}

/** Bytes per element of each fixed-size datatype (OIP table; Triton adds BF16). BYTES is variable. */
export const DATATYPE_SIZE: Record<string, number> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8,
  FP16: 2, BF16: 2, FP32: 4, FP64: 8,
};

export interface TensorLimits {
  /** Most elements one input may declare (checked before allocating). */
  maxElements: number;
  /** Most BYTES elements (encoded images) one input may declare. */
  maxByteElements: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkParams(p: unknown, where: string): Params | undefined {
  if (p === undefined) return undefined;
  if (!isObject(p)) throw badRequest(`${where}.parameters must be an object`);
  for (const [k, v] of Object.entries(p)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw badRequest(`${where}.parameters.${k} must be a string, number or boolean`);
    }
  }
  return p as Params;
}

/** The JSON header of an infer request, its structure checked (values are checked by decodeInputs). */
export function checkInferRequest(v: unknown): InferRequest {
  if (!isObject(v)) throw badRequest('the request body must be a JSON object');
  if (v.id !== undefined && typeof v.id !== 'string') throw badRequest('id must be a string');
  if (!Array.isArray(v.inputs) || v.inputs.length === 0) throw badRequest('inputs must be a non-empty array');
  const inputs = v.inputs.map((x, i): RequestInput => {
    const where = `inputs[${i}]`;
    if (!isObject(x)) throw badRequest(`${where} must be an object`);
    if (typeof x.name !== 'string' || !x.name) throw badRequest(`${where}.name must be a non-empty string`);
    if (typeof x.datatype !== 'string') throw badRequest(`${where}.datatype must be a string`);
    if (!Array.isArray(x.shape) || !x.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw badRequest(`${where}.shape must be an array of non-negative integers`);
    }
    return { name: x.name, datatype: x.datatype, shape: x.shape as number[], parameters: checkParams(x.parameters, where), data: x.data };
  });
  let outputs: RequestOutput[] | undefined;
  if (v.outputs !== undefined) {
    if (!Array.isArray(v.outputs)) throw badRequest('outputs must be an array');
    outputs = v.outputs.map((x, i) => {
      if (!isObject(x) || typeof x.name !== 'string') throw badRequest(`outputs[${i}] must be an object with a name`);
      return { name: x.name, parameters: checkParams(x.parameters, `outputs[${i}]`) };
    });
  }
  return { id: v.id as string | undefined, parameters: checkParams(v.parameters, 'request'), inputs, outputs };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Split a body into the JSON header and the binary section, per Inference-Header-Content-Length
 * (absent = all JSON; 0 = a raw binary request).
 */
export function splitBody(body: Buffer, headerLength: string | undefined): { header: unknown; binary: Buffer; raw: boolean } {
  if (headerLength === undefined) return { header: parseJson(body), binary: body.subarray(body.length), raw: false };
  if (!/^\d+$/.test(headerLength.trim())) throw badRequest(`Inference-Header-Content-Length must be a non-negative integer, not '${headerLength}'`);
  const n = Number(headerLength);
  if (n > body.length) throw badRequest(`Inference-Header-Content-Length ${n} is larger than the body (${body.length} bytes)`);
  if (n === 0) return { header: null, binary: body, raw: true };
  return { header: parseJson(body.subarray(0, n)), binary: body.subarray(n), raw: false };
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch (e) {
    throw badRequest(`the request JSON cannot be parsed: ${(e as Error).message}`);
  }
}

/** Walk nested JSON arrays into `out` (row-major), failing as soon as more values come than fit. */
function flattenNumbers(data: unknown, out: Float32Array, where: string): number {
  let n = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (typeof v === 'number') {
      if (n >= out.length) throw badRequest(`${where}: data holds more values than its shape declares (${out.length})`);
      out[n++] = v;
    } else {
      throw badRequest(`${where}: data must hold numbers for FP32`);
    }
  };
  walk(data);
  return n;
}

function flattenStrings(data: unknown, max: number, where: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (typeof v === 'string') {
      if (out.length >= max) throw badRequest(`${where}: data holds more elements than its shape declares (${max})`);
      out.push(v);
    } else {
      throw badRequest(`${where}: BYTES data must be base64 strings`);
    }
  };
  walk(data);
  return out;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** BYTES elements of the binary extension: each a 4-byte little-endian length, then the bytes. */
export function parseByteElements(b: Buffer, count: number, where: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < b.length) {
    if (out.length >= count) throw badRequest(`${where}: binary data holds more than the ${count} BYTES elements its shape declares`);
    if (off + 4 > b.length) throw badRequest(`${where}: truncated BYTES element length at byte ${off}`);
    const len = b.readUInt32LE(off);
    off += 4;
    if (off + len > b.length) throw badRequest(`${where}: BYTES element ${out.length} declares ${len} bytes, only ${b.length - off} remain`);
    out.push(b.subarray(off, off + len));
    off += len;
  }
  if (out.length !== count) throw badRequest(`${where}: binary data holds ${out.length} BYTES elements, its shape declares ${count}`);
  return out;
}

export function encodeByteElements(elements: readonly Uint8Array[]): Buffer {
  const total = elements.reduce((s, e) => s + 4 + e.length, 0);
  const out = Buffer.alloc(total);
  let off = 0;
  for (const e of elements) {
    out.writeUInt32LE(e.length, off);
    out.set(e, off + 4);
    off += 4 + e.length;
  }
  return out;
}

/** FP32 little-endian bytes as a Float32Array (a view when aligned; this server only runs on little-endian CPUs). */
function fp32View(b: Buffer): Float32Array {
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  return new Float32Array(new Uint8Array(b).buffer);
}

/** Decode every input of a request, taking binary sections in input order. Only FP32 and BYTES are served. */
export function decodeInputs(req: InferRequest, binary: Buffer, limits: TensorLimits): DecodedInput[] {
  let off = 0;
  const out = req.inputs.map((x, i): DecodedInput => {
    const where = `input '${x.name}'`;
    if (x.datatype !== 'FP32' && x.datatype !== 'BYTES') {
      throw badRequest(`${where}: datatype ${x.datatype} is not accepted (FP32 pixels or BYTES encoded images)`);
    }
    const count = elementCount(x.shape);
    const limit = x.datatype === 'FP32' ? limits.maxElements : limits.maxByteElements;
    if (count > limit) throw badRequest(`${where}: shape [${x.shape}] declares ${count} elements, more than this model accepts (${limit})`);
    const size = x.parameters?.binary_data_size;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw badRequest(`inputs[${i}].parameters.binary_data_size must be a non-negative integer`);
      if (x.data !== undefined) throw badRequest(`${where}: has both binary_data_size and JSON data`);
      const n = size as number;
      if (off + n > binary.length) throw badRequest(`${where}: binary_data_size ${n} but only ${binary.length - off} binary bytes remain in the body`);
      const chunk = binary.subarray(off, off + n);
      off += n;
      if (x.datatype === 'FP32') {
        if (n !== count * 4) throw badRequest(`${where}: binary_data_size ${n} does not match shape [${x.shape}] of FP32 (${count * 4} bytes)`);
        return { name: x.name, datatype: 'FP32', shape: x.shape, values: fp32View(chunk) };
      }
      return { name: x.name, datatype: 'BYTES', shape: x.shape, elements: parseByteElements(chunk, count, where) };
    }
    if (x.data === undefined) throw badRequest(`${where}: has neither data nor parameters.binary_data_size`);
    if (x.datatype === 'FP32') {
      const values = new Float32Array(count);
      const n = flattenNumbers(x.data, values, where);
      if (n !== count) throw badRequest(`${where}: data holds ${n} values, shape [${x.shape}] declares ${count}`);
      return { name: x.name, datatype: 'FP32', shape: x.shape, values };
    }
    const strings = flattenStrings(x.data, count, where);
    if (strings.length !== count) throw badRequest(`${where}: data holds ${strings.length} elements, shape [${x.shape}] declares ${count}`);
    return {
      name: x.name, datatype: 'BYTES', shape: x.shape,
      elements: strings.map((s, j) => {
        if (!BASE64.test(s)) throw badRequest(`${where}: element ${j} is not base64 (encoded images travel as base64 in JSON)`);
        return Buffer.from(s, 'base64');
      }),
    };
  });
  if (off !== binary.length) throw badRequest(`the body has ${binary.length - off} binary bytes after the last input's binary_data_size`);
  return out;
}

/** Parse a whole infer body (JSON or binary extension). */
export function parseInferBody(body: Buffer, headerLength: string | undefined, limits: TensorLimits,
  rawInput: (bytes: Buffer) => DecodedInput): ParsedInfer {
  const { header, binary, raw } = splitBody(body, headerLength);
  if (raw) return { request: { inputs: [] }, inputs: [rawInput(binary)], raw: true };
  const request = checkInferRequest(header);
  return { request, inputs: decodeInputs(request, binary, limits), raw: false };
}

/** An output ready to send. */
export type ResponseTensor =
  | { name: string; datatype: 'FP32'; shape: number[]; values: Float32Array; binary: boolean }
  | { name: string; datatype: 'BYTES'; shape: number[]; strings: string[]; binary: boolean };

export interface InferResponseHeader {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; parameters?: Params; data?: unknown }[];
}

/**
 * Encode a response. All-JSON when no output is binary; else the JSON header then the binary outputs
 * in order, with `headerLength` for the Inference-Header-Content-Length header.
 */
export function encodeInferResponse(meta: { model_name: string; model_version?: string; id?: string }, outputs: ResponseTensor[]):
  { json: InferResponseHeader } | { body: Buffer; headerLength: number } {
  const chunks: Buffer[] = [];
  const header: InferResponseHeader = { ...meta, outputs: [] };
  for (const o of outputs) {
    if (!o.binary) {
      header.outputs.push({ name: o.name, datatype: o.datatype, shape: o.shape, data: o.datatype === 'FP32' ? Array.from(o.values) : o.strings });
      continue;
    }
    const bytes = o.datatype === 'FP32' ? Buffer.from(o.values.buffer, o.values.byteOffset, o.values.byteLength)
      : encodeByteElements(o.strings.map((s) => Buffer.from(s, 'utf8')));
    chunks.push(bytes);
    header.outputs.push({ name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: bytes.length } });
  }
  if (chunks.length === 0) return { json: header };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([head, ...chunks]), headerLength: head.length };
}
