/**
 * Throughput of several models measured side by side in one process: sessions are loaded together
 * and timed in interleaved rounds (A, B, A, B, …), so a machine that drifts between fast and slow
 * states (cpu-ceilings.md) affects all of them alike. The ratio of medians is the figure to quote.
 */
import * as ort from '../engines/runtime.js';
import { sessionOptions } from '../engines/ort-node.js';
import { createSession, type ModelInput } from '../engines/model-source.js';
import type { EngineOptions } from '../engines/options.js';
import { summarize } from './stats.js';
import { randomImages } from '../data/random-images.js';

export interface ThroughputResult {
  name: string;
  /** Median images/s over rounds. */
  imagesPerSecond: number;
  /** Interquartile range of the per-round rates relative to the median. */
  relIqr: number;
  rounds: number;
}

export interface SideBySide {
  batch: number;
  rounds: number;
  results: ThroughputResult[];
  /** results[i].imagesPerSecond / results[0].imagesPerSecond. */
  ratios: number[];
}

export async function sideBySide(models: { name: string; bytes: ModelInput }[], resolution: number,
  o: { batch?: number; rounds?: number; secondsPerRound?: number; engine?: EngineOptions } = {}): Promise<SideBySide> {
  const batch = o.batch ?? 8, rounds = o.rounds ?? 7, per = o.secondsPerRound ?? 0.3;
  const x = randomImages(batch, resolution, { seed: 11 });
  const pixels = new ort.Tensor('float32', x.data, x.dims);
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const m of models) {
      sessions.push(await createSession(m.bytes, sessionOptions(o.engine ?? {})));
    }
    // Warm-up: first runs allocate and pack weights.
    for (const s of sessions) for (let i = 0; i < 2; i++) await s.run({ [s.inputNames[0]!]: pixels });
    const rates: number[][] = models.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < sessions.length; i++) {
        const s = sessions[i]!;
        const feeds = { [s.inputNames[0]!]: pixels };
        let n = 0;
        const t0 = performance.now();
        do { await s.run(feeds); n++; } while ((performance.now() - t0) / 1000 < per || n < 2);
        rates[i]!.push(n * batch / ((performance.now() - t0) / 1000));
      }
    }
    const results = models.map((m, i) => {
      const s = summarize(rates[i]!);
      return { name: m.name, imagesPerSecond: s.median, relIqr: s.relIqr, rounds };
    });
    return { batch, rounds, results, ratios: results.map((x) => x.imagesPerSecond / results[0]!.imagesPerSecond) };
  } finally {
    for (const s of sessions) await s.release();
  }
}
