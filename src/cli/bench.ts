/**
 * `vitopt bench <model...>`: the same models and inputs on several engines and settings, each
 * configuration in its own process; throughput, latency percentiles, session creation, peak memory,
 * model size, % of the roofline bound and the speed-up over the naive path. `--find-batch` searches
 * the batch size under a memory budget and a latency objective.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { writeFileAtomic, assertWritable } from '../util/atomic.js';
import { ENGINE_NAMES, type EngineName, parseEngineName } from '../engines/engine.js';
import type { EngineOptions } from '../engines/options.js';
import { durationArg, emit, intArg, intListArg, parseBytes } from './common.js';
import { deprecated, graphOptOption, jsonOption, quietOption, reportOption, setOption } from './options.js';

export { parseBytes };

/** '100ms', '0.1s', '100' (ms) → milliseconds (durationArg of src/cli/common.ts in milliseconds). */
export function parseMs(flag: string) {
  return durationArg(flag, 'ms');
}

function engineList(v: string): EngineName[] {
  const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.includes('all')) return [...ENGINE_NAMES];
  try {
    return [...new Set(parts.map(parseEngineName))];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^--engine: /, ''));
  }
}

function graphList(v: string): ('auto' | 'ort' | 'portable')[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (s !== 'auto' && s !== 'ort' && s !== 'portable') throw new InvalidArgumentError(`--graph must be auto, ort or portable, not '${s}'`);
    return s;
  });
}

interface Opts {
  engine: EngineName[];
  batch: number[];
  threads?: number[];
  workers: number[];
  graph: ('auto' | 'ort' | 'portable')[];
  graphOpt?: EngineOptions['graphOptimization'];
  arena: boolean;
  memPattern: boolean;
  spinning: boolean;
  executionMode?: 'sequential' | 'parallel';
  interOpThreads?: number;
  duration?: number;
  iterations?: number;
  warmup: number;
  repeats?: number;
  baseline: boolean;
  json?: boolean | string;
  report?: string;
  chart?: string;
  findBatch?: boolean;
  memoryBudget?: number;
  latencySlo?: number;
  maxBatch: number;
  memoryLimit?: number;
  timeout?: number;
  hw: boolean;
  probeHw?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('bench')
    .description('benchmark models on engines and settings (one process per configuration): img/s, latency p50–p99, memory, roofline, speed-up')
    .argument('<model...>', 'zoo names (random weights), checkpoints, reference models (fashion-vit) or .onnx files')
    .addOption(new Option('--engine <list>', `engines: ${ENGINE_NAMES.join(', ')} or all (unusable ones are skipped with the reason)`)
      .argParser(engineList).default(['cpu'], 'cpu'))
    .addOption(new Option('--batch <list>', 'batch sizes, e.g. 1,8,32').argParser(intListArg('--batch', 1)).default([1], '1'))
    .option('--threads <list>', `intra-op threads, e.g. 1,2 (wasm: worker threads) (default: ${availableParallelism()})`, intListArg('--threads', 0))
    .addOption(new Option('--workers <list>', 'concurrent sessions, each in its own worker thread').argParser(intListArg('--workers', 1)).default([1], '1'))
    .addOption(new Option('--graph <list>', 'graph style for zoo/checkpoint models: auto (ort for cpu/cuda, portable otherwise), ort, portable')
      .argParser(graphList).default(['auto'], 'auto'))
    .addOption(graphOptOption())
    .option('--no-arena', 'disable the CPU memory arena')
    .option('--no-mem-pattern', 'disable memory pattern planning')
    .option('--no-spinning', 'idle intra-op threads block instead of spinning')
    .addOption(new Option('--execution-mode <mode>', 'sequential or parallel').choices(['sequential', 'parallel']))
    .option('--inter-op-threads <n>', 'inter-op threads (parallel execution mode)', intArg('--inter-op-threads', 0))
    .addOption(new Option('--duration <time>', 'measurement per repeat, e.g. 3s (default 3s; a bare number is seconds)').argParser(durationArg('--duration', 's')).conflicts('iterations'))
    .option('--iterations <n>', 'measured runs per repeat instead of a duration', intArg('--iterations', 1))
    .option('--warmup <n>', 'warm-up runs, excluded', intArg('--warmup', 1), 2)
    .option('--repeats <n>', 'processes per configuration, interleaved (default 3; 1 with --find-batch)', intArg('--repeats', 1))
    .option('--no-baseline', 'leave out the naive path (portable graph, runtime defaults, batch 1)')
    .addOption(jsonOption('the report (Markdown by default)'))
    .addOption(reportOption())
    .option('--chart <file>', 'chart of the results (.svg or .png)')
    .option('--find-batch', 'search the batch size: largest within --memory-budget, fastest within --latency-slo')
    .option('--memory-budget <size>', 'peak memory budget for --find-batch, e.g. 1.5GB', parseBytes('--memory-budget'))
    .option('--latency-slo <time>', 'p95 latency objective for --find-batch, e.g. 100ms', parseMs('--latency-slo'))
    .option('--max-batch <n>', 'largest batch --find-batch tries', intArg('--max-batch', 1), 1024)
    .option('--memory-limit <size>', 'kill a configuration whose memory passes this (reported out of memory; default 75% of RAM)', parseBytes('--memory-limit'))
    .option('--timeout <time>', 'limit per configuration process, e.g. 10m (default 600s; a bare number is seconds)', durationArg('--timeout', 's'))
    .option('--no-hw', 'do not use the cached hardware profile (no roofline fraction)')
    .option('--probe-hw', 'measure the hardware profile first (vitopt hw) and cache it')
    .addOption(quietOption());
  deprecated(cmd, new Option('--markdown [file]', 'old spelling of --report (Markdown is printed by default)'), '--report <file>', (v, c) => {
    if (typeof v === 'string') setOption(c, 'report', '--report', v);
  });
  cmd.action(async (models: string[], o: Opts) => {
    if (o.findBatch && o.memoryBudget === undefined) throw new UserError('--find-batch needs --memory-budget (e.g. --memory-budget 1.5GB)');
    if (!o.findBatch && (o.memoryBudget !== undefined || o.latencySlo !== undefined)) {
      throw new UserError('--memory-budget and --latency-slo belong to --find-batch');
    }
    for (const f of [o.json, o.report, o.chart]) if (typeof f === 'string') await assertWritable(f);
    const { benchProgress } = await import('../bench/progress.js');
    const onProgress = o.quiet ? undefined : benchProgress();
    let profile = null;
    if (o.probeHw) {
      const { probeHardware, saveHwProfile, toHardwareProfile } = await import('../bench/hw.js');
      if (!o.quiet) process.stderr.write('measuring the hardware profile (vitopt hw) …\n');
      const p = await probeHardware({ threads: Math.max(...(o.threads ?? [availableParallelism()])) || availableParallelism() });
      await saveHwProfile(p);
      profile = toHardwareProfile(p);
    } else if (o.hw) {
      const { loadHwProfile, toHardwareProfile } = await import('../bench/hw.js');
      const p = await loadHwProfile();
      profile = p ? toHardwareProfile(p) : null;
    }
    const common = {
      models, engines: o.engine, threads: o.threads, workers: o.workers, graphs: o.graph,
      session: { graphOptimization: o.graphOpt, arena: o.arena, memPattern: o.memPattern, spinning: o.spinning, executionMode: o.executionMode,
        interOpThreads: o.interOpThreads },
      duration: o.duration, iterations: o.iterations, warmup: o.warmup, memoryLimitBytes: o.memoryLimit, timeoutS: o.timeout,
      profile, onProgress,
    };
    let report: unknown, markdown: string, svg: string;
    if (o.findBatch) {
      const { findBatch, renderBatchMarkdown } = await import('../bench/batch.js');
      const { batchChartSvg } = await import('../bench/chart.js');
      const r = await findBatch({ ...common, repeats: o.repeats ?? 1, memoryBudgetBytes: o.memoryBudget!, latencySloMs: o.latencySlo, maxBatch: o.maxBatch });
      report = r;
      markdown = renderBatchMarkdown(r);
      svg = batchChartSvg(r.searches);
    } else {
      const { runBench } = await import('../bench/runner.js');
      const { renderMarkdown } = await import('../bench/report.js');
      const { benchChartSvg } = await import('../bench/chart.js');
      const r = await runBench({ ...common, batches: o.batch, repeats: o.repeats, baseline: o.baseline });
      report = r;
      markdown = renderMarkdown(r);
      svg = benchChartSvg(r);
    }
    if (o.chart) {
      const { writeChart } = await import('../util/svg.js');
      await writeChart(o.chart, svg);
    }
    if (o.report) await writeFileAtomic(o.report, markdown);
    await emit(report, markdown, o.json);
  });
}
