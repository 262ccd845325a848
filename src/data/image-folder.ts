/**
 * Image folders: `root/<class>/*.{jpg,jpeg,png,webp}`, classes = sorted subfolder names (the
 * torchvision ImageFolder convention; for ImageNet's WordNet-id folders this is the class index
 * order of the official checkpoints). Images are decoded by sharp one batch at a time.
 */
import { readDirOrFail } from '../util/dir.js';
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { FileError } from '../errors.js';
import { batchRanges, itemsToRead, type Batch, type BatchOptions, type Dataset, type RawImage, type SkippedItem } from './dataset.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/**
 * Decode to uint8 RGB HWC the way TF's decode_jpeg(channels=3) does: alpha dropped (not composited),
 * grey expanded to RGB, no EXIF rotation and embedded ICC profiles ignored (TF applies neither), 8 bits.
 */
export async function decodeImageFile(file: string): Promise<RawImage> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await sharp(file, { ignoreIcc: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new FileError(file, `cannot be decoded as an image: ${(e as Error).message.split('\n')[0]}`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3) throw new FileError(file, `decoded to ${channels} channels, expected RGB`);
  return { kind: 'uint8', height, width, channels: 3, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length) };
}

/** Directory entry kind, following symbolic links (datasets are often linked in from elsewhere). */
async function isKind(full: string, d: Dirent, kind: 'dir' | 'file'): Promise<boolean> {
  if (!d.isSymbolicLink()) return kind === 'dir' ? d.isDirectory() : d.isFile();
  try {
    const st = await fs.stat(full);
    return kind === 'dir' ? st.isDirectory() : st.isFile();
  } catch {
    return false; // a dangling link is not part of the dataset
  }
}

interface Entry {
  file: string;
  label: number;
}

/** A labelled folder of image files. */
export class ImageFolderDataset implements Dataset {
  readonly name: string;

  private constructor(readonly source: string, readonly classes: string[], private readonly entries: Entry[], name?: string) {
    this.name = name ?? `folder:${path.basename(source)}`;
  }

  /** Scan `root`; fails on a missing root, no class folders, or a class folder without images. */
  static async open(root: string, name?: string): Promise<ImageFolderDataset> {
    const dirents = await readDirOrFail(root);
    const classes = (await Promise.all(dirents.filter((d) => !d.name.startsWith('.'))
      .map(async (d) => ((await isKind(path.join(root, d.name), d, 'dir')) ? d.name : null))))
      .filter((n): n is string => n !== null).sort();
    if (classes.length === 0) {
      throw new FileError(root, 'has no class subfolders: expected root/<class>/*.{jpg,jpeg,png,webp}');
    }
    const perClass: Entry[][] = [];
    for (const [label, cls] of classes.entries()) {
      const dir = path.join(root, cls);
      const candidates = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => !d.name.startsWith('.') && isImageFile(d.name));
      const files = (await Promise.all(candidates.map(async (d) => ((await isKind(path.join(dir, d.name), d, 'file')) ? d.name : null))))
        .filter((n): n is string => n !== null).sort();
      if (files.length === 0) throw new FileError(dir, `contains no images (${IMAGE_EXTENSIONS.join(', ')})`);
      perClass.push(files.map((f) => ({ file: path.join(dir, f), label })));
    }
    return new ImageFolderDataset(root, classes, interleave(perClass), name);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The files in reading order. */
  get files(): string[] {
    return this.entries.map((e) => e.file);
  }

  async *batches(batchSize: number, opts: BatchOptions = {}): AsyncGenerator<Batch> {
    const count = itemsToRead(this.size, opts.limit);
    for (const [start, end] of batchRanges(count, batchSize)) {
      const slice = this.entries.slice(start, end);
      // sharp decodes on libuv's thread pool, so one batch decodes in parallel.
      const decoded = await Promise.allSettled(slice.map((e) => decodeImageFile(e.file)));
      const images: RawImage[] = [];
      const labels: number[] = [];
      const ids: string[] = [];
      const skipped: SkippedItem[] = [];
      for (const [i, r] of decoded.entries()) {
        const e = slice[i]!;
        if (r.status === 'fulfilled') {
          images.push(r.value);
          labels.push(e.label);
          ids.push(e.file);
        } else if (opts.skipBad && r.reason instanceof FileError) {
          skipped.push({ id: e.file, reason: r.reason.message.slice(e.file.length + 2) });
        } else {
          throw r.reason;
        }
      }
      yield { images, labels: Int32Array.from(labels), ids, skipped };
    }
  }
}

/**
 * Round-robin over the classes (a0 b0 c0 a1 b1 …) so that `--limit N` evaluates a sample of every
 * class instead of the first class only. The order is still fully deterministic.
 */
function interleave(perClass: Entry[][]): Entry[] {
  const out: Entry[] = [];
  const longest = Math.max(...perClass.map((c) => c.length));
  for (let i = 0; i < longest; i++) for (const c of perClass) if (i < c.length) out.push(c[i]!);
  return out;
}
