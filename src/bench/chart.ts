/**
 * Benchmark charts, hand-written SVG (PNG by letting sharp render the SVG):
 *  - `benchChartSvg`: one panel per model, a bar per configuration (img/s, whiskers = min–max over
 *    repeats), with peak memory, % of the roofline and the speed-up over the naive path written beside;
 *  - `batchChartSvg`: the batch-size curve — img/s, p95 latency and peak memory against the batch,
 *    with the memory budget and the latency objective drawn in and the chosen batches marked.
 */
import { esc, niceScale } from '../util/svg.js';
import type { BenchReport, ConfigResult } from './runner.js';
import type { BatchSearch } from './batch.js';
import { fmt } from './report.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const ENGINE_COLOURS: Record<string, string> = {
  cpu: '#1f77b4', webgpu: '#9467bd', cuda: '#2ca02c', tensorrt: '#17becf', wasm: '#ff7f0e', baseline: '#9e9e9e',
};
const SERIES = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];


function text(x: number, y: number, s: string, o: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string; fill?: string; rotate?: number } = {}): string {
  const rot = o.rotate ? ` transform="rotate(${o.rotate} ${x} ${y})"` : '';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="${FONT}" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? 'start'}"` +
    `${o.weight ? ` font-weight="${o.weight}"` : ''} fill="${o.fill ?? '#222'}"${rot}>${esc(s)}</text>`;
}


function barLabel(r: ConfigResult): string {
  if (r.baseline) return 'naive: portable, ORT defaults, b1';
  const t = r.engine === 'wasm' && r.settings?.wasm ? r.settings.wasm.numThreads : r.threads;
  return `${r.engine} · ${r.graph} · b${r.batch} · t${t}${r.workers > 1 ? ` · w${r.workers}` : ''}`;
}

export function benchChartSvg(rep: BenchReport, title = 'vitopt bench'): string {
  const models = [...new Set(rep.results.map((r) => r.model))];
  const W = 1060, labelW = 250, barMax = 400, rowH = 24, left = 16;
  const parts: string[] = [];
  let y = 40;
  parts.push(text(W / 2, 24, `${title} — images/s (whiskers: min–max over repeats)`, { size: 15, anchor: 'middle', weight: 'bold' }));
  for (const model of models) {
    const rows = rep.results.filter((r) => r.model === model && r.status !== 'skipped');
    const ok = rows.filter((r) => r.status === 'ok');
    const { max, step } = niceScale(Math.max(...ok.map((r) => r.imagesPerSecond!.max), 0));
    y += 14;
    parts.push(text(left, y, model, { size: 14, weight: 'bold' }));
    y += 10;
    const x0 = left + labelW, top = y;
    const scale = (v: number) => x0 + (v / max) * barMax;
    for (let t = 0; t <= max + 1e-9; t += step) {
      parts.push(`<line x1="${scale(t).toFixed(1)}" y1="${top}" x2="${scale(t).toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#e5e5e5"/>`);
      parts.push(text(scale(t), top + rows.length * rowH + 13, fmt(t), { size: 10, anchor: 'middle', fill: '#666' }));
    }
    rows.forEach((r, i) => {
      const yy = top + i * rowH;
      parts.push(text(x0 - 8, yy + rowH / 2 + 4, barLabel(r), { size: 11, anchor: 'end' }));
      if (r.status !== 'ok') {
        parts.push(text(x0 + 4, yy + rowH / 2 + 4, `failed: ${(r.failure?.reason ?? '').slice(0, 90)}`, { size: 11, fill: '#c62828' }));
        return;
      }
      const f = r.imagesPerSecond!;
      const colour = r.baseline ? ENGINE_COLOURS.baseline : ENGINE_COLOURS[r.engine] ?? '#555';
      parts.push(`<rect x="${x0}" y="${yy + 4}" width="${Math.max(1, scale(f.median) - x0).toFixed(1)}" height="${rowH - 8}" fill="${colour}"/>`);
      if (f.n >= 2) {
        const cy = yy + rowH / 2;
        parts.push(`<line x1="${scale(f.min).toFixed(1)}" y1="${cy}" x2="${scale(f.max).toFixed(1)}" y2="${cy}" stroke="#222" stroke-width="1.2"/>`);
        for (const v of [f.min, f.max]) parts.push(`<line x1="${scale(v).toFixed(1)}" y1="${cy - 5}" x2="${scale(v).toFixed(1)}" y2="${cy + 5}" stroke="#222" stroke-width="1.2"/>`);
      }
      const extra = [`${fmt(f.median)} img/s`, `${(r.peakRssBytes!.median / 2 ** 20).toFixed(0)} MiB`,
        r.roofline ? `${(100 * r.roofline.fraction).toFixed(0)}% roofline` : '', r.speedupVsBaseline !== undefined && !r.baseline ? `${r.speedupVsBaseline.toFixed(2)}× naive` : '']
        .filter(Boolean).join(' · ');
      parts.push(text(Math.max(scale(f.max), scale(f.median)) + 8, yy + rowH / 2 + 4, extra, { size: 11 }));
    });
    y = top + rows.length * rowH + 26;
  }
  const m = rep.machine;
  y += 6;
  parts.push(text(left, y, `${rep.date.slice(0, 10)} · ${m.cpu}, ${m.cores} cores · each configuration in its own process`, { size: 11, fill: '#555' }));
  const H = y + 14;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

/** Three panels against the batch size (log2 axis). */
export function batchChartSvg(searches: BatchSearch[], title = 'vitopt bench --find-batch'): string {
  const W = 1090, H = 380, pw = 290, ph = 230, top = 70, gap = 60, left = 60;
  const parts: string[] = [text(W / 2, 24, title, { size: 15, anchor: 'middle', weight: 'bold' })];
  const points = searches.flatMap((s) => s.points.filter((p) => p.status === 'ok'));
  const batches = points.map((p) => p.batch);
  const bMin = Math.min(1, ...batches), bMax = Math.max(2, ...batches);
  const lx = (b: number) => Math.log2(b);
  const panels: { key: 'ips' | 'p95' | 'mem'; label: string; limit?: number; limitLabel?: string }[] = [
    { key: 'ips', label: 'images/s' },
    { key: 'p95', label: 'p95 latency (ms)', limit: searches[0]?.latencySloMs ?? undefined, limitLabel: 'objective' },
    { key: 'mem', label: 'peak memory (MiB; dotted: runs only)', limit: searches[0] ? searches[0].memoryBudgetBytes / 2 ** 20 : undefined, limitLabel: 'budget' },
  ];
  const value = (p: BatchSearch['points'][number], k: 'ips' | 'p95' | 'mem') =>
    k === 'ips' ? p.imagesPerSecond! : k === 'p95' ? p.p95Ms! : p.peakRssBytes! / 2 ** 20;
  panels.forEach((panel, i) => {
    const x0 = left + i * (pw + gap), y0 = top;
    const vals = points.map((p) => value(p, panel.key));
    const { max, step } = niceScale(Math.max(...vals, panel.limit ?? 0, 1e-9) * 1.05);
    const sx = (b: number) => x0 + ((lx(b) - lx(bMin)) / Math.max(1e-9, lx(bMax) - lx(bMin))) * pw;
    const sy = (v: number) => y0 + ph - (v / max) * ph;
    parts.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
    parts.push(text(x0 + pw / 2, y0 - 10, panel.label, { size: 13, anchor: 'middle', weight: 'bold' }));
    for (let t = 0; t <= max + 1e-9; t += step) {
      parts.push(`<line x1="${x0}" y1="${sy(t).toFixed(1)}" x2="${x0 + pw}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
      parts.push(text(x0 - 5, sy(t) + 4, fmt(t), { size: 10, anchor: 'end', fill: '#666' }));
    }
    for (let e = Math.ceil(lx(bMin)); e <= Math.floor(lx(bMax)); e++) {
      const b = 2 ** e;
      parts.push(text(sx(b), y0 + ph + 15, String(b), { size: 10, anchor: 'middle', fill: '#666' }));
    }
    parts.push(text(x0 + pw / 2, y0 + ph + 32, 'batch size', { size: 11, anchor: 'middle', fill: '#444' }));
    if (panel.limit) {
      parts.push(`<line x1="${x0}" y1="${sy(panel.limit).toFixed(1)}" x2="${x0 + pw}" y2="${sy(panel.limit).toFixed(1)}" stroke="#c62828" stroke-dasharray="5,4"/>`);
      parts.push(text(x0 + 4, sy(panel.limit) - 4, panel.limitLabel!, { size: 10, fill: '#c62828' }));
    }
    searches.forEach((s, si) => {
      const colour = SERIES[si % SERIES.length]!;
      const pts = s.points.filter((p) => p.status === 'ok').sort((a, b) => a.batch - b.batch);
      if (pts.length) {
        parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${sx(p.batch).toFixed(1)},${sy(value(p, panel.key)).toFixed(1)}`).join(' ')}"/>`);
      }
      const runs = pts.filter((p) => p.runPeakRssBytes);
      if (panel.key === 'mem' && runs.length) {
        parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="2,3" points="${runs.map((p) => `${sx(p.batch).toFixed(1)},${sy(p.runPeakRssBytes! / 2 ** 20).toFixed(1)}`).join(' ')}"/>`);
      }
      for (const p of pts) {
        const chosen = p.batch === s.largestWithinBudget?.batch || p.batch === s.bestThroughput?.batch;
        parts.push(`<circle cx="${sx(p.batch).toFixed(1)}" cy="${sy(value(p, panel.key)).toFixed(1)}" r="${chosen ? 5 : 3}" fill="${chosen ? 'white' : colour}" stroke="${colour}" stroke-width="2"/>`);
      }
    });
  });
  searches.forEach((s, si) => {
    const colour = SERIES[si % SERIES.length]!;
    const y = top + ph + 56 + si * 16;
    parts.push(`<rect x="${left}" y="${y - 9}" width="12" height="10" fill="${colour}"/>`);
    const chosen = [s.largestWithinBudget ? `largest within budget: ${s.largestWithinBudget.batch}` : 'no batch within budget',
      s.bestThroughput ? `best img/s${s.latencySloMs ? ' meeting the objective' : ''}: ${s.bestThroughput.batch} (${fmt(s.bestThroughput.imagesPerSecond)} img/s)` : ''].filter(Boolean).join(' · ');
    parts.push(text(left + 18, y, `${s.label} — ${chosen}`, { size: 11 }));
  });
  const h = Math.max(H, top + ph + 56 + searches.length * 16 + 6);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">` +
    `<rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

