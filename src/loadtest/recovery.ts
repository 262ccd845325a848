/**
 * How quickly throughput comes back after a fault, from a level's timeline (successes per bucket):
 * the rolling one-second rate is compared with the steady rate, and for each fault the recovery time is
 * when the first rolling window at ≥ `fraction` of steady starts after it (0 when throughput never
 * dipped). The lowest rolling rate between the fault and that moment is the dip. A fault too close to
 * the end of the run for one whole window after it is "censored": neither recovered nor not.
 */

export interface Timeline { startEpochMs: number; bucketMs: number; ok: number[] }

export interface Recovery {
  /** When the fault happened, ms after the timeline started. */
  atMs: number;
  /** Lowest rolling rate (req/s) from the fault until recovery. */
  dipPerSecond: number;
  /** ms from the fault until a rolling window at steady rate begins; null if it never came back (or the run ended first). */
  recoveredAfterMs: number | null;
  /** The run ended before a whole window after the fault: recovery could not be judged. */
  censored: boolean;
}

/** Rolling rate (req/s) of the window of `w` buckets starting at each bucket. */
export function rollingRates(t: Timeline, windowMs = 1000, o: { dropLast?: boolean } = {}): number[] {
  const w = Math.max(1, Math.round(windowMs / t.bucketMs));
  const out: number[] = [];
  let sum = 0;
  // The last bucket of a run is cut short when the run ends: its count is not a rate.
  const n = o.dropLast ? Math.max(0, t.ok.length - 1) : t.ok.length;
  for (let i = 0; i < n; i++) {
    sum += t.ok[i]!;
    if (i >= w) sum -= t.ok[i - w]!;
    if (i >= w - 1) out.push(sum / ((w * t.bucketMs) / 1000));
  }
  return out; // out[j] covers buckets j … j + w − 1
}

/** The median rolling rate: the steady throughput of a run without faults. */
export function steadyRate(t: Timeline, windowMs = 1000): number {
  const r = rollingRates(t, windowMs, { dropLast: true }).sort((a, b) => a - b);
  return r.length ? r[Math.floor(r.length / 2)]! : 0;
}

export function recoveries(t: Timeline, faultsEpochMs: number[], steady: number, o: { windowMs?: number; fraction?: number } = {}): Recovery[] {
  const rates = rollingRates(t, o.windowMs ?? 1000, { dropLast: true });
  const target = steady * (o.fraction ?? 0.9);
  return faultsEpochMs.map((at) => {
    const atMs = at - t.startEpochMs;
    const first = Math.max(0, Math.floor(atMs / t.bucketMs));
    let dip = Infinity;
    for (let j = first; j < rates.length; j++) {
      dip = Math.min(dip, rates[j]!);
      if (rates[j]! >= target) return { atMs, dipPerSecond: Math.round(dip * 10) / 10, recoveredAfterMs: Math.max(0, j * t.bucketMs - atMs), censored: false };
    }
    return { atMs, dipPerSecond: Number.isFinite(dip) ? Math.round(dip * 10) / 10 : 0, recoveredAfterMs: null, censored: !Number.isFinite(dip) || first >= rates.length - 1 };
  });
}
