/**
 * Accuracy of an artifact, paired with the baseline on the same images (a McNemar test needs to know,
 * image by image, who was right), and — for random weights, which have no accuracy — agreement and
 * output SQNR against the float model on the calibration inputs.
 */
import type { Dataset } from '../data/dataset.js';
import { type Normalization, preprocessBatch } from '../data/preprocess.js';
import { randomBatches } from '../data/random-images.js';
import { openModel } from '../engines/create.js';
import type { EngineOptions } from '../engines/options.js';
import { evaluate } from '../eval/evaluate.js';
import type { Tensor } from '../tensor.js';
import { pairedAccuracy } from './paired.js';
import type { AccuracyFigures, QualityFigures } from './types.js';

/** Top-1 class and whether it was right, per image, in dataset order. */
export interface Predictions {
  pred: Int32Array;
  correct: Uint8Array;
}

export interface PredictOptions {
  limit?: number;
  batch?: number;
  resolution: number;
  normalize?: Normalization;
  labels: string[] | null;
  engine: EngineOptions;
  onProgress?: (done: number, total: number) => void;
}

export async function predictions(file: string, data: Dataset, o: PredictOptions): Promise<Predictions> {
  const model = await openModel(file, o.engine);
  const pred: number[] = [], correct: number[] = [];
  try {
    await evaluate({ model, name: file, labels: o.labels, resolution: o.resolution, config: { resolution: o.resolution, normalize: o.normalize } }, data, {
      limit: o.limit, batchSize: o.batch ?? 64, onProgress: o.onProgress,
      onBatch: (logits, labels) => {
        const k = logits.dims[1]!;
        for (let i = 0; i < labels.length; i++) {
          let best = 0;
          for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
          pred.push(best);
          correct.push(best === labels[i] ? 1 : 0);
        }
      },
    });
  } finally {
    await model.release();
  }
  return { pred: Int32Array.from(pred), correct: Uint8Array.from(correct) };
}

/** The first n images of a prediction set (a screen is a prefix of the full split, in the same order). */
export function prefix(p: Predictions, n: number): Predictions {
  return { pred: p.pred.subarray(0, n), correct: p.correct.subarray(0, n) };
}

export function paired(base: Predictions, cand: Predictions, fidelity: AccuracyFigures['fidelity']): AccuracyFigures {
  const n = Math.min(base.pred.length, cand.pred.length);
  const b = prefix(base, n), c = prefix(cand, n);
  return pairedAccuracy(b.correct, c.correct, b.pred, c.pred, fidelity);
}

/**
 * Inputs for the quality signal: the first calibration images, or clipped Gaussian noise without data.
 * With `fixedBatch` (a model with a fixed batch dimension) every batch has exactly that many images.
 */
export async function qualityInputs(data: Dataset | null, n: number, resolution: number, normalize?: Normalization, batch = 8,
  fixedBatch?: number): Promise<Tensor[]> {
  const out: Tensor[] = [];
  if (data) {
    for await (const b of data.batches(batch, { limit: n })) {
      if (b.images.length && (!fixedBatch || b.images.length === fixedBatch)) out.push(preprocessBatch(b.images, resolution, resolution, normalize));
    }
    if (out.length) return out;
  }
  return randomBatches(n, batch, resolution, { seed: 7, fixedBatch });
}

/** Runs the float model once over the quality inputs and compares any candidate with it. */
export class QualityReference {
  private constructor(private readonly inputs: Tensor[], private readonly ref: Float32Array[], private readonly engine: EngineOptions) {}

  static async create(file: string, inputs: Tensor[], engine: EngineOptions): Promise<QualityReference> {
    return new QualityReference(inputs, await runAll(file, inputs, engine), engine);
  }

  async compare(file: string): Promise<QualityFigures> {
    const out = await runAll(file, this.inputs, this.engine);
    let signal = 0, noise = 0, agree = 0, images = 0;
    for (const [b, r] of this.ref.entries()) {
      const q = out[b]!, n = this.inputs[b]!.dims[0]!, k = r.length / n;
      for (let i = 0; i < r.length; i++) { signal += r[i]! * r[i]!; const d = r[i]! - q[i]!; noise += d * d; }
      for (let i = 0; i < n; i++) {
        if (argmax(r, i * k, k) === argmax(q, i * k, k)) agree++;
      }
      images += n;
    }
    return { images, agreement: images ? agree / images : 0, sqnrDb: noise === 0 ? 200 : 10 * Math.log10(signal / noise) };
  }
}

function argmax(a: Float32Array, off: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[off + j]! > a[off + best]!) best = j;
  return best;
}

async function runAll(file: string, inputs: Tensor[], engine: EngineOptions): Promise<Float32Array[]> {
  const s = await openModel(file, engine);
  try {
    const out: Float32Array[] = [];
    for (const x of inputs) out.push(Float32Array.from((await s.run(x)).data));
    return out;
  } finally {
    await s.release();
  }
}
