/**
 * Pruning benchmark (not a test): `node dist/bench/prune.js [--parts a,b,c] [--eval-size N]
 * [--calibration-size N] [--models fashion-vit,fashion-mixer] [--reuse earlier/pruning-bench.json] [--out DIR]`.
 * --reuse takes the sweeps of the models it holds, and parts (b, c) when they are not asked for, from an
 * earlier run's JSON; the report says which sections were carried over and when they were measured.
 *
 *   (a) the trained reference models (fashion-vit, fashion-mixer): a sweep of FLOPs targets with
 *       structured pruning (global ranking), top-1 on the Fashion-MNIST test split before and after
 *       reconstruction, plus variants at 70% FLOPs (uniform ranking, local refit target, heads or
 *       hidden units only); a chart of accuracy against FLOPs.
 *   (b) ViT-B/16 with random weights at batch 8: fp32 unpruned vs structured-pruned to 70% FLOPs,
 *       measured side by side in this process.
 *   (c) the pruned ViT-B/16 after dynamic INT8 quantization vs the fp32 export, side by side.
 *
 * Writes (default <out> = docs/pruning-bench) <out>/pruning-bench.json, <out>/pruning-bench.md and the chart <out>/pruning-accuracy-flops.{svg,png}.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { openDataSpec } from '../src/data/data-spec.js';
import type { Dataset } from '../src/data/dataset.js';
import { openModel } from '../src/engines/create.js';
import type { EngineSession } from '../src/engines/engine.js';
import { evaluate } from '../src/eval/evaluate.js';
import { exportModel } from '../src/export/index.js';
import { encodeModel, type ModelProto } from '../src/formats/onnx.js';
import { totalMacs } from '../src/analyze/macs.js';
import { countParams } from '../src/analyze/params.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { referenceModel } from '../src/models/reference.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import type { ModelIR } from '../src/models/ir.js';
import { randomImages } from '../src/data/random-images.js';
import { loadCalibration, type Calibration } from '../src/compress/prune/capture.js';
import { pruneStructured, type StructuredOptions } from '../src/compress/prune/reconstruct-model.js';
import { sideBySide, type SideBySide } from '../src/bench/side-by-side.js';
import { accuracyFlopsSvg, type ChartSeries } from '../src/tune/prune-report.js';
import { existsSync } from 'node:fs';
import { argv, benchCommand, intArg, listArg, listOption, parseBench } from './lib/cli.js';

const o = parseBench<{ parts: string[]; evalSize: number; calibrationSize: number; out: string; models: string[]; reuse: string; threads: number;
  rounds: number; seconds: number }>(
  benchCommand('prune', 'structured pruning: (a) accuracy sweeps of the reference models, (b, c) ViT-B/16 speed, fp32 and INT8')
    .addOption(listOption('--parts <list>', 'a: reference-model sweeps; b: ViT-B/16 fp32 speed; c: b plus INT8', listArg('--parts', ['a', 'b', 'c']), 'a,b,c'))
    .option('--eval-size <n>', 'a: test images', intArg('--eval-size', 1), 10_000)
    .option('--calibration-size <n>', 'a: calibration images (training split)', intArg('--calibration-size', 1), 512)
    .addOption(listOption('--models <list>', 'a: reference models', listArg('--models'), 'fashion-vit,fashion-mixer'))
    // --reuse <pruning-bench.json>: take the sweeps of models measured in an earlier run from its JSON, and
    // parts (b, c) when they are not asked for; the report names every section carried over.
    .option('--reuse <file>', "an earlier run's pruning-bench.json: its sweeps, and parts b, c when not asked for, are carried over", ''),
  { out: 'docs/pruning-bench', threads: 2, rounds: 5, seconds: 3 });
const parts = new Set(o.parts);
const { evalSize, calibrationSize: calibSize, out: outDir, models: modelNames, reuse: reuseFile, threads } = o;
const engine = { threads };
const log = (s: string) => process.stderr.write(s + '\n');

interface SweepRow {
  model: string;
  variant: string;
  targetFlops: number;
  flopsKept: number;
  paramsKept: number;
  kept: string;
  top1Sliced: number;
  top1Refit: number | null;
  agreementSliced: number;
  agreementRefit: number | null;
  seconds: number;
}

async function top1(ir: ModelIR, data: Dataset, baseline?: { ir: ModelIR; model: EngineSession }, proto?: ModelProto) {
  const model = await openModel(encodeModel(proto ?? exportModel(ir, 'ort')), engine);
  try {
    const r = await evaluate({ model, labels: ir.labels, config: ir.config }, data, {
      limit: evalSize, batchSize: 256,
      baseline: baseline ? { model: baseline.model, labels: baseline.ir.labels, config: baseline.ir.config } : undefined,
    });
    return { top1: r.top1, agreement: r.comparison?.agreement ?? 1, n: r.evaluated };
  } finally {
    await model.release();
  }
}

function keptSummary(ir: ModelIR): string {
  const c = ir.config;
  if (c.family === 'vit') return `heads [${c.layerHeads ?? Array(c.layers).fill(c.heads)}], MLP [${c.layerMlp ?? Array(c.layers).fill(c.mlp)}]`;
  return `D_S [${c.layerTokensMlp ?? Array(c.blocks).fill(c.tokensMlp)}], D_C [${c.layerChannelsMlp ?? Array(c.blocks).fill(c.channelsMlp)}]`;
}

interface Composition { unprunedInt8: number; pruned: number; prunedInt8: number; agreementPrunedInt8: number }

async function sweep(name: string, testData: Dataset, trainData: Dataset): Promise<{ rows: SweepRow[]; base: number; speed: SideBySide | null; int8: Composition | null }> {
  const ir = await loadCheckpoint(name);
  const calib: Calibration = await loadCalibration(trainData, calibSize, ir.config.resolution, { normalize: ir.config.normalize });
  const baseModel = await openModel(encodeModel(exportModel(ir, 'ort')), engine);
  const base = (await top1(ir, testData)).top1;
  log(`${name}: unpruned top-1 ${(100 * base).toFixed(2)}% on ${Math.min(evalSize, testData.size)} images`);
  const rows: SweepRow[] = [];
  const baseline = { ir, model: baseModel };
  let speed: SideBySide | null = null;
  let int8: Composition | null = null;
  const run = async (variant: string, o: Omit<StructuredOptions, 'engine'>) => {
    const t0 = performance.now();
    const r = await pruneStructured(ir, calib, { ...o, engine });
    const seconds = (performance.now() - t0) / 1000;
    const sliced = await top1(r.sliced, testData, baseline);
    const refit = r.fits.length ? await top1(r.ir, testData, baseline) : null;
    const row: SweepRow = {
      model: name, variant, targetFlops: o.targetFlops!, flopsKept: totalMacs(r.ir.config) / totalMacs(ir.config),
      paramsKept: countParams(r.ir.config) / countParams(ir.config), kept: keptSummary(r.ir),
      top1Sliced: sliced.top1, top1Refit: refit?.top1 ?? null, agreementSliced: sliced.agreement, agreementRefit: refit?.agreement ?? null, seconds,
    };
    rows.push(row);
    log(`  ${variant} @${o.targetFlops}: FLOPs ${(100 * row.flopsKept).toFixed(1)}%, top-1 sliced ${(100 * row.top1Sliced).toFixed(2)}%` +
      (refit ? `, refit ${(100 * refit.top1).toFixed(2)}%` : '') + ` (${seconds.toFixed(1)} s) ${row.kept}`);
    return r;
  };
  for (const t of [0.9, 0.8, 0.7, 0.6, 0.5]) {
    const r = await run('structured, global', { method: 'structured', targetFlops: t, ranking: 'global' });
    if (t === 0.7) {
      // Composes with quantization: dynamic INT8 of the unpruned and of the pruned+refitted model.
      const q0 = await top1(ir, testData, baseline, await quantizeDynamic(exportModel(ir, 'ort')));
      const q1 = await top1(r.ir, testData, baseline, await quantizeDynamic(exportModel(r.ir, 'ort')));
      int8 = { unprunedInt8: q0.top1, pruned: rows[rows.length - 1]!.top1Refit!, prunedInt8: q1.top1, agreementPrunedInt8: q1.agreement };
      log(`  INT8: unpruned ${(100 * q0.top1).toFixed(2)}%, pruned 70% + INT8 ${(100 * q1.top1).toFixed(2)}%`);
      speed = await sideBySide([{ name: 'unpruned', bytes: encodeModel(exportModel(ir, 'ort')) }, { name: 'pruned', bytes: encodeModel(exportModel(r.ir, 'ort')) }],
        ir.config.resolution, { batch: 64, rounds: 7, secondsPerRound: 0.5, engine });
    }
  }
  for (const t of [0.9, 0.8, 0.7, 0.6, 0.5]) await run('structured, uniform', { method: 'structured', targetFlops: t, ranking: 'uniform' });
  await run('structured, global, local refit target', { method: 'structured', targetFlops: 0.7, ranking: 'global', target: 'local' });
  if (ir.config.family === 'vit') {
    await run('heads only, global', { method: 'heads', targetFlops: 0.8, ranking: 'global' });
    await run('MLP units only, global', { method: 'neurons', targetFlops: 0.8, ranking: 'global' });
  }
  await baseModel.release();
  return { rows, base, speed, int8 };
}

/** Dynamic INT8 through the quantization library (`vitopt quantize --mode dynamic`). */
async function quantizeDynamic(model: ModelProto): Promise<ModelProto> {
  const { quantize } = await import('../src/compress/quantize/index.js');
  return (await quantize(model, { mode: 'dynamic', engine })).model;
}

interface ViTB16Result { date?: string; flopsKept30: number; kept30: string; flopsKept50: number | null; kept50: string | null; speed: SideBySide }

function vitB16Markdown(v: ViTB16Result, note: string): string[] {
  const md = ['## (b, c) ViT-B/16, random weights, batch 8, side by side', '',
    `Structured, uniform, no refit: ratio 0.3 keeps ${(100 * v.flopsKept30).toFixed(1)}% of the FLOPs (${v.kept30})` +
    (v.flopsKept50 !== null ? `; ratio 0.5 keeps ${(100 * v.flopsKept50).toFixed(1)}% (${v.kept50})` : '') + '. Dynamic INT8 = `quantize --mode dynamic`.' + note, '',
    '| model | img/s (median) | IQR/median | vs fp32 unpruned |', '|---|---:|---:|---:|'];
  v.speed.results.forEach((x, i) => md.push(`| ${x.name} | ${x.imagesPerSecond.toFixed(2)} | ${(100 * x.relIqr).toFixed(0)}% | ${v.speed.ratios[i]!.toFixed(2)}× |`));
  md.push('', `FLOPs reduction ${(100 * (1 - v.flopsKept30)).toFixed(1)}% → ideal speed-up ${(1 / v.flopsKept30).toFixed(2)}×.`, '');
  return md;
}

async function main() {
  const earlier: { date?: string; threads?: number; sweeps?: Record<string, Awaited<ReturnType<typeof sweep>>>; vitB16?: ViTB16Result } =
    reuseFile ? JSON.parse(await fs.readFile(reuseFile, 'utf8')) : {};
  const date = new Date().toISOString().slice(0, 10);
  const results: Record<string, unknown> = { date, host: `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`, threads, evalSize, calibrationSize: calibSize };
  const md: string[] = [`# vitopt pruning benchmark (${date})`, '', `Command: \`node dist/bench/prune.js ${argv.join(' ')}\`; ${results.host as string}, ${threads} intra-op threads.`, ''];
  const series: ChartSeries[] = [];
  const refs: { y: number; label: string }[] = [];

  if (parts.has('a')) {
    const testData = await openDataSpec('fashion-mnist:test');
    const trainData = await openDataSpec('fashion-mnist:train');
    const sweeps: Record<string, unknown> = {};
    const reused = earlier.sweeps ?? {};
    md.push('## (a) Structured pruning of the reference models, Fashion-MNIST', '',
      `Calibration: the first ${calibSize} images of fashion-mnist:train. Top-1 on the first ${evalSize} images of fashion-mnist:test. ` +
      '"sliced" = heads/units removed, nothing refitted; "refit" = after least-squares reconstruction.', '');
    for (const name of modelNames) {
      if (!existsSync(referenceModel(name)?.checkpoint ?? name)) { md.push(`${name}: checkpoint not present, skipped.`, ''); continue; }
      const s: Awaited<ReturnType<typeof sweep>> = reused[name] ?? await sweep(name, testData, trainData);
      if (reused[name]) log(`${name}: sweep reused from ${reuseFile}`);
      sweeps[name] = s;
      md.push(`### ${name} (unpruned top-1 ${(100 * s.base).toFixed(2)}%)`, '', ...(reused[name] ? [`Sweep reused from ${reuseFile}, not measured in this run.`, ''] : []),
        '| variant | target | FLOPs kept | params kept | top-1 sliced | top-1 refit | Δ refit | agreement refit | kept units | time |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|');
      for (const r of s.rows) {
        const d = r.top1Refit === null ? '' : `${(100 * (r.top1Refit - s.base)).toFixed(2)} pt`;
        md.push(`| ${r.variant} | ${r.targetFlops} | ${(100 * r.flopsKept).toFixed(1)}% | ${(100 * r.paramsKept).toFixed(1)}% | ${(100 * r.top1Sliced).toFixed(2)}% | ` +
          `${r.top1Refit === null ? '' : (100 * r.top1Refit).toFixed(2) + '%'} | ${d} | ${r.agreementRefit === null ? '' : (100 * r.agreementRefit).toFixed(2) + '%'} | ${r.kept} | ${r.seconds.toFixed(0)} s |`);
      }
      if (s.int8) {
        md.push('', `Composes with quantization (dynamic INT8, \`quantize --mode dynamic\`): unpruned fp32 ${(100 * s.base).toFixed(2)}% → INT8 ${(100 * s.int8.unprunedInt8).toFixed(2)}% ` +
          `(${(100 * (s.int8.unprunedInt8 - s.base)).toFixed(2)} pt); pruned to 70% FLOPs + refit ${(100 * s.int8.pruned).toFixed(2)}% → INT8 ${(100 * s.int8.prunedInt8).toFixed(2)}% ` +
          `(${(100 * (s.int8.prunedInt8 - s.int8.pruned)).toFixed(2)} pt; ${(100 * (s.int8.prunedInt8 - s.base)).toFixed(2)} pt from the unpruned fp32 model).`);
      }
      if (s.speed) md.push('', `Throughput at 70% FLOPs (batch 64, side by side): unpruned ${s.speed.results[0]!.imagesPerSecond.toFixed(0)} img/s, ` +
        `pruned ${s.speed.results[1]!.imagesPerSecond.toFixed(0)} img/s, ratio ${s.speed.ratios[1]!.toFixed(2)}×.`);
      md.push('');
      const pts = (variant: string, key: 'top1Sliced' | 'top1Refit') => [{ x: 1, y: s.base },
        ...s.rows.filter((r) => r.variant === variant).map((r) => ({ x: r.flopsKept, y: r[key]! }))];
      const short = path.basename(name).replace('fashion-', '').replace(/\.npz$/, '');
      series.push({ name: `${short}: refit (global)`, points: pts('structured, global', 'top1Refit') });
      series.push({ name: `${short}: sliced (global)`, points: pts('structured, global', 'top1Sliced'), dashed: true });
      series.push({ name: `${short}: refit (uniform)`, points: pts('structured, uniform', 'top1Refit') });
      refs.push({ y: s.base - 0.01, label: `${short}: unpruned − 1 pt` });
    }
    results.sweeps = sweeps;
    if (series.length) {
      const colors = ['#1f77b4', '#1f77b4', '#17becf', '#d62728', '#d62728', '#ff7f0e'];
      series.forEach((s, i) => { s.color = colors[i]; });
      const svg = accuracyFlopsSvg(series, `Structured pruning + refit, Fashion-MNIST test (${date})`, { reference: refs });
      await fs.mkdir(outDir, { recursive: true });
      await fs.writeFile(path.join(outDir, 'pruning-accuracy-flops.svg'), svg);
      await sharp(Buffer.from(svg)).png().toFile(path.join(outDir, 'pruning-accuracy-flops.png'));
      md.push('![accuracy vs FLOPs](pruning-accuracy-flops.svg)', '');
    }
  }

  if (parts.has('b') || parts.has('c')) {
    const ir = randomIR(zooConfig('ViT-B_16'), 0);
    // Random weights: importance means little here, so the same fraction of heads and MLP units goes in
    // every layer (--ranking uniform --ratio R): regular shapes, and what is measured is speed.
    const calib: Calibration = { batches: [randomImages(8, 224, { seed: 1 })], images: 8, name: 'random images' };
    const pruneTo = async (ratio: number) => (await pruneStructured(ir, calib, { method: 'structured', ratio, ranking: 'uniform', reconstruct: false, engine })).ir;
    log('ViT-B/16 (random weights): structured pruning, 30% and 50% of heads and MLP units per layer');
    const p30 = await pruneTo(0.3), p50 = parts.has('c') ? await pruneTo(0.5) : null;
    const kept = (m: ModelIR) => totalMacs(m.config) / totalMacs(ir.config);
    const fp32 = exportModel(ir, 'ort');
    const models = [{ name: 'fp32 unpruned', bytes: encodeModel(fp32) },
      { name: `fp32 pruned (${(100 * kept(p30)).toFixed(0)}% FLOPs)`, bytes: encodeModel(exportModel(p30, 'ort')) }];
    if (parts.has('c')) {
      models.push({ name: 'INT8 unpruned', bytes: encodeModel(await quantizeDynamic(fp32)) },
        { name: `INT8 pruned (${(100 * kept(p30)).toFixed(0)}% FLOPs)`, bytes: encodeModel(await quantizeDynamic(exportModel(p30, 'ort'))) },
        { name: `INT8 pruned (${(100 * kept(p50!)).toFixed(0)}% FLOPs)`, bytes: encodeModel(await quantizeDynamic(exportModel(p50!, 'ort'))) });
    }
    log(`  measuring ${models.map((m) => m.name).join(', ')} side by side at batch 8`);
    const speed = await sideBySide(models, 224, { batch: 8, rounds: o.rounds, secondsPerRound: o.seconds, engine });
    results.vitB16 = { date, flopsKept30: kept(p30), kept30: keptSummary(p30), flopsKept50: p50 ? kept(p50) : null, kept50: p50 ? keptSummary(p50) : null, speed };
    md.push(...vitB16Markdown(results.vitB16 as ViTB16Result, ''));
  } else if (earlier.vitB16) {
    // Parts (b, c) not measured this time: carry the earlier run's section over, saying so.
    const v: ViTB16Result = { date: earlier.date, ...earlier.vitB16 };
    results.vitB16 = v;
    md.push(...vitB16Markdown(v, ` Reused from ${reuseFile} (measured ${v.date ?? '?'}, ${earlier.threads ?? '?'} threads).`));
  }
  await fs.mkdir(outDir, { recursive: true });
  await fs.writeFile(path.join(outDir, 'pruning-bench.json'), JSON.stringify(results, null, 2) + '\n');
  await fs.writeFile(path.join(outDir, 'pruning-bench.md'), md.join('\n') + '\n');
  process.stdout.write(md.join('\n') + '\n');
}

await main();
