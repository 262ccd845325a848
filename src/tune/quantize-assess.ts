/**
 * What a quantized model is worth next to its float original: file size, throughput measured side by
 * side in one process (interleaved rounds), top-1 and agreement on real data, and per-layer SQNR.
 */
import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/preprocess.js';
import { encodedSize, type ModelProto } from '../formats/onnx.js';
import { openModel } from '../engines/create.js';
import type { EngineSession } from '../engines/engine.js';
import type { EngineOptions } from '../engines/options.js';
import { evaluate, type EvalModel } from '../eval/evaluate.js';
import { qualityInputs } from './accuracy.js';
import type { EvalReport } from '../eval/report.js';
import type { Tensor } from '../tensor.js';
import { sideBySide } from '../bench/side-by-side.js';
import type { QuantizeResult } from '../compress/quantize/quantize.js';
import { outputSqnr, type OutputSqnr } from '../compress/quantize/sqnr.js';

export interface Assessment {
  size: { floatBytes: number; quantBytes: number; ratio: number };
  throughput: { batch: number; rounds: number; floatImagesPerSecond: number; quantImagesPerSecond: number; ratio: number;
    relIqr: [number, number] } | null;
  accuracy: { dataset: string; images: number; floatTop1: number; top1: number; drop: number; agreement: number; meanKL: number } | null;
  sqnr: OutputSqnr;
}

export interface AssessOptions {
  data?: Dataset;
  limit?: number;
  /** An evaluation already made (by the accuracy guard) of this model against the float one. */
  evaluated?: EvalReport;
  resolution: number;
  normalize?: Normalization;
  labels?: string[] | null;
  engine?: EngineOptions;
  bench?: { batch: number; rounds?: number; secondsPerRound?: number } | false;
  sqnrImages?: number;
  /** Batch size for the SQNR images (a model with a fixed batch dimension needs exactly that). */
  batch?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** A few images for SQNR: from the data when there is some, else clipped Gaussian noise. */
function sampleInputs(o: AssessOptions, n: number): Promise<Tensor[]> {
  return qualityInputs(o.data ?? null, n, o.resolution, o.normalize, o.batch ?? 4, o.batch);
}

export async function assess(float: ModelProto, r: QuantizeResult, o: AssessOptions): Promise<Assessment> {
  const fb = encodedSize(float), qb = encodedSize(r.model);
  const size = { floatBytes: fb, quantBytes: qb, ratio: qb / fb };

  let accuracy: Assessment['accuracy'] = null;
  let ev = o.evaluated;
  if (!ev && o.data) {
    const fm = await openModel(float, o.engine, 'float'), qm = await openModel(r.model, o.engine, 'quantized');
    const meta = (m: EngineSession, name: string): EvalModel => ({ model: m, name, resolution: o.resolution, labels: o.labels ?? null,
      config: { resolution: o.resolution, normalize: o.normalize } });
    try {
      ev = await evaluate(meta(qm, 'quantized'), o.data, { limit: o.limit, batchSize: o.batch, baseline: meta(fm, 'float'),
        onProgress: (d, t) => o.onProgress?.('evaluate', d, t) });
    } finally {
      await fm.release();
      await qm.release();
    }
  }
  if (ev?.comparison) {
    const c = ev.comparison;
    accuracy = { dataset: ev.dataset.name, images: ev.evaluated, floatTop1: c.baselineTop1, top1: ev.top1,
      drop: 100 * (c.baselineTop1 - ev.top1), agreement: c.agreement, meanKL: c.meanKL };
  }

  let throughput: Assessment['throughput'] = null;
  if (o.bench) {
    o.onProgress?.('throughput', 0, 1);
    const s = await sideBySide([{ name: 'float', bytes: float }, { name: r.settings.mode, bytes: r.model }], o.resolution,
      { batch: o.bench.batch, rounds: o.bench.rounds ?? 5, secondsPerRound: o.bench.secondsPerRound ?? 0.5, engine: o.engine });
    throughput = { batch: s.batch, rounds: s.rounds, floatImagesPerSecond: s.results[0]!.imagesPerSecond,
      quantImagesPerSecond: s.results[1]!.imagesPerSecond, ratio: s.ratios[1]!, relIqr: [s.results[0]!.relIqr, s.results[1]!.relIqr] };
    o.onProgress?.('throughput', 1, 1);
  }

  const inputs = await sampleInputs(o, Math.max(o.sqnrImages ?? 8, o.batch ?? 0));
  const sqnr = await outputSqnr(float, r.model, r.layers.filter((l) => l.quantized), inputs, o.engine);
  return { size, throughput, accuracy, sqnr };
}
