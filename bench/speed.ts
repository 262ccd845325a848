/**
 * The speed table (not a test): ViT-B/16 and ViT-B/32 (random weights) at batch 1 and 8, every
 * vitopt path raced against the naive one in one run.
 *
 *   node dist/bench/speed.js [--models ViT-B_16,ViT-B_32 | ViT-B_16:8,ViT-B_32:1+8] [--batches 1,8] [--threads 2] [--repeats 3]
 *     [--duration 3] [--target-flops 0.7] [--calibration 64] [--profile-batch 8] [--out docs/speed-bench]
 *
 * Rows per model:
 *   naive           the portable (standard-ops) graph on onnxruntime-node with no session options at
 *                   all: what a user gets from a plain export (the "torchvision-style" path; built here
 *                   in TypeScript, no Python);
 *   portable        the naive graph with vitopt's session settings (--threads, spinning): separates what the
 *                   graph gains from what the session settings gain;
 *   fp32            vitopt's ONNX Runtime graph, fusions chosen for this CPU (src/export/fusions.ts);
 *   int8            that graph, dynamic INT8 (src/compress/quantize; int8 fusion choice applied);
 *   int8 static     static QDQ INT8 calibrated on the same random images (percentile);
 *   pruned          structured pruning to --target-flops of the FLOPs with least-squares refit
 *                   (random calibration images: speed only; accuracy is measured on the reference
 *                   models, docs/speed.md), fp32;
 *   pruned + int8   the same, dynamic INT8.
 * Every configuration runs in its own process (peak RSS is that process's), repeats interleaved
 * (src/bench/runner.ts): img/s, p50/p95 latency, peak RSS, spread; ratios are to the naive path at the
 * same batch, measured in the same run. Then ONNX Runtime's per-op profile of the INT8 graph.
 * Writes <out>/speed-bench.{md,json}.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportModel } from '../src/export/index.js';
import { saveModel } from '../src/formats/onnx.js';
import { randomIR } from '../src/models/random.js';
import { randomBatches } from '../src/data/random-images.js';
import { zooConfig } from '../src/models/zoo.js';
import { analyze as analyzeForQuantize, arraySource, quantize } from '../src/compress/quantize/index.js';
import { prune } from '../src/compress/prune/index.js';
import { runBench, type ConfigResult } from '../src/bench/runner.js';
import type { Figure } from '../src/bench/stats.js';
import { profileModel, renderProfile, type OpProfile } from '../src/bench/profile.js';
import { machineInfo } from '../src/bench/machine.js';
import { detectCpu } from '../src/util/cpu.js';
import { defaultFusions, describeFusions } from '../src/export/fusions.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import type { ModelIR } from '../src/models/ir.js';
import { InvalidArgumentError } from 'commander';
import { benchCommand, intArg, intListArg, listArg, listOption, log, parseBench } from './lib/cli.js';

const o = parseBench<{ models: { name: string; batches?: number[] }[]; batches: number[]; threads: number; repeats: number; duration: number;
  targetFlops: number; calibration: number; profileBatch: number; out: string }>(
  benchCommand('speed', 'every vitopt path (portable, fp32, INT8, static INT8, pruned) against the naive one, per model and batch')
    .addOption(listOption('--models <list>', 'zoo models (random weights); model:b1+b2 measures that model at its own batches, a bare name at --batches',
      modelBatches, 'ViT-B_16,ViT-B_32'))
    .option('--target-flops <f>', 'pruned rows: fraction of the FLOPs kept', fractionArg, 0.7)
    .option('--calibration <n>', 'random calibration images (static INT8, pruning refit)', intArg('--calibration', 1), 64)
    .option('--profile-batch <n>', 'batch size of the INT8 per-op profile', intArg('--profile-batch', 1), 8),
  { batches: [1, 8], threads: 2, repeats: 3, duration: 3, out: 'docs/speed-bench' });
// --models ViT-B_16:8,ViT-B_32:1 measures each model at its own batches; a bare name takes --batches.
const models = o.models.map((m) => ({ name: m.name, batches: m.batches ?? o.batches }));
const { threads, repeats, duration, targetFlops, profileBatch, out: outDir } = o;
const calibrationImages = o.calibration;

function modelBatches(v: string): { name: string; batches?: number[] }[] {
  const batches = intListArg('--models (batches)');
  return listArg('--models')(v).map((s) => {
    const [name, b] = s.split(':');
    return { name: name!, batches: b === undefined ? undefined : batches(b.replace(/\+/g, ',')) };
  });
}

function fractionArg(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('--target-flops must be a number in (0, 1]');
  return n;
}

const VARIANTS = ['naive', 'portable', 'fp32', 'int8', 'int8 static', 'pruned', 'pruned + int8'] as const;
type Variant = typeof VARIANTS[number];

/** n random calibration images in batches of 8 (clipped Gaussian, src/data/random-images.ts). */
function randomCalibration(ir: ModelIR, n: number) {
  return { batches: randomBatches(n, 8, ir.config.resolution, { seed: 5 }), images: n, name: `${n} random images` };
}

async function buildFiles(model: string, dir: string): Promise<Record<Variant, string>> {
  const ir = randomIR(zooConfig(model), 0);
  const file = (v: Variant) => path.join(dir, `${model}.${v.replace(/[^a-z0-9]+/g, '-')}.onnx`);
  const files = Object.fromEntries(VARIANTS.map((v) => [v, file(v)])) as Record<Variant, string>;
  // The same graph saved under a second name: runBench tells configurations apart by file.
  const portable = exportModel(ir, 'portable');
  await saveModel(files.naive, portable);
  await saveModel(files.portable, portable);
  const fp32 = exportModel(ir, 'ort');
  await saveModel(files.fp32, fp32);
  // One analysis (tensor shapes through ORT) serves both INT8 modes.
  const analysis = await analyzeForQuantize(fp32, { mode: 'dynamic' });
  await saveModel(files.int8, (await quantize(fp32, { mode: 'dynamic', analysis })).model);
  const calib = randomCalibration(ir, calibrationImages);
  await saveModel(files['int8 static'], (await quantize(fp32, { mode: 'static', analysis, calibration: arraySource(calib.name, calib.batches) })).model);
  log(`${model}: pruning to ${targetFlops} of the FLOPs (refit on ${calibrationImages} random images)`);
  const p = await prune(ir, { method: 'structured', targetFlops, engine: { threads } }, calib);
  const pruned = exportModel(p.ir, 'ort');
  await saveModel(files.pruned, pruned);
  await saveModel(files['pruned + int8'], (await quantize(pruned, { mode: 'dynamic' })).model);
  return files;
}

interface Row { model: string; variant: Variant; batch: number; r: ConfigResult | undefined; vsNaive: number | null }

async function main(): Promise<void> {
  const cpu = detectCpu();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitopt-speed-'));
  try {
    const rows: Row[] = [];
    const profiles: { title: string; profile: OpProfile }[] = [];
    for (const { name: model, batches: mb } of models) {
      log(`${model}: building naive, fp32, int8, pruned, pruned + int8`);
      const files = await buildFiles(model, dir);
      // One run, repeats interleaved: the naive file only as the baseline (runtime defaults, at every batch),
      // the others with vitopt's session settings.
      const names = Object.fromEntries(VARIANTS.map((v) => [v, path.basename(files[v])])) as Record<Variant, string>;
      const rep = await runBench({
        models: VARIANTS.map((v) => files[v]), batches: mb, threads: [threads], repeats, duration, baseline: true, baselineBatches: mb,
        only: (c) => (c.baseline ? c.model === names.naive : c.model !== names.naive), onProgress: progress,
      });
      for (const batch of mb) {
        const base = rep.results.find((x) => x.baseline && x.batch === batch);
        rows.push({ model, variant: 'naive', batch, r: base, vsNaive: base?.status === 'ok' ? 1 : null });
        for (const v of VARIANTS.slice(1)) {
          const r = rep.results.find((x) => !x.baseline && x.batch === batch && x.model === names[v]);
          const vs = r?.imagesPerSecond && base?.imagesPerSecond ? r.imagesPerSecond.median / base.imagesPerSecond.median : null;
          rows.push({ model, variant: v, batch, r, vsNaive: vs });
        }
      }
      const cfg = zooConfig(model);
      profiles.push({ title: `${model} INT8 (dynamic), batch ${profileBatch}`,
        profile: await profileModel(files.int8, [3, cfg.resolution, cfg.resolution], { batch: profileBatch, runs: 5, warmup: 2, engine: { threads } }) });
      await write(rows, profiles, cpu);
    }
    log(`wrote ${outDir}/speed-bench.{md,json}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Written after every model, so a long run that fails later keeps what it measured. */
async function write(rows: Row[], profiles: { title: string; profile: OpProfile }[], cpu: ReturnType<typeof detectCpu>): Promise<void> {
    const machine = machineInfo();
    const md = render(rows, profiles, machine.cpu, cpu.evidence);
    process.stdout.write(md + '\n');
    await fs.mkdir(outDir, { recursive: true });
    await writeFileAtomic(path.join(outDir, 'speed-bench.md'), md + '\n');
    await writeFileAtomic(path.join(outDir, 'speed-bench.json'), JSON.stringify({ date: new Date().toISOString(), machine, cpu, threads, repeats, duration,
      targetFlops, fusions: { fp32: describeFusions(defaultFusions('fp32').fusions), int8: describeFusions(defaultFusions('int8').fusions) },
      rows: rows.map((x) => ({ model: x.model, variant: x.variant, batch: x.batch, vsNaive: x.vsNaive, result: x.r })), profiles }, null, 2) + '\n');
}

function progress(e: { kind: string; label?: string; index?: number; total?: number }): void {
  if (e.kind === 'start') log(`  [${e.index}/${e.total}] ${e.label}`);
}

/** Half the min–max range over the repeats, relative to the median. */
function spread(t: Figure): number {
  return (t.spread ?? 0) / 2;
}

function render(rows: Row[], profiles: { title: string; profile: OpProfile }[], cpuName: string, flags: string): string {
  const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const mib = (b: number | undefined) => (b ? (b / 2 ** 20).toFixed(0) : '—');
  const naiveRss = new Map(rows.filter((r) => r.variant === 'naive').map((r) => [`${r.model}/${r.batch}`, r.r?.peakRssBytes?.median]));
  return [
    '# Speed: every path against the naive one', '',
    `\`node dist/bench/speed.js --models ${models.map((m) => `${m.name}:${m.batches.join('+')}`).join(',')} --threads ${threads} --repeats ${repeats} --duration ${duration} --target-flops ${targetFlops}\`, ${new Date().toISOString().slice(0, 10)}`,
    `${cpuName} · ${flags} · ${threads} threads · random weights · fusions fp32 ${describeFusions(defaultFusions('fp32').fusions)}, int8 ${describeFusions(defaultFusions('int8').fusions)}`, '',
    '| model | batch | path | img/s (± spread) | vs naive | p50 ms | p95 ms | peak RSS MiB | RSS vs naive |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((x) => {
      const t = x.r?.imagesPerSecond, l = x.r?.latencyMs, rss = x.r?.peakRssBytes?.median, n = naiveRss.get(`${x.model}/${x.batch}`);
      const err = x.r?.failure ? ` (failed: ${x.r.failure.reason})` : '';
      return `| ${x.model} | ${x.batch} | ${x.variant}${err} | ${f(t?.median)} ± ${f(t ? 100 * spread(t) : undefined, 0)}% | ${x.vsNaive ? x.vsNaive.toFixed(2) + '×' : '—'} | ${f(l?.p50)} | ${f(l?.p95)} | ${mib(rss)} | ${rss && n ? (100 * rss / n).toFixed(0) + '%' : '—'} |`;
    }),
    '', '## Where the INT8 time goes', '', ...profiles.map((p) => renderProfile(p.profile, p.title) + '\n'),
  ].join('\n');
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
