/**
 * Classify images: image files go through the official preprocessing that `eval` uses
 * (src/data/preprocess.ts: decode -> bilinear resize to the model's side -> (x − 127.5) / 127.5, or
 * the model's own mean/std), .npy tensors are taken as they are (already in model range). The result
 * holds the k most likely classes of every image and all the logits.
 */
import type { Classifier } from '../eval/evaluate.js';
import { decodeImageFile } from '../data/image-folder.js';
import { labelsFor, topKBatch, type Prediction } from '../data/labels.js';
import { preprocessBatch, type Normalization } from '../data/preprocess.js';
import type { Tensor } from '../tensor.js';
import type { EngineOptions } from '../engines/options.js';
import { collectInputs, readTensorBatch, type PredictInput, type TensorLayout } from './inputs.js';

/** A model to classify with; a Runnable from loadRunnable fits as it is. */
export interface PredictModel {
  model: Classifier;
  name: string;
  resolution: number;
  labels?: readonly string[] | null;
  config?: { normalize?: Normalization } | null;
}

export interface PredictOptions {
  /** Classes listed per image (default 5). */
  topK?: number;
  /** Images per model call (default 32). */
  batch?: number;
  /** Layout of .npy tensors (default 'nhwc'). */
  layout?: TensorLayout;
  /** Input statistics of pixel images, overriding the model's own (its config's, else the official). */
  normalize?: Normalization;
}

export interface PredictResult {
  model: string;
  images: number;
  classes: number;
  /** One name per image: its file, or `<file>#<index>` for the images of a .npy tensor. */
  ids: string[];
  /** The topK classes of each image, most likely first, with softmax probabilities. */
  top: Prediction[][];
  /** [images, classes] float32. */
  logits: Tensor;
}

export const DEFAULT_TOP_K = 5;
export const DEFAULT_PREDICT_BATCH = 32;

/** Consecutive image files in groups of at most `size`; a .npy input is a group of its own. */
function* groups(inputs: readonly PredictInput[], size: number): Generator<PredictInput[]> {
  let images: PredictInput[] = [];
  for (const input of inputs) {
    if (input.kind === 'image') {
      images.push(input);
      if (images.length === size) {
        yield images;
        images = [];
      }
    } else {
      if (images.length) yield images;
      images = [];
      yield [input];
    }
  }
  if (images.length) yield images;
}

/**
 * Classify `inputs` with a loaded model: paths (image files, folders of images, .npy tensors), or what
 * collectInputs made of them (the CLI checks its inputs before it loads the model).
 */
export async function classify(m: PredictModel, inputs: readonly string[] | readonly PredictInput[], o: PredictOptions = {}): Promise<PredictResult> {
  const batch = o.batch ?? DEFAULT_PREDICT_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const items = inputs.every((i) => typeof i === 'string') ? await collectInputs(inputs as readonly string[]) : inputs as readonly PredictInput[];
  const side = m.resolution;
  const normalize = o.normalize ?? m.config?.normalize;
  const ids: string[] = [];
  const chunks: Tensor[] = [];
  const run = async (x: Tensor) => {
    const [n, c, h, w] = x.dims as [number, number, number, number];
    const per = c * h * w;
    for (let i = 0; i < n; i += batch) {
      const k = Math.min(batch, n - i);
      chunks.push(await m.model.run({ dims: [k, c, h, w], data: x.data.subarray(i * per, (i + k) * per) }));
    }
  };
  for (const group of groups(items, batch)) {
    if (group[0]!.kind === 'npy') {
      const file = group[0]!.file;
      const x = await readTensorBatch(file, o.layout ?? 'nhwc', side);
      for (let i = 0; i < x.dims[0]!; i++) ids.push(`${file}#${i}`);
      await run(x);
    } else {
      // sharp decodes on libuv's thread pool: one group decodes in parallel.
      const images = await Promise.all(group.map((g) => decodeImageFile(g.file)));
      ids.push(...group.map((g) => g.file));
      await run(preprocessBatch(images, side, side, normalize));
    }
  }
  const classes = chunks[0]!.dims[1]!;
  const logits: Tensor = { dims: [ids.length, classes], data: new Float32Array(ids.length * classes) };
  let at = 0;
  for (const c of chunks) {
    logits.data.set(c.data, at);
    at += c.data.length;
  }
  const top = topKBatch(logits, o.topK ?? DEFAULT_TOP_K, labelsFor(classes, m.labels));
  return { model: m.name, images: ids.length, classes, ids, top, logits };
}

export interface PredictRunOptions extends PredictOptions {
  engine?: EngineOptions;
  /** For a checkpoint: run at this input side (ViT position embeddings are resized as the official loader does). */
  resolution?: number;
}

/**
 * Load `model` (an .onnx file, a checkpoint, fashion-vit or fashion-mixer), classify `inputs` and
 * release the session. The inputs are checked before the model is loaded.
 */
export async function predict(model: string, inputs: readonly string[], o: PredictRunOptions = {}): Promise<PredictResult> {
  const items = await collectInputs(inputs);
  // Lazy: ONNX Runtime and the exporters load only when a model is run (the CLI's --help stays fast).
  const { loadRunnable } = await import('../models/resolve.js');
  const r = await loadRunnable(model, o.engine, { resolution: o.resolution });
  try {
    return await classify(r, items, o);
  } finally {
    await r.model.release();
  }
}
