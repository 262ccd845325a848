/**
 * `vitopt loadtest <url> --model M`: load-test an Open Inference Protocol server the way Triton's
 * perf_analyzer does — concurrency levels (closed loop) or request rates (open loop), measurement
 * windows until the last three agree within --stability-pct, throughput and p50/p90/p95/p99 per
 * level, errors by status, the server's queue/compute split from /v2/models/{m}/stats, and every
 * answer checked against the expected class.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { assertWritable } from '../util/atomic.js';
import { durationArg, emit, enumOption, floatArg, intArg, intListArg } from './common.js';
import { deprecated, jsonOption, quietOption, setOption } from './options.js';
import { DATA_SPEC_HELP } from '../data/data-spec.js';

interface Flags {
  model?: string;
  concurrency?: number[];
  rate?: number[];
  distribution: 'constant' | 'poisson';
  duration?: number;
  requests?: number;
  windowMs: number;
  stabilityPct: number;
  maxWindows: number;
  images?: string;
  payload?: 'pixels' | 'bytes';
  format: 'binary' | 'json';
  batchSize: number;
  poolSize?: number;
  expect: 'reference' | 'labels' | 'none';
  tieTolerance: number;
  requestTimeoutMs: number;
  maxInflight: number;
  timelineMs: number;
  json?: boolean | string;
  csv?: string;
  chart?: string;
  quiet?: boolean;
}

function positiveList(flag: string) {
  return (v: string): number[] => v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const n = Number(s);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a comma-separated list of positive numbers, not '${v}'`);
    return n;
  });
}

function positiveNumber(flag: string) {
  const f = floatArg(flag);
  return (v: string): number => {
    const n = f(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${flag} must be a positive number`);
    return n;
  };
}

export function register(program: Command): void {
  const cmd = program.command('loadtest')
    .description('load-test a model server (perf_analyzer-style windows and stability rule; every answer checked)')
    .argument('<url>', 'the server, e.g. http://127.0.0.1:8000')
    .option('--model <name>', 'model to load (default: the only model the server serves)')
    .option('--concurrency <list>', 'closed-loop levels: requests always outstanding, e.g. 1,4,16,64 (default 1)', intListArg('--concurrency'))
    .option('--rate <list>', 'open-loop levels instead: requests per second, e.g. 50,100', positiveList('--rate'))
    .addOption(enumOption('--distribution <d>', 'arrivals in --rate mode', ['constant', 'poisson'], 'constant'))
    .option('--duration <time>', 'run each level this long instead of until stable, e.g. 30s (a bare number is seconds)', durationArg('--duration', 's'))
    .option('--requests <n>', 'send exactly n requests per level instead of until stable (soak runs)', intArg('--requests'))
    .option('--window-ms <time>', 'measurement window (a bare number is ms; 5s works too)', durationArg('--window-ms', 'ms', { min: 50 }), 5000)
    .option('--stability-pct <pct>', 'stable when the last 3 windows agree within this % (throughput and p95)', positiveNumber('--stability-pct'), 10)
    .option('--max-windows <n>', 'give up on stability after n windows (reported "unstable")', intArg('--max-windows', 3), 10)
    .option('--images <spec>', `what to send: ${DATA_SPEC_HELP}, or image files/folders (default: synthetic pixels)`)
    .addOption(enumOption('--payload <kind>', 'send FP32 pixels (preprocessed here) or encoded images (BYTES; default for image files)', ['pixels', 'bytes']))
    .addOption(enumOption('--format <f>', 'binary tensor data extension or JSON tensors', ['binary', 'json'], 'binary'))
    .option('--batch-size <n>', 'images per request (perf_analyzer\'s name; --batch elsewhere)', intArg('--batch-size'), 1)
    .option('--pool-size <n>', 'distinct images in the request pool (default: 2000 from --images, 16 synthetic)', intArg('--pool-size'))
    .addOption(enumOption('--expect <how>', 'check answers against a reference pass at concurrency 1, the dataset labels, or not at all', ['reference', 'labels', 'none'], 'reference'))
    .option('--tie-tolerance <logit>', 'reference mode: a different top-1 within this logit of the expected class is a tie, not a mismatch', floatArg('--tie-tolerance'), 1e-3)
    .option('--request-timeout-ms <time>', 'a request unanswered this long is counted lost (a bare number is ms)', durationArg('--request-timeout-ms', 'ms'), 30_000)
    .option('--max-inflight <n>', '--rate mode: most outstanding requests; sends due beyond it are dropped and counted', intArg('--max-inflight'), 1024)
    .option('--timeline-ms <time>', 'width of the per-level timeline buckets in the JSON report (a bare number is ms)', durationArg('--timeline-ms', 'ms', { min: 10 }), 250)
    .addOption(jsonOption())
    .option('--csv <file>', 'write perf_analyzer\'s CSV columns (µs), one row per level')
    .option('--chart <file>', 'write the latency-vs-load chart (.svg or .png)')
    .addOption(quietOption());
  deprecated(cmd, new Option('--limit <n>', 'old spelling of --pool-size').argParser(intArg('--limit')), '--pool-size', (v, c) => setOption(c, 'poolSize', '--pool-size', v));
  deprecated(cmd, enumOption('--input <kind>', 'old spelling of --payload', ['pixels', 'bytes']), '--payload', (v, c) => setOption(c, 'payload', '--payload', v));
  cmd.action(async (url: string, o: Flags) => {
    for (const f of [o.csv, o.chart, typeof o.json === 'string' ? o.json : undefined]) if (f) await assertWritable(f);
    const { runLoadtest, renderText, renderCsv, latencyChartSvg } = await import('../loadtest/index.js');
    const report = await runLoadtest({
      url, model: o.model, concurrency: o.concurrency, rate: o.rate, distribution: o.distribution, durationS: o.duration, requests: o.requests,
      windowMs: o.windowMs, stabilityPct: o.stabilityPct, maxWindows: o.maxWindows, images: o.images, input: o.payload, format: o.format,
      batchSize: o.batchSize, limit: o.poolSize, expect: o.expect, tieTolerance: o.tieTolerance, requestTimeoutMs: o.requestTimeoutMs,
      maxInflight: o.maxInflight, bucketMs: o.timelineMs,
      onProgress: o.quiet ? undefined : (line) => process.stderr.write(`loadtest: ${line}\n`),
    });
    const { writeFileAtomic } = await import('../util/atomic.js');
    if (o.csv) await writeFileAtomic(o.csv, renderCsv(report));
    if (o.chart) {
      const { writeChart } = await import('../util/svg.js');
      await writeChart(o.chart, latencyChartSvg(report));
    }
    await emit(report, renderText(report), o.json);
  });
}
