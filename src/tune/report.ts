/**
 * The tuner's report as text: the verdict sentence, and report.md (for terminals and CI logs).
 * The formatting helpers and the per-candidate view here are shared with the SVG charts
 * (charts.ts) and the HTML page (html.ts), so every rendering shows the same rounded numbers.
 */
import { table } from '../bench/report.js';
import type { Candidate, ConstraintName, Constraints, TuneReport, Violation } from './types.js';

const MiB = 2 ** 20;
const MINUS = '\u2212';
const DASH = '—';

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

// ---------------------------------------------------------------------------------------------
// Numbers

/** Three significant digits, never in exponent form (1234 → "1230", 12.34 → "12.3", 0.01234 → "0.0123"). */
export function sig3(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  if (x === 0) return '0';
  if (Math.abs(x) >= 1000) return String(Math.round(Number(x.toPrecision(3))));
  if (Math.abs(x) < 1e-4) return x.toExponential(2);
  return x.toPrecision(3);
}

/** Images per second: three significant digits. */
export const ips = sig3;

/** Milliseconds: 2 decimals under 1, 1 decimal under 100, integers above. */
export function ms(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  return a < 1 ? x.toFixed(2) : a < 100 ? x.toFixed(1) : x.toFixed(0);
}

/** Bytes as whole MiB (memory). */
export function mib(bytes: number | null | undefined): string {
  if (!finite(bytes)) return DASH;
  return bytes < MiB ? (bytes / MiB).toFixed(2) : (bytes / MiB).toFixed(0);
}

/** Bytes as MB (model size, 10⁶ bytes). */
export function mb(bytes: number | null | undefined): string {
  if (!finite(bytes)) return DASH;
  const v = bytes / 1e6;
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/** A ratio as "3.10×" (2 decimals under 10, 1 under 100). */
export function times(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  return `${a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** A fraction as a percentage of something ("41%"; one decimal under 10%). */
export function pctOf(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  const p = 100 * x;
  return `${Math.abs(p) < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

/** A fraction (0.8123) as percent with 2 decimals, no sign ("81.23"). */
export function pct2(x: number | null | undefined): string {
  return finite(x) ? (100 * x).toFixed(2) : DASH;
}

/** A signed number with a real minus sign: −0.30 / +0.12 / ±0.00. */
export function signed(x: number | null | undefined, digits = 2): string {
  if (!finite(x)) return DASH;
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return `±${s}`;
  return `${x < 0 ? MINUS : '+'}${s}`;
}

export function pValue(p: number | null | undefined): string {
  if (!finite(p)) return DASH;
  return p < 0.001 ? '<0.001' : p.toPrecision(2);
}

export function db(x: number | null | undefined): string {
  if (typeof x !== 'number' || Number.isNaN(x)) return DASH;
  if (!Number.isFinite(x)) return x > 0 ? '∞' : `${MINUS}∞`;
  return x.toFixed(1);
}

export function seconds(s: number | null | undefined): string {
  if (!finite(s)) return DASH;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  if (s >= 120) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${s < 10 ? s.toFixed(1) : s.toFixed(0)} s`;
}

/** A ratio b / a, or null when either is missing or a is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return finite(a) && finite(b) && a !== 0 ? b / a : null;
}

// ---------------------------------------------------------------------------------------------
// Constraints

const CONSTRAINT_ORDER: ConstraintName[] = ['maxDrop', 'minAccuracy', 'latencySloMs', 'memoryBudgetBytes', 'minThroughput'];

/** A limit as the user would write it: up to 4 significant digits, no trailing zeros (50 → "50", 0.5 → "0.5"). */
function compact(v: number): string {
  return finite(v) ? String(Number(v.toPrecision(4))) : DASH;
}

/** The value of one constraint quantity, in the constraint's unit (`limit`: printed compactly, as given). */
export function constraintValue(name: ConstraintName, v: number, limit = false): string {
  switch (name) {
    case 'maxDrop': return `${limit ? compact(v) : v.toFixed(2)} pt`;
    case 'minAccuracy': return `${limit ? compact(v) : v.toFixed(2)}%`;
    case 'latencySloMs': return `${limit ? compact(v) : ms(v)} ms`;
    case 'memoryBudgetBytes':
      if (limit && finite(v) && v >= 2 ** 30 && v % 2 ** 28 === 0) return `${compact(v / 2 ** 30)} GiB`;
      return `${mib(v)} MiB`;
    case 'minThroughput': return `${limit ? compact(v) : sig3(v)} img/s`;
  }
}

/** "p95 latency ≤ 50 ms". */
export function constraintText(name: ConstraintName, limit: number): string {
  const v = constraintValue(name, limit, true);
  switch (name) {
    case 'maxDrop': return `top-1 drop ≤ ${v}`;
    case 'minAccuracy': return `top-1 ≥ ${v}`;
    case 'latencySloMs': return `p95 latency ≤ ${v}`;
    case 'memoryBudgetBytes': return `peak memory ≤ ${v}`;
    case 'minThroughput': return `throughput ≥ ${v}`;
  }
}

/** The constraints that are set, in a fixed order, as text. */
export function constraintList(c: Constraints): string[] {
  return CONSTRAINT_ORDER.filter((n) => finite(c[n])).map((n) => constraintText(n, c[n]!));
}

/** "p95 latency 61.5 ms vs limit 50 ms, 23% off". */
export function violationText(v: Violation): string {
  return `${constraintLabel(v.constraint)} ${constraintValue(v.constraint, v.value)} vs limit ${constraintValue(v.constraint, v.limit, true)}, ${relOff(v.relative)} off`;
}

function constraintLabel(name: ConstraintName): string {
  return { maxDrop: 'top-1 drop', minAccuracy: 'top-1', latencySloMs: 'p95 latency', memoryBudgetBytes: 'peak memory', minThroughput: 'throughput' }[name];
}

function relOff(rel: number): string {
  if (!finite(rel)) return DASH;
  const p = 100 * Math.abs(rel);
  return `${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

// ---------------------------------------------------------------------------------------------
// The candidates as the report sees them

export type Role = 'chosen' | 'front' | 'feasible' | 'infeasible' | 'failed' | 'stopped';

export function roleOf(r: TuneReport, c: Candidate): Role {
  if (c.status === 'failed') return 'failed';
  if (c.status === 'stopped') return 'stopped';
  if (c.id === r.decision.chosen) return 'chosen';
  if (r.decision.front.includes(c.id)) return 'front';
  if (r.decision.feasible.includes(c.id)) return 'feasible';
  return 'infeasible';
}

export const ROLE_TEXT: Record<Role, string> = {
  chosen: 'chosen', front: 'front', feasible: 'feasible', infeasible: 'infeasible', failed: 'failed', stopped: 'stopped',
};

export function byId(r: TuneReport, id: string | null | undefined): Candidate | null {
  if (!id) return null;
  if (r.baseline.id === id && !r.candidates.some((c) => c.id === id)) return r.baseline;
  return r.candidates.find((c) => c.id === id) ?? null;
}

/** The baseline's top-1 (fraction), from its own figures or from any candidate's pairing. */
export function baselineTop1(r: TuneReport): number | null {
  if (finite(r.baseline.accuracy?.top1)) return r.baseline.accuracy!.top1;
  for (const c of r.candidates) if (finite(c.accuracy?.baselineTop1)) return c.accuracy!.baselineTop1;
  return null;
}

/** The value the objective ranks on (for ordering tables), larger = better. */
function objectiveScore(r: TuneReport, c: Candidate): number {
  const s = c.speed;
  if (r.objective === 'latency') return finite(s?.p95Ms) ? -s!.p95Ms : -Infinity;
  if (r.objective === 'size') return finite(c.sizeBytes) ? -c.sizeBytes : -Infinity;
  return finite(s?.imagesPerSecond) ? s!.imagesPerSecond : -Infinity;
}

const ROLE_RANK: Record<Role, number> = { chosen: 0, front: 1, feasible: 2, infeasible: 3, stopped: 4, failed: 5 };

/** The candidates in table order: chosen, front, feasible, infeasible, stopped, failed; best objective first. */
export function orderedCandidates(r: TuneReport): Candidate[] {
  return r.candidates
    .map((c, i) => ({ c, i, role: roleOf(r, c), score: objectiveScore(r, c) }))
    .sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || (b.score === a.score ? a.i - b.i : b.score > a.score ? 1 : -1))
    .map((e) => e.c);
}

/** "b8 t2". */
export function settingsText(c: Candidate): string {
  return `b${c.spec.batch} t${c.spec.threads}`;
}

// ---------------------------------------------------------------------------------------------
// The verdict

function qualityClause(c: Candidate): string {
  const q = c.quality;
  if (!q) return '(random weights: no accuracy)';
  return `(random weights: no accuracy; output SQNR ${db(q.sqnrDb)} dB, agreement ${finite(q.agreement) ? `${(100 * q.agreement).toFixed(1)}%` : DASH})`;
}

function noneMeasured(r: TuneReport): string | null {
  const cands = r.candidates.filter((c) => c.id !== r.baseline.id);
  if (cands.some((c) => c.status === 'ok')) return null;
  if (!cands.length) return 'No candidate meets the constraints: no candidate was built.';
  const failed = cands.filter((c) => c.status === 'failed').length, stopped = cands.length - failed;
  const what = [failed ? `${failed} failed` : '', stopped ? `${stopped} stopped early` : ''].filter(Boolean).join(', ');
  return `No candidate meets the constraints: none of the ${cands.length} candidate${cands.length === 1 ? '' : 's'} was fully measured (${what}).`;
}

function infeasibleVerdict(r: TuneReport): string {
  const none = noneMeasured(r);
  if (none) return none;
  const d = r.decision;
  const nearest = d.nearest[0];
  const near = nearest ? byId(r, nearest.id) : null;
  const nearName = near ? near.label : nearest?.id;
  const binding = d.binding;
  const bindingText = binding && finite(r.constraints[binding]) ? constraintText(binding, r.constraints[binding]!) : null;
  let s = 'No candidate meets the constraints';
  if (bindingText) s += `; the binding constraint is ${bindingText}`;
  if (!nearest) return `${s}.`;
  const vs = nearest.violations.filter((v) => v.relative > 0);
  const onBinding = vs.find((v) => v.constraint === binding);
  const others = vs.filter((v) => v !== onBinding).map((v) => `${constraintText(v.constraint, v.limit)} by ${relOff(v.relative)}`);
  if (bindingText && onBinding) {
    s += `: the nearest, ${nearName}, misses it by ${relOff(onBinding.relative)}`;
    if (others.length) s += ` (and ${others.join(', ')})`;
  } else if (others.length) {
    s += `${bindingText ? ':' : ';'} the nearest, ${nearName}, misses ${others.join(', ')}`;
  } else {
    s += `${bindingText ? ':' : ';'} the nearest is ${nearName}`;
  }
  return `${s}.`;
}

/**
 * One sentence: what the chosen candidate buys against the baseline, under which constraints.
 * "prune 0.70 + dynamic INT8 · ort · b8 t2: 3.10× the baseline's throughput at −0.30 points top-1,
 * 41% of its memory, 27% of its size, under: top-1 drop ≤ 0.5 pt, p95 latency ≤ 50 ms."
 */
export function verdict(r: TuneReport): string {
  const chosen = byId(r, r.decision.chosen);
  if (!chosen) return infeasibleVerdict(r);
  const base = r.baseline;
  const under = constraintList(r.constraints);
  const underText = under.length ? `under: ${under.join(', ')}` : 'with no constraints set';
  const tail = r.hasAccuracy ? '' : ` ${qualityClause(chosen)}`;
  if (chosen.id === base.id) {
    return `Keep the baseline: no candidate beats it on ${r.objective}, ${underText}${tail}.`;
  }
  const speedX = r.speedup.chosenSettings ?? chosen.speed?.ratio ?? ratio(base.speed?.imagesPerSecond, chosen.speed?.imagesPerSecond);
  const memX = ratio(base.speed?.peakRssBytes, chosen.speed?.peakRssBytes);
  const sizeX = ratio(base.sizeBytes, chosen.sizeBytes);
  const p95X = ratio(base.speed?.p95Ms, chosen.speed?.p95Ms);
  const acc = r.hasAccuracy && finite(chosen.accuracy?.drop) ? `at ${signed(-chosen.accuracy!.drop)} points top-1` : '';

  const thr = finite(speedX) ? `${times(speedX)} the baseline's throughput` : '';
  const thrIts = finite(speedX) ? `${times(speedX)} its throughput` : '';
  const mem = finite(memX) ? `${pctOf(memX)} of its memory` : '';
  const size = finite(sizeX) ? `${pctOf(sizeX)} of its size` : '';
  let lead: string, rest: string[];
  if (r.objective === 'latency' && finite(chosen.speed?.p95Ms)) {
    lead = `p95 latency ${ms(chosen.speed!.p95Ms)} ms${finite(p95X) ? ` (${times(p95X)} the baseline's ${ms(base.speed!.p95Ms)} ms)` : ''}`;
    rest = [thrIts, mem, size];
  } else if (r.objective === 'size' && finite(sizeX)) {
    lead = `${pctOf(sizeX)} of the baseline's size`;
    rest = [thrIts, mem];
  } else if (thr) {
    lead = thr;
    rest = [mem, size];
  } else {
    lead = 'measured against the baseline';
    rest = [mem, size];
  }
  const body = [[lead, acc].filter(Boolean).join(' '), ...rest.filter(Boolean)].join(', ');
  return `${chosen.label}: ${body}, ${underText}${tail}.`;
}

// ---------------------------------------------------------------------------------------------
// Sections shared by Markdown and HTML (as rows of plain strings; each renderer escapes)

export interface BeforeAfter {
  header: string[];
  rows: string[][];
  /** Lines under the table: the speed-ups. */
  speedups: string[];
}

export function beforeAfter(r: TuneReport): BeforeAfter {
  const base = r.baseline, chosen = byId(r, r.decision.chosen);
  const acc = r.hasAccuracy;
  const header = ['', 'model', 'batch · threads', 'img/s', 'p50 ms', 'p95 ms', 'peak MiB', 'size MB', ...(acc ? ['top-1 %'] : ['SQNR dB', 'agreement %'])];
  const quality = (c: Candidate, isBase: boolean): string[] => {
    if (acc) return [isBase ? pct2(baselineTop1(r)) : pct2(c.accuracy?.top1)];
    if (isBase) return ['reference', '100.0'];
    return [db(c.quality?.sqnrDb), finite(c.quality?.agreement) ? (100 * c.quality!.agreement).toFixed(1) : DASH];
  };
  const row = (name: string, c: Candidate, isBase: boolean): string[] => {
    const s = c.speed;
    return [name, isBase ? 'fp32, exported as given' : c.label, settingsText(c), ips(s?.imagesPerSecond), ms(s?.p50Ms), ms(s?.p95Ms),
      mib(s?.peakRssBytes), mb(c.sizeBytes), ...quality(c, isBase)];
  };
  const rows: string[][] = [row('baseline', base, true)];
  if (r.naive) {
    rows.push(['naive path', 'portable graph, ONNX Runtime defaults', `b${base.spec.batch}`,
      `${ips(r.naive.imagesPerSecond)} (${times(r.naive.ratioToBaseline)})`, DASH, DASH, DASH, DASH, ...(acc ? [DASH] : [DASH, DASH])]);
  }
  const nearest = chosen ? null : byId(r, r.decision.nearest[0]?.id);
  if (nearest && nearest.status === 'ok') rows.push(row('nearest', nearest, false));
  if (chosen && chosen.id !== base.id) {
    rows.push(row('chosen', chosen, false));
    const s = chosen.speed, b = base.speed;
    const accChange = acc
      ? [finite(chosen.accuracy?.drop) ? `${signed(-chosen.accuracy!.drop)} pt` : DASH]
      : [DASH, DASH];
    rows.push(['change', 'chosen vs baseline', '',
      times(r.speedup.chosenSettings ?? s?.ratio ?? ratio(b?.imagesPerSecond, s?.imagesPerSecond)),
      times(ratio(b?.p50Ms, s?.p50Ms)), times(ratio(b?.p95Ms, s?.p95Ms)),
      pctOf(ratio(b?.peakRssBytes, s?.peakRssBytes)), pctOf(ratio(base.sizeBytes, chosen.sizeBytes)), ...accChange]);
  }
  const speedups: string[] = [];
  const sp = r.speedup;
  if (chosen && chosen.id !== base.id) {
    if (finite(sp.sameSettings)) speedups.push(`${times(sp.sameSettings)} the baseline's throughput at the same batch and threads (${settingsText(base)})`);
    if (finite(sp.chosenSettings)) speedups.push(`${times(sp.chosenSettings)} at the chosen batch and threads (${settingsText(chosen)})`);
    if (finite(sp.vsNaive)) speedups.push(`${times(sp.vsNaive)} the naive path (portable graph, ONNX Runtime defaults, b${base.spec.batch})`);
  }
  return { header, rows, speedups };
}

/** A table cell: the figure, and a qualifier (spread, range, p-value, reason) printed after it (Markdown) or under it (HTML). */
export interface Cell { main: string; sub?: string; join?: string }

export const cellText = (c: Cell): string => (c.sub ? `${c.main}${c.join ?? ' '}${c.sub}` : c.main);

export interface CandidateRow {
  c: Candidate;
  role: Role;
  cells: Cell[];
}

export function candidateHeader(r: TuneReport): string[] {
  return ['candidate', 'status', 'img/s', '× baseline [range]', 'p50 ms', 'p95 ms', 'peak MiB', 'size MB',
    ...(r.hasAccuracy ? ['top-1 %', 'Δ top-1 pt (p)', 'eval'] : ['SQNR dB', 'agreement %'])];
}

/** Right-aligned (numeric) columns of the candidate table (the same with and without accuracy). */
export function candidateNumeric(_r: TuneReport): Set<number> {
  return new Set([2, 3, 4, 5, 6, 7, 8, 9]);
}

export function statusText(r: TuneReport, c: Candidate): string {
  return cellText(statusCell(r, c));
}

function statusCell(r: TuneReport, c: Candidate): Cell {
  const role = roleOf(r, c);
  const main = `${c.id === r.baseline.id ? 'baseline, ' : ''}${role === 'front' ? 'feasible, front' : role}`;
  return c.reason ? { main, sub: c.reason, join: ': ' } : { main };
}

export function candidateCells(r: TuneReport, c: Candidate): Cell[] {
  const s = c.speed;
  const spread = s && finite(s.relSpread) ? `±${(50 * s.relSpread).toFixed(s.relSpread < 0.2 ? 1 : 0)}%` : undefined;
  const range = s && s.ratioRange && finite(s.ratioRange[0]) && finite(s.ratioRange[1]) ? `[${s.ratioRange[0].toFixed(2)}–${s.ratioRange[1].toFixed(2)}]` : undefined;
  const speedCells: Cell[] = [
    s ? { main: ips(s.imagesPerSecond), sub: spread } : { main: DASH },
    s ? { main: times(s.ratio), sub: range } : { main: DASH },
    { main: ms(s?.p50Ms) }, { main: ms(s?.p95Ms) }, { main: mib(s?.peakRssBytes) },
  ];
  let q: Cell[];
  if (r.hasAccuracy) {
    const a = c.accuracy;
    q = a
      ? [{ main: pct2(a.top1) }, { main: signed(-a.drop), sub: `(p ${pValue(a.pValue)})` }, { main: a.fidelity, sub: `${a.images} img`, join: ', ' }]
      : [{ main: DASH }, { main: DASH }, { main: DASH }];
  } else {
    const qq = c.quality;
    q = qq ? [{ main: db(qq.sqnrDb) }, { main: finite(qq.agreement) ? (100 * qq.agreement).toFixed(1) : DASH }] : [{ main: DASH }, { main: DASH }];
  }
  return [{ main: c.label }, statusCell(r, c), ...speedCells, { main: mb(c.sizeBytes) }, ...q];
}

export function candidateRows(r: TuneReport): CandidateRow[] {
  return orderedCandidates(r).map((c) => ({ c, role: roleOf(r, c), cells: candidateCells(r, c) }));
}

/** The constraints, objective and decision, as list items (plain text). */
export function decisionLines(r: TuneReport): { constraints: string[]; lines: string[]; nearest: { label: string; total: string; violations: string[] }[] } {
  const constraints = constraintList(r.constraints);
  const lines: string[] = [];
  lines.push(`Objective: ${{ throughput: 'throughput (img/s, higher is better)', latency: 'p95 latency (ms, lower is better)', size: 'model size (smaller is better)' }[r.objective] ?? r.objective}.`);
  if (finite(r.minTop1)) lines.push(`Accuracy floor: top-1 ≥ ${r.minTop1.toFixed(2)}% (max drop and min accuracy combined; baseline ${pct2(baselineTop1(r))}%).`);
  if (!r.hasAccuracy) lines.push('No labelled data (random weights): accuracy is not measured; quality is output SQNR and top-1 agreement with the float model.');
  if (r.decision.rule) lines.push(`Decision rule: ${r.decision.rule}${/[.!?]$/.test(r.decision.rule) ? '' : '.'}`);
  const d = r.decision;
  lines.push(`Feasible: ${d.feasible.length} candidate${d.feasible.length === 1 ? '' : 's'}; on the Pareto front: ${d.front.length}.`);
  for (const t of d.ties) {
    const names = t.ids.map((id) => byId(r, id)?.label ?? id);
    lines.push(`Tie: ${names.join(', ')} — ${t.note}`);
  }
  if (!d.chosen && d.binding && finite(r.constraints[d.binding])) lines.push(`Binding constraint: ${constraintText(d.binding, r.constraints[d.binding]!)} (it rules out the most candidates).`);
  const nearest = d.chosen ? [] : d.nearest.map((n) => ({
    label: byId(r, n.id)?.label ?? n.id,
    total: relOff(n.total),
    violations: n.violations.filter((v) => v.relative > 0).map(violationText),
  }));
  return { constraints, lines, nearest };
}

/** The Pareto front along the accuracy-vs-speed chart's axes, as text. */
export function frontLines(r: TuneReport): string[] {
  const front = r.decision.front.map((id) => byId(r, id)).filter((c): c is Candidate => !!c && c.status === 'ok');
  const xName = r.objective === 'latency' ? 'p95' : 'img/s';
  return front
    .sort((a, b) => (r.objective === 'latency' ? (a.speed?.p95Ms ?? 0) - (b.speed?.p95Ms ?? 0) : (b.speed?.imagesPerSecond ?? 0) - (a.speed?.imagesPerSecond ?? 0)))
    .map((c) => {
      const x = r.objective === 'latency' ? `${ms(c.speed?.p95Ms)} ms` : `${ips(c.speed?.imagesPerSecond)} img/s`;
      const y = r.hasAccuracy ? `top-1 ${pct2(c.accuracy?.top1)}%` : `agreement ${finite(c.quality?.agreement) ? (100 * c.quality!.agreement).toFixed(1) : DASH}%`;
      return `${c.label}: ${xName === 'p95' ? 'p95 ' : ''}${x}, ${y}, ${mib(c.speed?.peakRssBytes)} MiB, ${mb(c.sizeBytes)} MB${c.id === r.decision.chosen ? ' (chosen)' : ''}`;
    });
}

export function timelineRows(r: TuneReport): string[][] {
  const total = r.timeline.reduce((s, t) => s + (finite(t.seconds) ? t.seconds : 0), 0);
  const rows = r.timeline.map((t) => [t.stage, seconds(t.seconds), total > 0 && finite(t.seconds) ? pctOf(t.seconds / total) : DASH]);
  if (r.timeline.length) rows.push(['total', seconds(total), total > 0 ? '100%' : DASH]);
  return rows;
}

export function machineRows(r: TuneReport): string[][] {
  const m = r.machine;
  return [
    ['cpu', `${m.cpu}, ${m.cores} cores${finite(m.totalMemBytes) ? `, ${(m.totalMemBytes / 2 ** 30).toFixed(0)} GiB` : ''}`],
    ['cpu flags', r.cpuFlags.length ? r.cpuFlags.join(' ') : DASH],
    ['platform', m.platform],
    ['runtime', `${r.runtime} (engine ${r.engine})`],
    ['node', m.node],
    ['date', r.date],
    ['tool', `${r.tool} ${r.version}`],
    ['model', r.model],
    ['data', r.data ?? 'none (random weights)'],
    ['command', r.command],
    ...(r.outputs.length ? [['outputs', r.outputs.join(', ')]] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Markdown

const mdCell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function mdCode(s: string): string {
  const one = s.replace(/\r?\n/g, ' ');
  const ticks = (one.match(/`+/g) ?? []).reduce((m, t) => Math.max(m, t.length), 0);
  const fence = '`'.repeat(ticks + 1);
  return ticks ? `${fence} ${one} ${fence}` : `${fence}${one}${fence}`;
}

export function renderMarkdown(r: TuneReport): string {
  const out: string[] = [`# vitopt tune: ${r.model}`, '', `**${verdict(r)}**`, ''];

  const ba = beforeAfter(r);
  out.push('## Before and after', '');
  out.push(table(ba.header, ba.rows.map((row) => row.map(mdCell)), new Set([3, 4, 5, 6, 7, 8, 9])), '');
  out.push('Latency: one model call at the row\'s batch. Size: the model file, external data included (MB = 10⁶ bytes).');
  if (ba.speedups.length) out.push('', 'Speed-up of the chosen model:', ...ba.speedups.map((s) => `- ${s}`));
  out.push('');

  const d = decisionLines(r);
  out.push('## Constraints and decision', '');
  out.push(d.constraints.length ? `Constraints: ${d.constraints.join('; ')}.` : 'Constraints: none.', '');
  out.push(...d.lines.map((l) => `- ${l}`));
  if (d.nearest.length) {
    out.push('', 'Nearest candidates (least total violation first):');
    for (const n of d.nearest) out.push(`- ${n.label} (total ${n.total}): ${n.violations.join('; ') || 'no violation recorded'}`);
  }
  out.push('');

  const front = frontLines(r);
  out.push('## Pareto front', '', front.length ? front.map((l) => `- ${l}`).join('\n') : 'No feasible candidate.', '',
    '(Charts: accuracy vs speed and memory vs latency in report.html.)', '');

  const rows = candidateRows(r);
  out.push(`## All candidates (${rows.length})`, '');
  if (rows.length) {
    out.push(table(candidateHeader(r), rows.map((x) => x.cells.map((c) => mdCell(cellText(c)))), candidateNumeric(r)), '');
    out.push('img/s: median over rounds ± half the spread; × baseline: median per-round ratio to the baseline measured in the same round [min–max].', '');
    // Candidates differing only in batch/threads share their commands: each list once, with every label it builds.
    const groups = new Map<string, { labels: string[]; commands: string[] }>();
    for (const x of rows.filter((y) => y.c.commands.length)) {
      const key = JSON.stringify(x.c.commands);
      const g = groups.get(key) ?? { labels: [], commands: x.c.commands };
      g.labels.push(x.c.label);
      groups.set(key, g);
    }
    if (groups.size) {
      out.push('### Commands', '');
      for (const g of groups.values()) out.push(`- ${g.labels.join('; ')}:`, ...g.commands.map((cmd) => `  - ${mdCode(cmd)}`));
      out.push('');
    }
  } else {
    out.push('No candidates.', '');
  }

  if (r.dropped.length) {
    out.push('## Dropped before any work', '', ...r.dropped.map((x) => `- ${x.what}: ${x.why}`), '');
  }

  out.push('## Where the time went', '');
  const tl = timelineRows(r);
  if (tl.length) out.push(table(['stage', 'time', 'share'], tl.map((row) => row.map(mdCell)), new Set([1, 2])), '');
  else out.push('No timeline recorded.', '');
  if (r.stoppedEarly) out.push(`Stopped early: ${r.stoppedEarly}`, '');
  if (r.notes.length) out.push(...r.notes.map((n) => `Note: ${n}`), '');

  out.push('## Machine', '', table(['', ''], machineRows(r).map((row) => [row[0]!, mdCell(row[1]!)]), new Set()), '');
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
