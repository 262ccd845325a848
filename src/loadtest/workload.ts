/**
 * The requests a load test sends: a pool of payloads, each a batch of images with, per image, the class
 * the answer should name (a dataset label, or filled in later by the reference pass). Payloads are
 * encoded once; each request only adds its own `id` to the JSON header, so the client's cost per
 * request stays small and the same bytes are sent every time a payload comes round.
 *
 * Sources: synthetic pixels (seeded, no expected class until the reference pass), a `--data`-style
 * dataset (src/data/data-spec.ts: labelled), or image files (unlabelled). Inputs are sent as the FP32
 * pixels tensor (preprocessed here exactly as `vitopt eval` does, official normalization) or as encoded
 * images in a BYTES tensor, which the server decodes and preprocesses itself.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { UserError } from '../errors.js';
import { openDataSpec } from '../data/data-spec.js';
import type { Dataset, RawImage } from '../data/dataset.js';
import { preprocessBatch } from '../data/preprocess.js';
import { randomPixels } from '../data/random-images.js';
import { decodeImageFile } from '../data/image-folder.js';
import { collectInputs } from '../predict/inputs.js';
import type { ModelInfo } from './model-info.js';

export type InputKind = 'pixels' | 'bytes';
export type WireFormat = 'binary' | 'json';

export interface Payload {
  images: number;
  /** Expected class index per image (−1: unknown until the reference pass). */
  expected: Int32Array;
  /** Dataset label per image, in the model's class order (−1: unlabelled or unmatched class). */
  labels: Int32Array;
  /** The JSON header after `{"id":"…",` (ends with `}`). */
  headerRest: string;
  /** Binary tensor bytes after the header (empty for JSON requests). */
  binary: Buffer;
  /** A name for messages: the first image's id. */
  name: string;
}

export interface WorkloadOptions {
  /** --images: a data spec, image files or folders; undefined = synthetic pixels. */
  images?: string;
  input?: InputKind;
  format: WireFormat;
  batchSize: number;
  /** Most images in the pool. */
  limit?: number;
  seed?: number;
}

export interface Workload {
  payloads: Payload[];
  input: InputKind;
  format: WireFormat;
  source: string;
  labelled: boolean;
  /** How dataset classes were matched to the model's ('name', 'index'), when labelled. */
  labelMatch?: 'name' | 'index';
}

export const DEFAULT_SYNTHETIC_POOL = 16;
export const DEFAULT_POOL_LIMIT = 2000;

interface Item {
  raw?: RawImage;
  file?: string;
  label: number;
  id: string;
}

function lengthPrefixed(elements: readonly Uint8Array[]): Buffer {
  return Buffer.concat(elements.flatMap((e) => {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(e.length);
    return [n, Buffer.from(e.buffer, e.byteOffset, e.byteLength)];
  }));
}

/** A PNG of a decoded image (for `--input bytes` with array datasets such as IDX). */
async function encodePng(img: RawImage): Promise<Buffer> {
  if (img.kind !== 'uint8') throw new UserError('--input bytes: float (.npy) images cannot be sent as encoded images; use --input pixels');
  return sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
}

function pixelPayload(info: ModelInfo, format: WireFormat, pixels: Float32Array, n: number): Pick<Payload, 'headerRest' | 'binary'> {
  const [c, h, w] = info.imageDims;
  const shape = [n, c, h, w];
  if (format === 'json') {
    // A plain array of numbers; float32 values print as their shortest round-trip decimal.
    const data = JSON.stringify(Array.from(pixels));
    return {
      headerRest: `"inputs":[{"name":${JSON.stringify(info.inputName)},"datatype":"FP32","shape":${JSON.stringify(shape)},"data":${data}}],` +
        `"outputs":[{"name":${JSON.stringify(info.outputName)},"parameters":{"binary_data":false}}]}`,
      binary: Buffer.alloc(0),
    };
  }
  const binary = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return {
    headerRest: `"inputs":[{"name":${JSON.stringify(info.inputName)},"datatype":"FP32","shape":${JSON.stringify(shape)},` +
      `"parameters":{"binary_data_size":${binary.length}}}],"outputs":[{"name":${JSON.stringify(info.outputName)},"parameters":{"binary_data":true}}]}`,
    binary,
  };
}

function bytesPayload(info: ModelInfo, encoded: readonly Uint8Array[]): Pick<Payload, 'headerRest' | 'binary'> {
  const binary = lengthPrefixed(encoded);
  return {
    headerRest: `"inputs":[{"name":"image","datatype":"BYTES","shape":[${encoded.length}],"parameters":{"binary_data_size":${binary.length}}}],` +
      `"outputs":[{"name":${JSON.stringify(info.outputName)},"parameters":{"binary_data":true}}]}`,
    binary,
  };
}

/** Dataset class index → model class index: by name when every dataset class is a model label, else by index. */
function classMapping(dataset: Dataset, modelLabels: string[] | null, classes: number): { map: (l: number) => number; by: 'name' | 'index' } {
  const names = dataset.classes;
  if (names && modelLabels) {
    const idx = names.map((n) => modelLabels.findIndex((m) => m.toLowerCase() === n.toLowerCase()));
    if (idx.every((i) => i >= 0)) return { map: (l) => idx[l]!, by: 'name' };
  }
  return { map: (l) => (l >= 0 && l < classes ? l : -1), by: 'index' };
}

async function readItems(spec: string, limit: number, modelLabels: string[] | null, classes: number):
  Promise<{ items: Item[]; labelled: boolean; source: string; files: boolean; labelMatch?: 'name' | 'index' }> {
  let dataset: Dataset | null = null;
  try {
    dataset = await openDataSpec(spec);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // Not a dataset: image files or folders of them (unlabelled). If that fails too, the dataset's message is the clearer one.
    try {
      const inputs = await collectInputs([spec]);
      const files = inputs.filter((i) => i.kind === 'image').slice(0, limit);
      if (files.length === 0) throw e;
      return { items: files.map((f) => ({ file: f.file, label: -1, id: f.file })), labelled: false, source: spec, files: true };
    } catch {
      throw new UserError(`--images ${e.message.replace(/^--data /, '')}`);
    }
  }
  const { map, by } = classMapping(dataset, modelLabels, classes);
  const items: Item[] = [];
  const files = 'files' in dataset;
  for await (const b of dataset.batches(64, { limit })) {
    b.images.forEach((raw, i) => items.push({ raw, file: files ? b.ids[i] : undefined, label: map(b.labels[i]!), id: b.ids[i]! }));
  }
  if (items.length === 0) throw new UserError(`--images ${spec}: holds no images`);
  return { items, labelled: true, source: dataset.name, files, labelMatch: by };
}

/** Build the payload pool for a model. */
export async function buildWorkload(info: ModelInfo, o: WorkloadOptions, modelLabels: string[] | null): Promise<Workload> {
  const B = o.batchSize;
  const [c, h, w] = info.imageDims;
  if (o.images === undefined) {
    if (o.input === 'bytes') throw new UserError('--input bytes needs --images (encoded images to send)');
    const n = o.limit ?? DEFAULT_SYNTHETIC_POOL * B;
    const payloads: Payload[] = [];
    for (let start = 0, k = 0; start < n; start += B, k++) {
      const m = Math.min(B, n - start);
      payloads.push({ images: m, expected: new Int32Array(m).fill(-1), labels: new Int32Array(m).fill(-1),
        name: `synthetic#${k}`, ...pixelPayload(info, o.format, randomPixels(m * c * h * w, { seed: (o.seed ?? 1) * 7919 + k, distribution: 'uniform' }), m) });
    }
    return { payloads, input: 'pixels', format: o.format, source: 'synthetic pixels', labelled: false };
  }

  const got = await readItems(o.images, o.limit ?? DEFAULT_POOL_LIMIT, modelLabels, info.classes);
  const input: InputKind = o.input ?? (got.files ? 'bytes' : 'pixels');
  if (input === 'bytes' && o.format === 'json') throw new UserError('--format json: encoded images (BYTES) are sent with the binary extension only; use --format binary or --input pixels');
  const payloads: Payload[] = [];
  for (let start = 0; start < got.items.length; start += B) {
    const group = got.items.slice(start, start + B);
    const labels = Int32Array.from(group.map((g) => g.label));
    const base = { images: group.length, expected: new Int32Array(group.length).fill(-1), labels, name: group[0]!.id };
    if (input === 'bytes') {
      const encoded = await Promise.all(group.map(async (g) => (g.file ? fs.readFile(g.file) : encodePng(g.raw!))));
      payloads.push({ ...base, ...bytesPayload(info, encoded) });
    } else {
      const raws = await Promise.all(group.map(async (g) => g.raw ?? decodeImageFile(g.file!)));
      const t = preprocessBatch(raws, h, w);
      payloads.push({ ...base, ...pixelPayload(info, o.format, t.data, group.length) });
    }
  }
  return { payloads, input, format: o.format, source: got.source, labelled: got.labelled, labelMatch: got.labelMatch };
}

/** The request body of a payload with its id. */
export function requestBody(p: Payload, id: string): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(`{"id":${JSON.stringify(id)},${p.headerRest}`);
  if (p.binary.length === 0) return { body: header, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([header, p.binary]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}
