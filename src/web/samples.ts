/**
 * Sample images shipped with a site, so that a visitor (and the tests) can try the model at once:
 * for a Fashion-MNIST model, the first image of each class in the shipped test subset, as PNG.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { openDataSpec } from '../data/data-spec.js';
import { FASHION_MNIST_CLASSES } from '../data/labels.js';
import type { RawImage } from '../data/dataset.js';

export interface SampleImage {
  /** File name under samples/. */
  name: string;
  label: number;
  labelName: string;
  image: RawImage & { kind: 'uint8' };
}

/** One image per class from the start of the shipped Fashion-MNIST test subset. */
export async function fashionSamples(perClass = 1): Promise<SampleImage[]> {
  const ds = await openDataSpec('fashion-mnist-subset');
  const out: SampleImage[] = [];
  const count = new Map<number, number>();
  for await (const b of ds.batches(64, { limit: 400 })) {
    for (const [i, img] of b.images.entries()) {
      const label = b.labels[i]!;
      const seen = count.get(label) ?? 0;
      if (seen >= perClass || img.kind !== 'uint8') continue;
      count.set(label, seen + 1);
      const labelName = FASHION_MNIST_CLASSES[label]!;
      const slug = labelName.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      out.push({ name: `${String(out.length).padStart(2, '0')}-${slug}.png`, label, labelName, image: img as SampleImage['image'] });
    }
    if (out.length >= perClass * 10) break;
  }
  return out;
}

/** Lossless PNG of a uint8 image (grey or RGB), exactly its pixel values. */
export function pngOf(img: RawImage & { kind: 'uint8' }): Promise<Buffer> {
  return sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: img.channels } })
    .png().toBuffer();
}

export async function writeSamples(dir: string, samples: SampleImage[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const s of samples) await fs.writeFile(path.join(dir, s.name), await pngOf(s.image));
}
