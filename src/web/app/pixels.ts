/**
 * Decoded RGBA pixels to the model input, with the very code `vitopt eval` uses (src/data/preprocess.ts):
 * the same float32 bilinear resize (TF's half-pixel kernel) and the same normalization. Only decoding
 * differs between Node (sharp) and the browser (createImageBitmap + canvas), see docs/browser.md.
 */
import { preprocessBatch, type Normalization } from '../../data/preprocess.js';
import type { Tensor } from '../../tensor.js';

/** RGBA (canvas ImageData order) → RGB, alpha dropped without compositing, as the Node decoder does. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgba.length !== n * 4) throw new Error(`expected ${n * 4} RGBA bytes for ${width}×${height}, got ${rgba.length}`);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n * 4; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return rgb;
}

/** One RGBA image to `pixels` [1, 3, R, R]. */
export function pixelsFromRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, resolution: number,
  normalize: Normalization | null): Tensor {
  const data = rgbaToRgb(rgba, width, height);
  return preprocessBatch([{ kind: 'uint8', height, width, channels: 3, data }], resolution, resolution, normalize ?? undefined);
}
