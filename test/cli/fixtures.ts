/**
 * Fixtures of the CLI tests: real Fashion-MNIST images from the shipped subset written as image files,
 * and the one-line-error check.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { openDataSpec } from '../../src/data/data-spec.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/labels.js';

// One CLI runner and temporary-folder helper for all tests (test/core/helpers.ts).
export { CLI, runCli, tmp } from '../core/helpers.js';

export interface SubsetImage {
  /** 28×28 grey pixels, row-major. */
  pixels: Uint8Array;
  label: number;
  className: string;
}

/** The first n images of the shipped Fashion-MNIST subset, as they are stored (IDX). */
export async function subsetImages(n: number): Promise<SubsetImage[]> {
  const ds = await openDataSpec('fashion-mnist-subset');
  const out: SubsetImage[] = [];
  for await (const b of ds.batches(n, { limit: n })) {
    b.images.forEach((img, i) => out.push({ pixels: Uint8Array.from(img.data as Uint8Array), label: b.labels[i]!, className: FASHION_MNIST_CLASSES[b.labels[i]!]! }));
  }
  return out;
}

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** One grey image to a file; `side` other than 28 resizes it (so the model's preprocessing has to resize back). */
export async function writeImage(img: SubsetImage, file: string, format: ImageFormat, side = 28): Promise<string> {
  let s = sharp(Buffer.from(img.pixels), { raw: { width: 28, height: 28, channels: 1 } });
  if (side !== 28) s = s.resize(side, side, { kernel: 'nearest' });
  s = format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 95 }) : s.webp({ lossless: true });
  await fs.mkdir(path.dirname(file), { recursive: true });
  await s.toFile(file);
  return file;
}

/** Exit code 2 and exactly one line on stderr matching `re`. */
export function oneLineError(r: { status: number | null; stderr: string }, re: RegExp): string {
  if (r.status !== 2) throw new Error(`exit code 2 expected, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  if (lines.length !== 1) throw new Error(`one line expected on stderr, got ${lines.length}: ${r.stderr}`);
  if (!re.test(lines[0]!)) throw new Error(`stderr '${lines[0]}' does not match ${re}`);
  return lines[0]!;
}
