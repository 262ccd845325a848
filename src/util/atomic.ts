/**
 * Atomic file output: write to a temporary file beside the target, then rename. An interrupted or
 * failed run never leaves a half-written model or report behind (design: CLI contract).
 */
import { promises as fs, constants as fsc } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';

/** Fail early, before any long work, if `file` cannot be written. */
export async function assertWritable(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new FileError(file, `cannot write: ${dir} is not a directory`);
    await fs.access(dir, fsc.W_OK);
  } catch (e) {
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(file, code === 'ENOENT' ? `cannot write: directory ${dir} does not exist`
      : `cannot write: directory ${dir} is not writable`);
  }
  try {
    const st = await fs.stat(file);
    if (st.isDirectory()) throw new FileError(file, 'cannot write: it is a directory');
  } catch (e) {
    if (e instanceof FileError) throw e;
  }
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

/** Write several files so that either all of them appear or none does (e.g. model + external data). */
export async function writeFilesAtomic(files: { path: string; data: Uint8Array | string }[]): Promise<void> {
  const temps: { tmp: string; dest: string }[] = [];
  try {
    for (const f of files) {
      const tmp = tempName(f.path);
      temps.push({ tmp, dest: f.path });
      await fs.writeFile(tmp, f.data);
    }
    for (const t of temps) await fs.rename(t.tmp, t.dest);
  } catch (e) {
    await Promise.all(temps.map((t) => fs.rm(t.tmp, { force: true })));
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.path) throw new FileError(files[0]!.path, `cannot write: ${err.code}`);
    throw e;
  }
}

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await writeFilesAtomic([{ path: file, data }]);
}
