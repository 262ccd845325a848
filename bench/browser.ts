/**
 * The bench protocol inside Chromium: each configuration is a fresh page of a site built by
 * `vitopt web` (so the wasm thread count is fixed at start, as onnxruntime-web requires), warm-up runs
 * excluded, then sequential batch-1 runs timed with performance.now() in the page's engine worker.
 * Reported against the naive browser path: the fp32 portable graph with onnxruntime-web's defaults on
 * a page without cross-origin isolation (so one thread). WebGPU on a software adapter is a correctness
 * check (test/web/webgpu.test.ts), never a speed figure, so it is not measured here.
 *
 *   npm run build && node dist/bench/browser.js [--model ViT-B_16] [--iterations 8] [--warmup 2]
 *     [--threads 1,2] [--fp32-threads 1,2|none] [--out docs]   (writes <out>/browser-bench.{md,json} with --out)
 *
 * The header line records the load average before and after: on a shared machine, read the ratios
 * only when it stayed near or below the core count.
 */
import { promises as fs } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { buildSiteFrom } from '../src/web/build.js';
import { openModelSource, type ModelSource } from '../src/web/model-source.js';
import { serveSite } from '../src/web/serve.js';
import { randomIR } from '../src/models/random.js';
import { isZooName, zooConfig } from '../src/models/zoo.js';
import { describe } from '../src/models/config.js';
import { labelsFor } from '../src/data/labels.js';
import { percentile } from '../src/bench/stats.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { chromiumMissing, launchChromium, openApp } from '../test/web/browser.js';
import type { EngineInfo } from '../src/web/app/manifest.js';
import { tmp } from '../test/core/helpers.js';
import { benchCommand, intArg, intListArg, listOption, parseBench } from './lib/cli.js';

const o = parseBench<{ model: string; iterations: number; warmup: number; threads: number[]; fp32Threads?: number[]; out?: string }>(
  benchCommand('browser', 'the bench protocol inside Chromium (wasm, batch 1) against the naive browser path')
    .option('--model <name>', 'zoo model (random weights) or a model file', 'ViT-B_16')
    .option('--iterations <n>', 'timed runs per configuration', intArg('--iterations', 1), 8)
    .option('--warmup <n>', 'warm-up runs per configuration (excluded)', intArg('--warmup', 0), 2)
    .addOption(listOption('--threads <list>', 'wasm thread counts of the INT8 rows', intListArg('--threads'), '1,2'))
    .option('--fp32-threads <list|none>', "thread counts of the fp32 rows besides the naive one ('none' = skip them, for a shorter run; default: --threads)",
      (v) => (v === 'none' ? [] : intListArg('--fp32-threads')(v)))
    .option('--out <dir>', 'also write <out>/browser-bench.{md,json}'));
const { model: MODEL, iterations: ITERATIONS, warmup: WARMUP, threads: THREADS } = o;
/** Thread counts for the fp32 rows besides the naive one. */
const FP32_THREADS = o.fp32Threads ?? THREADS;
const OUT = o.out ?? '';

interface Row {
  config: string;
  variant: string;
  threads: number;
  isolated: boolean;
  imagesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  firstRunMs: number;
  loadMs: number;
  speedup: number;
  notes: string[];
}

async function source(): Promise<ModelSource> {
  if (!isZooName(MODEL)) return openModelSource(MODEL);
  const config = zooConfig(MODEL);
  const ir = randomIR(config, 0);
  return { kind: 'ir', name: `${MODEL} (random weights)`, ir, config, resolution: config.resolution, description: describe(config),
    labels: labelsFor(config.classes, ir.labels) };
}

async function main(): Promise<void> {
  const skip = chromiumMissing();
  if (skip) throw new Error(skip);
  const site = path.join(tmp(), 'site');
  process.stderr.write(`building the site for ${MODEL} (int8 + fp32)…\n`);
  const report = await buildSiteFrom(await source(), site, { variants: ['int8', 'fp32'], onStep: (s) => process.stderr.write(`  ${s}\n`) });
  const isolated = await serveSite(site);
  const plain = await serveSite(site, { isolation: false });
  const browser = await launchChromium();
  const configs: { config: string; url: string }[] = [
    { config: 'naive: fp32 portable, ORT defaults, not isolated', url: `${plain.url}?backend=wasm&variant=fp32&ortDefaults=1` },
    ...FP32_THREADS.map((t) => ({ config: `fp32 portable, ${t} thread(s)`, url: `${t > 1 ? isolated.url : plain.url}?backend=wasm&variant=fp32&threads=${t}` })),
    ...THREADS.map((t) => ({ config: `dynamic INT8, ${t} thread(s)`, url: `${t > 1 ? isolated.url : plain.url}?backend=wasm&variant=int8&threads=${t}` })),
  ];
  const rows: Row[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    for (const c of configs) {
      process.stderr.write(`measuring ${c.config}…\n`);
      const app = await openApp(browser, c.url);
      if (app.error) throw new Error(`${c.config}: ${app.error}`);
      const info = app.ready as EngineInfo;
      const r = await app.page.evaluate((n: number, w: number) =>
        (window as unknown as { vitopt: { bench(n: number, w: number): Promise<{ latenciesMs: number[]; firstRunMs: number }> } }).vitopt.bench(n, w),
      ITERATIONS, WARMUP);
      await app.page.close();
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      const total = r.latenciesMs.reduce((a, b) => a + b, 0);
      rows.push({
        config: c.config, variant: info.variant, threads: info.threads, isolated: info.crossOriginIsolated,
        imagesPerSecond: (r.latenciesMs.length / total) * 1000, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95),
        firstRunMs: r.firstRunMs, loadMs: info.loadMs, speedup: 0, notes: info.notes,
      });
    }
  } finally {
    await browser.close();
    await isolated.close();
    await plain.close();
  }
  const load = `load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
  const naive = rows[0]!.imagesPerSecond;
  for (const r of rows) r.speedup = r.imagesPerSecond / naive;
  const chromium = `Debian chromium (${(await import('node:child_process')).execFileSync('/usr/bin/chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()})`;
  const machine = `${availableParallelism()} vCPU, ${cpus()[0]?.model ?? 'unknown CPU'}`;
  const md = [
    `Browser benchmark: ${report.model}, batch 1, ${ITERATIONS} timed runs after ${WARMUP} warm-up, ${chromium}, onnxruntime-web 1.30, ${machine}, ${load}; ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| configuration | variant | threads | isolated | img/s | p50 ms | p95 ms | first run ms | ready s | vs naive |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.config} | ${r.variant} | ${r.threads} | ${r.isolated ? 'yes' : 'no'} | ${r.imagesPerSecond.toFixed(2)} | ` +
      `${r.p50Ms.toFixed(0)} | ${r.p95Ms.toFixed(0)} | ${r.firstRunMs.toFixed(0)} | ${(r.loadMs / 1000).toFixed(1)} | ${r.speedup.toFixed(2)}× |`),
    '',
    `Variant sizes: ${report.variants.map((v) => `${v.id} ${(v.bytes / 2 ** 20).toFixed(1)} MiB`).join(', ')}.`,
  ].join('\n');
  const json = { model: report.model, iterations: ITERATIONS, warmup: WARMUP, chromium, machine, load, date: new Date().toISOString(), rows,
    variants: report.variants.map((v) => ({ id: v.id, bytes: v.bytes, description: v.description })) };
  process.stdout.write(md + '\n\n' + JSON.stringify(json, null, 2) + '\n');
  if (OUT) {
    await writeFileAtomic(path.join(OUT, 'browser-bench.md'), md + '\n');
    await writeFileAtomic(path.join(OUT, 'browser-bench.json'), JSON.stringify(json, null, 2) + '\n');
  }
  await fs.rm(path.dirname(site), { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`bench/browser: ${(e as Error).message}\n`);
  process.exit(1);
});
