/** Reading a directory a user named: its entries, or one FileError line saying why not. */
import { promises as fs, type Dirent } from 'node:fs';
import { FileError } from '../errors.js';

export async function readDirOrFail(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(dir, code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be read (${code})`);
  }
}
