import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figure, percentile, summarize } from '../../src/bench/stats.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('percentile: linear interpolation between closest ranks (numpy default), hand-computed', () => {
  const s = [1, 2, 3, 4];
  // position = (n − 1) · p/100
  close(percentile(s, 50), 2.5); // pos 1.5 → 2 + 0.5·(3 − 2)
  close(percentile(s, 25), 1.75); // pos 0.75 → 1 + 0.75·1
  close(percentile(s, 90), 3.7); // pos 2.7 → 3 + 0.7·1
  close(percentile(s, 99), 3.97); // pos 2.97
  close(percentile(s, 0), 1);
  close(percentile(s, 100), 4);
  const t = [15, 20, 35, 40, 50];
  close(percentile(t, 40), 29); // pos 1.6 → 20 + 0.6·15
  close(percentile(t, 95), 48); // pos 3.8 → 40 + 0.8·10
  close(percentile(t, 50), 35); // odd count: the middle value
  close(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summarize sorts its input and reports the percentiles, mean and relative IQR', () => {
  const s = summarize([10, 1, 7, 3, 5, 9, 2, 8, 4, 6]); // 1..10
  assert.equal(s.n, 10);
  close(s.median, 5.5);
  close(s.mean, 5.5);
  assert.equal(s.min, 1);
  assert.equal(s.max, 10);
  close(s.p25, 3.25); // pos 2.25
  close(s.p75, 7.75); // pos 6.75
  close(s.p90, 9.1); // pos 8.1
  close(s.p95, 9.55); // pos 8.55
  close(s.p99, 9.91); // pos 8.91
  close(s.p5, 1.45); // pos 0.45
  close(s.relIqr, (7.75 - 3.25) / 5.5);
});

test('figure: median with the spread (max − min) / median; no spread from one value', () => {
  const f = figure([100, 90, 110]);
  assert.equal(f.median, 100);
  assert.equal(f.min, 90);
  assert.equal(f.max, 110);
  assert.equal(f.n, 3);
  close(f.spread!, 0.2);
  const one = figure([42]);
  assert.equal(one.median, 42);
  assert.equal(one.spread, null);
});
