/**
 * One vocabulary (docs/cli.md): the same idea has the same flag, value syntax and meaning on every
 * command that has it; old spellings are hidden, still work and print one deprecation line; every
 * error, commander's own included, is one line starting `vitopt:`. The rules are checked against
 * the CLI's own registry, so a new command or option is covered without touching this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../src/util/paths.js';
import * as path from 'node:path';
import { Command, type Option } from 'commander';
import { COMMANDS } from '../../src/cli/commands.js';
import { durationArg, PROVIDERS } from '../../src/cli/common.js';
import { deprecatedFlags } from '../../src/cli/options.js';
import { parseMs } from '../../src/cli/bench.js';
import { oneLineError, runCli, tmp } from './fixtures.js';

function program(): Command {
  const p = new Command('vitopt').exitOverride();
  for (const c of COMMANDS) c.register(p);
  return p;
}

function commandPaths(c: Command, prefix: string[] = []): { name: string; cmd: Command }[] {
  return c.commands.flatMap((s) => [{ name: [...prefix, s.name()].join(' '), cmd: s }, ...commandPaths(s, [...prefix, s.name()])]);
}

const commands = commandPaths(program());
const visible = (c: Command) => c.options.filter((o) => !o.hidden);
const opt = (c: Command, long: string): Option | undefined => visible(c).find((o) => o.long === long);
const withFlag = (long: string) => commands.filter((c) => opt(c.cmd, long));
/** The value syntax of an option: `--json [file]` → `[file]`. */
const value = (o: Option) => o.flags.replace(/^-\w, /, '').split(' ').slice(1).join(' ');

test('the same flag takes the same value on every command (sweeps and searches take lists)', () => {
  const spellings = new Map<string, Map<string, string[]>>();
  for (const { name, cmd } of commands) {
    for (const o of visible(cmd)) {
      let v = value(o);
      // Documented exceptions: bench sweeps its settings and tune searches token-merging levels, so
      // those take a list of the value; an output is a file or, where a command writes several, a folder.
      if (v === '<list>' && (name === 'bench' || (name === 'tune' && o.long === '--merge-tokens'))) continue;
      if (o.long === '--output') v = v.replace('<dir>', '<file>');
      const m = spellings.get(o.long!) ?? new Map<string, string[]>();
      m.set(v, [...(m.get(v) ?? []), name]);
      spellings.set(o.long!, m);
    }
  }
  const differing = [...spellings].filter(([, m]) => m.size > 1).map(([k, m]) => `${k}: ${JSON.stringify([...m])}`);
  assert.deepEqual(differing, []);
});

test('reports: --json [file] on every command with a JSON report, --report <file> for Markdown', () => {
  const json = withFlag('--json');
  for (const n of ['models', 'convert', 'predict', 'analyze', 'eval', 'prune', 'quantize', 'bench', 'hw', 'profile', 'tune', 'runs list', 'runs show', 'runs compare', 'web', 'loadtest']) {
    assert.ok(json.some((c) => c.name === n), `${n} has --json`);
  }
  for (const { name, cmd } of json) assert.equal(opt(cmd, '--json')!.flags, '--json [file]', name);
  const report = withFlag('--report');
  assert.deepEqual(report.map((c) => c.name).sort(), ['bench', 'prune', 'quantize', 'tune']);
  for (const { name, cmd } of report) assert.equal(opt(cmd, '--report')!.flags, '--report <file>', name);
});

test('data: --data is evaluation data, --calibration-data / --calibration-size what is fitted on, --eval-size how much is evaluated', () => {
  for (const { name, cmd } of withFlag('--data')) {
    assert.equal(opt(cmd, '--data')!.flags, '--data <spec>', name);
    assert.match(opt(cmd, '--data')!.description, /evaluation data/, name);
    assert.ok(opt(cmd, '--eval-size'), `${name}: --data goes with --eval-size`);
  }
  for (const n of ['prune', 'quantize', 'tune']) {
    const c = commands.find((x) => x.name === n)!.cmd;
    assert.equal(opt(c, '--calibration-data')?.flags, '--calibration-data <spec>', n);
    assert.match(opt(c, '--calibration-data')!.description, /default: the training split of --data/, n);
    // Per-purpose defaults, each with its reason in the help.
    assert.match(opt(c, '--calibration-size')!.description, /\(default \d+: .{20,}\)/, n);
  }
  assert.ok(withFlag('--calibration-data').every((c) => opt(c.cmd, '--data')), 'calibration data defaults to the training split of --data');
});

test('engines and graphs: --engine everywhere (no --provider), --graph everywhere (no --portable)', () => {
  for (const n of ['predict', 'eval', 'prune', 'quantize', 'profile']) {
    const c = commands.find((x) => x.name === n)!.cmd;
    assert.deepEqual(opt(c, '--engine')?.argChoices, [...PROVIDERS], n);
  }
  assert.ok(opt(commands.find((x) => x.name === 'bench')!.cmd, '--engine'));
  assert.ok(opt(commands.find((x) => x.name === 'tune')!.cmd, '--engine'));
  for (const n of ['convert', 'prune', 'quantize', 'profile']) {
    assert.deepEqual(opt(commands.find((x) => x.name === n)!.cmd, '--graph')?.argChoices, ['ort', 'portable'], n);
  }
  const retired = ['--provider', '--portable', '--limit', '--markdown', '--eval', '--seconds'];
  for (const { name, cmd } of commands) {
    for (const o of visible(cmd)) assert.ok(!retired.includes(o.long!), `${name} ${o.long} is an old spelling: hidden`);
  }
});

test('--quiet on every command that reports progress; durations take units', () => {
  const quiet = withFlag('--quiet').map((c) => c.name).sort();
  assert.deepEqual(quiet, ['bench', 'eval', 'hw', 'loadtest', 'prune', 'quantize', 'tune', 'web']);
  for (const { name, cmd } of commands) {
    for (const o of visible(cmd)) {
      if (/-(ms|us)$|^--(duration|timeout|time-budget|latency-slo)$/.test(o.long!)) assert.equal(value(o), '<time>', `${name} ${o.long}`);
    }
  }
  const ms = durationArg('--x', 'ms');
  assert.equal(ms('250'), 250);
  assert.equal(ms('2s'), 2000);
  assert.equal(ms('1.5m'), 90_000);
  assert.equal(ms('500us'), 0.5);
  assert.equal(durationArg('--x', 's')('500ms'), 0.5);
  assert.equal(durationArg('--x', 'us')('2ms'), 2000);
  assert.equal(durationArg('--x', 'ms', { allowZero: true })('0'), 0);
  assert.throws(() => ms('0'), /--x must be > 0/);
  assert.throws(() => ms('soon'), /--x must be a duration/);
  assert.throws(() => durationArg('--window-ms', 'ms', { min: 50 })('10'), /at least 50ms/);
  assert.equal(parseMs('--x')('0.25s'), 250);
});

/** [command words, old spelling args, the same with the new spelling given too (a clash: one line, exit 2)]. */
const ALIASES: { words: string[]; old: string[]; clash: string[]; flag: string }[] = [
  { words: ['predict', 'fashion-vit', 'x.png'], old: ['--provider', 'cpu'], clash: ['--engine', 'cpu'], flag: '--provider' },
  { words: ['eval', 'fashion-vit', '--data', 'fashion-mnist-subset'], old: ['--limit', '5'], clash: ['--eval-size', '5'], flag: '--limit' },
  { words: ['convert', 'fashion-vit', '-o', 'x.onnx'], old: ['--portable'], clash: ['--graph', 'ort'], flag: '--portable' },
  { words: ['prune', 'fashion-vit', '-o', 'x.onnx', '--method', 'heads', '--ratio', '0.3', '--data', 'fashion-mnist-subset'], old: ['--eval', 'fashion-mnist-subset'],
    clash: ['--calibration-data', 'fashion-mnist-subset'], flag: '--eval' },
  { words: ['quantize', 'fashion-vit', '-o', 'x.onnx', '--mode', 'dynamic'], old: ['--portable'], clash: ['--graph', 'ort'], flag: '--portable' },
  { words: ['bench', 'fashion-vit'], old: ['--markdown', 'x.md'], clash: ['--report', 'x.md'], flag: '--markdown' },
  { words: ['hw'], old: ['--seconds', '1'], clash: ['--duration', '1'], flag: '--seconds' },
  { words: ['loadtest', 'http://127.0.0.1:9'], old: ['--limit', '3'], clash: ['--pool-size', '3'], flag: '--limit' },
  { words: ['loadtest', 'http://127.0.0.1:9'], old: ['--input', 'bytes'], clash: ['--payload', 'bytes'], flag: '--input' },
  { words: ['profile', 'fashion-vit'], old: ['--provider', 'cpu'], clash: ['--engine', 'cpu'], flag: '--provider' },
  { words: ['eval', 'fashion-vit', '--data', 'fashion-mnist-subset'], old: ['--provider', 'cpu'], clash: ['--engine', 'cpu'], flag: '--provider' },
  { words: ['prune', 'fashion-vit', '-o', 'x.onnx', '--method', 'magnitude', '--ratio', '0.5'], old: ['--provider', 'cpu'], clash: ['--engine', 'cpu'], flag: '--provider' },
  { words: ['prune', 'fashion-vit', '-o', 'x.onnx', '--method', 'magnitude', '--ratio', '0.5'], old: ['--portable'], clash: ['--graph', 'ort'], flag: '--portable' },
  { words: ['quantize', 'fashion-vit', '-o', 'x.onnx', '--mode', 'dynamic'], old: ['--provider', 'cpu'], clash: ['--engine', 'cpu'], flag: '--provider' },
];

test('every old spelling is hidden, mapped to its new one, and given with it is one line naming the new flag, exit 2', () => {
  const registered = commands.flatMap(({ name, cmd }) => deprecatedFlags(cmd).map(([old]) => `${name} ${old}`));
  const covered = new Set(ALIASES.map((a) => `${a.words[0]} ${a.flag}`));
  for (const r of registered) assert.ok(covered.has(r), `${r}: add it to ALIASES`);
  for (const { name, cmd } of commands) {
    for (const [old] of deprecatedFlags(cmd)) assert.ok(cmd.options.find((o) => o.long === old)!.hidden, `${name} ${old} hidden`);
  }
  const dir = tmp();
  for (const a of ALIASES) {
    const args = [...a.words, ...a.old, ...a.clash].map((x) => (x.startsWith('x.') ? path.join(dir, x) : x));
    const line = oneLineError(runCli(args), /^vitopt: --[\w-]+ and its old spelling given together/);
    assert.ok(line.includes(a.clash[0]!), `${args.join(' ')}: ${line}`);
  }
});

test('the renamed-flags table in docs/cli.md lists every old spelling', () => {
  const doc = readFileSync(packagePath('docs', 'cli.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Renamed flags'));
  for (const { name, cmd } of commands) {
    for (const [old, now] of deprecatedFlags(cmd)) {
      const row = table.split('\n').find((l) => new RegExp(`^\\| \`[^|]*${old}(?![\\w-])`).test(l) && (l.includes(name) || !/^\| `[a-z]+ --/.test(l)));
      assert.ok(row, `docs/cli.md: no row for ${name} ${old}`);
      assert.ok(row.includes(now.split(' ')[0]!), `docs/cli.md: ${name} ${old} -> ${now}: ${row}`);
    }
  }
});

const deprecation = (stderr: string) => stderr.split('\n').filter((l) => / is deprecated: use /.test(l));

test('old spellings still work and warn once: eval --limit, convert --portable, prune --data/--eval', () => {
  const e = runCli(['eval', 'fashion-vit', '--data', 'fashion-mnist-subset', '--limit', '7', '--provider', 'cpu', '--json']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { evaluated: number }).evaluated, 7);
  assert.deepEqual(deprecation(e.stderr), ['vitopt: --limit is deprecated: use --eval-size', 'vitopt: --provider is deprecated: use --engine']);

  const dir = tmp();
  const c = runCli(['convert', 'fashion-vit', '--portable', '-o', path.join(dir, 'p.onnx'), '--json']);
  assert.equal(c.status, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as { style: string }).style, 'portable');
  assert.deepEqual(deprecation(c.stderr), ['vitopt: --portable is deprecated: use --graph portable']);
  assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);

  // prune's old meaning: --data was the calibration set, --eval the evaluation set.
  const p = runCli(['prune', 'fashion-vit', '-o', path.join(dir, 'pr.onnx'), '--method', 'heads', '--ratio', '0.3', '--data', 'fashion-mnist-subset',
    '--calibration-size', '16', '--eval', 'fashion-mnist-subset', '--eval-size', '32', '--no-bench', '--threads', '1', '--json']);
  assert.equal(p.status, 0, p.stderr);
  const r = JSON.parse(p.stdout) as { calibration: { images: number }; accuracy: { images: number } | null };
  assert.equal(r.calibration.images, 16);
  assert.equal(r.accuracy?.images, 32, 'the --eval data was evaluated');
  // The new spellings: calibration only, no evaluation.
  const q = runCli(['prune', 'fashion-vit', '-o', path.join(dir, 'pr2.onnx'), '--method', 'heads', '--ratio', '0.3', '--calibration-data', 'fashion-mnist-subset',
    '--calibration-size', '16', '--no-bench', '--threads', '1', '--json']);
  assert.equal(q.status, 0, q.stderr);
  assert.equal((JSON.parse(q.stdout) as { accuracy: unknown }).accuracy, null);
  assert.deepEqual(deprecation(q.stderr), []);
  assert.equal(deprecation(p.stderr).length, 1, p.stderr);
});

test('commander\'s parse errors read like the commands\' own: one line, `vitopt: …`, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['eval', 'fashion-vit', '--data', 'x', '--no-such-flag'], /^vitopt: unknown option '--no-such-flag'/],
    [['eval', 'fashion-vit'], /^vitopt: required option '--data <spec>' not specified/],
    [['predict', 'fashion-vit', 'x.png', '--batch', '0'], /^vitopt: option '--batch <n>' argument '0' is invalid/],
    [['serve', '--timeout-ms', 'soon'], /^vitopt: option '--timeout-ms <time>' argument 'soon' is invalid/],
    [['no-such-command'], /^vitopt: unknown command 'no-such-command'/],
    [['predict'], /^vitopt: missing required argument 'model'/],
    [['eval', 'fashion-vit', '--data'], /^vitopt: option '--data <spec>' argument missing/],
    // and a command's own check, for comparison
    [['quantize', 'fashion-vit', '-o', 'x.onnx', '--mode', 'dynamic', '--max-drop', '1'], /^vitopt: --max-drop needs --data/],
  ];
  for (const [args, re] of cases) oneLineError(runCli(args), re);
});

test('--json with a file writes the JSON there and prints the text; a --json file that cannot be written fails first', () => {
  const dir = tmp();
  const file = path.join(dir, 'models.json');
  const r = runCli(['models', '--json', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Reference models/);
  assert.ok((JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length > 2);
  oneLineError(runCli(['analyze', 'ViT-B_16', '--json', path.join(dir, 'no', 'such', 'dir', 'a.json')]), /^vitopt: .*no[/\\]such[/\\]dir/);
});

test('--calibration-data is checked where it cannot apply, and read before any work where it does', () => {
  const dir = tmp();
  oneLineError(runCli(['prune', 'fashion-vit', '-o', path.join(dir, 'm.onnx'), '--method', 'magnitude', '--ratio', '0.5', '--calibration-data', 'fashion-mnist-subset']),
    /^vitopt: --calibration-data: --method magnitude is not calibrated/);
  oneLineError(runCli(['prune', 'fashion-vit', '-o', path.join(dir, 'm.onnx'), '--method', 'heads', '--ratio', '0.3']),
    /^vitopt: --method heads: needs calibration images: --calibration-data <spec>, or --data <spec>/);
  oneLineError(runCli(['quantize', 'fashion-vit', '-o', path.join(dir, 'q.onnx'), '--mode', 'dynamic', '--calibration-data', 'fashion-mnist-subset']),
    /^vitopt: --calibration-\*: only static mode is calibrated/);
  oneLineError(runCli(['tune', 'fashion-vit', '--data', 'fashion-mnist-subset', '--calibration-data', 'no-such-dir/', '-o', path.join(dir, 't'),
    '--store', path.join(dir, 'runs.db')]), /no-such-dir/);
});

test('where --json was a plain flag, a value before the arguments is not silently taken as the file', () => {
  oneLineError(runCli(['predict', '--json', 'fashion-vit', 'shirt.png']),
    /^vitopt: option '--json \[file\]' argument 'fashion-vit' is invalid\. the file must end in \.json \(to print JSON on stdout, put --json after the arguments\)/);
  const r = runCli(['analyze', 'ViT-Ti_16', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout));
});
