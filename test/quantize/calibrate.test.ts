import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangeCollector, entropyThreshold, HISTOGRAM_BINS } from '../../src/compress/quantize/calibrate.js';
import { gaussian, rng } from '../../src/models/random.js';

const normal = gaussian(rng(3));
/** Gaussian values with a few large outliers, in several batches of growing range. */
function feed(c: RangeCollector): number[] {
  const all: number[] = [];
  for (let b = 0; b < 20; b++) {
    const v = Float32Array.from({ length: 5000 }, () => normal() * (1 + b / 10));
    if (b === 7) v[3] = 60;
    if (b === 13) v[9] = -45;
    c.add(v);
    all.push(...v);
  }
  return all.sort((x, y) => x - y);
}

test('minmax is exact; the histogram grows by doubling without losing counts, in fixed memory', () => {
  const c = new RangeCollector(true);
  const all = feed(c);
  assert.deepEqual(c.range('minmax'), [all[0], all[all.length - 1]]);
  assert.equal(c.hist!.length, HISTOGRAM_BINS);
  assert.equal(c.hist!.reduce((a, b) => a + b, 0), all.length);
  assert.ok(c.R >= 60);
  // Quantiles from the histogram match the exact ones within a bin.
  for (const q of [0.01, 0.5, 0.99]) {
    const exact = all[Math.floor(q * (all.length - 1))]!;
    assert.ok(Math.abs(c.quantile(q) - exact) <= 2 * c.binWidth(), `q=${q}: ${c.quantile(q)} vs ${exact}`);
  }
  const m = new RangeCollector(false);
  feed(m);
  assert.equal(m.hist, null);
});

test('percentile, entropy and mse clip outliers that minmax keeps', () => {
  const c = new RangeCollector(true);
  feed(c);
  const [lo, hi] = c.range('minmax');
  // MSE trades clipping error against rounding error over all 100k values: two outliers are worth
  // keeping partly (it clips them only with ~1M values or more), so it only narrows the range here.
  const [ma, mb] = c.range('mse');
  assert.ok(ma > lo && mb < hi && mb > 5 && ma < -5, `mse: [${ma}, ${mb}]`);
  for (const method of ['percentile', 'entropy'] as const) {
    const [a, b] = c.range(method, { percentile: 99.99 }); // 100k values: 99.999 would keep the single top outlier
    assert.ok(a >= lo && b <= hi, method);
    assert.ok(b < 30 && a > -30, `${method}: [${a}, ${b}] should not reach the outliers`);
    assert.ok(b > 2 && a < -2, `${method}: [${a}, ${b}] should keep the bulk`);
  }
  const p = c.range('percentile', { percentile: 99 });
  const p2 = c.range('percentile', { percentile: 99.999 });
  assert.ok(p[1] < p2[1] && p[0] > p2[0]);
});

test('entropy threshold of a clean distribution covers it; of a long tail, cuts it', () => {
  const flat = new Float64Array(1024);
  for (let i = 0; i < 100; i++) flat[i] = 10;
  assert.ok(entropyThreshold(flat, 1) <= 128);
  const tail = new Float64Array(1024);
  for (let i = 0; i < 1024; i++) tail[i] = Math.round(1e6 * Math.exp(-i / 20));
  tail[1000] = 1;
  const t = entropyThreshold(tail, 1);
  assert.ok(t < 600 && t > 128, `${t}`);
});
