/**
 * The prune report (the object `vitopt prune --json` prints) and its Markdown form; the
 * accuracy-vs-FLOPs chart of a sweep as a hand-written SVG.
 */
import { type ModelConfig, mixerLayer, vitLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import type { PruneMethod, PruneOptions, PruneOutcome } from '../compress/prune/index.js';
import type { Assessment } from './prune-assess.js';
import { modelFigures } from '../compress/prune/index.js';
import type { SublayerFit } from '../compress/prune/reconstruct-model.js';
import type { MatrixSparsity } from '../compress/prune/magnitude.js';
import { esc } from '../util/svg.js';

export interface LayerRow {
  layer: number;
  /** ViT: heads and MLP units; Mixer: token- and channel-mixing units. Kept / original. */
  units: Record<string, { kept: number; of: number }>;
}

export interface PruneReport {
  model: string;
  output: string | null;
  method: PruneMethod;
  options: Omit<PruneOptions, 'engine' | 'onProgress' | 'method'>;
  calibration: { dataset: string; images: number } | null;
  before: { macs: number; flops: number; params: number };
  after: { macs: number; flops: number; params: number; nonzeroParams: number };
  /** after.flops / before.flops. */
  flopsKept: number;
  paramsKept: number;
  layers: LayerRow[];
  reconstruction: SublayerFit[] | null;
  sparsity: { sparsity: number; modelSparsity: number; matrices: MatrixSparsity[] } | null;
  size: Assessment['size'];
  accuracy: Assessment['accuracy'] | null;
  throughput: Assessment['throughput'] | null;
  notes: string[];
}

function layerRows(orig: ModelConfig, pruned: ModelConfig): LayerRow[] {
  if (orig.family === 'vit' && pruned.family === 'vit') {
    return Array.from({ length: orig.layers }, (_, l) => ({
      layer: l,
      units: {
        heads: { kept: vitLayer(pruned, l).heads, of: vitLayer(orig, l).heads },
        mlp: { kept: vitLayer(pruned, l).mlp, of: vitLayer(orig, l).mlp },
      },
    }));
  }
  if (orig.family === 'mixer' && pruned.family === 'mixer') {
    return Array.from({ length: orig.blocks }, (_, i) => ({
      layer: i,
      units: {
        tokenMixing: { kept: mixerLayer(pruned, i).tokensMlp, of: mixerLayer(orig, i).tokensMlp },
        channelMixing: { kept: mixerLayer(pruned, i).channelsMlp, of: mixerLayer(orig, i).channelsMlp },
      },
    }));
  }
  throw new Error('internal: family changed while pruning');
}

function nonzero(ir: ModelIR): number {
  let n = 0;
  for (const t of ir.weights.values()) for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) n++;
  return n;
}

export function buildPruneReport(a: {
  model: string; output: string | null; original: ModelIR; outcome: PruneOutcome; options: PruneOptions;
  calibration: { dataset: string; images: number } | null; assessment: Assessment;
}): PruneReport {
  const before = modelFigures(a.original), afterF = modelFigures(a.outcome.ir);
  const { engine: _e, onProgress: _p, method: _m, ...options } = a.options;
  const notes: string[] = [];
  if (a.outcome.sparsity) {
    notes.push('Zeroed weights are still stored and multiplied: FLOPs, parameter count and dense-kernel speed do not change; ' +
      'only the compressed (gzip) size does.');
  }
  if (a.outcome.method === 'nm') notes.push('N:M sparsity is accelerated only by sparse tensor cores (NVIDIA Ampere+, TensorRT); ONNX Runtime CPU and wasm run it as dense.');
  return {
    model: a.model,
    output: a.output,
    method: a.outcome.method,
    options,
    calibration: a.calibration,
    before,
    after: { ...afterF, nonzeroParams: nonzero(a.outcome.ir) },
    flopsKept: afterF.flops / before.flops,
    paramsKept: afterF.params / before.params,
    layers: layerRows(a.original.config, a.outcome.ir.config),
    reconstruction: a.outcome.structured?.fits.length ? a.outcome.structured.fits : null,
    sparsity: a.outcome.sparsity ?? null,
    size: a.assessment.size,
    accuracy: a.assessment.accuracy ?? null,
    throughput: a.assessment.throughput ?? null,
    notes,
  };
}

const pct = (v: number, d = 1) => `${(100 * v).toFixed(d)}%`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const big = (v: number) => v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : `${v}`;

export function formatPruneReport(r: PruneReport): string {
  const L: string[] = [];
  L.push(`# vitopt prune: ${r.model}, method ${r.method}`, '');
  const opt = Object.entries(r.options).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
  L.push(`options: ${opt || '(defaults)'}${r.calibration ? `; calibration: ${r.calibration.images} images of ${r.calibration.dataset}` : ''}`);
  if (r.output) L.push(`wrote ${r.output}`);
  L.push('', '| | unpruned | pruned | kept |', '|---|---:|---:|---:|');
  L.push(`| FLOPs / image (matmuls) | ${big(r.before.flops)} | ${big(r.after.flops)} | ${pct(r.flopsKept)} |`);
  L.push(`| parameters | ${big(r.before.params)} | ${big(r.after.params)} | ${pct(r.paramsKept)} |`);
  if (r.sparsity) L.push(`| non-zero parameters | ${big(r.before.params)} | ${big(r.after.nonzeroParams)} | ${pct(r.after.nonzeroParams / r.before.params)} |`);
  L.push(`| ONNX size | ${mb(r.size.unprunedBytes)} | ${mb(r.size.prunedBytes)} | ${pct(r.size.prunedBytes / r.size.unprunedBytes)} |`);
  L.push(`| gzipped size | ${mb(r.size.unprunedGzipBytes)} | ${mb(r.size.prunedGzipBytes)} | ${pct(r.size.prunedGzipBytes / r.size.unprunedGzipBytes)} |`);
  if (r.throughput) {
    const [u, p] = r.throughput.results;
    L.push(`| throughput, batch ${r.throughput.batch} (side by side, median of ${r.throughput.rounds} rounds) | ${u!.imagesPerSecond.toFixed(1)} img/s | ${p!.imagesPerSecond.toFixed(1)} img/s | ${r.throughput.ratios[1]!.toFixed(2)}× |`);
  }
  if (r.accuracy) {
    const a = r.accuracy;
    L.push('', `Accuracy on ${a.images} images of ${a.dataset}:`, '', '| model | top-1 | Δ top-1 | agreement with unpruned | mean KL |', '|---|---:|---:|---:|---:|');
    L.push(`| unpruned | ${pct(a.unpruned.top1, 2)} | | | |`);
    const row = (name: string, f: { top1: number; agreement: number; meanKL: number }) =>
      L.push(`| ${name} | ${pct(f.top1, 2)} | ${((f.top1 - a.unpruned.top1) * 100).toFixed(2)} pt | ${pct(f.agreement, 2)} | ${f.meanKL.toExponential(2)} |`);
    if (a.beforeReconstruction) row('pruned, before reconstruction', a.beforeReconstruction);
    row(a.beforeReconstruction ? 'pruned, after reconstruction' : 'pruned', a.pruned);
  }
  if (r.sparsity) {
    L.push('', `Sparsity: ${pct(r.sparsity.sparsity)} of the block weight matrices, ${pct(r.sparsity.modelSparsity)} of all parameters.`);
  }
  const changed = r.layers.some((l) => Object.values(l.units).some((u) => u.kept !== u.of));
  if (changed) {
    const keys = Object.keys(r.layers[0]!.units);
    L.push('', 'Kept units per layer:', '', `| layer | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`);
    for (const l of r.layers) L.push(`| ${l.layer} | ${keys.map((k) => `${l.units[k]!.kept}/${l.units[k]!.of}`).join(' | ')} |`);
  }
  if (r.reconstruction) {
    L.push('', 'Reconstruction (relative squared error of each refitted sublayer\'s output on the calibration rows):', '',
      '| sublayer | kept | error sliced | error refitted |', '|---|---:|---:|---:|');
    for (const f of r.reconstruction) L.push(`| ${f.id} | ${f.kept}/${f.units} | ${f.relErrorBefore.toExponential(2)} | ${f.relErrorAfter.toExponential(2)} |`);
  }
  for (const n of r.notes) L.push('', `Note: ${n}`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Chart

export interface ChartSeries {
  name: string;
  color?: string;
  dashed?: boolean;
  /** x = fraction of FLOPs kept, y = top-1 (0..1). */
  points: { x: number; y: number }[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];


/** Top-1 accuracy against the fraction of FLOPs kept, one line per series. */
export function accuracyFlopsSvg(series: readonly ChartSeries[], title: string, o: { reference?: { y: number; label: string }[] } = {}): string {
  const W = 720, H = 440, ml = 64, mr = 200, mt = 40, mb = 52;
  const pw = W - ml - mr, ph = H - mt - mb;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...series.flatMap((s) => s.points.map((p) => p.y)), ...(o.reference ?? []).map((r) => r.y)];
  const x0 = Math.max(0, Math.floor(Math.min(...xs, 1) * 10) / 10), x1 = 1;
  let y0 = Math.floor(Math.min(...ys) * 50) / 50, y1 = Math.ceil(Math.max(...ys) * 50) / 50;
  if (y1 - y0 < 0.02) { y0 -= 0.01; y1 += 0.01; }
  const X = (v: number) => ml + (v - x0) / (x1 - x0) * pw;
  const Y = (v: number) => mt + (1 - (v - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  const yStep = (y1 - y0) > 0.2 ? 0.05 : (y1 - y0) > 0.08 ? 0.02 : 0.01;
  for (let v = Math.ceil(y0 / yStep) * yStep; v <= y1 + 1e-9; v += yStep) {
    out.push(`<line x1="${ml}" x2="${ml + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${ml - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${(100 * v).toFixed(0)}%</text>`);
  }
  for (let v = Math.ceil(x0 * 10) / 10; v <= x1 + 1e-9; v += 0.1) {
    out.push(`<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${mt}" y2="${mt + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${X(v).toFixed(1)}" y="${mt + ph + 16}" text-anchor="middle">${(100 * v).toFixed(0)}%</text>`);
  }
  out.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${ml + pw / 2}" y="${H - 12}" text-anchor="middle">FLOPs kept (fraction of the unpruned model)</text>`);
  out.push(`<text x="16" y="${mt + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${mt + ph / 2})">top-1 accuracy</text>`);
  for (const r of o.reference ?? []) {
    out.push(`<line x1="${ml}" x2="${ml + pw}" y1="${Y(r.y).toFixed(1)}" y2="${Y(r.y).toFixed(1)}" stroke="#888" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${ml + 4}" y="${(Y(r.y) - 4).toFixed(1)}" fill="#666">${esc(r.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = mt + 10 + i * 20;
    out.push(`<line x1="${ml + pw + 14}" x2="${ml + pw + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${ml + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
