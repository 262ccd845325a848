/**
 * A benchmark report as text: the Markdown table in the shape of the reference article's
 * multi-framework comparison (engine, img/s, memory, latency), extended with the noise of each
 * figure, session creation, model size, the fraction of the roofline bound and the speed-up over
 * the naive path measured in the same run.
 */
import type { BenchReport, ConfigResult } from './runner.js';

const MiB = 2 ** 20;

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(Math.max(1, digits - 1));
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`);

export function table(header: string[], rows: string[][], right: Set<number>): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  const rule = `|${header.map((_, i) => (right.has(i) ? '---:' : '---')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function threadsText(r: ConfigResult): string {
  if (r.baseline) return 'default';
  if (r.engine === 'wasm' && r.settings?.wasm) return String(r.settings.wasm.numThreads);
  return r.threads === 0 ? 'default' : String(r.threads) + (r.workers > 1 ? ` ×${r.workers}w` : '');
}

function engineText(r: ConfigResult): string {
  return r.baseline ? `${r.engineLabel} — naive` : r.engineLabel;
}

/** The results table (one row per configuration; failed and skipped ones say so, reasons listed below). */
export function markdownTable(rep: BenchReport): string {
  const rows: string[][] = [];
  const footnotes: string[] = [];
  const seenSkip = new Set<string>();
  for (const r of rep.results) {
    const base = [r.model, engineText(r), r.graph, String(r.batch), threadsText(r)];
    if (r.status === 'skipped') {
      // Unusable engines: one row per model and engine; the reason is listed once, under the table.
      const key = `${r.model}|${r.engine}`;
      if (seenSkip.has(key)) continue;
      seenSkip.add(key);
      rows.push([r.model, engineText(r), r.graph, '—', '—', 'not usable here', '—', '—', '—', '—', '—', '—', '—', '—']);
      continue;
    }
    if (r.status !== 'ok') {
      footnotes.push(`${r.label}: failed (${r.failure?.stage}) — ${r.failure?.reason}`);
      rows.push([...base, `failed [${footnotes.length}]`, '—', '—', '—', '—', '—', '—', '—', '—']);
      continue;
    }
    const ips = r.imagesPerSecond!;
    const spread = ips.spread === null ? '' : ` ±${(50 * ips.spread).toFixed(ips.spread < 0.2 ? 1 : 0)}%`;
    rows.push([...base,
      `${fmt(ips.median)}${spread}`,
      fmt(r.latencyMs!.p50), fmt(r.latencyMs!.p95), fmt(r.latencyMs!.p99),
      (r.peakRssBytes!.median / MiB).toFixed(0),
      fmt(r.sessionCreateMs!.median / 1000),
      r.modelBytes !== undefined ? (r.modelBytes / MiB).toFixed(1) : '—',
      pct(r.roofline?.fraction),
      r.speedupVsBaseline !== undefined ? `${r.speedupVsBaseline.toFixed(2)}×` : '—',
    ]);
  }
  const out = [table(['model', 'engine', 'graph', 'batch', 'threads', 'img/s', 'p50 ms', 'p95 ms', 'p99 ms', 'peak RSS MiB', 'load s',
    'size MiB', '% of roofline', 'vs naive'], rows, new Set([3, 5, 6, 7, 8, 9, 10, 11, 12, 13]))];
  if (footnotes.length) out.push('', ...footnotes.map((f, i) => `[${i + 1}] ${f}`));
  return out.join('\n');
}

export function summaryLines(rep: BenchReport): string[] {
  const out: string[] = [];
  for (const s of rep.summary) {
    if (!s.best) {
      out.push(`${s.model}: no configuration ran`);
      continue;
    }
    const parts = [`${s.model}: best ${s.best.label} — ${fmt(s.best.imagesPerSecond)} img/s`];
    if (s.best.speedupVsBaseline !== null) parts.push(`${s.best.speedupVsBaseline.toFixed(2)}× the naive path (${fmt(s.baseline!.imagesPerSecond)} img/s, measured in the same run)`);
    if (s.best.rooflineFraction !== null) parts.push(`${pct(s.best.rooflineFraction)} of the roofline bound`);
    out.push(parts.join(', '));
  }
  return out;
}

export function methodLine(rep: BenchReport): string {
  const s = rep.settings;
  const how = s.iterations !== undefined ? `${s.iterations} runs` : `${s.duration} s (at least ${s.minIterations} runs)`;
  return `Each configuration: its own process, ${s.warmup} warm-up run(s) excluded, then ${how}; ${s.repeats} process repeat(s), ` +
    'interleaved; img/s is the median over repeats, ± half the spread (max − min) over repeats (over groups of runs with one repeat); ' +
    'latency percentiles pool every run; peak RSS = the process\'s own high-water mark (VmHWM: Node + runtime + session + input).';
}

function profileLine(rep: BenchReport): string {
  const p = rep.profile;
  if (!p) return 'Roofline: no hardware profile (run `vitopt hw`).';
  return `Roofline bound (${p.source ?? 'hardware profile'}): fp32 ${fmt(p.fp32GflopsPerS)} GFLOP/s` +
    `${p.int8GopsPerS ? `, int8 ${fmt(p.int8GopsPerS)} GOP/s` : ''}${p.memBandwidthGBs ? `, ${fmt(p.memBandwidthGBs)} GB/s` : ''}.`;
}

/** The whole report as Markdown (what `--markdown` prints and docs quote). */
export function renderMarkdown(rep: BenchReport, title = 'vitopt bench'): string {
  const m = rep.machine;
  const out = [`## ${title}`, '',
    `${rep.date.slice(0, 10)} · ${m.cpu}, ${m.cores} cores, ${(m.totalMemBytes / 2 ** 30).toFixed(0)} GiB · ${m.platform} · Node ${m.node}`, '',
    markdownTable(rep), '', ...summaryLines(rep).map((l) => `- ${l}`), '', methodLine(rep), profileLine(rep)];
  const skipped = rep.engines.filter((e) => !e.available);
  if (skipped.length) out.push('', 'Engines not usable here:', ...skipped.map((e) => `- ${e.label}: ${e.reason}`));
  if (rep.notes.length) out.push('', ...rep.notes.map((n) => `Note: ${n}`));
  return out.join('\n') + '\n';
}

/** Plain-text rendering for the terminal: the same content. */
export const renderText = renderMarkdown;
