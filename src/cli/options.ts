/**
 * The CLI's one vocabulary: every option that more than one command takes is defined here, once, so
 * that the same idea has the same flag, the same value syntax and the same help on every command
 * (docs/cli.md, "The shared vocabulary"). Old spellings are hidden aliases that still work and print
 * one deprecation line on stderr naming the new spelling (`deprecated()` below; applied by the
 * preAction hook that src/cli/main.ts installs).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../errors.js';
import { DATA_SPEC_HELP } from '../data/data-spec.js';
import { enumOption, GRAPH_OPT_LEVELS, intArg, oneOf, PROVIDERS } from './common.js';

// ---------------------------------------------------------------------------------------------
// Reports and progress

/**
 * `--json [file]`: the report as JSON on stdout, or written to the file (the text still printed).
 * `wasFlag`: on the commands where --json used to be a plain flag, a script may have put it before a
 * positional argument (`predict --json fashion-vit x.png`), which it would now take as the file; there
 * the file must end in .json, so such a line fails at once with one line saying what to do instead.
 */
export function jsonOption(what = 'the report', o: { wasFlag?: boolean } = {}): Option {
  const opt = new Option('--json [file]', `print ${what} as JSON (with a file: write the JSON there and print the text)`);
  if (!o.wasFlag) return opt;
  return opt.argParser((v: string) => {
    if (!/\.json$/i.test(v)) throw new InvalidArgumentError(`the file must end in .json (to print JSON on stdout, put --json after the arguments)`);
    return v;
  });
}

/** `--report <file>`: the report as Markdown. */
export function reportOption(what = 'the report'): Option {
  return new Option('--report <file>', `also write ${what} as Markdown`);
}

/** `--quiet`: no progress on stderr (errors and deprecation lines still appear). */
export function quietOption(): Option {
  return new Option('--quiet', 'no progress on stderr');
}

// ---------------------------------------------------------------------------------------------
// Data

/** `--data <spec>`: evaluation data (labelled images the command measures accuracy on). */
export function dataOption(what = 'evaluation data (top-1, agreement)'): Option {
  return new Option('--data <spec>', `${what}: ${DATA_SPEC_HELP}`);
}

/** `--calibration-data <spec>`: the images a command fits on (default: the training split of --data). */
export function calibrationDataOption(what: string): Option {
  return new Option('--calibration-data <spec>', `${what} (default: the training split of --data where it has one, else --data itself)`);
}

/**
 * `--calibration-size <n>`. The default differs per purpose on purpose, and the help says why:
 * prune refits whole layers by least squares (docs/pruning.md: 512; 2,048 changed top-1 by < 0.05
 * pt), static INT8 only fits activation ranges (docs/quantization.md: a few hundred, 300), and the
 * tuner calibrates every candidate of its search (256, a compromise between the two for speed).
 */
export function calibrationSizeOption(defaultSize: number, why: string): Option {
  return new Option('--calibration-size <n>', `calibration images (default ${defaultSize}: ${why})`).argParser(intArg('--calibration-size', 1));
}

/** `--eval-size <n>`: evaluate on at most n images of --data. */
export function evalSizeOption(defaultSize?: number, defaultText = 'all'): Option {
  const o = new Option('--eval-size <n>', `evaluate on at most n images of --data${defaultSize === undefined ? ` (default: ${defaultText})` : ''}`)
    .argParser(intArg('--eval-size', 1));
  return defaultSize === undefined ? o : o.default(defaultSize);
}

// ---------------------------------------------------------------------------------------------
// Engines and graphs

/** `--engine <name>` of the commands that run one model in this process (onnxruntime-node providers). */
export function engineOption(): Option {
  return enumOption('--engine <name>', 'engine: onnxruntime-node with this execution provider', PROVIDERS, 'cpu');
}

/** `--graph-opt <level>`: ONNX Runtime's graph optimization level. */
export function graphOptOption(): Option {
  return enumOption('--graph-opt <level>', 'ONNX Runtime graph optimization level', GRAPH_OPT_LEVELS);
}

/** `--graph <style>`: ort (ONNX Runtime fused contrib ops) or portable (standard ONNX ops only). */
export const GRAPH_STYLES = ['ort', 'portable'] as const;
export function graphOption(description: string, defaultValue?: string): Option {
  return enumOption('--graph <style>', `graph style: ort (ONNX Runtime fused ops) or portable (standard ONNX only; loads in onnxruntime-web); ${description}`,
    GRAPH_STYLES, defaultValue);
}

/** The parsed `--graph` (checked again for library callers passing plain objects), or undefined when not given. */
export function graphStyleFrom(o: { graph?: string }): (typeof GRAPH_STYLES)[number] | undefined {
  return o.graph === undefined ? undefined : oneOf('--graph', o.graph, GRAPH_STYLES);
}

/** The engine session options shared by every command that runs a model in this process. */
export function addEngineOptions(cmd: Command): Command {
  cmd
    .option('--threads <n>', 'intra-op threads (0 = ONNX Runtime default)', intArg('--threads', 0))
    .addOption(graphOptOption())
    .option('--no-arena', 'disable the CPU memory arena')
    .addOption(engineOption());
  return deprecated(cmd, enumOption('--provider <ep>', 'old spelling of --engine', PROVIDERS), '--engine', (v, c) => setOption(c, 'engine', '--engine', v));
}

/** `--portable`, the old spelling of `--graph portable` (convert, prune, quantize). */
export function addPortableAlias(cmd: Command): Command {
  return deprecated(cmd, new Option('--portable', 'old spelling of --graph portable'), '--graph portable', (_v, c) => setOption(c, 'graph', '--graph', 'portable'));
}

/** The options of commands that write a compressed model and report on it (quantize, prune). */
export function addCompressionReportOptions(cmd: Command): Command {
  return cmd
    .option('--no-bench', 'skip the side-by-side throughput measurement')
    .option('--bench-batch <n>', 'batch size of the throughput measurement', intArg('--bench-batch', 1), 8)
    .addOption(reportOption())
    .addOption(jsonOption())
    .addOption(quietOption());
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

// ---------------------------------------------------------------------------------------------
// Deprecated spellings

interface Alias {
  key: string;
  flag: string;
  replacement: string;
  apply(value: unknown, cmd: Command): void;
}

const ALIASES = new WeakMap<Command, Alias[]>();

/**
 * Registers `option` as a hidden, deprecated spelling: it parses (and validates) as before, is left
 * out of --help, and when given prints `vitopt: <old> is deprecated: use <replacement>` once, then
 * `apply` moves its value to the new option.
 */
export function deprecated(cmd: Command, option: Option, replacement: string, apply: Alias['apply']): Command {
  cmd.addOption(option.hideHelp());
  const list = ALIASES.get(cmd) ?? [];
  list.push({ key: option.attributeName(), flag: option.long!, replacement, apply });
  ALIASES.set(cmd, list);
  return cmd;
}

/** The deprecated spellings a command accepts: [old flag, new spelling] (tests and docs). */
export function deprecatedFlags(cmd: Command): [string, string][] {
  return (ALIASES.get(cmd) ?? []).map((a) => [a.flag, a.replacement]);
}

/** Sets option `key` from an alias, unless the new spelling was given too (then: one of them, please). */
export function setOption(cmd: Command, key: string, flag: string, value: unknown): void {
  if (cmd.getOptionValueSource(key) === 'cli') throw new UserError(`${flag} and its old spelling given together: give ${flag} only`);
  cmd.setOptionValueWithSource(key, value, 'cli');
}

/** Applies the deprecated spellings used on a parsed command line (a preAction hook, src/cli/main.ts). */
export function applyDeprecated(cmd: Command): void {
  for (const a of ALIASES.get(cmd) ?? []) {
    if (cmd.getOptionValueSource(a.key) !== 'cli') continue;
    // Applied first: a clash with the new spelling is the one line on stderr, not a second one.
    a.apply(cmd.getOptionValue(a.key), cmd);
    process.stderr.write(`vitopt: ${a.flag} is deprecated: use ${a.replacement}\n`);
  }
}

/** Installs the hook that applies deprecated spellings before any command's action runs. */
export function installDeprecations(program: Command): Command {
  return program.hook('preAction', (_program, action) => applyDeprecated(action));
}
