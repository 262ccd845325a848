/**
 * Argument parsing of the bench scripts (bench/*.ts), through commander as the CLI does: `--help` lists
 * every flag with its default, and a bad value is one line on stderr and exit 2 before any work starts
 * (`error: option '--rounds <n>' argument 'x' is invalid. --rounds must be an integer >= 1`).
 *
 *   const o = parseBench(benchCommand('latency', 'batch-1 latency of one model')
 *     .option('--model <name>', 'zoo name', 'ViT-B_32'), { rounds: 7, out: 'docs/speed-bench' });
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { floatArg, intArg, intListArg } from '../../src/cli/common.js';

export { floatArg, intArg, intListArg };

/** A bench script's command: help and usage errors exit 0 and 2 (the CLI's codes), never 1. */
export function benchCommand(name: string, description: string): Command {
  return new Command(name).description(description).showHelpAfterError(false).allowExcessArguments(false)
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));
}

/** A number > 0 (seconds, fractions). */
export function positiveArg(name: string) {
  const f = floatArg(name);
  return (v: string): number => {
    const n = f(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a number > 0`);
    return n;
  };
}

/** A comma-separated list of non-empty names; with `allowed`, each must be one of them. */
export function listArg(name: string, allowed?: readonly string[]) {
  return (v: string): string[] => {
    const xs = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!xs.length) throw new InvalidArgumentError(`${name} must name at least one item`);
    const bad = allowed ? xs.filter((x) => !allowed.includes(x)) : [];
    if (bad.length) throw new InvalidArgumentError(`${name}: unknown ${bad.join(', ')} (allowed: ${allowed!.join(', ')})`);
    return xs;
  };
}


/** The flags most bench scripts share, by name; each script passes its own defaults. */
export interface CommonDefaults {
  /** --threads <n>: intra-op threads. */
  threads?: number;
  /** --rounds <n>: interleaved rounds (every configuration once per round). */
  rounds?: number;
  /** --seconds <s>: seconds per configuration per round. */
  seconds?: number;
  /** --repeats <n>: repeats per configuration (one process each). */
  repeats?: number;
  /** --duration <s>: seconds of timed runs per repeat. */
  duration?: number;
  /** --batches <list>: batch sizes. */
  batches?: number[];
  /** --out <dir>: where the report files are written. */
  out?: string;
}

/** Adds the common flags named in `d`, with those defaults (shown in --help as written on a command line). */
export function addCommonOptions(cmd: Command, d: CommonDefaults): Command {
  if (d.threads !== undefined) cmd.option('--threads <n>', 'intra-op threads', intArg('--threads', 1), d.threads);
  if (d.rounds !== undefined) cmd.option('--rounds <n>', 'interleaved rounds (every configuration once per round)', intArg('--rounds', 1), d.rounds);
  if (d.seconds !== undefined) cmd.option('--seconds <s>', 'seconds per configuration per round', positiveArg('--seconds'), d.seconds);
  if (d.repeats !== undefined) cmd.option('--repeats <n>', 'repeats per configuration (interleaved)', intArg('--repeats', 1), d.repeats);
  if (d.duration !== undefined) cmd.option('--duration <s>', 'seconds of timed runs per repeat', positiveArg('--duration'), d.duration);
  if (d.batches !== undefined) cmd.addOption(listOption('--batches <list>', 'batch sizes', intListArg('--batches'), d.batches.join(',')));
  if (d.out !== undefined) cmd.option('--out <dir>', 'where the report files are written', d.out);
  return cmd;
}

/** An option whose value is a list, its default given as it would be typed ("1,8") and parsed like a typed value. */
export function listOption<T>(flags: string, description: string, parse: (v: string) => T[], defaultText: string) {
  return new Option(flags, description).argParser(parse).default(parse(defaultText), defaultText);
}

/**
 * Adds the common flags named in `common`, parses the command line (process.argv) and returns the
 * options, typed as the script declares them (common ones included); exits 0 after --help, 2 on a bad flag.
 */
export function parseBench<T extends object>(cmd: Command, common: CommonDefaults = {}): T {
  addCommonOptions(cmd, common);
  cmd.parse();
  return cmd.opts<T>();
}

/** A bad combination of flags found after parsing: one line on stderr and exit 2, as commander's own errors. */
export function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** The arguments the script was run with (for the report's "Command:" line). */
export const argv = process.argv.slice(2);

/** A log line on stderr with the time of day. */
export function log(s: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
}
