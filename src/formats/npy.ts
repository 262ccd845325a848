/**
 * NumPy .npy (format versions 1.0, 2.0, 3.0). Hand-written: the format is a 10-line header plus raw
 * little-endian data, and no maintained JS library reads v2/v3 headers and float16 together.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { printable } from '../util/printable.js';
import { FileError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export type NpyDtype = 'f4' | 'f2' | 'f8' | 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8' | 'b1';

export interface NpyArray {
  dims: number[];
  dtype: NpyDtype;
  /** The raw values, little-endian, C order (a view into the input where alignment allows). */
  bytes: Uint8Array;
}

const ITEM: Record<NpyDtype, number> = { f4: 4, f2: 2, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, b1: 1 };

/** What a .npy header says: the array's shape and type, and where its data lies in the file. */
export interface NpyHeader {
  dims: number[];
  dtype: NpyDtype;
  itemBytes: number;
  /** Byte offset of the first value. */
  dataOffset: number;
  /** Bytes of data the header declares. */
  nbytes: number;
}

/** Bytes from the file's start to the end of its header, from the file's first 12 bytes (or fewer, if it is shorter). */
export function npyHeaderEnd(pre: Uint8Array, file: string): number {
  if (pre.length < 10 || MAGIC.some((b, i) => pre[i] !== b)) throw new FileError(file, 'not a .npy array (bad magic)');
  const major = pre[6]!;
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  if (major === 1) return 10 + dv.getUint16(8, true);
  if (major !== 2 && major !== 3) throw new FileError(file, `unsupported .npy format version ${major}.${pre[7]}`);
  if (pre.length < 12) throw new FileError(file, 'truncated .npy header');
  return 12 + dv.getUint32(8, true);
}

/**
 * Parses and validates the header. `head` holds at least the file's first npyHeaderEnd() bytes;
 * `fileSize` is the whole file's length, checked against the data the header declares.
 */
export function parseNpyHeader(head: Uint8Array, fileSize: number, file: string): NpyHeader {
  const end = npyHeaderEnd(head.subarray(0, 12), file);
  if (end > head.length) throw new FileError(file, 'truncated .npy header');
  const major = head[6]!;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(major === 1 ? 10 : 12, end));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FileError(file, 'malformed .npy header');
  }
  if (fortran === 'True') throw new FileError(file, 'Fortran-order .npy arrays are not supported');
  const m = /^([<>|=])([fiub])(\d)$/.exec(descr);
  const dtype = (m ? `${m[2]}${m[3]}` : '') as NpyDtype;
  if (!m || !(dtype in ITEM)) throw new FileError(file, `unsupported .npy dtype '${printable(descr)}'`);
  if (m[1] === '>' && ITEM[dtype] > 1) throw new FileError(file, `big-endian .npy dtype '${printable(descr)}' is not supported`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new FileError(file, 'malformed .npy shape');
  const nbytes = numel(dims) * ITEM[dtype];
  if (fileSize - end < nbytes) throw new FileError(file, `truncated .npy data: ${fileSize - end} of ${nbytes} bytes`);
  return { dims, dtype, itemBytes: ITEM[dtype], dataOffset: end, nbytes };
}

export function parseNpy(buf: Uint8Array, file: string): NpyArray {
  const h = parseNpyHeader(buf, buf.length, file);
  return { dims: h.dims, dtype: h.dtype, bytes: buf.subarray(h.dataOffset, h.dataOffset + h.nbytes) };
}

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Copy into an aligned, owned buffer so typed-array views are legal. (Not `bytes.slice()`: on a Node
 * Buffer that returns a view of the same memory, whose `.buffer` is the whole pool.)
 */
export function ownedBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
const aligned = ownedBuffer;

/** The array as float32 (float32 / float16 / float64 accepted; others are an error for weights). */
export function npyToFloat32(a: NpyArray, file: string): Float32Array {
  switch (a.dtype) {
    case 'f4':
      return new Float32Array(aligned(a.bytes));
    case 'f2': {
      const h = new Uint16Array(aligned(a.bytes));
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]!);
      return out;
    }
    case 'f8':
      return Float32Array.from(new Float64Array(aligned(a.bytes)));
    default:
      throw new FileError(file, `expected a float32 or float16 array, found dtype '${a.dtype}'`);
  }
}

/** Integer (or bool) array as plain numbers, e.g. labels. */
export function npyToInts(a: NpyArray, file: string): Int32Array {
  const b = aligned(a.bytes);
  switch (a.dtype) {
    case 'u1': case 'b1': return Int32Array.from(new Uint8Array(b));
    case 'i1': return Int32Array.from(new Int8Array(b));
    case 'i2': return Int32Array.from(new Int16Array(b));
    case 'u2': return Int32Array.from(new Uint16Array(b));
    case 'i4': return new Int32Array(b);
    case 'u4': return Int32Array.from(new Uint32Array(b));
    case 'i8': return Int32Array.from(new BigInt64Array(b), (v) => Number(v));
    case 'u8': return Int32Array.from(new BigUint64Array(b), (v) => Number(v));
    default: throw new FileError(file, `expected an integer array, found dtype '${a.dtype}'`);
  }
}

export function parseNpyFloat32(buf: Uint8Array, file: string): Tensor {
  const a = parseNpy(buf, file);
  return { dims: a.dims, data: npyToFloat32(a, file) };
}

/** Encode a float32 tensor (or float16 bits / float64 / int32 / uint8 array) as .npy v1.0 (v2.0 if the header needs it). */
export function encodeNpy(t: { dims: readonly number[]; data: Float32Array | Int32Array | Uint8Array | Float64Array | Uint16Array }): Uint8Array {
  // A Uint16Array is taken as IEEE half bits (float16).
  const descr = t.data instanceof Float32Array ? '<f4' : t.data instanceof Int32Array ? '<i4'
    : t.data instanceof Float64Array ? '<f8' : t.data instanceof Uint16Array ? '<f2' : '|u1';
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v2 = header.length + 11 > 65535;
  const pre = v2 ? 12 : 10;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - pre - header.length - 1) + '\n';
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC, 0);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v2) dv.setUint32(8, header.length, true);
  else dv.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, total);
  return out;
}
