/**
 * Random access into a .npy file on disk: parse the header only, then read byte ranges. A batch file
 * of 10,000 224×224 float images is 6 GB, more than one Node buffer holds, so src/formats/npy.ts's
 * parseNpy (which takes the whole file) is used for small files only; this reads slices and converts
 * them with the same npyToFloat32 / npyToInts.
 */
import { FileError } from '../errors.js';
import { numel } from '../tensor.js';
import { type NpyArray, type NpyDtype } from '../formats/npy.js';
import { asFileError, openForReading } from './byte-stream.js';

const MAGIC = '\x93NUMPY';
const ITEM_BYTES: Record<NpyDtype, number> = { f4: 4, f2: 2, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8, b1: 1 };

export interface NpyFileInfo {
  file: string;
  dims: number[];
  dtype: NpyDtype;
  itemBytes: number;
  /** Byte offset of the first value. */
  dataOffset: number;
}

/** Read and validate a .npy header, and check that the file holds all the data it declares. */
export async function inspectNpyFile(file: string): Promise<NpyFileInfo> {
  const fh = await openForReading(file);
  try {
    const size = (await fh.stat()).size;
    const pre = new Uint8Array(12);
    await fh.read(pre, 0, 12, 0);
    if (size < 10 || String.fromCharCode(...pre.subarray(0, 6)) !== MAGIC) throw new FileError(file, 'is not a .npy array (bad magic)');
    const major = pre[6]!;
    if (major < 1 || major > 3) throw new FileError(file, `unsupported .npy format version ${major}.${pre[7]}`);
    const dv = new DataView(pre.buffer);
    const start = major === 1 ? 10 : 12;
    const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
    if (start + headerLen > size) throw new FileError(file, 'truncated .npy header');
    const hb = new Uint8Array(headerLen);
    await fh.read(hb, 0, headerLen, start);
    const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(hb);
    const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
    const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
    const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
    if (descr === undefined || fortran === undefined || shapeText === undefined) throw new FileError(file, 'malformed .npy header');
    if (fortran === 'True') throw new FileError(file, 'Fortran-order .npy arrays are not supported');
    const m = /^([<>|=])([fiub])(\d)$/.exec(descr);
    const dtype = (m ? `${m[2]}${m[3]}` : '') as NpyDtype;
    if (!m || !(dtype in ITEM_BYTES)) throw new FileError(file, `unsupported .npy dtype '${descr}'`);
    if (m[1] === '>' && ITEM_BYTES[dtype] > 1) throw new FileError(file, `big-endian .npy dtype '${descr}' is not supported`);
    const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new FileError(file, 'malformed .npy shape');
    const dataOffset = start + headerLen;
    const want = numel(dims) * ITEM_BYTES[dtype];
    if (size - dataOffset < want) throw new FileError(file, `truncated .npy data: ${size - dataOffset} of ${want} bytes`);
    return { file, dims, dtype, itemBytes: ITEM_BYTES[dtype], dataOffset };
  } catch (e) {
    throw asFileError(e, file);
  } finally {
    await fh.close();
  }
}

/** Rows [start, end) along the first axis, as an NpyArray ready for npyToFloat32 / npyToInts. */
export async function readNpyRows(info: NpyFileInfo, start: number, end: number): Promise<NpyArray> {
  const rowBytes = numel(info.dims.slice(1)) * info.itemBytes;
  const bytes = new Uint8Array((end - start) * rowBytes);
  const fh = await openForReading(info.file);
  try {
    // read() may return less than asked for large ranges: loop until the slice is full.
    for (let got = 0; got < bytes.length;) {
      const { bytesRead } = await fh.read(bytes, got, bytes.length - got, info.dataOffset + start * rowBytes + got);
      if (bytesRead === 0) throw new FileError(info.file, 'is truncated (changed while being read?)');
      got += bytesRead;
    }
  } catch (e) {
    throw asFileError(e, info.file);
  } finally {
    await fh.close();
  }
  return { dims: [end - start, ...info.dims.slice(1)], dtype: info.dtype, bytes };
}
