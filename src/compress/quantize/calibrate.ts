/**
 * Calibration: activation ranges from statistics, never from stored activations. Each tensor keeps
 * its exact min/max and, for the histogram methods, a fixed-size histogram (2048 bins, 16 KiB) over a
 * symmetric range [−R, R] that doubles when a batch goes beyond it (bins merge pairwise, exactly), so
 * memory does not grow with the number of images.
 *
 *   minmax      [min, max] seen
 *   percentile  clip each tail at (100 − p)/2 % of the values (p = 99.999 by default)
 *   entropy     TensorRT's KL method: the |x| threshold whose 128-level quantized distribution is
 *               closest (KL divergence) to the observed one
 *   mse         the range (scaled from [min, max]) minimizing expected uint8 quantization error
 *               (rounding inside, clipping outside)
 * Results are clipped to [min, max] seen and always contain 0 (activationParams widens to it).
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];

export const HISTOGRAM_BINS = 2048;
export const DEFAULT_PERCENTILE = 99.999;

export class RangeCollector {
  min = Infinity;
  max = -Infinity;
  count = 0;
  /** Histogram over [−R, R] (null for minmax). */
  hist: Float64Array | null;
  R = 0;

  constructor(histogram: boolean, readonly bins = HISTOGRAM_BINS) {
    if (bins % 4 !== 0) throw new Error('internal: histogram bins must be a multiple of 4');
    this.hist = histogram ? new Float64Array(bins) : null;
  }

  add(values: Float32Array): void {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      if (values.length === 0) return;
      throw new Error('non-finite activation values during calibration (the float model overflows on this data)');
    }
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    this.count += values.length;
    if (!this.hist) return;
    const m = Math.max(-lo, hi);
    if (this.R === 0) this.R = m > 0 ? m : 1;
    while (m > this.R) this.grow();
    const B = this.bins, R = this.R, h = this.hist, k = B / (2 * R);
    for (let i = 0; i < values.length; i++) {
      const b = Math.floor((values[i]! + R) * k);
      h[b < 0 ? 0 : b >= B ? B - 1 : b]! += 1;
    }
  }

  /** Double R: old bins 2j, 2j+1 become new bin B/4 + j. */
  private grow(): void {
    const B = this.bins, old = this.hist!, h = new Float64Array(B);
    for (let j = 0; j < B / 2; j++) h[B / 4 + j] = old[2 * j]! + old[2 * j + 1]!;
    this.hist = h;
    this.R *= 2;
  }

  binWidth(): number {
    return (2 * this.R) / this.bins;
  }

  /** Value below which a fraction q of the data lies (linear inside a bin). */
  quantile(q: number): number {
    const h = this.hist!, total = this.count, target = q * total, w = this.binWidth();
    let acc = 0;
    for (let b = 0; b < h.length; b++) {
      if (acc + h[b]! >= target && h[b]! > 0) return -this.R + w * (b + (target - acc) / h[b]!);
      acc += h[b]!;
    }
    return this.R;
  }

  range(method: CalibrationMethod, o: { percentile?: number } = {}): [number, number] {
    if (this.count === 0) throw new Error('internal: no values collected');
    const clip = (r: [number, number]): [number, number] => [Math.max(this.min, r[0]), Math.min(this.max, r[1])];
    switch (method) {
      case 'minmax': return [this.min, this.max];
      case 'percentile': {
        const tail = (100 - (o.percentile ?? DEFAULT_PERCENTILE)) / 200;
        return clip([this.quantile(tail), this.quantile(1 - tail)]);
      }
      case 'entropy': {
        const t = entropyThreshold(this.absHistogram(), this.binWidth());
        return clip([-t, t]);
      }
      case 'mse': return clip(mseRange(this.hist!, this.R, this.min, this.max));
    }
  }

  /** |x| histogram: B/2 bins over [0, R]. */
  absHistogram(): Float64Array {
    const h = this.hist!, half = this.bins / 2, out = new Float64Array(half);
    for (let j = 0; j < half; j++) out[j] = h[half + j]! + h[half - 1 - j]!;
    return out;
  }
}

/**
 * TensorRT's entropy calibration on an |x| histogram: for each candidate threshold bin i, P = the
 * first i bins with the outliers added to the last, Q = P squeezed into `levels` bins and spread back
 * over P's non-empty bins; pick the i with the smallest KL(P ‖ Q).
 */
export function entropyThreshold(abs: Float64Array, binWidth: number, levels = 128): number {
  const n = abs.length;
  let last = n;
  while (last > 0 && abs[last - 1] === 0) last--;
  if (last <= levels) return Math.max(1, last) * binWidth;
  let best = last, bestKl = Infinity;
  const stride = Math.max(1, Math.floor((last - levels) / 512)); // at most ~512 candidates
  for (let i = last; i >= levels; i -= stride) {
    let tail = 0;
    for (let j = i; j < n; j++) tail += abs[j]!;
    const p = abs.slice(0, i);
    p[i - 1] = p[i - 1]! + tail;
    // Q: the sliced histogram (no outliers) merged into `levels` bins, spread over P's non-empty bins.
    const q = new Float64Array(i);
    const per = i / levels;
    for (let l = 0; l < levels; l++) {
      const a = Math.floor(l * per), b = l === levels - 1 ? i : Math.floor((l + 1) * per);
      let sum = 0, nonzero = 0;
      for (let j = a; j < b; j++) { sum += abs[j]!; if (p[j]! > 0) nonzero++; }
      if (nonzero > 0) for (let j = a; j < b; j++) if (p[j]! > 0) q[j] = sum / nonzero;
    }
    let ps = 0, qs = 0;
    for (let j = 0; j < i; j++) { ps += p[j]!; qs += q[j]!; }
    let kl = 0;
    for (let j = 0; j < i; j++) {
      if (p[j]! <= 0) continue;
      const pj = p[j]! / ps, qj = q[j]! / qs;
      kl += pj * Math.log(pj / Math.max(qj, 1e-12));
    }
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return best * binWidth;
}

/** Expected squared error of uint8 quantization over [lo, hi] for a histogram on [−R, R]. */
function quantMse(h: Float64Array, R: number, lo: number, hi: number): number {
  const B = h.length, w = (2 * R) / B, step = (hi - lo) / 255, round = (step * step) / 12;
  let e = 0;
  for (let b = 0; b < B; b++) {
    const c = h[b]!;
    if (c === 0) continue;
    const x = -R + (b + 0.5) * w;
    e += c * (x < lo ? (x - lo) ** 2 : x > hi ? (x - hi) ** 2 : round);
  }
  return e;
}

export function mseRange(h: Float64Array, R: number, min: number, max: number, steps = 100): [number, number] {
  let best: [number, number] = [min, max], bestE = Infinity;
  for (let s = 1; s <= steps; s++) {
    const a = s / steps;
    const r: [number, number] = [Math.min(0, min) * a, Math.max(0, max) * a];
    const e = quantMse(h, R, r[0], r[1]);
    if (e < bestE) { bestE = e; best = r; }
  }
  return best;
}
