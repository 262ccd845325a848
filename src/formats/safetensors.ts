/**
 * Hugging Face safetensors: u64 header length, a JSON header {name: {dtype, shape, data_offsets}},
 * then the raw little-endian bytes. Hand-written because the format is that small and the npm
 * readers either need the whole Hub client or do not handle F16/BF16.
 * https://huggingface.co/docs/safetensors
 */
import { printable } from '../util/printable.js';
import { FileError } from '../errors.js';
import { halfToFloat, ownedBuffer } from './npy.js';
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';

const SIZES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

interface TensorEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * One header entry, checked before anything is read or allocated: a known dtype, a shape of
 * non-negative integers, and a byte range inside the data whose length is exactly the shape's.
 */
function checkEntry(name: string, info: unknown, dataBytes: number, file: string): TensorEntry {
  const bad = (why: string) => new FileError(file, `tensor '${printable(name)}': ${why}`);
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad('has no dtype');
  const size = SIZES[dtype];
  if (!size) throw new FileError(file, `tensor '${printable(name)}' has unsupported dtype ${printable(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad('shape is not a list of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) throw bad('data_offsets is not a pair of non-negative integers');
  const [b, e] = offsets as [number, number];
  if (b > e) throw bad(`data_offsets [${b}, ${e}] run backwards`);
  if (e > dataBytes) throw new FileError(file, `truncated safetensors data (tensor '${printable(name)}')`);
  // numel in floating point: a shape that overflows cannot equal a byte range that fits in the file.
  if (e - b !== numel(shape) * size) throw new FileError(file, `tensor '${printable(name)}': byte range does not match its shape`);
  return { dtype, shape: [...shape], data_offsets: [b, e] };
}

export function parseSafetensors(buf: Uint8Array, file: string): Map<string, Tensor> {
  if (buf.length < 8) throw new FileError(file, 'truncated safetensors file (no header)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const declared = dv.getBigUint64(0, true);
  if (declared === 0n || declared > BigInt(buf.length - 8)) throw new FileError(file, 'truncated or corrupt safetensors header');
  const n = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch {
    throw new FileError(file, 'corrupt safetensors header (not JSON)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new FileError(file, 'corrupt safetensors header (not a JSON object)');
  const base = 8 + n;
  const out = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = checkEntry(name, raw, buf.length - base, file);
    const [b, e] = info.data_offsets;
    const count = numel(info.shape);
    const bytes = new Uint8Array(ownedBuffer(buf.subarray(base + b, base + e)));
    let data: Float32Array;
    if (info.dtype === 'F32') data = new Float32Array(bytes.buffer);
    else if (info.dtype === 'F64') data = Float32Array.from(new Float64Array(bytes.buffer));
    else {
      const h = new Uint16Array(bytes.buffer);
      data = new Float32Array(count);
      const u = new Uint32Array(1), f = new Float32Array(u.buffer);
      for (let i = 0; i < count; i++) {
        if (info.dtype === 'F16') data[i] = halfToFloat(h[i]!);
        else { u[0] = h[i]! << 16; data[i] = f[0]!; }
      }
    }
    out.set(name, { dims: info.shape, data });
  }
  return out;
}

export function encodeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
