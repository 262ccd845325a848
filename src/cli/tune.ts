/**
 * `vitopt tune <model> --data <spec> -o <dir> [constraints] [--objective …]`: the auto-tuner.
 * Exit codes: 0 a model was chosen; 3 nothing met the constraints (the report lists the nearest);
 * 2 bad input; 1 internal error. Progress: one line per stage and candidate on stderr (JSON lines
 * with --json, whose stdout is report.json; none with --quiet).
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { durationArg, emit, enumOption, floatArg, intArg, oneOf, parseBytes } from './common.js';
import { calibrationDataOption, calibrationSizeOption, dataOption, evalSizeOption, jsonOption, quietOption, reportOption } from './options.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { promises as fs } from 'node:fs';
import type { Objective, TuneEngine } from '../tune/types.js';
import type { TuneEvent } from '../tune/tune.js';
import { liveLine } from '../util/live-line.js';

interface TuneCliOptions {
  data?: string;
  calibrationData?: string;
  output: string;
  maxDrop?: number;
  minAccuracy?: number;
  latencySlo?: number;
  batch?: number;
  findBatch?: boolean;
  maxBatch: number;
  memoryBudget?: number;
  minThroughput?: number;
  objective: string;
  engine: string;
  threads?: number;
  timeBudget?: number;
  store?: string;
  resume?: boolean;
  json?: boolean | string;
  report?: string;
  quiet?: boolean;
  prune?: string;
  mergeTokens?: string;
  calibrationSize?: number;
  screenSize?: number;
  evalSize?: number;
  rounds?: number;
  duration?: number;
}

function pruneList(v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !(x > 0 && x <= 1))) throw new UserError(`--prune ${v}: expected FLOPs fractions in (0, 1], e.g. 1,0.85,0.7,0.5`);
  return xs;
}

function mergeList(v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !(Number.isInteger(x) && x >= 0))) throw new UserError(`--merge-tokens ${v}: expected tokens merged per block, non-negative integers, e.g. 0,4,8`);
  return xs;
}

/** Progress for people: one line per stage and per candidate (a terminal redraws the candidate line in place). */
function textProgress(): (e: TuneEvent) => void {
  const live = liveLine(process.stderr, 0), tty = live.tty;
  const line = (s: string, transient: boolean) => {
    if (tty && transient) return live.draw(s.slice(0, (process.stderr.columns ?? 120) - 1));
    live.clear();
    process.stderr.write(`${s}\n`);
  };
  let last = '';
  return (e) => {
    if (e.kind === 'stage') line(`tune: ${e.stage}${e.detail ? ` — ${e.detail}` : ''}`, false);
    else if (e.kind === 'note') line(`tune: ${e.text}`, false);
    else {
      const eta = e.etaS !== null ? `, eta ${Math.round(e.etaS)} s` : '';
      const best = e.best ? ` · best so far: ${e.best}` : '';
      const s = `tune: ${e.stage} [${Math.min(e.done + 1, e.total)}/${e.total}${eta}] ${e.what}${best}`;
      // Without a terminal, print each candidate once (not every progress tick of a long stage).
      const key = `${e.stage}|${e.what}`;
      if (!tty && key === last) return;
      last = key;
      line(s, true);
    }
  };
}

export function register(program: Command): void {
  program.command('tune')
    .description('auto-tune: prune, quantize, graph style, threads and batch under accuracy, latency and memory constraints; the fastest model that meets them, a before/after report and a run store')
    .argument('<model>', 'a zoo name (random weights: speed only), a checkpoint (.npz, .safetensors, fashion-vit, fashion-mixer) or an .onnx file')
    .requiredOption('-o, --output <dir>', 'output directory: model.onnx, report.html, report.md, report.json, reproduce.sh')
    .addOption(dataOption('labelled evaluation data (the accuracy constraints are measured on it)'))
    .addOption(calibrationDataOption('the images pruning refits and static INT8 ranges are fitted on'))
    .option('--max-drop <points>', 'largest top-1 drop against the baseline, percentage points', floatArg('--max-drop'))
    .option('--min-accuracy <pct>', 'smallest top-1, percent', floatArg('--min-accuracy'))
    .option('--latency-slo <time>', 'largest p95 latency of one call at the batch, e.g. 50ms or 0.2s (a bare number is ms)', durationArg('--latency-slo', 'ms'))
    .option('--batch <n>', 'batch size of the baseline and the candidates (default 8; 1 with --objective latency)', intArg('--batch', 1))
    .option('--find-batch', 'also search the batch size (powers of two up to --max-batch) for the best candidates')
    .option('--max-batch <n>', 'largest batch --find-batch tries', intArg('--max-batch', 1), 64)
    .option('--memory-budget <size>', 'largest peak resident memory of the serving process, e.g. 1.5GB or 600MiB', parseBytes('--memory-budget'))
    .option('--min-throughput <img/s>', 'smallest throughput, images per second', floatArg('--min-throughput'))
    .addOption(enumOption('--objective <o>', 'what the choice maximizes (throughput) or minimizes (latency, size)', ['throughput', 'latency', 'size'], 'throughput'))
    .addOption(enumOption('--engine <name>', 'engine: cpu (onnxruntime-node) or wasm (onnxruntime-web)', ['cpu', 'wasm'], 'cpu'))
    .option('--threads <n>', 'intra-op threads (default: the CPUs this process may use)', intArg('--threads', 1))
    .option('--time-budget <time>', 'stop the search after this long and decide on what was measured, e.g. 20m (a bare number is seconds)', durationArg('--time-budget', 's'))
    .option('--store <file>', 'run store (SQLite)', '.vitopt/runs.db')
    .option('--resume', 'reuse the speed measurements of an interrupted run of the same tune (artifacts and accuracy are always reused)')
    .option('--prune <list>', 'structured-pruning levels, FLOPs kept (default 1,0.85,0.7,0.5)')
    .option('--merge-tokens <list>', 'Token Merging levels to try, tokens merged per block (ViT only), e.g. 0,4,8 (default: none)')
    .addOption(calibrationSizeOption(256, 'for pruning and static INT8 of every candidate; fewer than prune\'s 512 to keep the search short'))
    .option('--screen-size <n>', 'images of the first, cheap accuracy pass (default 1000)', intArg('--screen-size', 1))
    .addOption(evalSizeOption())
    .option('--rounds <n>', 'interleaved speed rounds (default 3)', intArg('--rounds', 1))
    .option('--duration <time>', 'measured runs per speed measurement, e.g. 1.5s (default 1.5s; a bare number is seconds)', durationArg('--duration', 's'))
    .addOption(jsonOption('report.json (and progress as JSON lines on stderr when on stdout)', { wasFlag: true }))
    .addOption(reportOption('report.md (also in the output directory)'))
    .addOption(quietOption())
    .action(async (model: string, o: TuneCliOptions) => {
      const objective = oneOf<Objective>('--objective', o.objective, ['throughput', 'latency', 'size']);
      const engine = oneOf<TuneEngine>('--engine', o.engine, ['cpu', 'wasm']);
      if (o.maxDrop !== undefined && o.minAccuracy !== undefined) throw new UserError('give one of --max-drop or --min-accuracy, not both');
      for (const f of [typeof o.json === 'string' ? o.json : undefined, o.report]) if (f) await assertWritable(f);
      const { tune, validateTuneOptions } = await import('../tune/tune.js');
      const options = {
        model, data: o.data, calibrationData: o.calibrationData, output: o.output, objective, engine, batch: o.batch, findBatch: o.findBatch, maxBatch: o.maxBatch,
        threads: o.threads, timeBudgetS: o.timeBudget, store: o.store, resume: o.resume, pruneLevels: o.prune ? pruneList(o.prune) : undefined,
        mergeLevels: o.mergeTokens ? mergeList(o.mergeTokens) : undefined,
        calibrationSize: o.calibrationSize, screenSize: o.screenSize, evalSize: o.evalSize, rounds: o.rounds, duration: o.duration,
        constraints: { maxDrop: o.maxDrop, minAccuracy: o.minAccuracy, latencySloMs: o.latencySlo, memoryBudgetBytes: o.memoryBudget, minThroughput: o.minThroughput },
        command: ['vitopt', ...process.argv.slice(2)].map((a) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a}'`)).join(' '),
        onEvent: o.quiet ? () => {} : o.json === true ? (e: TuneEvent) => process.stderr.write(JSON.stringify(e) + '\n') : textProgress(),
      };
      for (const k of Object.keys(options.constraints) as (keyof typeof options.constraints)[]) if (options.constraints[k] === undefined) delete options.constraints[k];
      validateTuneOptions(options);
      const { report, feasible } = await tune(options);
      const { verdict } = await import('../tune/report.js');
      if (o.report) await writeFileAtomic(o.report, await fs.readFile(path.join(o.output, 'report.md'), 'utf8'));
      await emit(report, `${verdict(report)}\n` +
        `report: ${path.join(o.output, 'report.html')} (also report.md, report.json${feasible ? '; model: ' + path.join(o.output, 'model.onnx') + ', reproduce.sh' : ''})\n`, o.json);
      if (!feasible) process.exitCode = 3;
    });
}
