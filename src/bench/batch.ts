/**
 * The batch-size optimizer: by measurement, not by estimate.
 *
 *  1. Double the batch (1, 2, 4, …) — each batch one configuration in its own process — until its
 *     peak resident memory passes the budget, a run fails, or `maxBatch` is reached.
 *  2. Bisect between the last batch within the budget and the first over it (`refineSteps` times).
 *  3. With a latency objective, bisect the same way where p95 crosses the objective.
 *
 * Answers: the largest batch whose peak memory stays within the budget, and the batch with the best
 * throughput whose p95 latency meets the objective (and whose memory is within the budget). A child
 * whose memory runs well past the budget (×1.25, at least +256 MiB) is stopped: it is over budget.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import type { EngineName } from '../engines/engine.js';
import { defaultGraphStyle } from '../engines/engine.js';
import type { GraphStyle } from '../export/layers.js';
import {
  type BenchOptions, type ConfigResult, type Configuration, type MachineInfo, BenchContext, benchSettings, configLabel,
  machineInfo, measureConfigurations, validateOptions, type BenchReport,
} from './runner.js';
import type { HardwareProfile } from '../analyze/roofline.js';
import type { EngineAvailability } from '../engines/detect.js';

export interface FindBatchOptions extends BenchOptions {
  memoryBudgetBytes: number;
  latencySloMs?: number;
  /** Largest batch tried. Default 1024. */
  maxBatch?: number;
  /** Bisection steps at each crossing. Default 3. */
  refineSteps?: number;
}

export interface BatchPoint {
  batch: number;
  status: 'ok' | 'over-budget' | 'failed';
  imagesPerSecond?: number;
  p50Ms?: number;
  p95Ms?: number;
  /** Peak resident memory of the process (what the budget applies to), and its parts. */
  peakRssBytes?: number;
  loadPeakRssBytes?: number;
  runPeakRssBytes?: number | null;
  reason?: string;
  withinBudget: boolean;
  /** null without an objective. */
  meetsSlo: boolean | null;
}

export interface BatchSearch {
  label: string;
  model: string;
  engine: EngineName;
  graph: string;
  threads: number;
  workers: number;
  memoryBudgetBytes: number;
  latencySloMs: number | null;
  points: BatchPoint[];
  largestWithinBudget: { batch: number; peakRssBytes: number; imagesPerSecond: number } | null;
  bestThroughput: { batch: number; imagesPerSecond: number; p95Ms: number; peakRssBytes: number } | null;
  /** Why the doubling stopped. */
  stoppedBecause: string;
  results: ConfigResult[];
}

export interface FindBatchReport {
  tool: 'vitopt bench --find-batch';
  date: string;
  machine: MachineInfo;
  settings: BenchReport['settings'];
  engines: EngineAvailability[];
  profile: HardwareProfile | null;
  searches: BatchSearch[];
  notes: string[];
}

function pointOf(r: ConfigResult, budget: number, slo: number | null): BatchPoint {
  if (r.status !== 'ok') {
    const over = r.failure?.stage === 'memory';
    return { batch: r.batch, status: over ? 'over-budget' : 'failed', reason: r.failure?.reason, withinBudget: false, meetsSlo: null };
  }
  const peak = r.peakRssBytes!.median;
  const p95 = r.latencyMs!.p95;
  return {
    batch: r.batch, status: peak <= budget ? 'ok' : 'over-budget', imagesPerSecond: r.imagesPerSecond!.median, p50Ms: r.latencyMs!.p50,
    p95Ms: p95, peakRssBytes: peak, loadPeakRssBytes: r.loadPeakRssBytes?.median, runPeakRssBytes: r.runPeakRssBytes?.median ?? null, withinBudget: peak <= budget, meetsSlo: slo === null ? null : p95 <= slo,
  };
}

/** Pick the answers from measured points (pure: tested on its own). */
export function chooseBatches(points: BatchPoint[], slo: number | null): Pick<BatchSearch, 'largestWithinBudget' | 'bestThroughput'> {
  const within = points.filter((p) => p.withinBudget && p.imagesPerSecond !== undefined);
  const largest = within.sort((a, b) => b.batch - a.batch)[0];
  const eligible = within.filter((p) => slo === null || p.p95Ms! <= slo);
  const best = eligible.sort((a, b) => b.imagesPerSecond! - a.imagesPerSecond! || a.batch - b.batch)[0];
  return {
    largestWithinBudget: largest ? { batch: largest.batch, peakRssBytes: largest.peakRssBytes!, imagesPerSecond: largest.imagesPerSecond! } : null,
    bestThroughput: best ? { batch: best.batch, imagesPerSecond: best.imagesPerSecond!, p95Ms: best.p95Ms!, peakRssBytes: best.peakRssBytes! } : null,
  };
}

/** The next batch to try between a good `lo` and a bad `hi`, or null when they are adjacent. */
export function bisect(lo: number, hi: number): number | null {
  if (hi - lo <= 1) return null;
  return Math.floor((lo + hi) / 2);
}

export async function findBatch(o: FindBatchOptions): Promise<FindBatchReport> {
  validateOptions(o);
  if (!(o.memoryBudgetBytes > 0)) throw new UserError('--memory-budget must be > 0');
  if (o.latencySloMs !== undefined && !(o.latencySloMs > 0)) throw new UserError('--latency-slo must be > 0');
  const maxBatch = o.maxBatch ?? 1024;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new UserError('--max-batch must be an integer >= 1');
  const refine = o.refineSteps ?? 3;
  const slo = o.latencySloMs ?? null;
  const budget = o.memoryBudgetBytes;
  const repeats = o.repeats ?? 1;
  const ctx = await BenchContext.open({ ...o, repeats, baseline: false });
  ctx.memoryLimitOverride = Math.min(ctx.o.memoryLimitBytes, Math.max(budget * 1.25, budget + 256 * 2 ** 20));
  try {
    await ctx.prepareModels();
    ctx.assertSomeModel();
    const engines: EngineName[] = [...new Set<EngineName>(o.engines ?? ['cpu'])];
    const threads = [...new Set(o.threads ?? [availableParallelism()])];
    await ctx.probeEngines(engines, threads);
    const searches: BatchSearch[] = [];
    for (const src of o.models) {
      const key = ctx.modelKey(src);
      const m = ctx.models.get(key)!;
      const name = m.name;
      for (const engine of engines) for (const g of o.graphs ?? ['auto']) for (const t of threads) for (const w of o.workers ?? [1]) {
        const graph: Configuration['graph'] = !('stage' in m) && m.fixed ? m.fixed.style : g === 'auto' ? defaultGraphStyle(engine) : g as GraphStyle;
        const base = { model: name, engine, graph, threads: t, workers: w, session: o.session ?? {}, baseline: false };
        const label = configLabel({ ...base, batch: 0 }).replace(/ b0 /, ' ');
        const results: ConfigResult[] = [];
        const measured = new Map<number, BatchPoint>();
        const measure = async (batch: number): Promise<BatchPoint> => {
          const c: Configuration = { ...base, batch, label: configLabel({ ...base, batch }) };
          const [r] = await measureConfigurations(ctx, [c], repeats);
          results.push(r!);
          const p = pointOf(r!, budget, slo);
          measured.set(batch, p);
          return p;
        };
        let stopped = `reached --max-batch ${maxBatch}`;
        let lastGood: number | null = null, firstBad: number | null = null;
        for (let b = 1; b <= maxBatch; b *= 2) {
          const p = await measure(b);
          if (p.status === 'ok') { lastGood = b; continue; }
          firstBad = b;
          stopped = p.status === 'over-budget' ? `batch ${b} is over the memory budget` : `batch ${b} failed: ${p.reason}`;
          break;
        }
        if (lastGood === null && firstBad === 1 && measured.get(1)!.status === 'failed') {
          stopped = `batch 1 failed: ${measured.get(1)!.reason}`;
        }
        // Refine the budget crossing.
        if (lastGood !== null && firstBad !== null && measured.get(firstBad)!.status === 'over-budget') {
          let lo = lastGood, hi = firstBad;
          for (let i = 0; i < refine; i++) {
            const mid = bisect(lo, hi);
            if (mid === null) break;
            const p = await measure(mid);
            if (p.status === 'ok') lo = mid; else if (p.status === 'over-budget') hi = mid; else break;
          }
        }
        // Refine the latency crossing.
        if (slo !== null) {
          const ok = [...measured.values()].filter((p) => p.status === 'ok').sort((a, b) => a.batch - b.batch);
          const i = ok.findIndex((p) => !p.meetsSlo);
          if (i > 0) {
            let lo = ok[i - 1]!.batch, hi = ok[i]!.batch;
            for (let k = 0; k < refine; k++) {
              const mid = bisect(lo, hi);
              if (mid === null || measured.has(mid)) break;
              const p = await measure(mid);
              if (p.status !== 'ok') break;
              if (p.meetsSlo) lo = mid; else hi = mid;
            }
          }
        }
        const points = [...measured.values()].sort((a, b) => a.batch - b.batch);
        searches.push({ label, model: name, engine, graph, threads: t, workers: w, memoryBudgetBytes: budget, latencySloMs: slo, points,
          ...chooseBatches(points, slo), stoppedBecause: stopped, results });
      }
    }
    const notes = [...ctx.notes];
    if (slo === null) notes.push('no --latency-slo: the best batch is the one with the most img/s within the memory budget');
    notes.push(`peak memory is the whole process's own high-water mark (VmHWM: Node + runtime + session + input), the larger of ` +
      `the peak while loading (file bytes, initializers, pre-packing: it dominates at small batches and varies by ±100 MiB ` +
      `between identical runs) and the peak during the runs; a child is stopped once past ` +
      `${(ctx.memoryLimitOverride / 2 ** 20).toFixed(0)} MiB`);
    return { tool: 'vitopt bench --find-batch', date: new Date().toISOString(), machine: machineInfo(), settings: benchSettings(ctx),
      engines: [...ctx.engines.values()], profile: o.profile ?? null, searches, notes };
  } finally {
    await ctx.close();
  }
}

export function renderBatchMarkdown(r: FindBatchReport): string {
  const mib = (b?: number) => (b === undefined ? '—' : (b / 2 ** 20).toFixed(0));
  const f = (x?: number) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const out: string[] = ['## vitopt bench --find-batch', '', `${r.date.slice(0, 10)} · ${r.machine.cpu}, ${r.machine.cores} cores`, ''];
  for (const s of r.searches) {
    out.push(`### ${s.label}`, '', `Memory budget ${mib(s.memoryBudgetBytes)} MiB${s.latencySloMs !== null ? `, p95 objective ${s.latencySloMs} ms` : ''}.`, '');
    out.push('| batch | img/s | p50 ms | p95 ms | peak RSS MiB | (loading / runs) | within budget | meets objective |', '|---:|---:|---:|---:|---:|---:|---|---|');
    for (const p of s.points) {
      out.push(`| ${p.batch} | ${p.status === 'failed' ? `failed: ${p.reason}` : f(p.imagesPerSecond)} | ${f(p.p50Ms)} | ${f(p.p95Ms)} | ${mib(p.peakRssBytes)} | ` +
        `${p.loadPeakRssBytes !== undefined ? `${mib(p.loadPeakRssBytes)} / ${p.runPeakRssBytes ? mib(p.runPeakRssBytes) : '—'}` : '—'} | ` +
        `${p.withinBudget ? 'yes' : p.status === 'over-budget' ? `no${p.reason ? ` (${p.reason})` : ''}` : 'no'} | ${p.meetsSlo === null ? '—' : p.meetsSlo ? 'yes' : 'no'} |`);
    }
    out.push('', `- Largest batch within the budget: ${s.largestWithinBudget ? `**${s.largestWithinBudget.batch}** (${mib(s.largestWithinBudget.peakRssBytes)} MiB, ${f(s.largestWithinBudget.imagesPerSecond)} img/s)` : 'none'}`);
    out.push(`- Best throughput${s.latencySloMs !== null ? ' meeting the objective' : ''}: ${s.bestThroughput ? `**batch ${s.bestThroughput.batch}** (${f(s.bestThroughput.imagesPerSecond)} img/s, p95 ${f(s.bestThroughput.p95Ms)} ms, ${mib(s.bestThroughput.peakRssBytes)} MiB)` : 'none'}`);
    out.push(`- Search stopped: ${s.stoppedBecause}.`, '');
  }
  if (r.notes.length) out.push(...r.notes.map((n) => `Note: ${n}`));
  return out.join('\n') + '\n';
}
