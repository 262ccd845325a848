/**
 * What a pruned model is worth next to the unpruned one: top-1 and agreement on real data (before
 * and after the refit), throughput measured side by side in one process, and file sizes (raw and
 * gzipped: magnitude and N:M zeros only shrink the compressed file).
 */
import { gzipSync } from 'node:zlib';
import type { Dataset } from '../data/dataset.js';
import { openModel } from '../engines/create.js';
import type { EngineOptions } from '../engines/options.js';
import { evaluate } from '../eval/evaluate.js';
import { exportModel, type GraphStyle } from '../export/index.js';
import { encodeModel } from '../formats/onnx.js';
import type { ModelIR } from '../models/ir.js';
import { type SideBySide, sideBySide } from '../bench/side-by-side.js';
import type { PruneOutcome } from '../compress/prune/index.js';


export interface AccuracyFigures {
  top1: number;
  /** Top-1 agreement with the unpruned model. */
  agreement: number;
  /** Mean KL(unpruned ‖ this), nats. */
  meanKL: number;
}

export interface Assessment {
  accuracy?: {
    dataset: string;
    images: number;
    unpruned: { top1: number };
    /** Structured methods: the sliced model before the refit. */
    beforeReconstruction?: AccuracyFigures;
    pruned: AccuracyFigures;
  };
  throughput?: SideBySide;
  size: { unprunedBytes: number; prunedBytes: number; unprunedGzipBytes: number; prunedGzipBytes: number };
}

export interface AssessOptions {
  style?: GraphStyle;
  evalData?: Dataset;
  evalSize?: number;
  evalBatch?: number;
  bench?: { batch?: number; rounds?: number; secondsPerRound?: number } | false;
  engine?: EngineOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export async function assessPruned(original: ModelIR, outcome: PruneOutcome, o: AssessOptions = {}): Promise<Assessment> {
  const style = o.style ?? 'ort';
  const engine = o.engine ?? {};
  const base = encodeModel(exportModel(original, style));
  const pruned = encodeModel(exportModel(outcome.ir, style));
  const gz = (b: Uint8Array) => gzipSync(b, { level: 6 }).length;
  const result: Assessment = {
    size: { unprunedBytes: base.length, prunedBytes: pruned.length, unprunedGzipBytes: gz(base), prunedGzipBytes: gz(pruned) },
  };
  if (o.evalData) {
    const resolution = original.config.resolution;
    const baseline = { model: await openModel(base, engine, 'unpruned'), name: 'unpruned', labels: original.labels, resolution, config: original.config };
    const run = async (ir: ModelIR, bytes: Uint8Array, name: string): Promise<{ top1: number; base: number; fig: AccuracyFigures; n: number }> => {
      const model = await openModel(bytes, engine, name);
      try {
        const rep = await evaluate({ model, name, labels: ir.labels, resolution, config: ir.config }, o.evalData!, {
          limit: o.evalSize, batchSize: o.evalBatch ?? 64, baseline,
          onProgress: (d, t) => o.onProgress?.(`eval ${name}`, d, t),
        });
        const c = rep.comparison!;
        return { top1: rep.top1, base: c.baselineTop1, n: rep.evaluated, fig: { top1: rep.top1, agreement: c.agreement, meanKL: c.meanKL } };
      } finally {
        await model.release();
      }
    };
    try {
      const after = await run(outcome.ir, pruned, 'pruned');
      const before = outcome.structured && outcome.structured.fits.length
        ? await run(outcome.structured.sliced, encodeModel(exportModel(outcome.structured.sliced, style)), 'sliced')
        : undefined;
      result.accuracy = {
        dataset: o.evalData.name, images: after.n, unpruned: { top1: after.base },
        ...(before ? { beforeReconstruction: before.fig } : {}), pruned: after.fig,
      };
    } finally {
      await baseline.model.release();
    }
  }
  if (o.bench !== false) {
    result.throughput = await sideBySide([{ name: 'unpruned', bytes: base }, { name: 'pruned', bytes: pruned }],
      original.config.resolution, { ...(o.bench ?? {}), engine });
  }
  return result;
}

