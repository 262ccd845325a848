/// <reference lib="dom" />
/**
 * Browser image decoding to straight (not premultiplied) RGBA bytes, as close to the Node decoder
 * (sharp with ICC profiles ignored) as the platform allows: no colour-space conversion, no alpha
 * premultiplication. Works in a worker (createImageBitmap + OffscreenCanvas).
 */

export class DecodeError extends Error {
  override name = 'DecodeError';
}

export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/** Browsers refuse canvases beyond roughly 16k per side or 268 M pixels; say so instead of failing vaguely. */
const MAX_PIXELS = 100_000_000;

export async function decodeImage(blob: Blob, name: string): Promise<DecodedImage> {
  if (blob.size === 0) throw new DecodeError(`${name}: empty file`);
  let bmp: ImageBitmap;
  try {
    // 'none' keeps the file's own numbers: no ICC/gamma conversion (sharp is told to ignore ICC too),
    // and alpha is not premultiplied into the colour channels.
    bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new DecodeError(`${name}: this browser cannot decode it as an image (${blob.type || 'unknown type'}; ${(e as Error).message})`);
  }
  const { width, height } = bmp;
  if (width * height > MAX_PIXELS) {
    bmp.close();
    throw new DecodeError(`${name}: ${width}×${height} is too large to decode here (more than ${MAX_PIXELS / 1e6} M pixels)`);
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | null;
  if (!ctx) {
    bmp.close();
    throw new DecodeError(`${name}: no 2D canvas available to read the pixels`);
  }
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return { width, height, rgba };
}
