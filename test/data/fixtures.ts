/** Small data files written by the tests themselves, in a fresh temporary directory. */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix = 'vitopt-data-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function idxBytes(magic: number, dims: number[], values: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, magic, false);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + values.length);
  out.set(head);
  out.set(values, head.length);
  return out;
}

/** n images of rows×cols where every pixel of image i is (i·7) mod 256, labels i mod classes. */
export function writeIdxPair(dir: string, n: number, opts: { rows?: number; cols?: number; gzip?: boolean; classes?: number; prefix?: string } = {}) {
  const rows = opts.rows ?? 4;
  const cols = opts.cols ?? 3;
  const classes = opts.classes ?? 10;
  const pixels = new Uint8Array(n * rows * cols);
  for (let i = 0; i < n; i++) pixels.fill((i * 7) % 256, i * rows * cols, (i + 1) * rows * cols);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % classes);
  const prefix = opts.prefix ?? 't10k';
  const ext = opts.gzip ? '.gz' : '';
  const images = path.join(dir, `${prefix}-images-idx3-ubyte${ext}`);
  const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte${ext}`);
  const enc = (b: Uint8Array) => (opts.gzip ? gzipSync(b) : b);
  writeFileSync(images, enc(idxBytes(0x803, [n, rows, cols], pixels)));
  writeFileSync(labelsFile, enc(idxBytes(0x801, [n], labels)));
  return { images, labels: labelsFile, pixels, labelValues: labels };
}

export function mkdirs(...dirs: string[]): void {
  for (const d of dirs) mkdirSync(d, { recursive: true });
}
