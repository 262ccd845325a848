/** Paths inside the installed package (not the cwd): bundled models, data, fixtures. */
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';

/** The directory of vitopt's own package.json, found upward from this module (works from src/ and dist/). */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'vitopt') return dir;
      } catch { /* not ours; keep climbing */ }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('internal: vitopt package root not found');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();

export function packagePath(...parts: string[]): string {
  return path.join(PACKAGE_ROOT, ...parts);
}
