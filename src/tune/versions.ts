/** Versions that identify a measurement or an artifact: vitopt's own and the runtime's. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packagePath } from '../util/paths.js';
import type { TuneEngine } from './types.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}

/** The runtime package behind an engine, with its version (read from its package.json, without loading it). */
export function runtimeVersion(engine: TuneEngine): string {
  const name = engine === 'wasm' ? 'onnxruntime-web' : 'onnxruntime-node';
  try {
    const req = createRequire(import.meta.url);
    const pj = JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')) as { version: string };
    return `${name} ${pj.version}`;
  } catch {
    return `${name} ?`;
  }
}
