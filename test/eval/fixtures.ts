/** A six-image .npy dataset whose answers under the tiny RGB-argmax model are known by hand. */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeNpy } from '../../src/formats/npy.js';
import type { TinyModelSpec } from './tiny-model.js';

/** Constant-colour images (r, g, b) in model range, and their labels. */
export const COLOURS: [number, number, number][] = [
  [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.2, 0.1], [0.1, 0.9, 0.3], [0.3, 0.2, 0.8],
];
export const LABELS = [0, 1, 2, 1, 1, 0];
/** The tiny model's logits are (r, g, b): predictions are the brightest channel. */
export const PREDICTED = [0, 1, 2, 0, 1, 2];

/** logits = pixel means (r, g, b): W = I, bias 0. */
export const RGB_ARGMAX: TinyModelSpec = { resolution: 4, weights: [1, 0, 0, 0, 1, 0, 0, 0, 1], bias: [0, 0, 0] };

export function writeColourNpy(dir: string, side = 4): { images: string; labels: string } {
  const per = side * side * 3;
  const data = new Float32Array(COLOURS.length * per);
  COLOURS.forEach((c, i) => {
    for (let p = 0; p < side * side; p++) data.set(c, i * per + p * 3);
  });
  const images = path.join(dir, 'x.npy');
  const labels = path.join(dir, 'y.npy');
  writeFileSync(images, encodeNpy({ dims: [COLOURS.length, side, side, 3], data }));
  writeFileSync(labels, encodeNpy({ dims: [LABELS.length], data: Int32Array.from(LABELS) }));
  return { images, labels };
}
