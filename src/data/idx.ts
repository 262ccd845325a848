/**
 * IDX files (MNIST, Fashion-MNIST): a big-endian header `00 00 <type> <ndim>`, ndim uint32 sizes,
 * then the values. http://yann.lecun.com/exdb/mnist/ . Gzipped or not. Only unsigned-byte data
 * (type 0x08) exists in these datasets, so only that is read.
 */
import { FileError } from '../errors.js';
import { measureStream, readAllBytes, readRecords } from './byte-stream.js';
import { batchRanges, itemsToRead, type Batch, type BatchOptions, type Dataset, type RawImage } from './dataset.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxHeader {
  /** Sizes of each dimension: [n] for labels, [n, rows, cols] for images. */
  dims: number[];
  /** Bytes before the first value. */
  headerBytes: number;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** Validate the header of an IDX images (3-d) or labels (1-d) file. */
export function parseIdxHeader(bytes: Uint8Array, file: string, kind: 'images' | 'labels'): IdxHeader {
  const expected = kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
  if (bytes.length < 4) throw new FileError(file, `is not an IDX ${kind} file: only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== expected) {
    const other = kind === 'images' ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC;
    const hint = magic === other ? ` (it is an IDX ${kind === 'images' ? 'labels' : 'images'} file)` : '';
    throw new FileError(file, `is not an IDX ${kind} file: magic ${hex(magic)}, expected ${hex(expected)}${hint}`);
  }
  const ndim = bytes[3]!;
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new FileError(file, `is truncated: IDX header needs ${headerBytes} bytes, file has ${bytes.length}`);
  const dims = Array.from({ length: ndim }, (_, i) => dv.getUint32(4 + 4 * i, false));
  if (kind === 'images' && dims.slice(1).some((d) => d === 0)) throw new FileError(file, `has zero-sized images (${dims.join('x')})`);
  return { dims, headerBytes };
}

function expectedLength(h: IdxHeader): number {
  return h.headerBytes + h.dims.reduce((a, b) => a * b, 1);
}

function checkLength(file: string, h: IdxHeader, length: number, kind: string): void {
  const want = expectedLength(h);
  if (length < want) throw new FileError(file, `is truncated: header promises ${h.dims[0]} ${kind} (${want} bytes), file has ${length} bytes`);
  if (length > want) throw new FileError(file, `has ${length - want} unexpected bytes after the ${h.dims[0]} ${kind} its header declares`);
}

/** All labels of an IDX labels file (small: 10,000 labels are 10 kB). */
export async function readIdxLabels(file: string): Promise<Uint8Array> {
  const bytes = await readAllBytes(file);
  const h = parseIdxHeader(bytes, file, 'labels');
  checkLength(file, h, bytes.length, 'labels');
  return bytes.subarray(h.headerBytes);
}

export interface IdxImagesInfo {
  file: string;
  count: number;
  rows: number;
  cols: number;
  headerBytes: number;
}

/**
 * Check an IDX images file end to end (header, and the exact length, which for gzip means one
 * decompression pass that keeps nothing) so that a bad file fails before any work, not at image 9,000.
 */
export async function inspectIdxImages(file: string): Promise<IdxImagesInfo> {
  const { length, head } = await measureStream(file, 16);
  const h = parseIdxHeader(head, file, 'images');
  checkLength(file, h, length, 'images');
  const [count, rows, cols] = h.dims as [number, number, number];
  return { file, count, rows, cols, headerBytes: h.headerBytes };
}

export interface IdxDatasetOptions {
  name?: string;
  classes?: string[] | null;
}

/** An IDX images file with its labels file; images are read lazily, one batch of bytes at a time. */
export class IdxDataset implements Dataset {
  readonly name: string;
  readonly source: string;
  readonly classes: string[] | null;

  private constructor(readonly images: IdxImagesInfo, readonly labels: Uint8Array, readonly labelsFile: string,
    opts: IdxDatasetOptions) {
    this.name = opts.name ?? 'idx';
    this.source = images.file;
    this.classes = opts.classes ?? null;
  }

  static async open(imagesFile: string, labelsFile: string, opts: IdxDatasetOptions = {}): Promise<IdxDataset> {
    const images = await inspectIdxImages(imagesFile);
    const labels = await readIdxLabels(labelsFile);
    if (labels.length !== images.count) {
      throw new FileError(labelsFile, `has ${labels.length} labels but ${imagesFile} has ${images.count} images`);
    }
    const classes = opts.classes ?? null;
    if (classes) {
      const bad = labels.findIndex((l) => l >= classes.length);
      if (bad >= 0) throw new FileError(labelsFile, `label ${labels[bad]} at index ${bad} is out of range for ${classes.length} classes`);
    }
    return new IdxDataset(images, labels, labelsFile, opts);
  }

  get size(): number {
    return this.images.count;
  }

  async *batches(batchSize: number, opts: BatchOptions = {}): AsyncGenerator<Batch> {
    const { file, rows, cols, headerBytes } = this.images;
    const count = itemsToRead(this.size, opts.limit);
    const ranges = batchRanges(count, batchSize);
    const pixels = rows * cols;
    for await (const chunk of readRecords(file, headerBytes, pixels, batchSize, count)) {
      const [start, end] = ranges.next().value as [number, number];
      const images: RawImage[] = [];
      const ids: string[] = [];
      for (let i = start; i < end; i++) {
        const off = (i - start) * pixels;
        images.push({ kind: 'uint8', height: rows, width: cols, channels: 1, data: chunk.subarray(off, off + pixels) });
        ids.push(`${file}#${i}`);
      }
      yield { images, labels: Int32Array.from(this.labels.subarray(start, end)), ids, skipped: [] };
    }
  }
}
