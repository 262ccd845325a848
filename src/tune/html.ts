/**
 * report.html: one self-contained page — inline <style>, the two charts as inline SVG, no scripts,
 * fonts or images from elsewhere. The same sections, in the same order, as report.md.
 */
import { esc } from '../util/svg.js';
import { accuracySpeedSvg, memoryLatencySvg } from './charts.js';
import type { TuneReport } from './types.js';
import {
  type Cell, beforeAfter, byId, candidateHeader, candidateNumeric, candidateRows, decisionLines, machineRows, timelineRows, verdict,
} from './report.js';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#1d1f23;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:20px 20px 48px;background:#fff;min-height:100vh}
h1{font-size:24px;margin:0 0 4px}
h1 .model{font-weight:normal;color:#555;font-size:18px;word-break:break-all}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:2px solid #e3e6ea}
h3{font-size:16px;margin:18px 0 6px}
.sub{color:#666;font-size:13px;margin:0 0 16px}
.verdict{font-size:18px;font-weight:600;padding:14px 18px;border-left:6px solid #2e7d32;background:#eef7ee;border-radius:4px;margin:16px 0}
.verdict.none{border-left-color:#c62828;background:#fdecec}
table{border-collapse:collapse;margin:8px 0;font-size:14px}
th,td{border:1px solid #d5d9de;padding:5px 9px;vertical-align:top;text-align:left}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even){background:#f8f9fb}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.change td{font-weight:600;background:#fff8e6}
tr.chosen td{background:#fff1e0}
tr.chosen td:first-child{border-left:4px solid #ff7f0e}
tr.infeasible td,tr.stopped td{color:#777}
tr.failed td{color:#8a1c1c}
.wide{overflow-x:auto}
.before-after td:nth-child(2){min-width:200px}
.before-after td:first-child{white-space:nowrap}
.cands{font-size:13.5px}
.cands th{white-space:normal;vertical-align:bottom}
.cands th,.cands td{padding:5px 7px}
.cands td:first-child{min-width:170px;max-width:250px}
.cands td.status{max-width:190px}
.cands small{color:#666;font-size:11.5px}
tr.failed small{color:#8a1c1c}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
pre{background:#f3f4f6;border:1px solid #e1e4e8;padding:6px 8px;margin:4px 0;white-space:pre-wrap;word-break:break-all;max-width:520px}
details summary{cursor:pointer;color:#1f5fa8;white-space:nowrap}
figure{margin:12px 0}
figure svg{max-width:100%;height:auto;border:1px solid #e3e6ea}
figcaption{color:#555;font-size:13px;max-width:720px}
ul{margin:6px 0;padding-left:22px}
.bar{display:inline-block;height:10px;background:#1f77b4;vertical-align:middle;border-radius:2px}
.kv th{text-align:left;width:120px}
.kv td{word-break:break-word}
.note{color:#555}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;background:#888}
.pill.chosen{background:#ff7f0e}.pill.front{background:#1f77b4}.pill.feasible{background:#5b8fc7}
.pill.infeasible{background:#9e9e9e}.pill.baseline{background:#222}.pill.failed{background:#c62828}.pill.stopped{background:#8d6e63}
`;

function tableHtml(header: string[], rows: string[][], numeric: Set<number>, o: { cls?: string; rowCls?: (i: number) => string; extra?: (i: number) => string; extraHeader?: string; raw?: Set<number>; colCls?: Record<number, string> } = {}): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('') + (o.extraHeader !== undefined ? `<th>${esc(o.extraHeader)}</th>` : '');
  const body = rows.map((r, i) => {
    const cls = o.rowCls?.(i);
    const tds = r.map((c, j) => {
      const cl = [numeric.has(j) ? 'num' : '', o.colCls?.[j] ?? ''].filter(Boolean).join(' ');
      return `<td${cl ? ` class="${cl}"` : ''}>${o.raw?.has(j) ? c : esc(c)}</td>`;
    }).join('');
    return `<tr${cls ? ` class="${cls}"` : ''}>${tds}${o.extra ? `<td>${o.extra(i)}</td>` : ''}</tr>`;
  }).join('\n');
  return `<table${o.cls ? ` class="${o.cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderHtml(r: TuneReport): string {
  const out: string[] = [];
  const chosen = byId(r, r.decision.chosen);
  out.push(`<h1>vitopt tune <span class="model">${esc(r.model)}</span></h1>`);
  out.push(`<p class="sub">${esc(r.date)} · ${esc(r.machine.cpu)}, ${r.machine.cores} cores · ${esc(r.runtime)} · objective: ${esc(r.objective)}</p>`);
  out.push(`<p class="verdict${chosen ? '' : ' none'}">${esc(verdict(r))}</p>`);

  // 2) before / after
  const ba = beforeAfter(r);
  out.push('<h2>Before and after</h2>');
  out.push(`<div class="wide">${tableHtml(ba.header, ba.rows, new Set([3, 4, 5, 6, 7, 8, 9]), {
    cls: 'before-after', rowCls: (i) => ({ change: 'change', chosen: 'chosen', nearest: 'infeasible' }[ba.rows[i]![0]!] ?? ''),
  })}</div>`);
  out.push('<p class="note">Latency: one model call at the row\'s batch. Size: the model file, external data included (MB = 10⁶ bytes). Peak memory: the measuring process\'s resident high-water mark.</p>');
  if (ba.speedups.length) out.push(`<p>Speed-up of the chosen model:</p><ul>${ba.speedups.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>`);

  // 3) constraints and decision
  const d = decisionLines(r);
  out.push('<h2>Constraints and decision</h2>');
  out.push(`<p><b>Constraints:</b> ${d.constraints.length ? d.constraints.map(esc).join('; ') : 'none'}.</p>`);
  out.push(`<ul>${d.lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`);
  if (d.nearest.length) {
    out.push('<h3>Nearest candidates (least total violation first)</h3>');
    out.push(tableHtml(['candidate', 'total violation', 'violations'], d.nearest.map((n) => [n.label, n.total, n.violations.join('; ') || '—']), new Set([1])));
  }

  // 4, 5) charts
  out.push(`<h2>${r.hasAccuracy ? 'Accuracy' : 'Agreement'} vs ${r.objective === 'latency' ? 'latency' : 'speed'}</h2>`);
  out.push(`<figure>${accuracySpeedSvg(r).trim()}<figcaption>Filled: the Pareto front of the feasible candidates (speed, accuracy, size, memory), joined by a step line; hollow: feasible, not on the front; grey: infeasible; diamond: the baseline; ring: the chosen candidate. Dashed red: the constraints on these axes. Hover a point for its name.</figcaption></figure>`);
  out.push('<h2>Memory vs latency</h2>');
  out.push(`<figure>${memoryLatencySvg(r).trim()}<figcaption>Peak resident memory of the measuring process against the p95 latency of one call at the candidate's batch; same marks as above.</figcaption></figure>`);

  // 6) every candidate
  const rows = candidateRows(r);
  out.push(`<h2>All candidates (${rows.length})</h2>`);
  if (rows.length) {
    const header = candidateHeader(r);
    const cellHtml = (c: Cell) => `${esc(c.main)}${c.sub ? `<br><small>${esc(c.sub)}</small>` : ''}`;
    const cells = rows.map((x) => [esc(x.cells[0]!.main),
      `${x.c.id === r.baseline.id ? '<span class="pill baseline">baseline</span> ' : ''}<span class="pill ${x.role}">${esc(x.role)}</span>${x.c.reason ? `<br><small>${esc(x.c.reason)}</small>` : ''}`,
      ...x.cells.slice(2).map(cellHtml)]);
    const raw = new Set(header.map((_, i) => i));
    const table = tableHtml(header, cells, candidateNumeric(r), {
      cls: 'cands', raw, colCls: { 1: 'status' }, rowCls: (i) => rows[i]!.role, extraHeader: 'commands',
      extra: (i) => {
        const cmds = rows[i]!.c.commands;
        if (!cmds.length) return '—';
        return `<details><summary>${cmds.length} command${cmds.length === 1 ? '' : 's'}</summary>${cmds.map((c) => `<pre><code>${esc(c)}</code></pre>`).join('')}</details>`;
      },
    });
    out.push(`<div class="wide">${table}</div>`);
    out.push('<p class="note">img/s: median over rounds ± half the spread; × baseline: median per-round ratio to the baseline measured in the same round [min–max]' +
      `${r.hasAccuracy ? '; Δ top-1: against the baseline on the same images, p: exact McNemar test; eval: screen (subset) or full, and the number of images' : '; SQNR and agreement: against the float model on the calibration inputs'}.</p>`);
  } else {
    out.push('<p>No candidates.</p>');
  }

  // 7) dropped
  if (r.dropped.length) {
    out.push('<h2>Dropped before any work</h2>');
    out.push(tableHtml(['what', 'why'], r.dropped.map((x) => [x.what, x.why]), new Set()));
  }

  // 8) time
  out.push('<h2>Where the time went</h2>');
  const tl = timelineRows(r);
  if (tl.length) {
    const total = r.timeline.reduce((s, t) => s + (Number.isFinite(t.seconds) ? t.seconds : 0), 0);
    const bars = r.timeline.map((t) => (total > 0 && Number.isFinite(t.seconds) ? `<span class="bar" style="width:${Math.max(1, Math.round(200 * t.seconds / total))}px"></span>` : ''));
    out.push(tableHtml(['stage', 'time', 'share'], tl, new Set([1, 2]), { extraHeader: '', extra: (i) => bars[i] ?? '' }));
  } else {
    out.push('<p>No timeline recorded.</p>');
  }
  if (r.stoppedEarly) out.push(`<p><b>Stopped early:</b> ${esc(r.stoppedEarly)}</p>`);
  if (r.notes.length) out.push(`<ul>${r.notes.map((n) => `<li class="note">${esc(n)}</li>`).join('')}</ul>`);

  // 9) machine
  out.push('<h2>Machine</h2>');
  out.push(`<table class="kv"><tbody>${machineRows(r).map(([k, v]) => `<tr><th>${esc(k!)}</th><td>${k === 'command' ? `<code>${esc(v!)}</code>` : esc(v!)}</td></tr>`).join('\n')}</tbody></table>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vitopt tune — ${esc(r.model)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${out.join('\n')}
</main>
</body>
</html>
`;
}
