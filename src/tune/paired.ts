/**
 * The tuner's statistics: paired accuracy against the baseline (the same images), an exact McNemar test,
 * an accuracy-budget verdict with a one-sided bound, and when two candidates' speeds are within measured
 * noise of each other. Pure functions, no I/O.
 */
import type { AccuracyFigures, SpeedFigures } from './types.js';

const LN2 = Math.LN2;
/** z for a one-sided 95% bound (Φ⁻¹(0.95)). */
const Z95_ONE_SIDED = 1.6448536269514722;

/**
 * Exact two-sided McNemar p-value: a binomial test of b against c discordant pairs with p = ½,
 * p = min(1, 2 · P[X ≤ min(b, c)]) for X ~ Bin(b + c, ½); 1 when there are no discordant pairs.
 * Exact in integer arithmetic up to b + c = 50, in log space beyond (no overflow or underflow short of
 * the true value being below ~1e-308, which returns 0).
 */
export function mcnemarExact(b: number, c: number): number {
  for (const [name, v] of [['b', b], ['c', c]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`mcnemarExact: ${name} must be a non-negative integer, got ${v}`);
  }
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  if (2 * k >= n) return 1; // b = c: P[X ≤ n/2] > ½
  if (n <= 50) {
    // Σ_{i≤k} C(n, i) ≤ 2^(n−1) ≤ 2^49: every partial sum and coefficient is an exact double.
    let coef = 1;
    let sum = 1;
    for (let i = 1; i <= k; i++) {
      coef = (coef * (n - i + 1)) / i; // C(n, i) = C(n, i−1)·(n−i+1)/i, exact (integers below 2^53)
      sum += coef;
    }
    return Math.min(1, (2 * sum) / 2 ** n);
  }
  // log C(n, k), then Σ_{i≤k} C(n, i) / C(n, k) by the ratio C(n, i−1)/C(n, i) = i/(n−i+1) < 1 (k < n/2).
  let logCk = 0;
  for (let i = 1; i <= k; i++) logCk += Math.log(n - k + i) - Math.log(i);
  let r = 1;
  let s = 1;
  for (let i = k; i >= 1; i--) {
    r *= i / (n - i + 1);
    s += r;
    if (r < 1e-17 * s) break;
  }
  const logP = LN2 + logCk + Math.log(s) - n * LN2;
  return Math.min(1, Math.exp(logP));
}

/**
 * Top-1 of a candidate paired with the baseline's on the same images: `*Correct` are 0/1 per image
 * (non-zero = correct), `*Pred` the top-1 classes. Throws when the four lengths differ or are zero.
 */
export function pairedAccuracy(
  baselineCorrect: Uint8Array,
  candidateCorrect: Uint8Array,
  baselinePred: Int32Array,
  candidatePred: Int32Array,
  fidelity: 'screen' | 'full',
): AccuracyFigures {
  const n = baselineCorrect.length;
  if (candidateCorrect.length !== n || baselinePred.length !== n || candidatePred.length !== n) {
    throw new Error(`pairedAccuracy: lengths differ (baseline correct ${n}, candidate correct ${candidateCorrect.length}, ` +
      `baseline pred ${baselinePred.length}, candidate pred ${candidatePred.length})`);
  }
  if (n === 0) throw new Error('pairedAccuracy: no images');
  let baseRight = 0;
  let candRight = 0;
  let agree = 0;
  let b = 0; // baseline right, candidate wrong
  let c = 0; // baseline wrong, candidate right
  for (let i = 0; i < n; i++) {
    const br = baselineCorrect[i] !== 0;
    const cr = candidateCorrect[i] !== 0;
    if (br) baseRight++;
    if (cr) candRight++;
    if (br && !cr) b++;
    if (!br && cr) c++;
    if (baselinePred[i] === candidatePred[i]) agree++;
  }
  return {
    images: n,
    top1: candRight / n,
    baselineTop1: baseRight / n,
    // = 100·(baselineTop1 − top1), computed from the integer counts so that e.g. 3 of 1000 is exactly 0.3.
    drop: (100 * (b - c)) / n,
    agreement: agree / n,
    discordant: [b, c],
    pValue: mcnemarExact(b, c),
    fidelity,
  };
}

/** The accuracy budget's verdict on one candidate (all figures in percentage points of top-1). */
export interface AccuracyVerdict {
  /** drop ≤ maxDrop: the point estimate (the budget's rule). */
  withinBudget: boolean;
  maxDrop: number;
  /** Points lost against the baseline (negative: gained). */
  drop: number;
  /** One-sided 95% upper bound of the drop (the worst case the data do not rule out). */
  dropUpper95: number;
  /** The exact McNemar p-value (two-sided) of "as accurate as the baseline". */
  pValue: number;
  /** pValue < 0.05: the candidate's accuracy differs from the baseline's beyond chance. */
  distinguishable: boolean;
  images: number;
  fidelity: 'screen' | 'full';
}

/** The budget rule, in words (printed in the report). */
export const ACCURACY_BUDGET_RULE =
  'a candidate is within the accuracy budget when its measured top-1 drop against the baseline on the same images ' +
  'is at most --max-drop points (the point estimate); the 95% upper bound and the McNemar p-value are reported beside it, not used to filter';

/** Tolerance for comparing a measured figure with a limit: 100·(b − c)/n against a decimal limit. */
export const LIMIT_EPS = 1e-9;

/**
 * Whether a measured drop is within `maxDrop` points, judged by the point estimate (drop ≤ maxDrop),
 * with the paired statistics beside it: the exact McNemar p-value, and a one-sided 95% upper bound of
 * the drop from the Agresti–Min adjusted Wald interval for a paired difference (½ added to each of the
 * four cells: d = (b − c)/(n + 2), var = (b + c + 1 − (b − c)²/(n + 2))/(n + 2)², bound = d + 1.645·√var),
 * which stays non-degenerate when there are no discordant pairs.
 */
export function accuracyBudget(acc: AccuracyFigures, maxDrop: number): AccuracyVerdict {
  if (!Number.isFinite(maxDrop)) throw new RangeError(`accuracyBudget: maxDrop must be finite, got ${maxDrop}`);
  const [b, c] = acc.discordant;
  const n = acc.images;
  if (!(n > 0)) throw new RangeError('accuracyBudget: no images');
  const m = n + 2;
  const bb = b + 0.5;
  const cc = c + 0.5;
  const d = (bb - cc) / m;
  const variance = Math.max(0, (bb + cc - ((bb - cc) ** 2) / m) / (m * m));
  const upper = Math.min(1, d + Z95_ONE_SIDED * Math.sqrt(variance));
  return {
    withinBudget: acc.drop <= maxDrop + LIMIT_EPS,
    maxDrop,
    drop: acc.drop,
    dropUpper95: 100 * upper,
    pValue: acc.pValue,
    distinguishable: acc.pValue < 0.05,
    images: n,
    fidelity: acc.fidelity,
  };
}

/** "p = 0.41", "p = 0.0031", "p < 0.001". */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${Number(p.toPrecision(2))}`;
}

const MINUS = '\u2212';
const signed = (x: number, digits: number) => {
  const v = Number(x.toFixed(digits));
  if (v === 0) return (0).toFixed(digits);
  return (v < 0 ? MINUS : '+') + Math.abs(v).toFixed(digits);
};

/**
 * The verdict in words, as a change of top-1: "−0.30 pt (at worst −0.62 pt, 95% bound; indistinguishable from
 * the baseline, p = 0.41)". A drop of 0.3 points prints as −0.30 pt.
 */
export function formatAccuracyVerdict(v: AccuracyVerdict, digits = 2): string {
  const verdict = !v.distinguishable
    ? 'indistinguishable from the baseline'
    : v.drop > 0 ? 'worse than the baseline' : 'better than the baseline';
  const screen = v.fidelity === 'screen' ? `; screened on ${v.images} images` : '';
  return `${signed(-v.drop, digits)} pt (at worst ${signed(-v.dropUpper95, digits)} pt, 95% bound; ${verdict}, ${formatP(v.pValue)}${screen})`;
}

/** The speed tie rules, one sentence each (printed in the report). */
export const SPEED_TIE_RULE: Record<'throughput' | 'latency', string> = {
  throughput: 'two candidates tie on throughput when the ranges of their per-round throughput ratios against the baseline, ' +
    'measured in the same rounds, overlap',
  latency: 'two candidates tie on latency when their median call latencies differ by less than the larger of ' +
    'their round-to-round spreads and 3%',
};

/** Smallest relative p50 difference that counts as a real latency difference. */
export const LATENCY_TIE_FLOOR = 0.03;

/**
 * Whether two candidates' speeds are indistinguishable by the measurement's own noise. The rule is
 * SPEED_TIE_RULE[metric]:
 * - throughput: the per-round ratio ranges (each candidate ÷ the baseline in the same round) overlap;
 * - latency: |p50a − p50b| / min(p50a, p50b) < max(relSpread a, relSpread b, 3%).
 * The ratio overlap is not used for latency: the ratio is a throughput ratio, and two candidates at
 * different batch sizes can have overlapping throughput while one call of one takes several times as long.
 */
export function speedTie(a: SpeedFigures, b: SpeedFigures, metric: 'throughput' | 'latency'): boolean {
  if (metric === 'throughput') {
    const [alo, ahi] = a.ratioRange;
    const [blo, bhi] = b.ratioRange;
    return alo <= bhi && blo <= ahi;
  }
  const lo = Math.min(a.p50Ms, b.p50Ms);
  const hi = Math.max(a.p50Ms, b.p50Ms);
  if (hi === lo) return true;
  if (!(lo > 0)) return false;
  const tol = Math.max(a.relSpread, b.relSpread, LATENCY_TIE_FLOOR);
  return (hi - lo) / lo < tol;
}
