/**
 * evaluate(model, dataset): stream the dataset through preprocessing and the model, batch by batch,
 * and return an EvalReport. The next batch is read and decoded (sharp works on libuv's threads)
 * while the current one runs, so decoding overlaps inference.
 */
import type { Batch, Dataset, SkippedItem } from '../data/dataset.js';
import { itemsToRead } from '../data/dataset.js';
import { labelsFor } from '../data/labels.js';
import { type Normalization, preprocessBatch } from '../data/preprocess.js';
import { UserError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { labelMapping } from './label-mapping.js';
import { AccuracyMeter } from './metrics.js';
import { accuracySection, type EvalReport } from './report.js';

/** Anything that maps an NCHW float32 batch to [batch, classes] logits (an EngineSession is one). */
export interface Classifier {
  run(pixels: Tensor): Promise<Tensor>;
}

/**
 * A model to evaluate. A Runnable from loadRunnable (src/models/resolve.ts) fits as it is
 * ({ model, resolution, config, labels, name }); a bare classifier needs `resolution`.
 */
export interface EvalModel {
  model: Classifier;
  name?: string;
  labels?: readonly string[] | null;
  resolution?: number;
  config?: { resolution: number; normalize?: Normalization } | null;
  /** Input statistics for pixel images; overrides config.normalize (a foreign model has no config). */
  normalize?: Normalization;
}

function normalizationOf(m: EvalModel): Normalization | undefined {
  return m.normalize ?? m.config?.normalize;
}

export interface EvalOptions {
  /** Images per model call (default 32). */
  batchSize?: number;
  /** Evaluate at most this many dataset items. */
  limit?: number;
  /** Skip undecodable images instead of failing; they are listed in the report. */
  skipBad?: boolean;
  /** A second model run on the same images: agreement and KL(baseline ‖ model) are reported. */
  baseline?: EvalModel;
  /** Called after each batch with items read so far (evaluated + skipped) and the total to read. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each batch's logits and labels (model class indices), in dataset order: per-image analyses such as paired tests. */
  onBatch?: (logits: Tensor, labels: ArrayLike<number>) => void;
}

export const DEFAULT_EVAL_BATCH = 32;

function resolutionOf(m: EvalModel, role: string): number {
  const r = m.resolution ?? m.config?.resolution;
  if (!Number.isInteger(r) || r! < 1) throw new UserError(`${role} ${m.name ?? ''}: input resolution unknown; give it a resolution`);
  return r!;
}

function logitsShape(t: Tensor, batch: number, who: string): number {
  if (t.dims.length !== 2 || t.dims[0] !== batch) {
    throw new UserError(`${who}: output has shape [${t.dims.join(', ')}], expected logits [${batch}, classes]`);
  }
  return t.dims[1]!;
}

export async function evaluate(model: EvalModel, dataset: Dataset, opts: EvalOptions = {}): Promise<EvalReport> {
  const batchSize = opts.batchSize ?? DEFAULT_EVAL_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  const name = model.name ?? 'model';
  const resolution = resolutionOf(model, 'model');
  const baseline = opts.baseline;
  const baselineResolution = baseline ? resolutionOf(baseline, 'baseline') : 0;
  const normalization = normalizationOf(model);
  const baselineNormalization = baseline ? normalizationOf(baseline) : undefined;
  // The baseline reuses the model's pixels when it would preprocess them the same way.
  const baselineSameInput = baselineResolution === resolution &&
    JSON.stringify(baselineNormalization) === JSON.stringify(normalization);
  const mapping = labelMapping(dataset.classes, model.labels ?? null);
  const total = itemsToRead(dataset.size, opts.limit);

  let meter: AccuracyMeter | null = null;
  const skipped: SkippedItem[] = [];
  let modelSeconds = 0;
  let read = 0;
  const started = performance.now();
  let baselineSeconds = 0;

  const it = dataset.batches(batchSize, { limit: opts.limit, skipBad: opts.skipBad })[Symbol.asyncIterator]();
  const prefetch = (): Promise<IteratorResult<Batch>> => {
    const p = it.next();
    p.catch(() => {}); // surfaced when awaited; never an unhandled rejection meanwhile
    return p;
  };
  let next = prefetch();
  try {
    for (;;) {
      const r = await next;
      if (r.done) break;
      const batch = r.value;
      next = prefetch();
      skipped.push(...batch.skipped);
      read += batch.images.length + batch.skipped.length;
      if (batch.images.length > 0) {
        const pixels = preprocessBatch(batch.images, resolution, resolution, normalization);
        const t0 = performance.now();
        const logits = await model.model.run(pixels);
        modelSeconds += (performance.now() - t0) / 1000;
        const classes = logitsShape(logits, batch.images.length, name);
        meter ??= new AccuracyMeter(classes);
        if (classes !== meter.classes) throw new UserError(`${name}: output class count changed from ${meter.classes} to ${classes}`);
        const labels = batch.labels.map((l) => mapping.toModel(l));
        const bad = labels.findIndex((l) => l < 0 || l >= classes);
        if (bad >= 0) {
          throw new UserError(`${batch.ids[bad]}: label ${batch.labels[bad]}${dataset.classes?.[batch.labels[bad]!] ? ` (${dataset.classes[batch.labels[bad]!]})` : ''} is outside the ${classes} classes of ${name}`);
        }
        let baseLogits: Tensor | undefined;
        if (baseline) {
          const b0 = performance.now();
          const basePixels = baselineSameInput ? pixels
            : preprocessBatch(batch.images, baselineResolution, baselineResolution, baselineNormalization);
          baseLogits = await baseline.model.run(basePixels);
          baselineSeconds += (performance.now() - b0) / 1000;
          const bc = logitsShape(baseLogits, batch.images.length, `baseline ${baseline.name ?? ''}`);
          if (bc !== classes) throw new UserError(`baseline ${baseline.name ?? ''} has ${bc} classes, ${name} has ${classes}: they cannot be compared`);
        }
        meter.addBatch(logits.data, labels, baseLogits?.data);
        opts.onBatch?.(logits, labels);
      }
      opts.onProgress?.(read, total);
    }
  } finally {
    // Stops file reading early when an error ends the loop.
    await it.return?.().catch(() => {});
  }

  const seconds = (performance.now() - started) / 1000;
  const m = meter ?? new AccuracyMeter(0);
  const labels = labelsFor(m.classes, model.labels, mapping.how === 'index' ? dataset.classes : null);
  const known = dataset.classes ? dataset.classes.map((_, i) => mapping.toModel(i)).filter((i) => i < m.classes) : [];
  const loopSeconds = seconds - baselineSeconds;
  const report: EvalReport = {
    model: name,
    dataset: { name: dataset.name, source: dataset.source, size: dataset.size },
    resolution,
    normalization: normalization ? { mean: [...normalization.mean], std: [...normalization.std] } : null,
    batchSize,
    labelMapping: mapping.how,
    ...accuracySection(m, labels, known),
    skipped: { count: skipped.length, items: skipped },
    imagesPerSecond: loopSeconds > 0 ? m.count / loopSeconds : 0,
    modelImagesPerSecond: modelSeconds > 0 ? m.count / modelSeconds : 0,
    seconds,
  };
  if (baseline) {
    report.comparison = {
      baseline: baseline.name ?? 'baseline',
      agreement: m.compared ? m.agree / m.compared : 0,
      meanKL: m.compared ? m.klSum / m.compared : 0,
      baselineTop1: m.compared ? m.baselineTop1 / m.compared : 0,
    };
  }
  return report;
}
