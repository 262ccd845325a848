/** Latency figures of a set of requests, as perf_analyzer prints them: mean ± std and p50/p90/p95/p99 (ms). */
import { percentile } from '../bench/stats.js';

export interface LatencySummary {
  count: number;
  meanMs: number | null;
  stdMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarizeLatency(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, meanMs: null, stdMs: null, p50Ms: null, p90Ms: null, p95Ms: null, p99Ms: null, maxMs: null };
  const s = Float64Array.from(values).sort();
  const sorted = Array.from(s);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const variance = sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / sorted.length;
  return {
    count: sorted.length, meanMs: r3(mean), stdMs: r3(Math.sqrt(variance)),
    p50Ms: r3(percentile(sorted, 50)), p90Ms: r3(percentile(sorted, 90)), p95Ms: r3(percentile(sorted, 95)),
    p99Ms: r3(percentile(sorted, 99)), maxMs: r3(sorted[sorted.length - 1]!),
  };
}
