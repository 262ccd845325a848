/** Recovery after a fault, computed from a synthetic timeline whose dip is known by construction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recoveries, rollingRates, steadyRate } from '../../src/loadtest/recovery.js';

// 250 ms buckets at 25 successes each = 100 req/s; a fault at 5 s drops it to 0 for 1.5 s, then back.
const ok = Array.from({ length: 60 }, (_, i) => (i >= 20 && i < 26 ? 0 : 25));
const t = { startEpochMs: 1_000_000, bucketMs: 250, ok };

test('rolling rates and the steady rate', () => {
  const r = rollingRates(t);
  assert.equal(r.length, 60 - 3);
  assert.equal(r[0], 100);
  assert.equal(r[20], 0); // buckets 20–23 all empty
  assert.equal(r[18], 50); // buckets 18, 19 full, 20, 21 empty
  assert.equal(steadyRate(t), 100);
});

test('recovery time is when a full-rate window starts after the fault; the dip is the lowest rate', () => {
  const [rec] = recoveries(t, [t.startEpochMs + 5000], 100);
  // The first window at ≥ 90 req/s after the fault starts at bucket 26 (6.5 s): 1.5 s after the fault.
  assert.deepEqual(rec, { atMs: 5000, dipPerSecond: 0, recoveredAfterMs: 1500, censored: false });
});

test('no dip: recovered at once; never back: null', () => {
  const flat = { ...t, ok: new Array(40).fill(25) };
  assert.equal(recoveries(flat, [flat.startEpochMs + 2000], 100)[0]!.recoveredAfterMs, 0);
  const dead = { ...t, ok: [...new Array(10).fill(25), ...new Array(30).fill(0)] };
  assert.deepEqual(recoveries(dead, [dead.startEpochMs + 2500], 100)[0], { atMs: 2500, dipPerSecond: 0, recoveredAfterMs: null, censored: false });
});

test('a fault in the last second of a run is censored, not counted as never recovered', () => {
  const r = recoveries(t, [t.startEpochMs + 14_600], 100)[0]!;
  assert.equal(r.recoveredAfterMs, null);
  assert.equal(r.censored, true);
});
