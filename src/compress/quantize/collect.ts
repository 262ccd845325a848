/**
 * Runs the float model over calibration batches with the tensors to calibrate exposed as outputs,
 * feeding each into its RangeCollector. Memory stays bounded: only one batch's activations exist at a
 * time, and when even that would exceed `budgetBytes` the tensors are split into groups calibrated in
 * separate passes over the data (ORT's CalibStridedMinMax idea).
 */
import * as ort from '../../engines/runtime.js';
import { UserError } from '../../errors.js';
import type { ModelProto } from '../../formats/onnx.js';
import { createSession } from '../../engines/model-source.js';
import { sessionOptions } from '../../engines/ort-node.js';
import type { EngineOptions } from '../../engines/options.js';
import { withOutputs, type TensorInfo } from '../../graph/outputs.js';
import type { Tensor } from '../../tensor.js';
import { type CalibrationMethod, RangeCollector } from './calibrate.js';
import type { Range } from './static.js';

/** Calibration images, already preprocessed: NCHW float32 batches. `batches()` may be called once per pass. */
export interface CalibrationSource {
  name: string;
  batches(): AsyncIterable<Tensor>;
}

/** A source over tensors held in memory (library use, tests). */
export function arraySource(name: string, batches: Tensor[]): CalibrationSource {
  return { name, async *batches() { yield* batches; } };
}

export interface CollectOptions {
  method: CalibrationMethod;
  percentile?: number;
  engine?: EngineOptions;
  /** Bytes of exposed activations per batch before tensors are split into passes (default 512 MiB). */
  budgetBytes?: number;
  /** Batch size the source yields (for the memory estimate). */
  batchSize?: number;
  /** After each batch: images seen in this pass, pass index, number of passes. */
  onProgress?: (images: number, pass: number, passes: number) => void;
}

export interface Collected {
  ranges: Map<string, Range>;
  images: number;
  passes: number;
}

/** Shape the model's image input expects, for the calibration-shape check. */
function expectedInput(m: ModelProto): (number | string)[] {
  const inits = new Set((m.graph!.initializer ?? []).map((t) => t.name));
  const v = (m.graph!.input ?? []).find((x) => !inits.has(x.name));
  return (v?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue ? Number(d.dimValue) : d.dimParam || '?'));
}

export function checkBatchShape(batch: Tensor, expected: (number | string)[], source: string): void {
  const ok = batch.dims.length === expected.length && expected.every((d, i) => typeof d !== 'number' || d === batch.dims[i]);
  if (!ok) {
    throw new UserError(`calibration data ${source}: batch of shape [${batch.dims.join(', ')}] does not fit the model input ` +
      `[${expected.join(', ')}]`);
  }
}

function bytesPerImage(info: Map<string, TensorInfo>, t: string): number {
  const s = info.get(t)?.shape;
  if (!s) return 4 * 1024 * 1024; // unknown: assume a large activation
  return 4 * s.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' && d > 0 ? d : 1), 1);
}

export async function collectRanges(model: ModelProto, tensors: string[], info: Map<string, TensorInfo>, source: CalibrationSource,
  o: CollectOptions): Promise<Collected> {
  const budget = o.budgetBytes ?? 512 * 2 ** 20;
  const perBatch = (t: string) => bytesPerImage(info, t) * (o.batchSize ?? 8);
  const groups: string[][] = [[]];
  let used = 0;
  for (const t of tensors) {
    const b = perBatch(t);
    if (used + b > budget && groups[groups.length - 1]!.length) { groups.push([]); used = 0; }
    groups[groups.length - 1]!.push(t);
    used += b;
  }
  const histogram = o.method !== 'minmax';
  const collectors = new Map(tensors.map((t) => [t, new RangeCollector(histogram)]));
  const expected = expectedInput(model);
  let images = 0;
  for (const [gi, group] of groups.entries()) {
    const session = await createSession(withOutputs(model, group), { ...sessionOptions(o.engine ?? {}), logSeverityLevel: 3 });
    try {
      const input = session.inputNames[0]!;
      let seen = 0;
      for await (const batch of source.batches()) {
        checkBatchShape(batch, expected, source.name);
        const out = await session.run({ [input]: new ort.Tensor('float32', batch.data, batch.dims) }, group);
        for (const t of group) {
          try {
            collectors.get(t)!.add(out[t]!.data as Float32Array);
          } catch (e) {
            throw new UserError(`calibration: tensor ${t}: ${(e as Error).message}`);
          }
        }
        seen += batch.dims[0]!;
        o.onProgress?.(seen, gi, groups.length);
      }
      if (gi === 0) images = seen;
    } finally {
      await session.release();
    }
  }
  if (images === 0) throw new UserError(`calibration data ${source.name}: no images`);
  const ranges = new Map<string, Range>();
  for (const [t, c] of collectors) ranges.set(t, c.range(o.method, { percentile: o.percentile }));
  return { ranges, images, passes: groups.length };
}
