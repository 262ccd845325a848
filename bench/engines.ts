/**
 * The multi-engine table (the reference article's "multi-framework comparison", measured here):
 * ViT-B/32 and ViT-B/16 with random weights on onnxruntime-node CPU, onnxruntime-web wasm and the GPU
 * providers where they start, against the naive path (portable graph, runtime defaults, batch 1),
 * with this machine's ceilings measured in the same run (`vitopt hw`'s probe) so that each result is
 * also a fraction of its roofline bound.
 *
 * Every configuration runs in its own process; repeats are interleaved. Writes
 * <out>/engines-bench.{md,json,svg,png} and prints the Markdown.
 *
 *   npm run build && node dist/bench/engines.js [--models ViT-B_32,ViT-B_16] [--engines cpu,wasm,webgpu,cuda,tensorrt]
 *     [--batches 1,8] [--threads N] [--wasm-batches 1] [--duration 3] [--repeats 3] [--out docs] [--batch-search]
 *
 * `--batch-search` adds the batch-size curve of the first model on the CPU engine (--memory-budget,
 * --latency-slo, --max-batch) to <out>/engines-batch.{md,json,svg,png}.
 */
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { runBench } from '../src/bench/runner.js';
import { probeHardware, toHardwareProfile, renderHw } from '../src/bench/hw.js';
import { renderMarkdown } from '../src/bench/report.js';
import { benchChartSvg, batchChartSvg } from '../src/bench/chart.js';
import { writeChart } from '../src/util/svg.js';
import { benchProgress } from '../src/bench/progress.js';
import { findBatch, renderBatchMarkdown } from '../src/bench/batch.js';
import { parseEngineName, type EngineName } from '../src/engines/engine.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { InvalidArgumentError } from 'commander';
import { argv, benchCommand, intArg, intListArg, listArg, listOption, parseBench, positiveArg } from './lib/cli.js';

const o = parseBench<{ models: string[]; engines: EngineName[]; batches: number[]; wasmBatches: number[]; threads: number; duration: number; repeats: number;
  out: string; batchSearch?: boolean; memoryBudgetMib: number; latencySloMs: number; maxBatch: number }>(
  benchCommand('engines', 'every engine (onnxruntime-node CPU, wasm, GPU providers where they start) against the naive path, with roofline fractions')
    .addOption(listOption('--models <list>', 'zoo models (random weights) or .onnx files', listArg('--models'), 'ViT-B_32,ViT-B_16'))
    .addOption(listOption('--engines <list>', 'engines to measure', (v) => listArg('--engines')(v).map(engineArg), 'cpu,wasm,webgpu,cuda,tensorrt'))
    .addOption(listOption('--wasm-batches <list>', 'the batch sizes measured on wasm (a subset of --batches)', intListArg('--wasm-batches'), '1'))
    .option('--batch-search', 'add the batch-size curve of the first model on the CPU engine')
    .option('--memory-budget-mib <n>', '--batch-search: memory budget', intArg('--memory-budget-mib', 1), 1536)
    .option('--latency-slo-ms <ms>', '--batch-search: latency objective', positiveArg('--latency-slo-ms'), 1000)
    .option('--max-batch <n>', '--batch-search: largest batch tried', intArg('--max-batch', 1), 64),
  { batches: [1, 8], threads: availableParallelism(), duration: 3, repeats: 3, out: 'docs' });
const { models: MODELS, engines: ENGINES, batches: BATCHES, wasmBatches: WASM_BATCHES, threads: THREADS, duration: DURATION, repeats: REPEATS, out: OUT } = o;

function engineArg(v: string): EngineName {
  try {
    return parseEngineName(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

async function main() {
  const t0 = Date.now();
  const command = `node dist/bench/engines.js ${argv.join(' ')}`.trim();
  process.stderr.write(`measuring this machine's ceilings (${THREADS} threads) …\n`);
  const hw = await probeHardware({ threads: THREADS, onProgress: (s) => process.stderr.write(`  ${s}\n`) });
  const profile = toHardwareProfile(hw);
  const report = await runBench({
    models: MODELS, engines: ENGINES, batches: BATCHES, threads: [THREADS], duration: DURATION, repeats: REPEATS, profile,
    // wasm is 5–10× slower than native here: its large batches would take minutes per run.
    only: (c) => c.engine !== 'wasm' || WASM_BATCHES.includes(c.batch),
    onProgress: benchProgress(),
  });
  const md = [renderMarkdown(report, `Engines on this machine — ${MODELS.join(', ')}`), `Command: \`${command}\` (${((Date.now() - t0) / 60000).toFixed(0)} min).`, '',
    '<details><summary>Hardware profile measured in the same run</summary>', '', renderHw(hw), '</details>', ''].join('\n');
  await fs.mkdir(OUT, { recursive: true });
  await writeFileAtomic(path.join(OUT, 'engines-bench.md'), md);
  await writeFileAtomic(path.join(OUT, 'engines-bench.json'), JSON.stringify({ command, hw, report }, null, 2) + '\n');
  const svg = benchChartSvg(report, `vitopt bench — ${MODELS.join(', ')}`);
  await writeChart(path.join(OUT, 'engines-bench.svg'), svg);
  await writeChart(path.join(OUT, 'engines-bench.png'), svg);
  process.stdout.write(md);

  if (o.batchSearch) {
    const budget = o.memoryBudgetMib * 2 ** 20;
    const slo = o.latencySloMs;
    const r = await findBatch({
      models: [MODELS[0]!], engines: ['cpu'], threads: [THREADS], duration: DURATION, repeats: 1, memoryBudgetBytes: budget,
      latencySloMs: slo, maxBatch: o.maxBatch, profile, onProgress: benchProgress(),
    });
    const bmd = renderBatchMarkdown(r) + `\nCommand: \`${command}\`.\n`;
    await writeFileAtomic(path.join(OUT, 'engines-batch.md'), bmd);
    await writeFileAtomic(path.join(OUT, 'engines-batch.json'), JSON.stringify(r, null, 2) + '\n');
    const bsvg = batchChartSvg(r.searches, `Batch size on ${MODELS[0]} (onnxruntime-node CPU, ${THREADS} threads)`);
    await writeChart(path.join(OUT, 'engines-batch.svg'), bsvg);
    await writeChart(path.join(OUT, 'engines-batch.png'), bsvg);
    process.stdout.write('\n' + bmd);
  }
}

await main();
