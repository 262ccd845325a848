/** The `.ts` files below a folder, recursively: what the architecture tests read. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}
