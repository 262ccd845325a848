import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceRule, decide, missingFigures, paretoFront, violations } from '../../src/tune/decide.js';
import type { Candidate, CandidateStatus, Constraints } from '../../src/tune/types.js';

interface Opts {
  ips?: number; range?: [number, number]; p95?: number; p50?: number; spread?: number; rss?: number;
  size?: number; drop?: number | null; agreement?: number; status?: CandidateStatus; noSpeed?: boolean;
  batch?: number; fidelity?: 'screen' | 'full';
}
const BASE_TOP1 = 0.8;
/** A synthetic measured candidate. The ratio range defaults to ±2% around ips/100 (the baseline at 100 img/s). */
function cand(id: string, o: Opts = {}): Candidate {
  const ips = o.ips ?? 100;
  const drop = o.drop === undefined ? 0 : o.drop;
  return {
    id, label: `L-${id}`,
    spec: { prune: 1, quant: 'none', style: 'ort', threads: 1, batch: o.batch ?? 1 },
    artifactId: `a-${id}`, sizeBytes: o.size ?? 100e6, status: o.status ?? 'ok',
    accuracy: drop === null ? null : {
      images: 1000, top1: BASE_TOP1 - drop / 100, baselineTop1: BASE_TOP1, drop, agreement: o.agreement ?? 0.99,
      discordant: [0, 0], pValue: 1, fidelity: o.fidelity ?? 'full',
    },
    quality: o.agreement === undefined ? null : { images: 64, agreement: o.agreement, sqnrDb: 30 },
    speed: o.noSpeed ? null : {
      imagesPerSecond: ips, relSpread: o.spread ?? 0.02, ratio: ips / 100,
      ratioRange: o.range ?? [ips / 100 * 0.98, ips / 100 * 1.02],
      p50Ms: o.p50 ?? (o.p95 ?? 10) / 1.1, p95Ms: o.p95 ?? 10, peakRssBytes: o.rss ?? 300e6, rounds: 5,
    },
    commands: [],
  };
}
const base = cand('base');
const ACC = { hasAccuracy: true };

test('constraints: each kind filters, with its value, limit and relative violation', () => {
  const c = cand('x', { ips: 150, p95: 12, rss: 500e6, drop: 0.8 }); // top-1 79.2%
  const v = (k: Constraints) => violations(c, k, ACC);
  assert.deepEqual(v({ maxDrop: 0.5 }), [{ constraint: 'maxDrop', value: 0.8, limit: 0.5, relative: (0.8 - 0.5) / 0.5 }]);
  assert.deepEqual(v({ maxDrop: 1 }), []);
  const mA = v({ minAccuracy: 80 });
  assert.equal(mA.length, 1);
  assert.equal(mA[0]!.constraint, 'minAccuracy');
  assert.ok(Math.abs(mA[0]!.relative - 0.8 / 80) < 1e-9);
  assert.deepEqual(v({ minAccuracy: 79 }), []);
  assert.deepEqual(v({ latencySloMs: 10 }), [{ constraint: 'latencySloMs', value: 12, limit: 10, relative: 0.2 }]);
  assert.deepEqual(v({ latencySloMs: 12 }), []); // equal to the limit meets it
  assert.deepEqual(v({ memoryBudgetBytes: 400e6 }), [{ constraint: 'memoryBudgetBytes', value: 500e6, limit: 400e6, relative: 0.25 }]);
  assert.deepEqual(v({ minThroughput: 200 }), [{ constraint: 'minThroughput', value: 150, limit: 200, relative: 0.25 }]);
  assert.deepEqual(v({ minThroughput: 150 }), []);
  // maxDrop 0: the relative scale floors at 0.1 points.
  assert.deepEqual(v({ maxDrop: 0 }), [{ constraint: 'maxDrop', value: 0.8, limit: 0, relative: 8 }]);
  // Several at once, in a fixed order.
  assert.deepEqual(v({ minThroughput: 200, maxDrop: 0.5, latencySloMs: 10 }).map((x) => x.constraint), ['maxDrop', 'latencySloMs', 'minThroughput']);

  const d = decide(base, [base, c, cand('ok', { drop: 0.2, ips: 120, p95: 9 })], { maxDrop: 0.5, latencySloMs: 11 }, 'throughput', ACC);
  assert.deepEqual(d.feasible, ['base', 'ok']);
  assert.equal(d.chosen, 'ok');
});

test('constraints: a computed drop just above a decimal limit by rounding still meets it', () => {
  const c = cand('x', { drop: 100 * (0.8 - 0.797) }); // 0.30000000000000027
  assert.ok(c.accuracy!.drop > 0.3);
  assert.deepEqual(violations(c, { maxDrop: 0.3 }, ACC), []);
});

test('constraints: screened accuracy can be feasible; missing figures make a candidate infeasible', () => {
  const s = cand('s', { ips: 150, drop: 0.1, fidelity: 'screen' });
  const n = cand('n', { ips: 300, drop: null });
  assert.deepEqual(missingFigures(n, { maxDrop: 1 }, ACC), ['maxDrop']);
  assert.deepEqual(missingFigures(n, { minThroughput: 1 }, ACC), []);
  const d = decide(base, [base, s, n], { maxDrop: 0.5 }, 'throughput', ACC);
  assert.deepEqual(d.feasible, ['base', 's']);
  assert.equal(d.chosen, 's');
});

test('constraints: minTop1 is accepted, the raw constraints decide', () => {
  const c = cand('c', { ips: 150, drop: 0.4, fidelity: 'screen' }); // 79.6% on the screen subset
  const d = decide(base, [base, c], { maxDrop: 0.5, minAccuracy: 79 }, 'throughput', { hasAccuracy: true, minTop1: 79.9 });
  assert.equal(d.chosen, 'c');
});

test('front: dominated candidates removed, equal points both kept (2-D: speed × accuracy)', () => {
  const same = { size: 1, rss: 1 }; // size and memory equal: a 2-D front
  const a = cand('a', { ...same, ips: 200, drop: 1.0 });
  const b = cand('b', { ...same, ips: 150, drop: 0.2 });
  const c = cand('c', { ...same, ips: 140, drop: 0.5 }); // dominated by b
  const d = cand('d', { ...same, ips: 200, drop: 1.0 }); // equal to a
  const e = cand('e', { ...same, ips: 200, drop: 1.2 }); // dominated by a (equal speed, worse accuracy)
  assert.deepEqual(paretoFront([a, b, c, d, e], 'throughput', true), ['a', 'b', 'd']);
  // Latency objective: the speed axis is p95 (lower better), throughput no longer counts.
  const f = cand('f', { ...same, ips: 50, p95: 5, drop: 1.0 });
  assert.deepEqual(paretoFront([a, b, f], 'latency', true), ['b', 'f']); // a: p95 10, drop 1.0 — dominated by f
  assert.deepEqual(paretoFront([], 'throughput', true), []);
});

test('front: 4-D (speed, accuracy, size, memory)', () => {
  const a = cand('a', { ips: 200, drop: 1.0, size: 100, rss: 100 });
  const b = cand('b', { ips: 100, drop: 0.0, size: 100, rss: 100 });
  const c = cand('c', { ips: 100, drop: 1.0, size: 25, rss: 100 }); // smallest only
  const d = cand('d', { ips: 100, drop: 1.0, size: 100, rss: 50 }); // least memory only
  const e = cand('e', { ips: 100, drop: 1.0, size: 100, rss: 100 }); // dominated by each of a–d
  const f = cand('f', { ips: 200, drop: 0.0, size: 25, rss: 50 }); // dominates everything
  assert.deepEqual(paretoFront([a, b, c, d, e], 'throughput', true), ['a', 'b', 'c', 'd']);
  assert.deepEqual(paretoFront([a, b, c, d, e, f], 'throughput', true), ['f']);
  const f2 = { ...f, id: 'f2' };
  assert.deepEqual(paretoFront([a, f, f2], 'throughput', true), ['f', 'f2']);
});

test('choice: throughput → max images/s; latency → min p95; size → min bytes (ties: faster)', () => {
  const a = cand('a', { ips: 300, p95: 40, size: 80e6, batch: 8 });
  const b = cand('b', { ips: 200, p95: 6, size: 60e6 });
  const c = cand('c', { ips: 150, p95: 8, size: 25e6 });
  const c2 = cand('c2', { ips: 180, p95: 7, size: 25e6 });
  const all = [base, a, b, c, c2];
  const t = decide(base, all, {}, 'throughput', ACC);
  assert.equal(t.chosen, 'a');
  assert.deepEqual(t.ties, []);
  assert.equal(decide(base, all, {}, 'latency', ACC).chosen, 'b');
  const s = decide(base, all, {}, 'size', ACC);
  assert.equal(s.chosen, 'c2');
  assert.equal(s.ties.length, 1);
  assert.deepEqual(s.ties[0]!.ids, ['c2', 'c']);
  assert.match(s.ties[0]!.note, /L-c2.*faster than L-c/);
  for (const obj of ['throughput', 'latency', 'size'] as const) assert.equal(decide(base, all, {}, obj, ACC).rule, choiceRule(obj, true));
  assert.match(t.rule, /^highest throughput .* tie goes to the more accurate .* then the smaller model file$/);
});

test('choice: a noise tie goes to the more accurate', () => {
  const fast = cand('fast', { ips: 205, range: [1.95, 2.12], drop: 0.6 });
  const acc = cand('acc', { ips: 198, range: [1.90, 2.01], drop: 0.1, size: 200e6 });
  const slow = cand('slow', { ips: 150, range: [1.45, 1.55], drop: 0.0 });
  const d = decide(base, [base, fast, acc, slow], { maxDrop: 1 }, 'throughput', ACC);
  assert.equal(d.chosen, 'acc');
  assert.equal(d.ties.length, 1);
  assert.deepEqual(d.ties[0]!.ids, ['acc', 'fast']); // slow is not within noise
  assert.match(d.ties[0]!.note, /tied on throughput/);
  assert.match(d.ties[0]!.note, /Chosen L-acc: more accurate than L-fast/);
  assert.match(d.ties[0]!.note, /L-fast measured fastest, within noise/);
});

test('choice: a noise tie with equal accuracy goes to the smaller', () => {
  const big = cand('big', { ips: 205, range: [1.95, 2.12], drop: 0.3, size: 90e6 });
  const small = cand('small', { ips: 198, range: [1.90, 2.01], drop: 0.3, size: 30e6 });
  const d = decide(base, [base, big, small], {}, 'throughput', ACC);
  assert.equal(d.chosen, 'small');
  assert.deepEqual(d.ties[0]!.ids, ['small', 'big']);
  assert.match(d.ties[0]!.note, /as accurate as L-big, and smaller \(30\.0 MB vs 90\.0 MB\)/);
});

test('choice: a clear winner is not tied', () => {
  const fast = cand('fast', { ips: 260, range: [2.5, 2.7], drop: 0.6 });
  const acc = cand('acc', { ips: 198, range: [1.90, 2.01], drop: 0.0 });
  const d = decide(base, [base, fast, acc], { maxDrop: 1 }, 'throughput', ACC);
  assert.equal(d.chosen, 'fast');
  assert.deepEqual(d.ties, []);
  assert.deepEqual(d.front, ['fast', 'acc']); // base (100 img/s, drop 0, same size and memory) is dominated by acc
});

test('choice: latency ties by p50 within max(spread, 3%), not by throughput ratio overlap', () => {
  const b1 = cand('b1', { ips: 150, range: [1.4, 1.6], p95: 8.0, p50: 7.0, drop: 0.5, batch: 1 });
  const b1x = cand('b1x', { ips: 148, range: [1.4, 1.6], p95: 8.1, p50: 7.1, drop: 0.1, batch: 1 }); // 1.4% apart: tie
  const b8 = cand('b8', { ips: 152, range: [1.4, 1.6], p95: 60, p50: 52, drop: 0.0, batch: 8 }); // same throughput, 7× the call latency
  const d = decide(base, [base, b1, b1x, b8], {}, 'latency', ACC);
  assert.equal(d.chosen, 'b1x');
  assert.deepEqual(d.ties[0]!.ids, ['b1x', 'b1']);
  assert.match(d.ties[0]!.note, /tied on latency/);
});

test('infeasible: chosen null, nearest ranked by total relative violation, binding constraint', () => {
  const a = cand('a', { ips: 90, p95: 12 }); // minThroughput 0.1, latency 0.2 → 0.3
  const b = cand('b', { ips: 95, p95: 9 }); // minThroughput 0.05 → 0.05
  const c = cand('c', { ips: 50, p95: 8 }); // minThroughput 0.5
  const f = cand('f', { ips: 200, p95: 5, status: 'failed' }); // never feasible, but measured
  const s = cand('s', { noSpeed: true, status: 'stopped' }); // not measured: not in nearest
  const d = decide(base, [a, b, c, f, s], { minThroughput: 100, latencySloMs: 10 }, 'throughput', ACC);
  assert.equal(d.chosen, null);
  assert.deepEqual(d.feasible, []);
  assert.deepEqual(d.front, []);
  assert.deepEqual(d.nearest.map((n) => n.id), ['f', 'b', 'a', 'c']); // f has no violation but failed
  assert.ok(Math.abs(d.nearest[2]!.total - 0.3) < 1e-12);
  assert.deepEqual(d.nearest[2]!.violations.map((v) => v.constraint), ['latencySloMs', 'minThroughput']);
  assert.equal(d.binding, 'minThroughput'); // violated by 3, latency by 1
});

test('infeasible: nearest keeps the top 5; binding ties go to the larger summed violation', () => {
  const cs = [
    cand('m1', { rss: 600e6, ips: 100 }), // memory 0.2
    cand('m2', { rss: 550e6, ips: 100 }), // memory 0.1
    cand('t1', { rss: 400e6, ips: 40 }), // throughput 0.6
    cand('t2', { rss: 400e6, ips: 45 }), // throughput 0.55
    cand('x1', { rss: 510e6, ips: 99 }), // memory 0.02, throughput 0.01
    cand('x2', { rss: 520e6, ips: 98 }), // memory 0.04, throughput 0.02
  ];
  const d = decide(base, cs, { memoryBudgetBytes: 500e6, minThroughput: 100 }, 'throughput', ACC);
  assert.equal(d.chosen, null);
  assert.deepEqual(d.nearest.map((n) => n.id), ['x1', 'x2', 'm2', 'm1', 't2']);
  // Both violated by 4 candidates: memory sums 0.36, throughput 1.18.
  assert.equal(d.binding, 'minThroughput');
});

test('infeasible: maxDrop 0 uses the 0.1-point scale and binds', () => {
  const a = cand('a', { ips: 300, drop: 0.2 }); // 2
  const b = cand('b', { ips: 250, drop: 0.05 }); // 0.5
  const c = cand('c', { ips: 90, drop: 0.0 }); // throughput 0.1
  const d = decide(base, [a, b, c], { maxDrop: 0, minThroughput: 100 }, 'throughput', ACC);
  assert.equal(d.chosen, null);
  assert.deepEqual(d.nearest.map((n) => [n.id, Number(n.total.toFixed(9))]), [['c', 0.1], ['b', 0.5], ['a', 2]]);
  assert.equal(d.binding, 'maxDrop');
  // With the baseline among the candidates (drop 0) it is feasible.
  assert.equal(decide(base, [base, a, b], { maxDrop: 0 }, 'throughput', ACC).chosen, 'base');
});

test('no accuracy: accuracy constraints ignored, agreement is the accuracy axis and the tie-break', () => {
  const hi = cand('hi', { ips: 205, range: [1.95, 2.12], drop: null, agreement: 0.95 });
  const lo = cand('lo', { ips: 210, range: [1.96, 2.15], drop: null, agreement: 0.90 });
  const slow = cand('slow', { ips: 120, drop: null, agreement: 0.99 });
  const noAcc = { hasAccuracy: false };
  const d = decide(base, [hi, lo, slow], { maxDrop: 0, minAccuracy: 99 }, 'throughput', noAcc);
  assert.deepEqual(d.feasible, ['hi', 'lo', 'slow']);
  assert.equal(d.chosen, 'hi');
  assert.match(d.ties[0]!.note, /agrees more with the float model than L-lo/);
  assert.deepEqual(d.front, ['hi', 'lo', 'slow']);
  assert.deepEqual(paretoFront([hi, { ...lo, quality: { images: 64, agreement: 0.95, sqnrDb: 30 } }], 'throughput', false), ['lo']);
  assert.match(d.rule, /agreeing more with the float model/);
  assert.deepEqual(violations(hi, { maxDrop: 0, minThroughput: 300 }, noAcc).map((v) => v.constraint), ['minThroughput']);
});

test('failed and stopped candidates are never chosen nor on the front', () => {
  const failed = cand('failed', { ips: 900, status: 'failed' });
  const stopped = cand('stopped', { ips: 800, status: 'stopped' });
  const ok = cand('ok', { ips: 150 });
  const d = decide(base, [base, failed, stopped, ok], {}, 'throughput', ACC);
  assert.deepEqual(d.feasible, ['base', 'ok']);
  assert.deepEqual(d.front, ['ok']);
  assert.equal(d.chosen, 'ok');
  // Nothing ok: nothing chosen, even though the failed one would meet the constraints.
  const e = decide(base, [failed, stopped], { minThroughput: 100 }, 'throughput', ACC);
  assert.equal(e.chosen, null);
  assert.deepEqual(e.nearest.map((n) => n.id), ['failed', 'stopped']);
  assert.equal(e.binding, null);
});

test('hasAccuracy defaults from the presence of accuracy figures', () => {
  const a = cand('a', { ips: 200, drop: 2 });
  assert.equal(decide(base, [base, a], { maxDrop: 1 }, 'throughput').chosen, 'base');
  const q = cand('q', { ips: 200, drop: null, agreement: 0.9 });
  const bq = cand('bq', { drop: null, agreement: 1 });
  assert.equal(decide(bq, [bq, q], { maxDrop: 1 }, 'throughput').chosen, 'q');
});
