/**
 * perf_analyzer's stability rule (docs/measurements_metrics.md): a load level is measured in
 * consecutive windows, and its result is "stable" once the last three windows agree — the largest
 * throughput is within `pct`% of the smallest, and the same for the latency percentile chosen
 * (p95 here; perf_analyzer uses the average unless --percentile is given). A window in which nothing
 * completed is never stable: a stalled server must not look steady.
 */

/** What the rule reads of one measurement window. */
export interface WindowFigures {
  /** Completed successful requests per second. */
  throughput: number;
  /** Latency percentile (ms) of the window's successful requests; null when none completed. */
  p95: number | null;
}

export interface StabilityVerdict {
  stable: boolean;
  /** max/min − 1 over the last `count` windows, or null while fewer windows exist (or one is empty). */
  throughputSpread: number | null;
  latencySpread: number | null;
}

export const STABILITY_WINDOWS = 3;
export const DEFAULT_STABILITY_PCT = 10;

/** max/min − 1 of positive values; null if any is not positive (an empty window). */
export function spread(values: readonly number[]): number | null {
  if (values.length === 0 || values.some((v) => !(v > 0))) return null;
  return Math.max(...values) / Math.min(...values) - 1;
}

/** Whether the last `count` windows agree within `pct` percent on throughput and p95 latency. */
export function stability(windows: readonly WindowFigures[], pct = DEFAULT_STABILITY_PCT, count = STABILITY_WINDOWS): StabilityVerdict {
  if (windows.length < count) return { stable: false, throughputSpread: null, latencySpread: null };
  const last = windows.slice(-count);
  const throughputSpread = spread(last.map((w) => w.throughput));
  const latencySpread = spread(last.map((w) => w.p95 ?? 0));
  const limit = pct / 100 + 1e-12; // 10% exactly counts as within 10%
  const stable = throughputSpread !== null && latencySpread !== null && throughputSpread <= limit && latencySpread <= limit;
  return { stable, throughputSpread, latencySpread };
}
