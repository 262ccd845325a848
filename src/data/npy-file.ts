/**
 * Random access into a .npy file on disk: parse the header only, then read byte ranges. A batch file
 * of 10,000 224×224 float images is 6 GB, more than one Node buffer holds, so src/formats/npy.ts's
 * parseNpy (which takes the whole file) is used for small files only; this reads slices and converts
 * them with the same npyToFloat32 / npyToInts.
 */
import { FileError } from '../errors.js';
import { numel } from '../tensor.js';
import { type NpyArray, type NpyDtype, npyHeaderEnd, parseNpyHeader } from '../formats/npy.js';
import { asFileError, openForReading } from './byte-stream.js';


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
    const pre = new Uint8Array(Math.min(12, size));
    await fh.read(pre, 0, pre.length, 0);
    const head = new Uint8Array(Math.min(npyHeaderEnd(pre, file), size));
    await fh.read(head, 0, head.length, 0);
    const { dims, dtype, itemBytes, dataOffset } = parseNpyHeader(head, size, file);
    return { file, dims, dtype, itemBytes, dataOffset };
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
