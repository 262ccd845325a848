/**
 * Token Merging benchmark (not a test): `node dist/bench/tome.js [--parts accuracy,gap,speed]
 * [--rs 1,2,3,4,5,6,7,8] [--speed-rs 0,4,8,12,16] [--batches 1,8] [--modes fp32,dynamic] [--rounds 5]
 * [--seconds 2] [--threads 2] [--eval-size 10000] [--probe-size 10000] [--out docs/token-merging-bench]`
 *
 *   accuracy  fashion-vit (50 tokens, 6 layers, cls read-out): top-1 on the Fashion-MNIST test split for
 *             each r (one number, capped per block as the reference code does: r = 8 runs [8,8,8,8,8,4]),
 *             float and dynamic INT8, against the unmerged model; the largest r that keeps the drop
 *             ≤ 0.5 point.
 *   gap       plain vs size-weighted mean of the merged tokens. No shipped model is mean-pooled
 *             (fashion-vit reads its cls token, fashion-mixer cannot merge), so this builds one from
 *             fashion-vit's trained encoder: the cls token removed (49 patch tokens, the `gap`
 *             classifier) and a linear head fitted in closed form (ridge) on the unmerged model's
 *             pooled features of the first --probe-size training images; then for each r, top-1 of
 *             both poolings on the test split with that same head (ToMe off the shelf: no refit).
 *   speed     ViT-B/16 with random weights: throughput for each r in --speed-rs, fp32 and dynamic INT8
 *             (src/compress/quantize), every session loaded together and timed in interleaved rounds
 *             (src/bench/side-by-side.ts) at each batch size; the speed-up over the unmerged model of
 *             the same precision beside the one the MACs predict.
 *
 * Writes <out>/tome-bench.{json,md} and the charts <out>/tome-accuracy.{svg,png}, <out>/tome-speed.{svg,png}.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeChart } from '../src/util/svg.js';
import { openDataSpec } from '../src/data/data-spec.js';
import type { Dataset } from '../src/data/dataset.js';
import { preprocessBatch } from '../src/data/preprocess.js';
import { openModel } from '../src/engines/create.js';
import type { EngineSession } from '../src/engines/engine.js';
import { evaluate, type EvalModel } from '../src/eval/evaluate.js';
import { exportModel } from '../src/export/index.js';
import { encodeModel } from '../src/formats/onnx.js';
import { totalMacs } from '../src/analyze/macs.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import type { ModelIR } from '../src/models/ir.js';
import type { VitConfig } from '../src/models/config.js';
import { mergeSchedule, tokenCounts, withMergeSchedule, type MergePool } from '../src/models/tome.js';
import { quantize } from '../src/compress/quantize/index.js';
import { sideBySide } from '../src/bench/side-by-side.js';
import { accuracyFlopsSvg, type ChartSeries } from '../src/tune/prune-report.js';
import { argv, benchCommand, intArg, intListArg, listArg, listOption, log, parseBench } from './lib/cli.js';

const o = parseBench<{ parts: string[]; rs: number[]; speedRs: number[]; batches: number[]; modes: string[]; rounds: number; seconds: number; threads: number;
  evalSize: number; probeSize: number; out: string }>(
  benchCommand('tome', 'Token Merging: accuracy against r (fashion-vit), plain vs size-weighted pooling, speed against r (ViT-B/16)')
    .addOption(listOption('--parts <list>', 'what to measure', listArg('--parts', ['accuracy', 'gap', 'speed']), 'accuracy,gap,speed'))
    .addOption(listOption('--rs <list>', 'accuracy, gap: tokens merged per block', intListArg('--rs', 0), '1,2,3,4,5,6,7,8'))
    .addOption(listOption('--speed-rs <list>', 'speed: tokens merged per block', intListArg('--speed-rs', 0), '0,4,8,12,16'))
    .addOption(listOption('--modes <list>', 'precisions', listArg('--modes', ['fp32', 'dynamic']), 'fp32,dynamic'))
    .option('--eval-size <n>', 'test images', intArg('--eval-size', 1), 10_000)
    .option('--probe-size <n>', 'gap: training images the linear head is fitted on', intArg('--probe-size', 1), 10_000),
  { batches: [1, 8], rounds: 5, seconds: 2, threads: 2, out: 'docs/token-merging-bench' });
const parts = new Set(o.parts);
const { rs, speedRs, batches, modes, rounds, seconds, threads, evalSize, probeSize, out: outDir } = o;
const engine = { threads };
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const sched = (ir: ModelIR) => { const r = mergeSchedule(ir.config as VitConfig); return r.some((v) => v > 0) ? r.join(',') : '—'; };

interface AccuracyRow { r: number; schedule: string; tokensOut: number; flopsKept: number; top1: number; drop: number; agreement: number; int8Top1: number | null }
interface GapRow { r: number; schedule: string; pool: MergePool | 'unmerged'; top1: number; drop: number; agreement: number }
interface SpeedRow { batch: number; r: number; schedule: string; mode: string; imagesPerSecond: number; relIqr: number; speedup: number; vsFp32: number; predicted: number }

const evalModel = (m: EngineSession, ir: ModelIR, name: string): EvalModel => ({ model: m, name, config: ir.config, labels: ir.labels });

async function top1(ir: ModelIR, test: Dataset, baseline: EvalModel | undefined, name: string, int8 = false) {
  const proto = exportModel(ir, 'ort');
  const bytes = encodeModel(int8 ? (await quantize(proto, { mode: 'dynamic' })).model : proto);
  const m = await openModel(bytes, engine, name);
  try {
    return await evaluate(evalModel(m, ir, name), test, { limit: evalSize, baseline });
  } finally {
    await m.release();
  }
}

/** (a) fashion-vit: top-1 against r. */
async function accuracy(): Promise<{ rows: AccuracyRow[]; base: number; baseInt8: number }> {
  const ir = await loadCheckpoint('fashion-vit');
  const test = await openDataSpec('fashion-mnist');
  const fm = await openModel(encodeModel(exportModel(ir, 'ort')), engine, 'fashion-vit');
  const baseline = evalModel(fm, ir, 'unmerged');
  const base = (await evaluate(baseline, test, { limit: evalSize })).top1;
  const baseInt8 = (await top1(ir, test, undefined, 'int8', true)).top1;
  log(`fashion-vit unmerged: ${pct(base)} (dynamic INT8 ${pct(baseInt8)})`);
  const macs0 = totalMacs(ir.config);
  const rows: AccuracyRow[] = [];
  for (const r of rs) {
    const t = withMergeSchedule(ir, r);
    const rep = await top1(t, test, baseline, `r${r}`);
    const q = modes.includes('dynamic') ? (await top1(t, test, undefined, `r${r} int8`, true)).top1 : null;
    const counts = tokenCounts(t.config as VitConfig);
    rows.push({ r, schedule: sched(t), tokensOut: counts[counts.length - 1]!, flopsKept: totalMacs(t.config) / macs0,
      top1: rep.top1, drop: 100 * (base - rep.top1), agreement: rep.comparison!.agreement, int8Top1: q });
    log(`fashion-vit r=${r} [${sched(t)}]: ${pct(rep.top1)} (${(100 * (rep.top1 - base)).toFixed(2)} pt)${q === null ? '' : `, INT8 ${pct(q)}`}`);
  }
  await fm.release();
  return { rows, base, baseInt8 };
}

/** Solve (A + λI) x = b for symmetric positive definite A (Cholesky), several right-hand sides. */
function ridgeSolve(A: Float64Array, B: Float64Array, n: number, k: number, lambda: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]! + (i === j ? lambda : 0);
      for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j]!;
    }
  }
  const X = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = B[i * k + c]!;
      for (let p = 0; p < i; p++) s -= L[i * n + p]! * y[p]!;
      y[i] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let p = i + 1; p < n; p++) s -= L[p * n + i]! * X[p * k + c]!;
      X[i * k + c] = s / L[i * n + i]!;
    }
  }
  return X;
}

/**
 * fashion-vit's encoder as a mean-pooled (gap) model: no cls token, the patch rows of its position
 * embedding, and a ridge-regression head on the pooled features of `n` training images.
 */
async function gapProbe(n: number): Promise<ModelIR> {
  const src = await loadCheckpoint('fashion-vit');
  const c = src.config as VitConfig;
  const D = c.hidden, K = c.classes;
  const weights = new Map(src.weights);
  weights.delete('cls');
  const pos = src.weights.get('Transformer/posembed_input/pos_embedding')!;
  weights.set('Transformer/posembed_input/pos_embedding', { dims: [1, pos.dims[1]! - 1, D], data: pos.data.slice(D) });
  // Features: the head replaced by the identity, so the "logits" are the pooled encoder output.
  const eye = new Float32Array(D * D);
  for (let i = 0; i < D; i++) eye[i * D + i] = 1;
  const features: ModelIR = { ...src, weights: new Map(weights), config: { ...c, classifier: 'gap', classes: D }, labels: null };
  features.weights.set('head/kernel', { dims: [D, D], data: eye });
  features.weights.set('head/bias', { dims: [D], data: new Float32Array(D) });
  const fm = await openModel(encodeModel(exportModel(features, 'ort')), engine, 'features');
  const n1 = D + 1;
  const XtX = new Float64Array(n1 * n1), XtY = new Float64Array(n1 * K);
  const train = await openDataSpec('fashion-mnist:train');
  let seen = 0;
  for await (const b of train.batches(256, { limit: n })) {
    const f = await fm.run(preprocessBatch(b.images, c.resolution));
    for (let i = 0; i < b.images.length; i++) {
      const row = [...f.data.subarray(i * D, (i + 1) * D), 1];
      for (let p = 0; p < n1; p++) {
        for (let q = 0; q < n1; q++) XtX[p * n1 + q]! += row[p]! * row[q]!;
        XtY[p * K + b.labels[i]!]! += row[p]!;
      }
    }
    seen += b.images.length;
  }
  await fm.release();
  // Small ridge term relative to the feature scale (trace / dimension).
  let trace = 0;
  for (let i = 0; i < n1; i++) trace += XtX[i * n1 + i]!;
  const W = ridgeSolve(XtX, XtY, n1, K, 1e-3 * trace / n1);
  log(`gap probe: head fitted on ${seen} training images`);
  const gap: ModelIR = { ...src, weights, config: { ...c, classifier: 'gap' } };
  weights.set('head/kernel', { dims: [D, K], data: Float32Array.from(W.subarray(0, D * K)) });
  weights.set('head/bias', { dims: [K], data: Float32Array.from(W.subarray(D * K)) });
  return gap;
}

/** (b) plain vs size-weighted mean of the merged tokens. */
async function gapPooling(): Promise<{ rows: GapRow[]; base: number }> {
  const ir = await gapProbe(probeSize);
  const test = await openDataSpec('fashion-mnist');
  const fm = await openModel(encodeModel(exportModel(ir, 'ort')), engine, 'gap probe');
  const baseline = evalModel(fm, ir, 'unmerged');
  const base = (await evaluate(baseline, test, { limit: evalSize })).top1;
  log(`gap probe unmerged: ${pct(base)}`);
  const rows: GapRow[] = [{ r: 0, schedule: '', pool: 'unmerged', top1: base, drop: 0, agreement: 1 }];
  for (const r of rs) {
    for (const pool of ['mean', 'weighted'] as const) {
      const t = withMergeSchedule(ir, r, { pool });
      const rep = await top1(t, test, baseline, `r${r} ${pool}`);
      rows.push({ r, schedule: sched(t), pool, top1: rep.top1, drop: 100 * (base - rep.top1), agreement: rep.comparison!.agreement });
      log(`gap probe r=${r} ${pool}: ${pct(rep.top1)} (agreement ${pct(rep.comparison!.agreement)})`);
    }
  }
  await fm.release();
  return { rows, base };
}

/** (c) ViT-B/16, random weights: throughput against r, fp32 and dynamic INT8, side by side. */
async function speed(): Promise<SpeedRow[]> {
  const base = randomIR(zooConfig('ViT-B_16'), 0);
  const macs0 = totalMacs(base.config);
  const models: { name: string; r: number; mode: string; schedule: string; predicted: number; bytes: Uint8Array }[] = [];
  for (const mode of modes) {
    for (const r of speedRs) {
      const ir = withMergeSchedule(base, r);
      const proto = exportModel(ir, 'ort');
      const bytes = encodeModel(mode === 'fp32' ? proto : (await quantize(proto, { mode: 'dynamic' })).model);
      models.push({ name: `${mode} r=${r}`, r, mode, schedule: sched(ir), predicted: macs0 / totalMacs(ir.config), bytes });
      log(`ViT-B/16 ${mode} r=${r} [${sched(ir)}]: ${(bytes.length / 2 ** 20).toFixed(0)} MiB`);
    }
  }
  const rows: SpeedRow[] = [];
  for (const batch of batches) {
    log(`ViT-B/16 batch ${batch}: ${models.length} sessions side by side, ${rounds} rounds of ${seconds} s`);
    const s = await sideBySide(models.map((m) => ({ name: m.name, bytes: m.bytes })), 224, { batch, rounds, secondsPerRound: seconds, engine });
    const rate = (mode: string, r: number) => s.results[models.findIndex((m) => m.mode === mode && m.r === r)]?.imagesPerSecond;
    s.results.forEach((res, i) => {
      const m = models[i]!;
      const r0 = rate(m.mode, speedRs.includes(0) ? 0 : speedRs[0]!)!, fp0 = rate('fp32', speedRs.includes(0) ? 0 : speedRs[0]!) ?? NaN;
      rows.push({ batch, r: m.r, schedule: m.schedule, mode: m.mode, imagesPerSecond: res.imagesPerSecond, relIqr: res.relIqr,
        speedup: res.imagesPerSecond / r0, vsFp32: res.imagesPerSecond / fp0, predicted: m.predicted });
      log(`  ${m.name}: ${res.imagesPerSecond.toFixed(2)} img/s, ${(res.imagesPerSecond / r0).toFixed(2)}× (predicted ${m.predicted.toFixed(2)}×), IQR ${(100 * res.relIqr).toFixed(0)}%`);
    });
  }
  return rows;
}

/** Measured and predicted speed-up against r, one line per (precision, batch). */
function speedSvg(rows: SpeedRow[], title: string): string {
  const W = 720, H = 420, ml = 56, mr = 210, mt = 40, mb = 48, pw = W - ml - mr, ph = H - mt - mb;
  const xs = rows.map((r) => r.r), ys = rows.flatMap((r) => [r.speedup, r.predicted]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = 0.8, y1 = Math.ceil(Math.max(...ys, 1.2) * 5) / 5;
  const X = (v: number) => ml + (v - x0) / (x1 - x0) * pw, Y = (v: number) => mt + (1 - (v - y0) / (y1 - y0)) * ph;
  const o: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>`];
  for (let v = 1; v <= y1 + 1e-9; v += 0.2) {
    o.push(`<line x1="${ml}" x2="${ml + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${ml - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}×</text>`);
  }
  for (const v of [...new Set(xs)]) o.push(`<text x="${X(v).toFixed(1)}" y="${mt + ph + 16}" text-anchor="middle">${v}</text>`);
  o.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
    `<text x="${ml + pw / 2}" y="${H - 10}" text-anchor="middle">r (tokens merged per block)</text>`,
    `<text x="16" y="${mt + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${mt + ph / 2})">speed-up over r = 0, same precision</text>`);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
  const series: { name: string; pts: [number, number][]; dashed?: boolean; color: string }[] = [];
  const keys = [...new Set(rows.map((r) => `${r.mode}|${r.batch}`))];
  keys.forEach((k, i) => {
    const [mode, batch] = k.split('|');
    series.push({ name: `${mode}, batch ${batch}`, color: colors[i % colors.length]!,
      pts: rows.filter((r) => `${r.mode}|${r.batch}` === k).map((r) => [r.r, r.speedup]) });
  });
  const pred = rows.filter((r) => r.mode === rows[0]!.mode && r.batch === rows[0]!.batch);
  series.push({ name: 'predicted by MACs', color: '#444', dashed: true, pts: pred.map((r) => [r.r, r.predicted]) });
  series.forEach((s, i) => {
    const pts = [...s.pts].sort((a, b) => a[0] - b[0]);
    o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) o.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = mt + 10 + i * 20;
    o.push(`<line x1="${ml + pw + 14}" x2="${ml + pw + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${ml + pw + 46}" y="${ly + 4}">${s.name}</text>`);
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

async function chart(name: string, svg: string): Promise<void> {
  await writeChart(path.join(outDir, `${name}.svg`), svg);
  await writeChart(path.join(outDir, `${name}.png`), svg);
}

const date = new Date().toISOString().slice(0, 10);
const load = os.loadavg().map((v) => v.toFixed(2)).join(', ');
await fs.mkdir(outDir, { recursive: true });
const acc = parts.has('accuracy') ? await accuracy() : null;
const gap = parts.has('gap') ? await gapPooling() : null;
const spd = parts.has('speed') ? await speed() : [];
const loadAfter = os.loadavg().map((v) => v.toFixed(2)).join(', ');

const md: string[] = [`Measured ${date} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} CPUs), ${threads} threads, ` +
  `onnxruntime-node; load average before ${load}, after ${loadAfter}. \`node dist/bench/tome.js ${argv.join(' ')}\``, ''];
if (acc) {
  md.push(`### fashion-vit, Fashion-MNIST test (${evalSize} images): unmerged ${pct(acc.base)}, dynamic INT8 ${pct(acc.baseInt8)}`, '',
    '| r | schedule | tokens 50 → | MACs kept | top-1 | change (pt) | agreement | dynamic INT8 top-1 |', '|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of acc.rows) {
    md.push(`| ${r.r} | ${r.schedule} | ${r.tokensOut} | ${pct(r.flopsKept)} | ${pct(r.top1)} | ${(-r.drop).toFixed(2)} | ${pct(r.agreement)} | ${r.int8Top1 === null ? '—' : pct(r.int8Top1)} |`);
  }
  const ok = acc.rows.filter((r) => r.drop <= 0.5);
  const best = ok.length ? ok.reduce((a, b) => (b.r > a.r ? b : a)) : null;
  md.push('', best ? `Largest r with a drop ≤ 0.5 point: **r = ${best.r}** (${pct(best.top1)}, ${(-best.drop).toFixed(2)} pt, ${pct(best.flopsKept)} of the MACs).`
    : 'No r kept the drop within 0.5 point.', '');
  const series: ChartSeries[] = [{ name: 'ToMe float', points: [{ x: 1, y: acc.base }, ...acc.rows.map((r) => ({ x: r.flopsKept, y: r.top1 }))] }];
  if (acc.rows.some((r) => r.int8Top1 !== null)) {
    series.push({ name: 'ToMe + dynamic INT8', dashed: true, points: [{ x: 1, y: acc.baseInt8 }, ...acc.rows.map((r) => ({ x: r.flopsKept, y: r.int8Top1! }))] });
  }
  await chart('tome-accuracy', accuracyFlopsSvg(series, `Token Merging, fashion-vit, Fashion-MNIST test (${date})`,
    { reference: [{ y: acc.base - 0.005, label: 'unmerged − 0.5 pt' }] }));
  md.push('![accuracy vs MACs](tome-accuracy.svg)', '');
}
if (gap) {
  md.push(`### Mean pooling of merged tokens: fashion-vit encoder as a gap model (no cls, ridge head on ${probeSize} training images), unmerged ${pct(gap.base)}`, '',
    '| r | schedule | plain mean | size-weighted mean | agreement plain | agreement weighted |', '|---:|---|---:|---:|---:|---:|');
  for (const r of rs) {
    const p = gap.rows.find((x) => x.r === r && x.pool === 'mean')!, w = gap.rows.find((x) => x.r === r && x.pool === 'weighted')!;
    md.push(`| ${r} | ${p.schedule} | ${pct(p.top1)} | ${pct(w.top1)} | ${pct(p.agreement)} | ${pct(w.agreement)} |`);
  }
  const sum = (pool: string) => gap.rows.filter((x) => x.pool === pool).reduce((s, x) => s + x.top1, 0);
  md.push('', `Mean over the r sweep: plain ${pct(sum('mean') / rs.length)}, size-weighted ${pct(sum('weighted') / rs.length)}.`, '');
}
if (spd.length) {
  md.push('### ViT-B/16 (random weights), throughput against r', '',
    '| batch | precision | r | schedule | img/s | speed-up (same precision) | vs fp32 r=0 | predicted (MACs) | rel. IQR |', '|---:|---|---:|---|---:|---:|---:|---:|---:|');
  for (const r of spd) {
    md.push(`| ${r.batch} | ${r.mode} | ${r.r} | ${r.schedule} | ${r.imagesPerSecond.toFixed(2)} | ${r.speedup.toFixed(2)}× | ${r.vsFp32.toFixed(2)}× | ${r.predicted.toFixed(2)}× | ${(100 * r.relIqr).toFixed(0)}% |`);
  }
  await chart('tome-speed', speedSvg(spd, `Token Merging, ViT-B/16: speed-up against r (${date})`));
  md.push('', '![speed-up vs r](tome-speed.svg)', '');
}
const text = md.join('\n') + '\n';
process.stdout.write(text);
await fs.writeFile(path.join(outDir, 'tome-bench.md'), text);
await fs.writeFile(path.join(outDir, 'tome-bench.json'), JSON.stringify({
  date, args: argv, threads, loadBefore: load, loadAfter, cpu: os.cpus()[0]?.model,
  accuracy: acc, gap, speed: spd,
}, null, 2) + '\n');
