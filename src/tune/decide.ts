/**
 * The tuner's decision: hard constraints filter the measured candidates, the feasible ones form a Pareto
 * front (speed, accuracy, size, memory), and the objective picks one, with measured noise deciding what
 * counts as a tie. When nothing is feasible: the nearest candidates and the binding constraint.
 * Pure functions, no I/O.
 */
import { LIMIT_EPS, speedTie, SPEED_TIE_RULE } from './paired.js';
import type { Candidate, ConstraintName, Constraints, Decision, Objective, Violation } from './types.js';

export interface DecideOptions {
  /** False for random weights: accuracy constraints are ignored, quality.agreement is the accuracy axis. */
  hasAccuracy: boolean;
  /**
   * maxDrop and minAccuracy resolved into one absolute top-1 floor (percent). Informational here: the raw
   * constraints are applied instead. At full fidelity the floor is implied by them, and on a screened subset
   * it would compare top-1 measured on different images (the paired drop does not).
   */
  minTop1?: number | null;
}

/** Constraint order: the tie-break of last resort for `binding`, and the order of a candidate's violations. */
const CONSTRAINT_ORDER: readonly ConstraintName[] = ['maxDrop', 'minAccuracy', 'latencySloMs', 'memoryBudgetBytes', 'minThroughput'];
const ACCURACY_CONSTRAINTS: ReadonlySet<ConstraintName> = new Set(['maxDrop', 'minAccuracy']);
/** The denominator floor of maxDrop's relative violation (its limit may be 0), points. */
const MAX_DROP_SCALE_FLOOR = 0.1;
const NEAREST = 5;

const active = (constraints: Constraints, hasAccuracy: boolean): ConstraintName[] =>
  CONSTRAINT_ORDER.filter((k) => constraints[k] != null && Number.isFinite(constraints[k]) && (hasAccuracy || !ACCURACY_CONSTRAINTS.has(k)));

/** The measured value a constraint judges, or null when the candidate lacks the figure. */
function valueOf(c: Candidate, k: ConstraintName): number | null {
  switch (k) {
    case 'maxDrop': return c.accuracy ? c.accuracy.drop : null;
    case 'minAccuracy': return c.accuracy ? 100 * c.accuracy.top1 : null;
    case 'latencySloMs': return c.speed ? c.speed.p95Ms : null;
    case 'memoryBudgetBytes': return c.speed ? c.speed.peakRssBytes : null;
    case 'minThroughput': return c.speed ? c.speed.imagesPerSecond : null;
  }
}

const isLower = (k: ConstraintName) => k === 'minAccuracy' || k === 'minThroughput';

/** How far `value` is past `limit`, relative (> 0 = violated), per Triton Model Analyzer's additive rule. */
function relative(k: ConstraintName, value: number, limit: number): number {
  if (k === 'maxDrop') return (value - limit) / Math.max(limit, MAX_DROP_SCALE_FLOOR);
  const scale = Math.abs(limit) || 1;
  return isLower(k) ? (limit - value) / scale : (value - limit) / scale;
}

/** Whether `value` meets `limit`, with a tolerance for decimal limits against computed figures. */
function meets(k: ConstraintName, value: number, limit: number): boolean {
  const tol = LIMIT_EPS * Math.max(1, Math.abs(limit));
  return isLower(k) ? value >= limit - tol : value <= limit + tol;
}

/**
 * The constraints `c` violates (in a fixed order), each with its value, limit and relative violation:
 * (value − limit)/limit for upper limits, (limit − value)/limit for lower ones, (drop − maxDrop)/max(maxDrop, 0.1)
 * for maxDrop. Constraints whose figure `c` lacks are not listed (see missingFigures); accuracy constraints
 * are skipped when o.hasAccuracy is false.
 */
export function violations(c: Candidate, constraints: Constraints, o: { hasAccuracy: boolean } = { hasAccuracy: true }): Violation[] {
  const out: Violation[] = [];
  for (const k of active(constraints, o.hasAccuracy)) {
    const limit = constraints[k]!;
    const value = valueOf(c, k);
    if (value == null || meets(k, value, limit)) continue;
    out.push({ constraint: k, value, limit, relative: relative(k, value, limit) });
  }
  return out;
}

/** The active constraints that cannot be checked on `c` because it lacks the figure. */
export function missingFigures(c: Candidate, constraints: Constraints, o: { hasAccuracy: boolean } = { hasAccuracy: true }): ConstraintName[] {
  return active(constraints, o.hasAccuracy).filter((k) => valueOf(c, k) == null);
}

/** Axes of the front, each oriented so that larger is better. */
function axes(c: Candidate, objective: Objective, hasAccuracy: boolean): number[] {
  const s = c.speed;
  const speed = !s ? -Infinity : objective === 'latency' ? -s.p95Ms : s.ratio;
  return [speed, accuracyScore(c, hasAccuracy), -c.sizeBytes, s ? -s.peakRssBytes : -Infinity];
}

/**
 * The accuracy axis, larger = better. With labels: −drop (top-1 points lost against the baseline on the
 * same images; on one split this orders exactly as top-1 does, and it stays comparable between a screened
 * and a fully measured candidate). Without: quality.agreement with the float model. Missing: −∞.
 */
function accuracyScore(c: Candidate, hasAccuracy: boolean): number {
  if (hasAccuracy) return c.accuracy ? -c.accuracy.drop : -Infinity;
  return c.quality ? c.quality.agreement : -Infinity;
}

/** a dominates b: at least as good on every axis and strictly better on one (equal points do not dominate). */
function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return false;
    if (a[i]! > b[i]!) strictly = true;
  }
  return strictly;
}

/**
 * Ids of the candidates no other one dominates, in input order. Objectives: speed (throughput: images/s
 * higher; latency: p95 lower; size: images/s higher), accuracy (top-1 drop lower, i.e. top-1 higher; without
 * accuracy: agreement higher), model size lower, peak memory lower. Pass only the feasible candidates.
 */
export function paretoFront(cands: readonly Candidate[], objective: Objective, hasAccuracy: boolean): string[] {
  const pts = cands.map((c) => axes(c, objective, hasAccuracy));
  return cands.filter((_, i) => !pts.some((p, j) => j !== i && dominates(p, pts[i]!))).map((c) => c.id);
}

/** The rule `decide` follows for an objective, in one sentence (printed in the report). */
export function choiceRule(objective: Objective, hasAccuracy: boolean): string {
  const accurate = hasAccuracy
    ? 'the more accurate (the smaller top-1 drop against the baseline, compared by point value, not by a test)'
    : 'the one agreeing more with the float model\'s top-1';
  switch (objective) {
    case 'throughput':
      return `highest throughput (the median per-round ratio to the baseline, measured side by side) among feasible candidates; candidates within measured noise of it count as tied, where ${SPEED_TIE_RULE.throughput}; a tie goes to ${accurate}, then the smaller model file`;
    case 'latency':
      return `lowest p95 latency of one model call among feasible candidates; candidates within measured noise of it count as tied, where ${SPEED_TIE_RULE.latency}; a tie goes to ${accurate}, then the smaller model file`;
    case 'size':
      return `smallest model file among feasible candidates; among equally small ones the highest throughput wins, then ${accurate}`;
  }
}

const fmtMB = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
const fmtNum = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (c: Candidate) => `${c.speed!.ratioRange[0].toFixed(2)}–${c.speed!.ratioRange[1].toFixed(2)}×`;
const accText = (c: Candidate, hasAccuracy: boolean) => hasAccuracy
  ? (c.accuracy ? `top-1 drop ${fmtNum(c.accuracy.drop)} pt` : 'accuracy not measured')
  : (c.quality ? `agreement ${(100 * c.quality.agreement).toFixed(1)}%` : 'agreement not measured');

/** Speed on the objective, larger = better. */
// Throughput ranks by the median per-round ratio to the baseline (measured side by side), not by the
// absolute images/s, which drifts with the machine's state between rounds.
const speedScore = (c: Candidate, objective: Objective) => objective === 'latency' ? -c.speed!.p95Ms : c.speed!.ratio;
const speedText = (c: Candidate, objective: Objective) => objective === 'latency'
  ? `p95 ${fmtNum(c.speed!.p95Ms)} ms, p50 ${fmtNum(c.speed!.p50Ms)} ms, spread ${(100 * c.speed!.relSpread).toFixed(1)}%`
  : `${fmtNum(c.speed!.imagesPerSecond)} img/s, ratio ${ratio(c)}`;

/**
 * Decide among measured candidates. Feasible: status 'ok', speed measured, every active constraint checked
 * and met. The front is over the feasible set; the choice follows `choiceRule(objective)`. When nothing is
 * feasible, `nearest` ranks every candidate measured on the active constraints' figures (any status) by the
 * sum of its relative violations (top 5), and `binding` is the constraint most of them violate (ties: the
 * larger summed violation).
 */
export function decide(
  baseline: Candidate,
  candidates: Candidate[],
  constraints: Constraints,
  objective: Objective,
  o?: DecideOptions,
): Decision {
  const hasAccuracy = o?.hasAccuracy ?? (baseline.accuracy != null || candidates.some((c) => c.accuracy != null));
  const opts = { hasAccuracy };
  const rule = choiceRule(objective, hasAccuracy);

  const feasibleCands = candidates.filter((c) => c.status === 'ok' && c.speed != null
    && missingFigures(c, constraints, opts).length === 0 && violations(c, constraints, opts).length === 0);
  const feasible = feasibleCands.map((c) => c.id);

  if (feasibleCands.length === 0) {
    const measured = candidates.filter((c) => c.speed != null && missingFigures(c, constraints, opts).length === 0);
    const rows = measured.map((c, i) => {
      const v = violations(c, constraints, opts);
      return { c, i, id: c.id, violations: v, total: v.reduce((s, x) => s + x.relative, 0) };
    });
    rows.sort((a, b) => a.total - b.total || Number(b.c.status === 'ok') - Number(a.c.status === 'ok') || a.i - b.i);
    const count = new Map<ConstraintName, { n: number; sum: number }>();
    for (const r of rows) {
      for (const v of r.violations) {
        const e = count.get(v.constraint) ?? { n: 0, sum: 0 };
        e.n++;
        e.sum += v.relative;
        count.set(v.constraint, e);
      }
    }
    let binding: ConstraintName | null = null;
    for (const k of CONSTRAINT_ORDER) {
      const e = count.get(k);
      if (!e) continue;
      const best = binding ? count.get(binding)! : null;
      if (!best || e.n > best.n || (e.n === best.n && e.sum > best.sum)) binding = k;
    }
    return {
      rule, feasible, front: [], chosen: null, ties: [],
      nearest: rows.slice(0, NEAREST).map((r) => ({ id: r.id, violations: r.violations, total: r.total })),
      binding,
    };
  }

  const front = paretoFront(feasibleCands, objective, hasAccuracy);
  const { chosen, ties } = objective === 'size'
    ? chooseSize(feasibleCands, hasAccuracy)
    : chooseSpeed(feasibleCands, objective, hasAccuracy);
  return { rule, feasible, front, chosen: chosen.id, ties, nearest: [], binding: null };
}

type Tie = Decision['ties'][number];

/** Sort key comparator: negative when a should win over b. */
type Cmp = (a: Candidate, b: Candidate) => number;

function chooseSpeed(cands: Candidate[], objective: 'throughput' | 'latency', hasAccuracy: boolean): { chosen: Candidate; ties: Tie[] } {
  const bySpeed: Cmp = (a, b) => speedScore(b, objective) - speedScore(a, objective);
  const fastest = [...cands].sort(bySpeed)[0]!;
  const tied = cands.filter((c) => c === fastest || speedTie(fastest.speed!, c.speed!, objective));
  if (tied.length === 1) return { chosen: fastest, ties: [] };
  const order: Cmp[] = [
    (a, b) => accuracyScore(b, hasAccuracy) - accuracyScore(a, hasAccuracy),
    (a, b) => a.sizeBytes - b.sizeBytes,
    bySpeed,
    (a, b) => a.speed!.peakRssBytes - b.speed!.peakRssBytes,
  ];
  const ranked = rank(tied, order);
  const chosen = ranked[0]!;
  const runnerUp = ranked[1]!;
  const what = objective === 'latency' ? 'latency' : 'throughput';
  const list = ranked.map((c) => `${c.label} (${speedText(c, objective)}; ${accText(c, hasAccuracy)}; ${fmtMB(c.sizeBytes)})`).join(', ');
  const why = reason(chosen, runnerUp, order, hasAccuracy, objective);
  const fastestNote = chosen === fastest ? '' : `; ${fastest.label} measured fastest, within noise`;
  return {
    chosen,
    ties: [{ ids: ranked.map((c) => c.id), note: `tied on ${what} within measured noise: ${list}. Chosen ${chosen.label}: ${why}${fastestNote}` }],
  };
}

function chooseSize(cands: Candidate[], hasAccuracy: boolean): { chosen: Candidate; ties: Tie[] } {
  const smallest = Math.min(...cands.map((c) => c.sizeBytes));
  const tied = cands.filter((c) => c.sizeBytes === smallest);
  const order: Cmp[] = [
    (a, b) => b.speed!.ratio - a.speed!.ratio,
    (a, b) => accuracyScore(b, hasAccuracy) - accuracyScore(a, hasAccuracy),
    (a, b) => a.speed!.peakRssBytes - b.speed!.peakRssBytes,
  ];
  const ranked = rank(tied, order);
  const chosen = ranked[0]!;
  if (ranked.length === 1) return { chosen, ties: [] };
  const runnerUp = ranked[1]!;
  const list = ranked.map((c) => `${c.label} (${speedText(c, 'size')}; ${accText(c, hasAccuracy)})`).join(', ');
  let why = reason(chosen, runnerUp, order, hasAccuracy, 'size');
  if (speedTie(chosen.speed!, runnerUp.speed!, 'throughput')) why += ` (its lead over ${runnerUp.label} is within measured noise)`;
  return { chosen, ties: [{ ids: ranked.map((c) => c.id), note: `the same model size (${fmtMB(smallest)}): ${list}. Chosen ${chosen.label}: ${why}` }] };
}

/** Stable ranking by the comparators in turn (input order last). */
function rank(cands: Candidate[], order: Cmp[]): Candidate[] {
  return cands.map((c, i) => ({ c, i })).sort((a, b) => {
    for (const cmp of order) {
      const d = cmp(a.c, b.c);
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    return a.i - b.i;
  }).map((x) => x.c);
}

/** Why `a` ranked above `b`: the first comparator that separates them, in words. */
function reason(a: Candidate, b: Candidate, order: Cmp[], hasAccuracy: boolean, objective: Objective): string {
  const first = order.findIndex((cmp) => { const d = cmp(a, b); return d !== 0 && !Number.isNaN(d); });
  const labels = objective === 'size' ? ['faster', 'accurate', 'memory'] : ['accurate', 'smaller', 'faster', 'memory'];
  switch (first < 0 ? 'none' : labels[first]) {
    case 'accurate':
      return hasAccuracy
        ? `more accurate than ${b.label} (${accText(a, true)} vs ${fmtNum(b.accuracy?.drop ?? NaN)} pt, by point value; the two are not tested against each other)`
        : `agrees more with the float model than ${b.label} (${accText(a, false)} vs ${b.quality ? (100 * b.quality.agreement).toFixed(1) : '?'}%)`;
    case 'smaller':
      return `as accurate as ${b.label}, and smaller (${fmtMB(a.sizeBytes)} vs ${fmtMB(b.sizeBytes)})`;
    case 'faster':
      return objective === 'latency'
        ? `as accurate and as small as ${b.label}, and lower p95 (${fmtNum(a.speed!.p95Ms)} vs ${fmtNum(b.speed!.p95Ms)} ms)`
        : objective === 'size'
          ? `faster than ${b.label} (${a.speed!.ratio.toFixed(2)}× vs ${b.speed!.ratio.toFixed(2)}× the baseline)`
          : `as accurate and as small as ${b.label}, and faster (${a.speed!.ratio.toFixed(2)}× vs ${b.speed!.ratio.toFixed(2)}× the baseline)`;
    case 'memory':
      return `equal on the other criteria to ${b.label}, and less peak memory (${fmtMB(a.speed!.peakRssBytes)} vs ${fmtMB(b.speed!.peakRssBytes)})`;
    default:
      return `indistinguishable from ${b.label} on every criterion; first in the search order`;
  }
}
