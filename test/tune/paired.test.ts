import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyBudget, formatAccuracyVerdict, formatP, mcnemarExact, pairedAccuracy, speedTie, SPEED_TIE_RULE,
} from '../../src/tune/paired.js';
import type { AccuracyFigures, SpeedFigures } from '../../src/tune/types.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('mcnemarExact: hand-computed exact values', () => {
  assert.equal(mcnemarExact(0, 5), 0.0625); // 2 · 1/32
  assert.equal(mcnemarExact(5, 0), 0.0625); // symmetric
  assert.equal(mcnemarExact(1, 9), 0.021484375); // 2 · (1 + 10)/1024
  assert.equal(mcnemarExact(2, 8), 0.109375); // 2 · (1 + 10 + 45)/1024
  assert.equal(mcnemarExact(0, 1), 1); // 2 · ½ = 1
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(7, 7), 1);
  assert.equal(mcnemarExact(3, 4), 1); // 2 · P[X ≤ 3 | n = 7] = 2 · ½
});

test('mcnemarExact: log-space branch agrees with exact sums and stays finite for b + c = 20000 and 100000', () => {
  // n = 60, k = 20: Σ_{i≤20} C(60, i) computed with BigInt.
  let coef = 1n; let sum = 1n;
  for (let i = 1n; i <= 20n; i++) { coef = (coef * (60n - i + 1n)) / i; sum += coef; }
  const exact = (2 * Number(sum)) / 2 ** 60;
  close(mcnemarExact(20, 40), exact, exact * 1e-10);
  // Near the boundary of the exact branch both methods agree: n = 51 goes through logs.
  let c51 = 1n; let s51 = 1n;
  for (let i = 1n; i <= 20n; i++) { c51 = (c51 * (51n - i + 1n)) / i; s51 += c51; }
  const e51 = (2 * Number(s51)) / 2 ** 51;
  close(mcnemarExact(20, 31), e51, e51 * 1e-10);
  for (const [b, c] of [[9900, 10100], [9000, 11000], [10000, 10000], [0, 20000], [49000, 51000], [50000, 50000]] as const) {
    const p = mcnemarExact(b, c);
    assert.ok(Number.isFinite(p) && p >= 0 && p <= 1, `${b},${c}: ${p}`);
  }
  // 9900 vs 10100: z = 200/√20000 ≈ 1.414, two-sided normal p ≈ 0.157 (exact with continuity ≈ 0.16).
  const p = mcnemarExact(9900, 10100);
  assert.ok(p > 0.15 && p < 0.17, String(p));
  assert.ok(mcnemarExact(9000, 11000) < 1e-40 && mcnemarExact(9000, 11000) > 0);
  assert.equal(mcnemarExact(50000, 50000), 1);
});

test('mcnemarExact: rejects negative or fractional counts', () => {
  assert.throws(() => mcnemarExact(-1, 2), RangeError);
  assert.throws(() => mcnemarExact(1.5, 2), RangeError);
});

test('pairedAccuracy: a hand-made case of 10 images', () => {
  //             0  1  2  3  4  5  6  7  8  9
  const bc = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0, 0, 1]); // baseline 8/10
  const cc = Uint8Array.from([1, 1, 1, 1, 1, 0, 0, 1, 0, 1]); // candidate 7/10
  const bp = Int32Array.from([3, 4, 5, 6, 7, 8, 9, 2, 2, 1]);
  const cp = Int32Array.from([3, 4, 5, 6, 7, 1, 0, 5, 2, 1]); // differs on 5, 6, 7
  const a = pairedAccuracy(bc, cc, bp, cp, 'full');
  assert.equal(a.images, 10);
  assert.equal(a.top1, 0.7);
  assert.equal(a.baselineTop1, 0.8);
  assert.equal(a.drop, 10); // points
  assert.equal(a.agreement, 0.7);
  assert.deepEqual(a.discordant, [2, 1]); // 5 and 6 lost; 7 gained
  assert.equal(a.pValue, 1); // 2 · P[X ≤ 1 | n = 3] = 2 · 4/8
  assert.equal(a.fidelity, 'full');
  assert.throws(() => pairedAccuracy(bc, cc.subarray(1), bp, cp, 'full'), /lengths differ/);
  assert.throws(() => pairedAccuracy(bc, cc, bp, cp.subarray(2), 'screen'), /lengths differ/);
  assert.throws(() => pairedAccuracy(new Uint8Array(), new Uint8Array(), new Int32Array(), new Int32Array(), 'full'), /no images/);
});

test('pairedAccuracy: the drop is exact for decimal points (3 of 1000 = 0.3)', () => {
  const n = 1000;
  const bc = new Uint8Array(n).fill(1);
  const cc = new Uint8Array(n).fill(1);
  cc[0] = 0; cc[1] = 0; cc[2] = 0;
  const p = new Int32Array(n);
  const a = pairedAccuracy(bc, cc, p, p, 'screen');
  assert.equal(a.drop, 0.3);
  assert.equal(accuracyBudget(a, 0.3).withinBudget, true);
  assert.equal(accuracyBudget(a, 0.29).withinBudget, false);
});

const acc = (b: number, c: number, n: number): AccuracyFigures => ({
  images: n, top1: 0.9 - (b - c) / n, baselineTop1: 0.9, drop: (100 * (b - c)) / n,
  agreement: 1 - (b + c) / n, discordant: [b, c], pValue: mcnemarExact(b, c), fidelity: 'full',
});

test('accuracyBudget: point-estimate rule, McNemar distinguishability and a one-sided 95% bound', () => {
  // 10 000 images, 30 lost, 0 gained: drop 0.3 pt, clearly distinguishable.
  const v = accuracyBudget(acc(30, 0, 10000), 0.5);
  assert.equal(v.withinBudget, true);
  assert.equal(v.drop, 0.3);
  assert.equal(v.distinguishable, true);
  // Agresti–Min: d = 29.5·… hand: bb = 30.5, cc = 0.5, m = 10002, d = 30/10002,
  // var = (31 − 900/10002)/10002², bound = 100·(d + 1.6449·√var)
  const m = 10002;
  const expected = 100 * (30 / m + 1.6448536269514722 * Math.sqrt((31 - 900 / m) / (m * m)));
  close(v.dropUpper95, expected, 1e-12);
  assert.ok(v.dropUpper95 > 0.3 && v.dropUpper95 < 0.45, String(v.dropUpper95));
  // Over budget by the point estimate even though the bound and test say little: still out.
  const w = accuracyBudget(acc(6, 3, 1000), 0.2);
  assert.equal(w.drop, 0.3);
  assert.equal(w.withinBudget, false);
  assert.equal(w.distinguishable, false);
  // maxDrop 0 and no discordant pairs: within, and the bound is not degenerate.
  const z = accuracyBudget(acc(0, 0, 1000), 0);
  assert.equal(z.withinBudget, true);
  assert.ok(z.dropUpper95 > 0 && z.dropUpper95 < 0.5, String(z.dropUpper95));
  // A gain: negative drop.
  const g = accuracyBudget(acc(2, 12, 1000), 0);
  assert.equal(g.withinBudget, true);
  assert.ok(g.drop < 0 && g.dropUpper95 > g.drop);
});

test('formatAccuracyVerdict: change of top-1 with the worst case and the test', () => {
  const s = formatAccuracyVerdict(accuracyBudget(acc(6, 3, 1000), 0.5));
  assert.match(s, /^−0\.30 pt \(at worst −0\.\d\d pt, 95% bound; indistinguishable from the baseline, p = 0\.51\)$/);
  assert.match(formatAccuracyVerdict(accuracyBudget(acc(30, 0, 1000), 5)), /worse than the baseline, p < 0\.001/);
  assert.match(formatAccuracyVerdict(accuracyBudget({ ...acc(2, 20, 1000), fidelity: 'screen' }, 0)),
    /^\+1\.80 pt \(at worst \+\d\.\d\d pt, 95% bound; better than the baseline, p < 0\.001; screened on 1000 images\)$/);
  assert.equal(formatP(0.4123), 'p = 0.41');
  assert.equal(formatP(0.0031), 'p = 0.0031');
});

const speed = (ips: number, range: [number, number], p50 = 10, relSpread = 0.02): SpeedFigures => ({
  imagesPerSecond: ips, relSpread, ratio: (range[0] + range[1]) / 2, ratioRange: range,
  p50Ms: p50, p95Ms: p50 * 1.2, peakRssBytes: 1e8, rounds: 5,
});

test('speedTie: throughput ties on overlapping per-round ratio ranges only', () => {
  assert.equal(speedTie(speed(200, [1.9, 2.1]), speed(195, [1.85, 1.95]), 'throughput'), true);
  assert.equal(speedTie(speed(200, [1.9, 2.1]), speed(180, [1.7, 1.9]), 'throughput'), true); // touching ends
  assert.equal(speedTie(speed(200, [1.95, 2.1]), speed(180, [1.7, 1.9]), 'throughput'), false);
  assert.match(SPEED_TIE_RULE.throughput, /overlap/);
});

test('speedTie: latency ties when p50s differ by less than max(spread, 3%)', () => {
  assert.equal(speedTie(speed(100, [1, 1.1], 10, 0.01), speed(100, [2, 2.1], 10.2, 0.01), 'latency'), true); // 2% < 3%
  assert.equal(speedTie(speed(100, [1, 1.1], 10, 0.01), speed(100, [1, 1.1], 10.5, 0.01), 'latency'), false); // 5% ≥ 3%, overlap irrelevant
  assert.equal(speedTie(speed(100, [1, 1.1], 10, 0.08), speed(100, [2, 2.1], 10.5, 0.01), 'latency'), true); // 5% < 8% spread
  assert.equal(speedTie(speed(100, [1, 1.1], 10), speed(100, [1, 1.1], 10), 'latency'), true);
});
