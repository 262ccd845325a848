/**
 * Accuracy guard (`--max-drop`): quantize, evaluate against the float model on real data, and while
 * the top-1 drop exceeds the budget return layers to float, most sensitive first (NNCF's
 * quantize_with_accuracy_control, in spirit).
 *
 * Sensitivity is measured, not guessed: for each quantized layer, the model with only that layer back
 * in float is run on a ranking subset, and the layer's score is how much that lowers the mean
 * KL(float ‖ quantized) of the output distributions (KL sees small changes a top-1 count on a few
 * hundred images would miss). Layers are then reverted one at a time in that order, each step
 * evaluated on the whole evaluation set, until the drop fits.
 */
import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/preprocess.js';
import type { ModelProto } from '../formats/onnx.js';
import { openModel } from '../engines/create.js';
import type { EngineOptions } from '../engines/options.js';
import { evaluate, type Classifier, type EvalModel } from '../eval/evaluate.js';
import type { EvalReport } from '../eval/report.js';
import type { Tensor } from '../tensor.js';
import { analyze } from '../compress/quantize/prepare.js';
import { quantize, type QuantizeOptions, type QuantizeResult } from '../compress/quantize/quantize.js';

export interface GuardOptions {
  /** Largest acceptable top-1 drop, in percentage points. */
  maxDrop: number;
  data: Dataset;
  /** Evaluate at most this many images. */
  limit?: number;
  /** Images for the sensitivity ranking (default 256). */
  rankingSize?: number;
  batchSize?: number;
  engine?: EngineOptions;
  /** How the model reads images (from vitopt metadata, or the input shape for a foreign model). */
  resolution: number;
  normalize?: Normalization;
  labels?: string[] | null;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface GuardStep {
  /** Layers in float at this step (cumulative). */
  float: string[];
  top1: number;
  /** Float top-1 − quantized top-1, percentage points. */
  drop: number;
}

export interface GuardReport {
  maxDrop: number;
  met: boolean;
  floatTop1: number;
  top1: number;
  drop: number;
  agreement: number;
  meanKL: number;
  images: number;
  rankingImages: number;
  /** Every candidate layer with its measured score (KL removed by reverting it), most sensitive first. */
  sensitivity: { id: string; label: string; klReduction: number }[];
  reverted: { id: string; label: string; reason: string }[];
  steps: GuardStep[];
}

export const DEFAULT_RANKING_SIZE = 256;
const CACHE_BYTES = 512 * 2 ** 20;

/** Replays the float model's outputs from an earlier pass over the same batches (saves a float run per evaluation). */
class FloatReplay {
  private cache: Tensor[] = [];
  private bytes = 0;
  constructor(private readonly inner: Classifier) {}
  view(): Classifier {
    let i = 0;
    return {
      run: async (pixels: Tensor) => {
        const k = i++;
        const hit = this.cache[k];
        if (hit && hit.dims[0] === pixels.dims[0]) return hit;
        const out = await this.inner.run(pixels);
        if (this.bytes + out.data.byteLength <= CACHE_BYTES) { this.cache[k] = out; this.bytes += out.data.byteLength; }
        return out;
      },
    };
  }
}

export async function guardedQuantize(model: ModelProto, q: QuantizeOptions, o: GuardOptions): Promise<{ result: QuantizeResult; guard: GuardReport; evalReport: EvalReport }> {
  const analysis = q.analysis ?? await analyze(model, { mode: q.mode, fusions: q.fusions });
  const base = { ...q, analysis };
  const meta = (m: Classifier, name: string): EvalModel => ({ model: m, name, resolution: o.resolution, labels: o.labels ?? null,
    config: { resolution: o.resolution, normalize: o.normalize } });
  const floatModel = await openModel(model, o.engine, 'float');
  const fullReplay = new FloatReplay(floatModel), rankReplay = new FloatReplay(floatModel);
  const batchSize = o.batchSize ?? 32;
  const rankingSize = Math.min(o.rankingSize ?? DEFAULT_RANKING_SIZE, o.data.size);
  const progress = o.onProgress ?? (() => {});

  const evalFull = async (m: ModelProto, stage: string): Promise<EvalReport> => {
    const om = await openModel(m, o.engine, 'quantized');
    try {
      return await evaluate(meta(om, 'quantized'), o.data, { batchSize, limit: o.limit, baseline: meta(fullReplay.view(), 'float'),
        onProgress: (d, t) => progress(stage, d, t) });
    } finally {
      await om.release();
    }
  };
  const evalRank = async (m: ModelProto): Promise<number> => {
    const om = await openModel(m, o.engine, 'quantized');
    try {
      const r = await evaluate(meta(om, 'quantized'), o.data, { batchSize, limit: rankingSize, baseline: meta(rankReplay.view(), 'float') });
      return r.comparison!.meanKL;
    } finally {
      await om.release();
    }
  };

  try {
    let result = await quantize(model, base);
    const withRanges = { ...base, ranges: result.ranges };
    let report = await evalFull(result.model, 'guard: evaluate');
    const floatTop1 = report.comparison!.baselineTop1;
    const drop = (r: EvalReport) => 100 * (floatTop1 - r.top1);
    const steps: GuardStep[] = [{ float: [], top1: report.top1, drop: drop(report) }];
    const sensitivity: GuardReport['sensitivity'] = [];
    const reverted: GuardReport['reverted'] = [];

    if (drop(report) > o.maxDrop) {
      const candidates = result.layers.filter((l) => l.quantized);
      const klAll = await evalRank(result.model);
      for (const [i, l] of candidates.entries()) {
        progress('guard: rank layers', i, candidates.length);
        const trial = await quantize(model, { ...withRanges, float: new Map([...(q.float ?? []), [l.id, 'ranking']]), allowNothing: true });
        sensitivity.push({ id: l.id, label: l.label, klReduction: klAll - await evalRank(trial.model) });
      }
      progress('guard: rank layers', candidates.length, candidates.length);
      sensitivity.sort((a, b) => b.klReduction - a.klReduction);
      const float = new Map(q.float ?? []);
      for (const [rank, s] of sensitivity.entries()) {
        const reason = `accuracy guard: rank ${rank + 1} of ${sensitivity.length} by measured sensitivity ` +
          `(reverting it alone lowers KL by ${s.klReduction.toExponential(2)})`;
        float.set(s.id, reason);
        reverted.push({ id: s.id, label: s.label, reason });
        result = await quantize(model, { ...withRanges, float, allowNothing: true });
        report = await evalFull(result.model, `guard: ${reverted.length} layer(s) in float`);
        steps.push({ float: reverted.map((r) => r.id), top1: report.top1, drop: drop(report) });
        if (drop(report) <= o.maxDrop) break;
      }
    }
    const c = report.comparison!;
    const guard: GuardReport = {
      maxDrop: o.maxDrop, met: drop(report) <= o.maxDrop, floatTop1, top1: report.top1, drop: drop(report),
      agreement: c.agreement, meanKL: c.meanKL, images: report.evaluated, rankingImages: sensitivity.length ? rankingSize : 0,
      sensitivity, reverted, steps,
    };
    return { result, guard, evalReport: report };
  } finally {
    await floatModel.release();
  }
}
