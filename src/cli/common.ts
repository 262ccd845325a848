/** Shared bits of the CLI: option parsing helpers and report output. */
import { InvalidArgumentError, Option } from 'commander';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../errors.js';
import type { EngineOptions } from '../engines/options.js';
import type { Normalization } from '../data/preprocess.js';

export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/** A comma-separated list of integers >= min (batch sizes, thread counts, concurrency levels). */
export function intListArg(flag: string, min = 1) {
  return (v: string): number[] => {
    const xs = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (!xs.length || xs.some((n) => !Number.isInteger(n) || n < min)) {
      throw new InvalidArgumentError(`${flag} must be a comma-separated list of integers >= ${min}, not '${v}'`);
    }
    return xs;
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

export const GRAPH_OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export const PROVIDERS = ['cpu', 'webgpu', 'cuda', 'tensorrt'] as const;

/**
 * The engine options of a parsed command line. The values were checked by commander already; they are
 * checked again here because library callers and tests pass plain objects (a UserError, never a
 * model-file error: `--engine bogus` is a problem with the flag).
 */
export function engineOptionsFrom(o: Record<string, unknown>): EngineOptions {
  const level = o.graphOpt === undefined ? undefined : oneOf('--graph-opt', String(o.graphOpt), GRAPH_OPT_LEVELS);
  // The old --provider spelling is mapped onto `engine` by its alias (src/cli/options.ts).
  const provider = o.engine === undefined ? undefined : oneOf('--engine', String(o.engine), PROVIDERS);
  return {
    threads: o.threads as number | undefined,
    graphOptimization: level,
    arena: o.arena as boolean | undefined,
    provider,
  };
}

/** '1.5GB', '800MiB', '2G', '512M', '1e9' → bytes (KB/MB/GB decimal, KiB/MiB/GiB binary, bare K/M/G binary). */
export function parseBytes(flag: string) {
  return (v: string): number => {
    const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(i?)(b?)\s*$/i.exec(v);
    if (!m) throw new InvalidArgumentError(`${flag} must be a size such as 1.5GB, 800MiB or 2G, not '${v}'`);
    const n = Number(m[1]);
    const unit = m[2]!.toLowerCase();
    const exp = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit]!;
    const binary = m[3] !== '' || (m[4] === '' && exp > 0);
    const bytes = n * (binary ? 1024 : 1000) ** exp;
    if (!(bytes > 0)) throw new InvalidArgumentError(`${flag} must be > 0`);
    return bytes;
  };
}

export type DurationUnit = 'us' | 'ms' | 's';
/** Microseconds per unit (integers: no rounding error in 2s → 2000 ms). */
const UNIT_US: Record<string, number> = { us: 1, 'µs': 1, ms: 1e3, s: 1e6, m: 6e7, min: 6e7, h: 3.6e9 };

/**
 * A duration, one parser for every duration flag: a number with a unit (`250us`, `500ms`, `30s`,
 * `2m`, `1h`) or a bare number in the flag's own unit (the unit its name or help states: `--timeout-ms
 * 5000`, `--duration 3`). Returned in that unit. Zero only where `allowZero` (e.g. "0 = none").
 */
export function durationArg(flag: string, unit: DurationUnit, o: { allowZero?: boolean; min?: number } = {}) {
  return (v: string): number => {
    const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(us|µs|ms|s|m|min|h)?\s*$/i.exec(v);
    if (!m) throw new InvalidArgumentError(`${flag} must be a duration such as 500ms, 30s or 2m (a bare number is ${unit}), not '${v}'`);
    const x = Number(m[1]) * (m[2] ? UNIT_US[m[2].toLowerCase()]! / UNIT_US[unit]! : 1);
    if (!(x > 0) && !(o.allowZero && x === 0)) throw new InvalidArgumentError(`${flag} must be ${o.allowZero ? '>= 0' : '> 0'}, not '${v}'`);
    if (o.min !== undefined && x < o.min) throw new InvalidArgumentError(`${flag} must be at least ${o.min}${unit}, not '${v}'`);
    return x;
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
