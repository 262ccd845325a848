/**
 * What `predict` reads: image files (JPEG, PNG, WebP; anything sharp decodes), folders of them, and
 * .npy tensors. A file is a .npy tensor when it starts with NumPy's magic bytes, whatever its name,
 * and an image otherwise; folders are walked in sorted order for image files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError, UserError } from '../errors.js';
import { npyToFloat32, parseNpy } from '../formats/npy.js';
import { IMAGE_EXTENSIONS, isImageFile } from '../data/image-folder.js';
import { nhwcToNchw, type Tensor } from '../tensor.js';

export type TensorLayout = 'nhwc' | 'nchw';

/** One input as named on the command line: an image file, or a .npy tensor of n images. */
export type PredictInput = { kind: 'image'; file: string } | { kind: 'npy'; file: string };

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function readError(file: string, e: unknown): FileError {
  const code = (e as NodeJS.ErrnoException).code;
  return new FileError(file, code === 'ENOENT' ? 'no such file or folder' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? (e as Error).message})`);
}

async function startsWithNpyMagic(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(NPY_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(NPY_MAGIC);
  } finally {
    await fh.close();
  }
}

/** Image files under a folder, depth first, names sorted (hidden entries skipped). */
async function imagesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of entries) {
    const full = path.join(dir, d.name);
    const st = await fs.stat(full).catch(() => null); // follows links; a dangling one is skipped
    if (st?.isDirectory()) out.push(...await imagesUnder(full));
    else if (st?.isFile() && isImageFile(d.name)) out.push(full);
  }
  return out;
}

/** The command line's paths as inputs, in order; folders expand to their images. */
export async function collectInputs(paths: readonly string[]): Promise<PredictInput[]> {
  if (paths.length === 0) throw new UserError('no inputs: give image files (JPEG, PNG, WebP), folders of them, or .npy tensors');
  const out: PredictInput[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await fs.stat(p);
    } catch (e) {
      throw readError(p, e);
    }
    if (st.isDirectory()) {
      let files: string[];
      try {
        files = await imagesUnder(p);
      } catch (e) {
        throw readError(p, e);
      }
      if (files.length === 0) throw new FileError(p, `contains no images (${IMAGE_EXTENSIONS.join(', ')})`);
      out.push(...files.map((file) => ({ kind: 'image' as const, file })));
    } else {
      try {
        out.push({ kind: (await startsWithNpyMagic(p)) ? 'npy' : 'image', file: p });
      } catch (e) {
        throw readError(p, e);
      }
    }
  }
  return out;
}

/**
 * A .npy image batch (design.md: float32 NHWC [n, H, W, 3] in the model's input range, or NCHW with
 * layout 'nchw') as an NCHW tensor, checked against the model's input side.
 */
export async function readTensorBatch(file: string, layout: TensorLayout, side: number): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw readError(file, e);
  }
  const a = parseNpy(bytes, file);
  if (a.dtype !== 'f4') throw new FileError(file, `expected float32 images, found dtype '${a.dtype}'`);
  const expect = layout === 'nhwc' ? `[n, ${side}, ${side}, 3]` : `[n, 3, ${side}, ${side}]`;
  if (a.dims.length !== 4) throw new FileError(file, `expected a rank-4 ${layout.toUpperCase()} image batch ${expect}, found shape [${a.dims}]`);
  const [n, d1, d2, d3] = a.dims as [number, number, number, number];
  const ok = layout === 'nhwc' ? d1 === side && d2 === side && d3 === 3 : d1 === 3 && d2 === side && d3 === side;
  if (!ok) {
    throw new FileError(file, `expected ${expect} for this model, found [${a.dims}]` +
      (layout === 'nhwc' && d1 === 3 ? ' (NCHW? pass --layout nchw)' : ''));
  }
  if (n === 0) throw new FileError(file, 'holds no images');
  const t = { dims: a.dims, data: npyToFloat32(a, file) };
  return layout === 'nhwc' ? nhwcToNchw(t) : t;
}
