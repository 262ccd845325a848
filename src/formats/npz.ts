/**
 * NumPy .npz: a ZIP (stored or deflated; ZIP64 as numpy writes it) of .npy members. Read with yauzl,
 * which uses the central directory and handles ZIP64, written with yazl.
 */
import { printable } from '../util/printable.js';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { FileError } from '../errors.js';
import { encodeNpy, npyToFloat32, parseNpy } from './npy.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from '../util/atomic.js';

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true },
      (err, zip) => (err ? reject(err) : resolve(zip!)));
  });
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream!.on('data', (c: Buffer) => chunks.push(c));
      stream!.on('error', reject);
      stream!.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    });
  });
}

/** Every member of an .npz as raw bytes, keyed by its name without the `.npy` suffix. */
export async function readNpzMembers(file: string): Promise<Map<string, Buffer>> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileError(file, 'no such file');
    if (code === 'EISDIR') throw new FileError(file, 'is a directory, not an .npz file');
    throw new FileError(file, `not a valid .npz (zip) archive: ${printable((e as Error).message, 200)}`);
  }
  const out = new Map<string, Buffer>();
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        readEntry(zip, entry).then((buf) => {
          out.set(entry.fileName.replace(/\.npy$/, ''), buf);
          zip.readEntry();
        }, reject);
      });
      zip.readEntry();
    });
  } catch (e) {
    throw new FileError(file, `corrupt .npz archive: ${printable((e as Error).message, 200)}`);
  } finally {
    zip.close();
  }
  if (out.size === 0) throw new FileError(file, 'the .npz archive holds no arrays');
  return out;
}

/** All arrays of an .npz as float32 tensors (float16/float64 members are widened/narrowed). */
export async function loadNpz(file: string): Promise<Map<string, Tensor>> {
  const members = await readNpzMembers(file);
  const out = new Map<string, Tensor>();
  for (const [name, buf] of members) {
    const where = `${file}[${printable(name)}]`;
    const a = parseNpy(buf, where);
    out.set(name, { dims: a.dims, data: npyToFloat32(a, where) });
  }
  return out;
}

export interface NpzWriteOptions {
  /** Deflate members (np.savez_compressed) instead of storing them (np.savez). */
  compress?: boolean;
  /** Write ZIP64 headers for every member, as numpy's _savez does (force_zip64=True). */
  zip64?: boolean;
}

export async function encodeNpz(arrays: Map<string, Tensor>, o: NpzWriteOptions = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, t] of arrays) {
    zip.addBuffer(Buffer.from(encodeNpy(t)), `${name}.npy`,
      { compress: o.compress ?? false, forceZip64Format: o.zip64 ?? false, mtime: new Date(0) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function saveNpz(file: string, arrays: Map<string, Tensor>, o: NpzWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, await encodeNpz(arrays, o));
}
