/**
 * The tuner's two charts, hand-written SVG in the style of src/bench/chart.ts:
 *  - `accuracySpeedSvg`: top-1 (or agreement, without labels) against throughput (or p95 latency
 *    when the objective is latency), the accuracy floor and the throughput floor / latency SLO drawn
 *    in, the Pareto front filled and joined by a step line;
 *  - `memoryLatencySvg`: peak memory against p95 latency, with the memory budget and the SLO.
 * Both: feasible points hollow, infeasible ones grey, the baseline a black diamond, the chosen
 * candidate ringed and labelled; failed and stopped candidates are not plotted (counted in a note).
 */
import { esc, niceScale } from '../util/svg.js';
import type { Candidate, TuneReport } from './types.js';
import { baselineTop1, constraintValue, roleOf, type Role } from './report.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
export const COLOURS = {
  front: '#1f77b4',
  feasible: '#1f77b4',
  infeasibleFill: '#cfcfcf',
  infeasibleStroke: '#9e9e9e',
  baseline: '#222222',
  chosen: '#ff7f0e',
  limit: '#c62828',
  grid: '#ececec',
  axis: '#888888',
} as const;

const W = 720, H = 420;
const PL = 72, PR = 700, PT = 44, PB = 316;

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
const n1 = (v: number) => v.toFixed(1);

function text(x: number, y: number, s: string, o: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string; fill?: string; rotate?: number; cls?: string } = {}): string {
  const rot = o.rotate ? ` transform="rotate(${o.rotate} ${n1(x)} ${n1(y)})"` : '';
  return `<text${o.cls ? ` class="${o.cls}"` : ''} x="${n1(x)}" y="${n1(y)}" font-family="${FONT}" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? 'start'}"` +
    `${o.weight ? ` font-weight="${o.weight}"` : ''} fill="${o.fill ?? '#222'}"${rot}>${esc(s)}</text>`;
}

/** A "nice" axis range around [lo, hi] and its tick step. */
export function niceRange(lo: number, hi: number, ticks = 5): { lo: number; hi: number; step: number } {
  if (!finite(lo) || !finite(hi)) { lo = 0; hi = 1; }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-9) {
    const pad = Math.max(Math.abs(hi) * 0.02, 0.5);
    lo -= pad; hi += pad;
  }
  const raw = (hi - lo) / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  return { lo: Math.floor(lo / step + 1e-9) * step, hi: Math.ceil(hi / step - 1e-9) * step, step };
}

/** Tick label with as many decimals as the step needs. */
function tickText(v: number, step: number): string {
  let d = 0;
  while (d < 6 && Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) > 1e-6) d++;
  const s = v.toFixed(d);
  return Number(s) === 0 ? (0).toFixed(d) : s;
}

interface Axis { lo: number; hi: number; step: number; title: string }
interface Pt { c: Candidate; role: Role; x: number; y: number }
interface Box { x0: number; y0: number; x1: number; y1: number }

class Plot {
  parts: string[] = [];
  /** Labels: drawn after (over) every mark. */
  overlay: string[] = [];
  boxes: Box[] = [];
  /** padTop: pixels kept free above the y axis's top value (when the data reach a hard ceiling such as 100%). */
  constructor(readonly xa: Axis, readonly ya: Axis, readonly padTop = 0) {}
  sx(v: number): number { return PL + ((v - this.xa.lo) / (this.xa.hi - this.xa.lo || 1)) * (PR - PL); }
  sy(v: number): number { return PB - ((v - this.ya.lo) / (this.ya.hi - this.ya.lo || 1)) * (PB - PT - this.padTop); }

  frame(title: string): void {
    const p = this.parts, { xa, ya } = this;
    p.push(text(W / 2, 24, title, { size: 15, anchor: 'middle', weight: 'bold' }));
    p.push(`<rect x="${PL}" y="${PT}" width="${PR - PL}" height="${PB - PT}" fill="white" stroke="#bbb"/>`);
    for (let i = 0; ; i++) {
      const t = ya.lo + i * ya.step;
      if (t > ya.hi + ya.step * 1e-6) break;
      const y = this.sy(t);
      if (i > 0 && y > PT + 1) p.push(`<line x1="${PL}" y1="${n1(y)}" x2="${PR}" y2="${n1(y)}" stroke="${COLOURS.grid}"/>`);
      p.push(text(PL - 6, y + 4, tickText(t, ya.step), { size: 11, anchor: 'end', fill: '#555' }));
    }
    for (let i = 0; ; i++) {
      const t = xa.lo + i * xa.step;
      if (t > xa.hi + xa.step * 1e-6) break;
      const x = this.sx(t);
      if (i > 0 && t < xa.hi - xa.step * 1e-6) p.push(`<line x1="${n1(x)}" y1="${PT}" x2="${n1(x)}" y2="${PB}" stroke="${COLOURS.grid}"/>`);
      p.push(`<line x1="${n1(x)}" y1="${PB}" x2="${n1(x)}" y2="${PB + 4}" stroke="${COLOURS.axis}"/>`);
      p.push(text(x, PB + 17, tickText(t, xa.step), { size: 11, anchor: 'middle', fill: '#555' }));
    }
    p.push(text((PL + PR) / 2, PB + 36, xa.title, { size: 12, anchor: 'middle', fill: '#333' }));
    p.push(text(18, (PT + PB) / 2, ya.title, { size: 12, anchor: 'middle', fill: '#333', rotate: -90 }));
    // The text already on the frame that labels must not cover: the title.
    this.boxes.push({ x0: 0, y0: 0, x1: W, y1: PT - 2 });
  }

  /** Mark where the points, the baseline and the chosen ring will be, so that labels placed before them avoid them. */
  reserve(pts: Pt[], base: { x: number; y: number } | null): void {
    for (const p of pts) {
      const X = this.sx(p.x), Y = this.sy(p.y), h = p.role === 'chosen' ? 11 : 5;
      this.boxes.push({ x0: X - h, y0: Y - h, x1: X + h, y1: Y + h });
    }
    if (base) {
      const X = this.sx(base.x), Y = this.sy(base.y);
      this.boxes.push({ x0: X - 11, y0: Y - 11, x1: X + 11, y1: Y + 11 });
    }
  }

  hLimit(v: number, label: string): void {
    const y = this.sy(v);
    this.parts.push(`<line class="limit" data-limit="y" x1="${PL}" y1="${n1(y)}" x2="${PR}" y2="${n1(y)}" stroke="${COLOURS.limit}" stroke-width="1.5" stroke-dasharray="6,4"/>`);
    // The label at either end, above or below the line: where it covers least (vertical limits are drawn first).
    const w = textWidth(label, 11);
    const spots: { x: number; y: number; anchor: 'start' | 'end' }[] = [
      { x: PR - 4, y: y - 5, anchor: 'end' }, { x: PR - 4, y: y + 14, anchor: 'end' },
      { x: PL + 4, y: y - 5, anchor: 'start' }, { x: PL + 4, y: y + 14, anchor: 'start' },
    ].filter((sp) => sp.y - 11 > PT && sp.y + 3 < PB) as { x: number; y: number; anchor: 'start' | 'end' }[];
    const cost = (sp: { x: number; y: number; anchor: 'start' | 'end' }) => {
      const b = sp.anchor === 'end' ? { x0: sp.x - w, x1: sp.x } : { x0: sp.x, x1: sp.x + w };
      return this.boxes.reduce((sum, o2) => sum + Math.max(0, Math.min(b.x1, o2.x1) - Math.max(b.x0, o2.x0)) * Math.max(0, Math.min(sp.y + 3, o2.y1) - Math.max(sp.y - 11, o2.y0)), 0);
    };
    const best = spots.reduce((a, b) => (cost(b) < cost(a) ? b : a), spots[0] ?? { x: PR - 4, y: y - 5, anchor: 'end' as const });
    this.boxes.push({ x0: PL, y0: y - 2, x1: PR, y1: y + 2 });
    this.label(best.x, best.y, label, { anchor: best.anchor, fill: COLOURS.limit, size: 11 });
  }

  vLimit(v: number, label: string): void {
    const x = this.sx(v);
    this.parts.push(`<line class="limit" data-limit="x" x1="${n1(x)}" y1="${PT}" x2="${n1(x)}" y2="${PB}" stroke="${COLOURS.limit}" stroke-width="1.5" stroke-dasharray="6,4"/>`);
    this.boxes.push({ x0: x - 2, y0: PT, x1: x + 2, y1: PB });
    const right = x + 4 + textWidth(label, 11) < PR - 2;
    this.label(right ? x + 4 : x - 4, PT + 14, label, { anchor: right ? 'start' : 'end', fill: COLOURS.limit, size: 11 });
  }

  point(p: Pt): void {
    const cx = n1(this.sx(p.x)), cy = n1(this.sy(p.y));
    const title = `<title>${esc(p.c.label)}</title>`;
    if (p.role === 'infeasible') {
      this.parts.push(`<circle class="pt infeasible" data-id="${esc(p.c.id)}" data-role="infeasible" cx="${cx}" cy="${cy}" r="4" fill="${COLOURS.infeasibleFill}" stroke="${COLOURS.infeasibleStroke}" stroke-width="1">${title}</circle>`);
    } else if (p.role === 'feasible') {
      this.parts.push(`<circle class="pt feasible" data-id="${esc(p.c.id)}" data-role="feasible" cx="${cx}" cy="${cy}" r="4.5" fill="white" stroke="${COLOURS.feasible}" stroke-width="1.8">${title}</circle>`);
    } else {
      // front and chosen: filled
      this.parts.push(`<circle class="pt ${p.role}" data-id="${esc(p.c.id)}" data-role="${p.role}" cx="${cx}" cy="${cy}" r="5.5" fill="${COLOURS.front}" stroke="white" stroke-width="1">${title}</circle>`);
    }
  }

  baseline(c: Candidate, x: number, y: number): void {
    const X = this.sx(x), Y = this.sy(y), d = 7;
    this.parts.push(`<polygon class="baseline" data-id="${esc(c.id)}" points="${n1(X)},${n1(Y - d)} ${n1(X + d)},${n1(Y)} ${n1(X)},${n1(Y + d)} ${n1(X - d)},${n1(Y)}" fill="${COLOURS.baseline}" stroke="white" stroke-width="1"><title>baseline: ${esc(c.label)}</title></polygon>`);
  }

  ring(p: Pt): void {
    const X = this.sx(p.x), Y = this.sy(p.y);
    this.parts.push(`<circle class="ring" data-id="${esc(p.c.id)}" cx="${n1(X)}" cy="${n1(Y)}" r="10" fill="none" stroke="${COLOURS.chosen}" stroke-width="2.5"/>`);
  }

  /** A label near a point: inside the plot, at the spot that covers the least of the marks and labels already there. */
  pointLabel(x: number, y: number, s: string, o: { fill?: string; weight?: string; r?: number } = {}): void {
    const X = this.sx(x), Y = this.sy(y), r = o.r ?? 8, size = 11;
    const w = textWidth(s, size);
    const spots: { x: number; y: number; anchor: 'start' | 'end' }[] = [];
    for (const dy of [-r, r + 10, 4, -r - 14, r + 24, -r - 28, r + 38]) {
      spots.push({ x: X + r + 3, y: Y + dy, anchor: 'start' }, { x: X - r - 3, y: Y + dy, anchor: 'end' });
    }
    const boxOf = (sp: typeof spots[number]): Box => sp.anchor === 'start'
      ? { x0: sp.x - 1, y0: sp.y - size, x1: sp.x + w + 1, y1: sp.y + 3 }
      : { x0: sp.x - w - 1, y0: sp.y - size, x1: sp.x + 1, y1: sp.y + 3 };
    const inside = (b: Box) => b.x0 >= PL + 1 && b.x1 <= PR - 1 && b.y0 >= PT + 1 && b.y1 <= PB - 1;
    const overlap = (b: Box) => this.boxes.reduce((sum, o2) =>
      sum + Math.max(0, Math.min(b.x1, o2.x1) - Math.max(b.x0, o2.x0)) * Math.max(0, Math.min(b.y1, o2.y1) - Math.max(b.y0, o2.y0)), 0);
    let best = spots[0]!, bestCost = Infinity;
    spots.forEach((sp, i) => {
      const b = boxOf(sp);
      // Outside the plot costs more than any overlap; later (farther) spots cost a little more.
      const cost = (inside(b) ? 0 : 1e7) + overlap(b) + i;
      if (cost < bestCost) { best = sp; bestCost = cost; }
    });
    // A leader line when the label ended up away from its mark.
    const b = boxOf(best);
    const nx = Math.min(Math.max(X, b.x0), b.x1), ny = Math.min(Math.max(Y, b.y0 + 2), b.y1 - 2);
    const dist = Math.hypot(nx - X, ny - Y);
    if (dist > r + 8) {
      const ux = (nx - X) / dist, uy = (ny - Y) / dist;
      this.overlay.push(`<line class="leader" x1="${n1(X + ux * (r + 1))}" y1="${n1(Y + uy * (r + 1))}" x2="${n1(nx - ux * 2)}" y2="${n1(ny - uy * 2)}" stroke="${o.fill ?? '#555'}" stroke-width="1" stroke-opacity="0.7"/>`);
    }
    this.label(best.x, best.y, s, { anchor: best.anchor, fill: o.fill, weight: o.weight, size });
  }

  label(x: number, y: number, s: string, o: { anchor?: 'start' | 'middle' | 'end'; fill?: string; weight?: string; size?: number }): void {
    const size = o.size ?? 11, w = textWidth(s, size);
    const x0 = o.anchor === 'end' ? x - w : o.anchor === 'middle' ? x - w / 2 : x;
    // A white halo keeps labels readable over grid lines and points.
    this.overlay.push(`<text x="${n1(x)}" y="${n1(y)}" font-family="${FONT}" font-size="${size}" text-anchor="${o.anchor ?? 'start'}"${o.weight ? ` font-weight="${o.weight}"` : ''}` +
      ` fill="${o.fill ?? '#222'}" stroke="white" stroke-width="3" stroke-linejoin="round" paint-order="stroke">${esc(s)}</text>`);
    this.boxes.push({ x0, y0: y - size, x1: x0 + w, y1: y + 3 });
  }

  legend(items: { kind: 'front' | 'feasible' | 'infeasible' | 'baseline' | 'chosen' | 'limit' | 'step'; label: string }[], note: string | null): void {
    let x = PL, y = PB + 60;
    for (const it of items) {
      const p = this.parts;
      if (x + 20 + textWidth(it.label, 11) > PR) { x = PL; y += 17; }
      if (it.kind === 'step') p.push(`<line x1="${x - 3}" y1="${y - 4}" x2="${x + 15}" y2="${y - 4}" stroke="${COLOURS.front}" stroke-width="1.5"/><circle cx="${x + 6}" cy="${y - 4}" r="5.5" fill="${COLOURS.front}"/>`);
      else if (it.kind === 'front') p.push(`<circle cx="${x + 6}" cy="${y - 4}" r="5.5" fill="${COLOURS.front}"/>`);
      else if (it.kind === 'feasible') p.push(`<circle cx="${x + 6}" cy="${y - 4}" r="4.5" fill="white" stroke="${COLOURS.feasible}" stroke-width="1.8"/>`);
      else if (it.kind === 'infeasible') p.push(`<circle cx="${x + 6}" cy="${y - 4}" r="4" fill="${COLOURS.infeasibleFill}" stroke="${COLOURS.infeasibleStroke}"/>`);
      else if (it.kind === 'baseline') p.push(`<polygon points="${x + 6},${y - 11} ${x + 13},${y - 4} ${x + 6},${y + 3} ${x - 1},${y - 4}" fill="${COLOURS.baseline}"/>`);
      else if (it.kind === 'chosen') p.push(`<circle cx="${x + 6}" cy="${y - 4}" r="7" fill="none" stroke="${COLOURS.chosen}" stroke-width="2.5"/>`);
      else if (it.kind === 'limit') p.push(`<line x1="${x - 2}" y1="${y - 4}" x2="${x + 16}" y2="${y - 4}" stroke="${COLOURS.limit}" stroke-width="1.5" stroke-dasharray="6,4"/>`);
      const tx = x + 20;
      p.push(text(tx, y, it.label, { size: 11, fill: '#333' }));
      x = tx + textWidth(it.label, 11) + 16;
    }
    if (note) this.parts.push(text(PL, Math.min(y + 20, H - 4), note, { size: 11, fill: '#666' }));
  }

  svg(kind: string): string {
    return `<svg xmlns="http://www.w3.org/2000/svg" class="tune-chart" data-chart="${kind}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
      `<rect width="100%" height="100%" fill="white"/>${this.parts.join('')}${this.overlay.join('')}</svg>\n`;
  }
}

/** Rough text width in px (DejaVu Sans runs wide: ~0.6 em per character). */
function textWidth(s: string, size: number): number {
  return [...s].length * size * 0.6;
}

function truncate(s: string, n: number): string {
  const a = [...s];
  return a.length <= n ? s : `${a.slice(0, n - 1).join('')}…`;
}

/** What is not plotted, and why. */
function notPlotted(r: TuneReport, plotted: Set<string>): string | null {
  const rest = r.candidates.filter((c) => c.id !== r.baseline.id && !plotted.has(c.id));
  if (!rest.length) return null;
  const failed = rest.filter((c) => c.status === 'failed').length;
  const stopped = rest.filter((c) => c.status === 'stopped').length;
  const other = rest.length - failed - stopped;
  const parts = [failed ? `${failed} failed` : '', stopped ? `${stopped} stopped early` : '', other ? `${other} without the figures` : ''].filter(Boolean);
  return `Not plotted: ${parts.join(', ')} (listed in the table).`;
}

function pointsOf(r: TuneReport, x: (c: Candidate) => number | null | undefined, y: (c: Candidate) => number | null | undefined): Pt[] {
  const out: Pt[] = [];
  for (const c of r.candidates) {
    if (c.id === r.baseline.id || c.status !== 'ok') continue;
    const xv = x(c), yv = y(c);
    if (!finite(xv) || !finite(yv)) continue;
    out.push({ c, role: roleOf(r, c), x: xv, y: yv });
  }
  return out;
}

const ROLE_Z: Record<Role, number> = { infeasible: 0, feasible: 1, front: 2, chosen: 3, failed: -1, stopped: -1 };

function legendItems(pts: Pt[], hasBaseline: boolean, hasLimit: boolean, step: boolean, baseChosen = false) {
  const roles = new Set(pts.map((p) => p.role));
  const items: Parameters<Plot['legend']>[0] = [];
  const front = pts.filter((p) => p.role === 'front' || p.role === 'chosen').length;
  if (front) items.push({ kind: step && front > 1 ? 'step' : 'front', label: 'Pareto front' });
  if (roles.has('feasible')) items.push({ kind: 'feasible', label: 'feasible' });
  if (roles.has('infeasible')) items.push({ kind: 'infeasible', label: 'infeasible' });
  if (hasBaseline) items.push({ kind: 'baseline', label: 'baseline' });
  if (roles.has('chosen') || baseChosen) items.push({ kind: 'chosen', label: 'chosen' });
  if (hasLimit) items.push({ kind: 'limit', label: 'constraint' });
  return items;
}

function drawPoints(plot: Plot, pts: Pt[]): void {
  for (const p of [...pts].sort((a, b) => ROLE_Z[a.role] - ROLE_Z[b.role])) plot.point(p);
}

/** A label for the chosen point, then the baseline's. */
function finish(plot: Plot, r: TuneReport, pts: Pt[], base: { x: number; y: number } | null): void {
  const chosen = pts.find((p) => p.role === 'chosen');
  const baseChosen = !!base && r.decision.chosen === r.baseline.id;
  if (chosen) plot.ring(chosen);
  if (base) plot.baseline(r.baseline, base.x, base.y);
  if (baseChosen) plot.ring({ c: r.baseline, role: 'chosen', x: base!.x, y: base!.y });
  if (chosen) plot.pointLabel(chosen.x, chosen.y, truncate(chosen.c.label, 44), { fill: '#b34700', weight: 'bold', r: 11 });
  if (base) plot.pointLabel(base.x, base.y, baseChosen ? 'baseline (chosen)' : 'baseline', baseChosen ? { fill: '#b34700', weight: 'bold', r: 11 } : { r: 8 });
}

/** When nothing is feasible: name the nearest candidate. */
function nearestLabel(plot: Plot, r: TuneReport, pts: Pt[]): void {
  if (r.decision.chosen) return;
  const id = r.decision.nearest[0]?.id;
  const p = pts.find((q) => q.c.id === id);
  if (p) plot.pointLabel(p.x, p.y, `nearest: ${truncate(p.c.label, 40)}`, { fill: '#444', r: 6 });
}

function emptyNote(plot: Plot, pts: Pt[], base: unknown): void {
  if (!pts.length && !base) plot.parts.push(text((PL + PR) / 2, (PT + PB) / 2, 'no measured candidate to plot', { size: 14, anchor: 'middle', fill: '#888' }));
}

/** Top-1 (or agreement) against throughput (or p95 latency when the objective is latency). */
export function accuracySpeedSvg(r: TuneReport): string {
  const latency = r.objective === 'latency';
  const xOf = (c: Candidate) => (latency ? c.speed?.p95Ms : c.speed?.imagesPerSecond);
  const yOf = (c: Candidate) => (r.hasAccuracy
    ? (finite(c.accuracy?.top1) ? 100 * c.accuracy!.top1 : null)
    : (finite(c.quality?.agreement) ? 100 * c.quality!.agreement : null));
  const pts = pointsOf(r, xOf, yOf);
  const bx = xOf(r.baseline);
  const bTop1 = baselineTop1(r);
  const by = r.hasAccuracy ? (finite(bTop1) ? 100 * bTop1 : null) : 100;
  const base = finite(bx) && finite(by) ? { x: bx, y: by } : null;

  const yLimit = r.hasAccuracy && finite(r.minTop1) ? r.minTop1 : null;
  const xLimit = latency ? r.constraints.latencySloMs : r.constraints.minThroughput;
  const xLim = finite(xLimit) ? xLimit : null;

  const xs = [...pts.map((p) => p.x), ...(base ? [base.x] : []), ...(xLim !== null ? [xLim] : [])];
  const ys = [...pts.map((p) => p.y), ...(base ? [base.y] : []), ...(yLimit !== null ? [yLimit] : [])];
  const xn = niceScale(Math.max(0, ...xs) * 1.06, 6);
  const yMin = ys.length ? Math.min(...ys) : 0, yMax = ys.length ? Math.max(...ys) : 100;
  const pad = Math.max((yMax - yMin) * 0.08, 0.05);
  // Top-1 and agreement stop at 100%: the axis does too, with room above for a mark sitting there.
  const capped = yMax + pad > 100 && yMax <= 100;
  const yr = niceRange(yMin - pad, capped ? 100 : yMax + pad);
  if (capped) yr.hi = Math.min(yr.hi, 100);
  const xTitle = latency ? 'p95 latency of one call at the candidate\'s batch (ms)' : 'throughput (images/s, at the candidate\'s batch and threads)';
  const yTitle = r.hasAccuracy ? 'top-1 (%)' : 'top-1 agreement with the float model (%)';
  const plot = new Plot({ lo: 0, hi: xn.max, step: xn.step, title: xTitle }, { ...yr, title: yTitle }, capped ? 14 : 0);
  plot.frame(r.hasAccuracy ? `Accuracy vs ${latency ? 'latency' : 'speed'}` : `Agreement vs ${latency ? 'latency' : 'speed'} (random weights: no accuracy)`);

  plot.reserve(pts, base);
  if (xLim !== null) plot.vLimit(xLim, latency ? `SLO ${constraintValue('latencySloMs', xLim, true)}` : `min ${constraintValue('minThroughput', xLim, true)}`);
  if (yLimit !== null) plot.hLimit(yLimit, `top-1 floor ${yLimit.toFixed(2)}%`);

  // The front as a step line (the boundary of what it dominates in these two axes).
  const baseOnFront = base && (r.decision.front.includes(r.baseline.id) || r.decision.chosen === r.baseline.id);
  const front = [...pts.filter((p) => p.role === 'front' || p.role === 'chosen'), ...(baseOnFront ? [{ c: r.baseline, role: 'front' as Role, x: base!.x, y: base!.y }] : [])]
    .sort((a, b) => a.x - b.x || b.y - a.y);
  if (front.length > 1) {
    // throughput (more is better): down then right; latency (less is better): right then up.
    const corners: [number, number][] = [[plot.sx(front[0]!.x), plot.sy(front[0]!.y)]];
    for (const p of front.slice(1)) {
      const [px, py] = corners[corners.length - 1]!, X = plot.sx(p.x), Y = plot.sy(p.y);
      corners.push(latency ? [X, py] : [px, Y], [X, Y]);
    }
    for (let i = 1; i < corners.length; i++) {
      const [ax, ay] = corners[i - 1]!, [bx2, by2] = corners[i]!;
      plot.boxes.push({ x0: Math.min(ax, bx2) - 2, y0: Math.min(ay, by2) - 2, x1: Math.max(ax, bx2) + 2, y1: Math.max(ay, by2) + 2 });
    }
    plot.parts.push(`<path class="front-step" d="M${corners.map(([x, y]) => `${n1(x)},${n1(y)}`).join(' L')}" fill="none" stroke="${COLOURS.front}" stroke-width="1.5" stroke-opacity="0.7"/>`);
  }
  drawPoints(plot, pts);
  finish(plot, r, pts, base);
  emptyNote(plot, pts, base);
  nearestLabel(plot, r, pts);
  plot.legend(legendItems(pts, !!base, yLimit !== null || xLim !== null, true, !!base && r.decision.chosen === r.baseline.id), notPlotted(r, new Set(pts.map((p) => p.c.id))));
  return plot.svg('accuracy-speed');
}

/** Peak memory against p95 latency, with the memory budget and the latency SLO. */
export function memoryLatencySvg(r: TuneReport): string {
  const xOf = (c: Candidate) => c.speed?.p95Ms;
  const yOf = (c: Candidate) => (finite(c.speed?.peakRssBytes) ? c.speed!.peakRssBytes / 2 ** 20 : null);
  const pts = pointsOf(r, xOf, yOf);
  const bx = xOf(r.baseline), by = yOf(r.baseline);
  const base = finite(bx) && finite(by) ? { x: bx, y: by } : null;
  const slo = finite(r.constraints.latencySloMs) ? r.constraints.latencySloMs : null;
  const budget = finite(r.constraints.memoryBudgetBytes) ? r.constraints.memoryBudgetBytes / 2 ** 20 : null;
  const xs = [...pts.map((p) => p.x), ...(base ? [base.x] : []), ...(slo !== null ? [slo] : [])];
  const ys = [...pts.map((p) => p.y), ...(base ? [base.y] : []), ...(budget !== null ? [budget] : [])];
  const xn = niceScale(Math.max(0, ...xs) * 1.06, 6);
  const yn = niceScale(Math.max(0, ...ys) * 1.1);
  const plot = new Plot({ lo: 0, hi: xn.max, step: xn.step, title: 'p95 latency of one call at the candidate\'s batch (ms)' },
    { lo: 0, hi: yn.max, step: yn.step, title: 'peak resident memory (MiB)' });
  plot.frame('Memory vs latency');
  plot.reserve(pts, base);
  if (slo !== null) plot.vLimit(slo, `SLO ${constraintValue('latencySloMs', slo, true)}`);
  if (budget !== null) plot.hLimit(budget, `memory budget ${constraintValue('memoryBudgetBytes', r.constraints.memoryBudgetBytes!, true)}`);
  drawPoints(plot, pts);
  finish(plot, r, pts, base);
  emptyNote(plot, pts, base);
  nearestLabel(plot, r, pts);
  plot.legend(legendItems(pts, !!base, budget !== null || slo !== null, false, !!base && r.decision.chosen === r.baseline.id), notPlotted(r, new Set(pts.map((p) => p.c.id))));
  return plot.svg('memory-latency');
}

