/** perf_analyzer's stability rule on synthetic windows: the last three must agree within the percentage on throughput AND p95. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stability, spread } from '../../src/loadtest/stability.js';

const w = (throughput: number, p95: number | null) => ({ throughput, p95 });

test('fewer than three windows are never stable', () => {
  assert.equal(stability([]).stable, false);
  assert.equal(stability([w(100, 10), w(100, 10)]).stable, false);
  assert.equal(stability([w(100, 10), w(100, 10), w(100, 10)]).stable, true);
});

test('only the last three windows count', () => {
  // A slow warm-up first window does not spoil what follows.
  const v = stability([w(10, 90), w(100, 10), w(104, 10.5), w(98, 9.9)]);
  assert.equal(v.stable, true);
  assert.ok(Math.abs(v.throughputSpread! - (104 / 98 - 1)) < 1e-12);
  assert.ok(Math.abs(v.latencySpread! - (10.5 / 9.9 - 1)) < 1e-12);
});

test('10% is within, just over 10% is not, on either figure', () => {
  assert.equal(stability([w(100, 10), w(110, 10), w(105, 10)]).stable, true);
  assert.equal(stability([w(100, 10), w(110.1, 10), w(105, 10)]).stable, false);
  assert.equal(stability([w(100, 10), w(100, 11), w(100, 10.5)]).stable, true);
  assert.equal(stability([w(100, 10), w(100, 11.2), w(100, 10.5)]).stable, false, 'throughput steady but p95 drifting');
  assert.equal(stability([w(100, 10), w(120, 10), w(100, 10)], 25).stable, true, 'a wider percentage');
});

test('a window in which nothing completed is never stable (a stalled server is not steady)', () => {
  assert.equal(stability([w(0, null), w(0, null), w(0, null)]).stable, false);
  assert.equal(stability([w(100, 10), w(0, null), w(100, 10)]).stable, false);
  assert.equal(spread([1, 0, 1]), null);
});

test('property: the verdict does not depend on units (scaling every window by a constant)', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ t: fc.double({ min: 1, max: 1e4, noNaN: true }), p: fc.double({ min: 0.1, max: 1e3, noNaN: true }) }), { minLength: 3, maxLength: 8 }),
    fc.double({ min: 0.01, max: 100, noNaN: true }),
    (ws, k) => {
      const a = stability(ws.map((x) => w(x.t, x.p)));
      const b = stability(ws.map((x) => w(x.t * k, x.p * k)));
      // Equal up to floating-point rounding at the boundary.
      return a.stable === b.stable || Math.abs(a.throughputSpread! - 0.1) < 1e-9 || Math.abs(a.latencySpread! - 0.1) < 1e-9;
    }));
});
