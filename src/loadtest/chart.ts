/**
 * Latency against load, one SVG: p50/p95/p99 (left axis, ms) and throughput (right axis, req/s) per
 * level, levels on a log2 axis (concurrency 1, 4, 16, 64 sit evenly). Unstable levels are drawn hollow.
 * Built from the same small helpers as the bench charts (src/bench/chart.ts).
 */
import { esc, niceScale } from '../util/svg.js';
import { fmt } from '../bench/report.js';
import type { LoadtestReport } from './loadtest.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const t = (x: number, y: number, s: string, size = 11, anchor = 'middle', fill = '#333') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="${FONT}" font-size="${size}" text-anchor="${anchor}" fill="${fill}">${esc(s)}</text>`;

export function latencyChartSvg(r: LoadtestReport, title = `vitopt loadtest — ${r.model}`): string {
  const W = 760, H = 420, left = 70, right = 80, top = 50, ph = 280, pw = W - left - right;
  const levels = r.levels;
  const xs = levels.map((l) => l.value);
  const lx = (v: number) => Math.log2(Math.max(v, 1e-9));
  const lo = Math.min(...xs.map(lx)), hi = Math.max(...xs.map(lx));
  const sx = (v: number) => left + (hi > lo ? ((lx(v) - lo) / (hi - lo)) * pw : pw / 2);
  const series = [
    { key: 'p50Ms' as const, label: 'p50', colour: '#1f77b4' },
    { key: 'p95Ms' as const, label: 'p95', colour: '#ff7f0e' },
    { key: 'p99Ms' as const, label: 'p99', colour: '#d62728' },
  ];
  const lat = levels.flatMap((l) => series.map((s) => l.measured.latency[s.key] ?? 0));
  const L = niceScale(Math.max(...lat, 1e-6) * 1.05);
  const T = niceScale(Math.max(...levels.map((l) => l.measured.requestsPerSecond), 1e-6) * 1.05);
  const sy = (v: number) => top + ph - (v / L.max) * ph;
  const ty = (v: number) => top + ph - (v / T.max) * ph;
  const parts: string[] = [t(W / 2, 24, title, 15)];
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
  for (let v = 0; v <= L.max + 1e-9; v += L.step) {
    parts.push(`<line x1="${left}" y1="${sy(v).toFixed(1)}" x2="${left + pw}" y2="${sy(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(t(left - 6, sy(v) + 4, fmt(v), 10, 'end', '#666'));
  }
  for (let v = 0; v <= T.max + 1e-9; v += T.step) parts.push(t(left + pw + 6, ty(v) + 4, fmt(v), 10, 'start', '#2ca02c'));
  for (const l of levels) parts.push(t(sx(l.value), top + ph + 16, String(l.value), 10, 'middle', '#666'));
  parts.push(t(left + pw / 2, top + ph + 34, levels[0]?.mode === 'rate' ? 'request rate (req/s, log scale)' : 'concurrency (log scale)', 11));
  parts.push(`<text x="18" y="${top + ph / 2}" font-family="${FONT}" font-size="11" text-anchor="middle" transform="rotate(-90 18 ${top + ph / 2})">latency (ms)</text>`);
  parts.push(`<text x="${W - 14}" y="${top + ph / 2}" font-family="${FONT}" font-size="11" text-anchor="middle" fill="#2ca02c" transform="rotate(90 ${W - 14} ${top + ph / 2})">throughput (req/s)</text>`);
  const line = (pts: [number, number][], colour: string, dash = '') =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
  const dots = (pts: [number, number, boolean][], colour: string) => pts.map(([x, y, stable]) =>
    `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${stable ? colour : 'white'}" stroke="${colour}" stroke-width="2"/>`).join('');
  const thr = levels.map((l) => [sx(l.value), ty(l.measured.requestsPerSecond), l.stable] as [number, number, boolean]);
  parts.push(line(thr.map(([x, y]) => [x, y]), '#2ca02c', '6,4'), dots(thr, '#2ca02c'));
  for (const s of series) {
    const pts = levels.filter((l) => l.measured.latency[s.key] !== null).map((l) => [sx(l.value), sy(l.measured.latency[s.key]!), l.stable] as [number, number, boolean]);
    parts.push(line(pts.map(([x, y]) => [x, y]), s.colour), dots(pts, s.colour));
  }
  const legend = [...series.map((s) => ({ label: `${s.label} latency`, colour: s.colour })), { label: 'throughput', colour: '#2ca02c' }];
  legend.forEach((g, i) => {
    const x = left + i * 150, y = H - 22;
    parts.push(`<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${g.colour}"/>`, t(x + 20, y, g.label, 11, 'start'));
  });
  parts.push(t(left + pw, H - 6, `${r.date.slice(0, 10)} · ${r.machine.cpu}, ${r.machine.cores} cores · hollow: unstable level`, 9, 'end', '#777'));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
