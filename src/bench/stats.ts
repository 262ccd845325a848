/** Summary statistics for timings: percentiles by linear interpolation (numpy's default, 'linear'). */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Summary {
  n: number;
  median: number;
  mean: number;
  min: number;
  max: number;
  p5: number;
  p25: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  /** Interquartile range relative to the median: the noise figure reported next to medians. */
  relIqr: number;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const median = percentile(s, 50);
  const p25 = percentile(s, 25), p75 = percentile(s, 75);
  return {
    n: s.length, median, mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN, p5: percentile(s, 5), p25, p75, p90: percentile(s, 90), p95: percentile(s, 95),
    p99: percentile(s, 99), relIqr: median ? (p75 - p25) / median : NaN,
  };
}

/** A figure measured several times: its median and how far the repeats spread. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  /** Number of values. */
  n: number;
  /** (max − min) / median over the values; null with fewer than two. */
  spread: number | null;
}

export function figure(values: readonly number[]): Figure {
  const s = [...values].sort((a, b) => a - b);
  const median = percentile(s, 50);
  return {
    median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length,
    spread: s.length >= 2 && median ? (s[s.length - 1]! - s[0]!) / median : null,
  };
}
