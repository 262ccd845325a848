/**
 * Speed of candidates, measured the way `vitopt bench` measures: each (model, batch, threads) in a
 * child process of its own (its peak memory is its own; a crash or an out-of-memory costs only that
 * candidate), in rounds that interleave every candidate with the baseline (B, c1, c2, …, B, c1, c2, …).
 * Every figure is then a ratio to the baseline measured in the same round, so a machine that drifts
 * between fast and slow states affects both sides alike; the spread over rounds is kept.
 */
import { availableParallelism } from 'node:os';
import { runChild, failureOf, type Failure } from '../bench/runner.js';
import type { MeasureJob, Sample, ChildMessage } from '../bench/protocol.js';
import { percentile } from '../bench/stats.js';
import type { SpeedFigures, TuneEngine } from './types.js';

export interface SpeedJob {
  key: string;
  file: string;
  batch: number;
  threads: number;
  /** ONNX Runtime's defaults (the naive path), not vitopt's session options. */
  runtimeDefaults?: boolean;
}

export interface SpeedSettings {
  engine: TuneEngine;
  resolution: number;
  /** Seconds of measured runs per child. */
  duration: number;
  memoryLimitBytes: number;
  timeoutS: number;
}

/** Samples per job key, one per round; or why the job failed. */
export class SpeedLog {
  readonly samples = new Map<string, { round: number; sample: Sample }[]>();
  readonly failures = new Map<string, Failure>();

  add(key: string, round: number, r: { sample?: Sample; failure?: Failure }): void {
    if (r.sample) this.samples.set(key, [...(this.samples.get(key) ?? []), { round, sample: r.sample }]);
    else this.failures.set(key, r.failure!);
  }

  has(key: string, round: number): boolean {
    return (this.samples.get(key) ?? []).some((x) => x.round === round);
  }

  rounds(key: string): number {
    return this.samples.get(key)?.length ?? 0;
  }
}

export async function measureOnce(j: SpeedJob, s: SpeedSettings, onMessage?: (m: ChildMessage) => void): Promise<{ sample?: Sample; failure?: Failure }> {
  const job: MeasureJob = {
    kind: 'measure', engine: s.engine, modelPath: j.file, label: j.key, batch: j.batch, imageDims: [3, s.resolution, s.resolution],
    options: j.runtimeDefaults ? { runtimeDefaults: true } : { threads: j.threads || availableParallelism() },
    workers: 1, warmup: 2, duration: s.duration, minIterations: 3, slices: 5,
  };
  const limits = { timeoutS: s.timeoutS, memoryLimitBytes: s.memoryLimitBytes };
  const out = await runChild(job, { ...limits, onMessage });
  const res = out.messages.find((m): m is Extract<ChildMessage, { type: 'result' }> => m.type === 'result');
  return res ? { sample: res.sample } : { failure: failureOf(out, limits) };
}

/**
 * Figures of one job against the baseline job: per-round ratios (only rounds where both were
 * measured), latency percentiles over every run of every round, the largest peak RSS.
 */
export function speedFigures(log: SpeedLog, key: string, baselineKey: string): SpeedFigures | null {
  const mine = log.samples.get(key) ?? [];
  if (!mine.length) return null;
  const base = new Map((log.samples.get(baselineKey) ?? []).map((x) => [x.round, x.sample.imagesPerSecond]));
  const rates = mine.map((x) => x.sample.imagesPerSecond);
  const ratios = mine.filter((x) => base.has(x.round)).map((x) => x.sample.imagesPerSecond / base.get(x.round)!);
  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const lat = mine.flatMap((x) => x.sample.latenciesMs).sort((a, b) => a - b);
  const m = med(rates);
  // No round shared with the baseline (it failed there): the ratio of medians, with no range.
  if (!ratios.length && base.size) ratios.push(m / med([...base.values()]));
  if (!ratios.length) return null;
  return {
    imagesPerSecond: m,
    relSpread: rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / m : 0,
    ratio: med(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    p50Ms: percentile(lat, 50),
    p95Ms: percentile(lat, 95),
    peakRssBytes: Math.max(...mine.map((x) => x.sample.peakRssBytes)),
    rounds: mine.length,
  };
}
