/**
 * Confusion matrix as a picture: a hand-written SVG heat map (rows = true class, columns = predicted,
 * colour = share of the row, counts written in the cells), and PNG by letting sharp render the SVG.
 */
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { esc, writeChart } from '../util/svg.js';
import { confusionCells, type ConfusionReport } from './report.js';

/** Classes drawn at most; larger matrices show the classes involved in the most errors. */
export const CHART_CLASS_LIMIT = 40;

function shorten(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

/** Pick the classes to draw: all of them if few, else those with most off-diagonal counts. */
function chosenClasses(c: ConfusionReport): { classes: number[]; subset: boolean } {
  if (c.classes.length <= CHART_CLASS_LIMIT) return { classes: c.classes, subset: false };
  const errors = new Map<number, number>();
  for (const [t, p, n] of confusionCells(c)) {
    if (t === p) continue;
    errors.set(t, (errors.get(t) ?? 0) + n);
    errors.set(p, (errors.get(p) ?? 0) + n);
  }
  const ranked = [...c.classes].sort((a, b) => (errors.get(b) ?? 0) - (errors.get(a) ?? 0) || a - b);
  return { classes: ranked.slice(0, CHART_CLASS_LIMIT).sort((a, b) => a - b), subset: true };
}

/** White -> dark blue by share of the row. */
function colour(share: number): string {
  const s = Math.max(0, Math.min(1, share));
  const mix = (from: number, to: number) => Math.round(from + (to - from) * s);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

export function confusionSvg(c: ConfusionReport, title = 'Confusion matrix'): string {
  const { classes, subset } = chosenClasses(c);
  const labelOf = new Map(c.classes.map((k, i) => [k, c.labels[i]!]));
  const index = new Map(classes.map((k, i) => [k, i]));
  const n = classes.length;
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const rowTotals = new Array<number>(n).fill(0);
  for (const [t, p, v] of confusionCells(c)) {
    const i = index.get(t);
    const j = index.get(p);
    if (i !== undefined) rowTotals[i]! += v;
    if (i !== undefined && j !== undefined) counts[i]![j] = v;
  }
  const cell = n <= 12 ? 44 : n <= 24 ? 28 : 18;
  const font = Math.max(7, Math.round(cell / 3.6));
  const names = classes.map((k) => shorten(`${k} ${labelOf.get(k) ?? ''}`.trim(), 22));
  const labelW = Math.round(Math.max(...names.map((s) => s.length)) * font * 0.62) + 12;
  const left = labelW + 24;
  const top = labelW + 52;
  const width = left + n * cell + 20;
  const height = top + n * cell + 20;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}${subset ? ` (${n} of ${c.classes.length} classes, most confused)` : ''}</text>`);
  out.push(`<text x="${left + (n * cell) / 2}" y="42" font-size="12" text-anchor="middle">predicted class</text>`);
  out.push(`<text transform="translate(14 ${top + (n * cell) / 2}) rotate(-90)" font-size="12" text-anchor="middle">true class</text>`);
  for (let i = 0; i < n; i++) {
    const y = top + i * cell;
    out.push(`<text x="${left - 6}" y="${y + cell / 2 + font / 3}" font-size="${font}" text-anchor="end">${esc(names[i]!)}</text>`);
    const x = left + i * cell + cell / 2 + font / 3;
    out.push(`<text transform="translate(${x} ${top - 6}) rotate(-90)" font-size="${font}">${esc(names[i]!)}</text>`);
    for (let j = 0; j < n; j++) {
      const v = counts[i]![j]!;
      const share = rowTotals[i]! > 0 ? v / rowTotals[i]! : 0;
      const cx = left + j * cell;
      out.push(`<rect x="${cx}" y="${y}" width="${cell}" height="${cell}" fill="${colour(share)}" stroke="#ddd" stroke-width="0.5"><title>${esc(`true ${names[i]}, predicted ${names[j]}: ${v}`)}</title></rect>`);
      if (v > 0 && cell >= 18) {
        out.push(`<text x="${cx + cell / 2}" y="${y + cell / 2 + font / 3}" font-size="${font}" text-anchor="middle" fill="${share > 0.5 ? 'white' : 'black'}">${v}</text>`);
      }
    }
  }
  out.push(`<rect x="${left}" y="${top}" width="${n * cell}" height="${n * cell}" fill="none" stroke="#444"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function chartFormat(file: string): 'svg' | 'png' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.svg' || ext === '.png') return ext.slice(1) as 'svg' | 'png';
  throw new UserError(`--confusion ${file}: the file must end in .svg or .png`);
}

/** Write the chart atomically, SVG or PNG by the file's extension. */
export async function writeConfusionChart(file: string, c: ConfusionReport, title?: string): Promise<void> {
  chartFormat(file);
  await writeChart(file, confusionSvg(c, title));
}
