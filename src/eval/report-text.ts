/**
 * The human-readable eval report: summary, per-class accuracy, confusion matrix as text.
 */
import type { ConfusionReport, EvalReport } from './report.js';

/** Largest confusion matrix printed as text; bigger ones go to --confusion / --json. */
export const TEXT_CONFUSION_LIMIT = 20;

export function pct(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)} %`;
}

function table(rows: string[][], rightAlign: boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export function formatConfusion(c: ConfusionReport): string {
  if (!c.matrix) return `confusion matrix: ${c.classes.length} classes, too many for text (see --confusion or --json)`;
  if (c.classes.length > TEXT_CONFUSION_LIMIT) {
    return `confusion matrix: ${c.classes.length} classes, too many for text (see --confusion or --json)`;
  }
  // Columns are headed by class index (names would make the table too wide); rows carry the names.
  const head = ['true \\ predicted', ...c.classes.map(String)];
  const rows = c.matrix.map((row, i) => [`${c.classes[i]} ${c.labels[i]}`, ...row.map(String)]);
  return 'confusion matrix (rows: true class, columns: predicted class)\n' + table([head, ...rows], [false, ...c.classes.map(() => true)]);
}

export function formatEvalReport(r: EvalReport): string {
  const lines: string[] = [];
  const summary: string[][] = [
    ['model', r.model],
    ['data', `${r.dataset.name} (${r.dataset.source}), ${r.dataset.size} images`],
    ['evaluated', `${r.evaluated}${r.skipped.count ? `, skipped ${r.skipped.count} unreadable` : ''} at ${r.resolution}x${r.resolution}, batch ${r.batchSize}${r.labelMapping === 'name' ? ', labels matched by class name' : ''}`],
    ...(r.normalization ? [['input', `(x/255 - mean) / std, mean [${r.normalization.mean.join(', ')}], std [${r.normalization.std.join(', ')}]`] as [string, string]] : []),
    ['top-1', `${pct(r.top1)}  (${r.correctTop1}/${r.evaluated})`],
    ['top-5', `${pct(r.top5)}  (${r.correctTop5}/${r.evaluated})`],
    ['speed', `${r.imagesPerSecond.toFixed(1)} images/s end to end, ${r.modelImagesPerSecond.toFixed(1)} images/s in the model`],
  ];
  if (r.comparison) {
    const c = r.comparison;
    summary.push(['baseline', `${c.baseline}: top-1 ${pct(c.baselineTop1)}`]);
    summary.push(['agreement', `${pct(c.agreement)} same top-1 as the baseline`]);
    summary.push(['mean KL', `${c.meanKL.toExponential(3)} nats, KL(baseline || model)`]);
  }
  lines.push(table(summary, [false, false]));
  if (r.skipped.count) {
    lines.push('', 'skipped:');
    for (const s of r.skipped.items) lines.push(`  ${s.id}: ${s.reason}`);
  }
  if (r.perClass.length > 0) {
    lines.push('', 'per-class accuracy');
    const rows = [['class', 'name', 'images', 'top-1'],
      ...r.perClass.map((c) => [String(c.index), c.label, String(c.count), pct(c.accuracy, 1)])];
    const shown = r.perClass.length > 50 ? [...rows.slice(0, 51), ['…', `${r.perClass.length - 50} more in --json`, '', '']] : rows;
    lines.push(table(shown, [true, false, true, true]));
  }
  if (r.evaluated > 0) lines.push('', formatConfusion(r.confusion));
  return lines.join('\n') + '\n';
}
