/**
 * Image batches stored as .npy plus a labels file (.npy of integers, or text with one integer per
 * line). Images are float NHWC [n, H, W, 3] already in the model's input range (design.md CLI
 * contract; `layout: 'nchw'` for [n, 3, H, W]), or uint8 pixels [n, H, W] / [n, H, W, 3] that get the
 * normal preprocessing. Rows are read from disk one batch at a time.
 */
import { printable } from '../util/printable.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';
import { npyToFloat32, npyToInts, parseNpy } from '../formats/npy.js';
import { asFileError } from './byte-stream.js';
import { batchRanges, itemsToRead, type Batch, type BatchOptions, type Dataset, type RawImage } from './dataset.js';
import { inspectNpyFile, readNpyRows, type NpyFileInfo } from './npy-file.js';

export type ImageLayout = 'nhwc' | 'nchw';

/** Labels from a .npy integer array ([n] or [n, 1]) or a text file with one integer per line. */
export async function readLabelsFile(file: string): Promise<Int32Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw asFileError(e, file);
  }
  if (path.extname(file).toLowerCase() === '.npy') {
    const a = parseNpy(bytes, file);
    if (!(a.dims.length === 1 || (a.dims.length === 2 && a.dims[1] === 1))) {
      throw new FileError(file, `labels must have shape [n] or [n, 1], found [${a.dims.join(', ')}]`);
    }
    const labels = npyToInts(a, file);
    const bad = labels.findIndex((l) => l < 0);
    if (bad >= 0) throw new FileError(file, `label ${labels[bad]} at index ${bad} is negative`);
    return labels;
  }
  const out: number[] = [];
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^\d+$/.test(line)) throw new FileError(file, `line ${i + 1}: '${printable(line, 40)}' is not a non-negative integer label`);
    out.push(Number(line));
  }
  return Int32Array.from(out);
}

interface ImageGeometry {
  height: number;
  width: number;
  channels: 1 | 3;
  kind: 'uint8' | 'float';
}

function geometry(info: NpyFileInfo, layout: ImageLayout): ImageGeometry {
  const { file, dims, dtype } = info;
  const shape = `[${dims.join(', ')}]`;
  const kind = dtype === 'u1' ? 'uint8' : dtype === 'f4' || dtype === 'f2' || dtype === 'f8' ? 'float' : null;
  if (!kind) throw new FileError(file, `images must be float32 (model range) or uint8 (pixels), found dtype '${dtype}'`);
  if (kind === 'uint8' && dims.length === 3) return { height: dims[1]!, width: dims[2]!, channels: 1, kind };
  if (dims.length !== 4) {
    throw new FileError(file, `images must have shape ${layout === 'nhwc' ? '[n, H, W, 3]' : '[n, 3, H, W]'}${kind === 'uint8' ? ' or [n, H, W]' : ''}, found ${shape}`);
  }
  const [, a, b, c] = dims as [number, number, number, number];
  if (layout === 'nhwc' && c === 3) return { height: a, width: b, channels: 3, kind };
  if (layout === 'nchw' && a === 3) return { height: b, width: c, channels: 3, kind };
  const hint = layout === 'nhwc' && a === 3 ? ' (looks like NCHW: pass --layout nchw)' : layout === 'nchw' && c === 3 ? ' (looks like NHWC: drop --layout nchw)' : '';
  throw new FileError(file, `images must have shape ${layout === 'nhwc' ? '[n, H, W, 3]' : '[n, 3, H, W]'}, found ${shape}${hint}`);
}

/** CHW -> HWC for one image. */
function chwToHwc<T extends Float32Array | Uint8Array>(src: T, h: number, w: number, out: T): T {
  const plane = h * w;
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[i * 3 + c] = src[c * plane + i]!;
  return out;
}

export interface NpyDatasetOptions {
  layout?: ImageLayout;
  classes?: string[] | null;
  name?: string;
}

export class NpyDataset implements Dataset {
  readonly name: string;
  readonly source: string;
  readonly classes: string[] | null;

  private constructor(private readonly info: NpyFileInfo, private readonly geo: ImageGeometry,
    private readonly layout: ImageLayout, readonly labels: Int32Array, opts: NpyDatasetOptions) {
    this.source = info.file;
    this.name = opts.name ?? `npy:${path.basename(info.file)}`;
    this.classes = opts.classes ?? null;
  }

  static async open(imagesFile: string, labelsFile: string, opts: NpyDatasetOptions = {}): Promise<NpyDataset> {
    const layout = opts.layout ?? 'nhwc';
    const info = await inspectNpyFile(imagesFile);
    const geo = geometry(info, layout);
    const labels = await readLabelsFile(labelsFile);
    if (labels.length !== info.dims[0]) {
      throw new FileError(labelsFile, `has ${labels.length} labels but ${imagesFile} has ${info.dims[0]} images`);
    }
    return new NpyDataset(info, geo, layout, labels, opts);
  }

  get size(): number {
    return this.info.dims[0]!;
  }

  async *batches(batchSize: number, opts: BatchOptions = {}): AsyncGenerator<Batch> {
    const { height, width, channels, kind } = this.geo;
    const per = height * width * channels;
    for (const [start, end] of batchRanges(itemsToRead(this.size, opts.limit), batchSize)) {
      const rows = await readNpyRows(this.info, start, end);
      const values = kind === 'uint8' ? rows.bytes : npyToFloat32(rows, this.info.file);
      const images: RawImage[] = [];
      const ids: string[] = [];
      for (let i = 0; i < end - start; i++) {
        let data = values.subarray(i * per, (i + 1) * per);
        if (this.layout === 'nchw' && channels === 3) data = chwToHwc(data, height, width, new (data.constructor as { new(n: number): typeof data })(per));
        images.push(kind === 'uint8'
          ? { kind, height, width, channels, data: data as Uint8Array }
          : { kind, height, width, channels: 3, data: data as Float32Array });
        ids.push(`${this.info.file}#${start + i}`);
      }
      yield { images, labels: this.labels.slice(start, end), ids, skipped: [] };
    }
  }
}
