/**
 * Encoded images (JPEG / PNG / WebP bytes from a request) to the model input, by the same path as
 * `vitopt eval` on an image folder: sharp decodes exactly as decodeImageFile does (alpha dropped, grey
 * expanded, ICC and EXIF ignored, 8-bit RGB), then preprocessBatch (src/data/preprocess.ts) resizes and
 * normalizes. decodeImageFile takes a path; this is the same sharp pipeline on bytes (the test checks
 * both give the same pixels).
 */
import sharp from 'sharp';
import type { RawImage } from '../data/dataset.js';
import { type Normalization, preprocessBatch } from '../data/preprocess.js';
import type { Tensor } from '../tensor.js';
import { badRequest } from './errors.js';

/** Largest decoded image accepted (pixels): a 100-byte PNG may declare 60000×60000. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export async function decodeImageBytes(bytes: Uint8Array, which: string): Promise<RawImage> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await sharp(bytes, { ignoreIcc: true, limitInputPixels: MAX_IMAGE_PIXELS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw badRequest(`${which} cannot be decoded as an image (JPEG, PNG or WebP): ${(e as Error).message.split('\n')[0]}`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3) throw badRequest(`${which} decoded to ${channels} channels, expected RGB`);
  return { kind: 'uint8', height, width, channels: 3, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length) };
}

/** Encoded images to pixels [n, 3, R, R], preprocessed as eval does. Decoding runs on libuv's threads, in parallel. */
export async function imagesToPixels(elements: readonly Uint8Array[], resolution: number, normalize: Normalization | undefined,
  name: string): Promise<Tensor> {
  const images = await Promise.all(elements.map((e, i) => decodeImageBytes(e, `${name}[${i}]`)));
  return preprocessBatch(images, resolution, resolution, normalize);
}
