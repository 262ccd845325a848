/** Shared bits of the CLI: option parsing helpers and report output. */
import { InvalidArgumentError, Option } from 'commander';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../errors.js';
import type { EngineOptions } from '../engines/options.js';
import type { Normalization } from '../data/preprocess.js';
import type { Command } from 'commander';

export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

export function floatArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

/**
 * An option that takes one of a fixed set of values. commander checks the value while parsing, before
 * any work starts, and a bad one is one line naming the flag and the allowed values (exit 2):
 *   error: option '--graph-opt <level>' argument 'bogus' is invalid. Allowed choices are disabled, basic, extended, all.
 */
export function enumOption(flags: string, description: string, choices: readonly string[], defaultValue?: string): Option {
  const o = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

/** A flag's value checked against its allowed set (for values that do not come from the command line). */
export function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UserError(`${flag} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

/** Fails before any work when a command's outputs (model, --report, --json file) cannot be written. */
export async function assertOutputs(o: { output: string; report?: string; json?: boolean | string }): Promise<void> {
  if (!/\.onnx$/i.test(o.output)) throw new UserError(`--output ${o.output}: must be an .onnx file`);
  await assertWritable(o.output);
  if (o.report) await assertWritable(o.report);
  if (typeof o.json === 'string') await assertWritable(o.json);
}

/** The options of commands that write a compressed model and report on it (quantize, prune). */
export function addCompressionReportOptions(cmd: Command): Command {
  return cmd
    .option('--no-bench', 'skip the side-by-side throughput measurement')
    .option('--bench-batch <n>', 'batch size of the throughput measurement', intArg('--bench-batch', 1), 8)
    .option('--report <file>', 'also write the report as Markdown')
    .option('--json [file]', 'print the report as JSON (or write it to file and print the text)');
}

/**
 * --mean / --std: the input statistics of a model trained with other than the official
 * (x − 127.5) / 127.5 (e.g. a PyTorch export with ImageNet mean/std), which a foreign ONNX file
 * does not say. On the [0, 1] pixel scale, three values or one for all channels.
 */
export function addNormalizationOptions(cmd: Command): Command {
  return cmd
    .option('--mean <r,g,b>', 'pixel images: per-channel mean on the 0-1 scale (e.g. 0.485,0.456,0.406); default: the model\'s own, else the official (x - 127.5) / 127.5')
    .option('--std <r,g,b>', 'pixel images: per-channel standard deviation on the 0-1 scale (e.g. 0.229,0.224,0.225); with --mean');
}

function channelTriple(flag: string, v: string, positive: boolean): [number, number, number] {
  const xs = v.split(',').map((t) => Number(t.trim()));
  if ((xs.length !== 1 && xs.length !== 3) || xs.some((x) => !Number.isFinite(x) || (positive && !(x > 0)))) {
    throw new UserError(`${flag} ${v}: expected one or three comma-separated ${positive ? 'positive ' : ''}numbers (0-1 pixel scale)`);
  }
  return xs.length === 1 ? [xs[0]!, xs[0]!, xs[0]!] : xs as [number, number, number];
}

/** The normalization asked for with --mean/--std, or undefined (the model's own applies). */
export function normalizationFrom(o: { mean?: string; std?: string }): Normalization | undefined {
  if (o.mean === undefined && o.std === undefined) return undefined;
  if (o.mean === undefined || o.std === undefined) throw new UserError('--mean and --std go together');
  return { mean: channelTriple('--mean', o.mean, false), std: channelTriple('--std', o.std, true) };
}

/** Adds the engine session options shared by every command that runs a model. */
export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('--threads <n>', 'intra-op threads (0 = ONNX Runtime default)', intArg('--threads', 0))
    .addOption(enumOption('--graph-opt <level>', 'graph optimization level', GRAPH_OPT_LEVELS))
    .option('--no-arena', 'disable the CPU memory arena')
    .addOption(enumOption('--provider <ep>', 'execution provider', PROVIDERS, 'cpu'));
}

export const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export const PROVIDERS = ['cpu', 'webgpu', 'cuda', 'tensorrt'] as const;

/**
 * The engine options of a parsed command line. The values were checked by commander already; they are
 * checked again here because library callers and tests pass plain objects (a UserError, never a
 * model-file error: `--provider bogus` is a problem with the flag).
 */
export function engineOptionsFrom(o: Record<string, unknown>): EngineOptions {
  const level = o.graphOpt === undefined ? undefined : oneOf('--graph-opt', String(o.graphOpt), GRAPH_OPT_LEVELS);
  const provider = o.provider === undefined ? undefined : oneOf('--provider', String(o.provider), PROVIDERS);
  return {
    threads: o.threads as number | undefined,
    graphOptimization: level,
    arena: o.arena as boolean | undefined,
    provider,
  };
}

/** Print a report: JSON to stdout (or a file) with --json, else the human text. */
export async function emit(report: unknown, text: string, json: boolean | string | undefined): Promise<void> {
  if (typeof json === 'string') {
    await writeFileAtomic(json, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  } else if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}
