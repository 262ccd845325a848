/**
 * What every hand-written SVG chart shares (bench, loadtest, tuner, confusion matrix): text escaping,
 * axis scales, and writing the file — SVG as it is, or PNG rendered from it by sharp when the path ends in .png.
 */
import * as path from 'node:path';
import { writeFileAtomic } from './atomic.js';

/** Escape text for SVG/XML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" axis maximum and tick step for a data maximum. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { max: Math.ceil(max / step) * step, step };
}

/** Write an SVG, or a PNG rendered from it when the path ends in .png (atomically either way). */
export async function writeChart(file: string, svg: string): Promise<void> {
  if (path.extname(file).toLowerCase() === '.png') {
    const { default: sharp } = await import('sharp');
    const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
    await writeFileAtomic(file, new Uint8Array(png.buffer, png.byteOffset, png.length));
  } else {
    await writeFileAtomic(file, svg);
  }
}
