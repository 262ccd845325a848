/**
 * Every registered command answers --help (exit 0), and every option that takes one of a fixed set of
 * values rejects a bad one before any work: one line on stderr naming the flag and the allowed
 * values, exit 2. The commands are discovered from the CLI's own registry, so a new command or
 * option is covered without touching this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Command, type Option } from 'commander';
import { COMMANDS } from '../../src/cli/commands.js';
import { PRUNE_METHODS } from '../../src/compress/prune/index.js';
import { CALIBRATION_METHODS, DEFAULT_CALIBRATION_SIZE as QUANTIZE_DEFAULT, INT8_FORMATS, QUANTIZE_MODES } from '../../src/compress/quantize/index.js';
import { DEFAULT_CALIBRATION_SIZE as PRUNE_DEFAULT } from '../../src/compress/prune/index.js';
import { PRUNE_CALIBRATION_SIZE } from '../../src/cli/prune.js';
import { QUANTIZE_CALIBRATION_SIZE } from '../../src/cli/quantize.js';
import { PROVIDERS } from '../../src/cli/common.js';
import { CLI } from './fixtures.js';

function program(): Command {
  const p = new Command('vitopt').exitOverride();
  for (const c of COMMANDS) c.register(p);
  return p;
}

/** Every command and subcommand, as the words that invoke it. */
function commandPaths(c: Command, prefix: string[] = []): { words: string[]; cmd: Command }[] {
  return c.commands.flatMap((s) => [{ words: [...prefix, s.name()], cmd: s }, ...commandPaths(s, [...prefix, s.name()])]);
}

function run(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs the jobs two at a time (the test machine is small). */
async function pool<T, R>(items: readonly T[], f: (t: T) => Promise<R>, width = 2): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  }));
  return out;
}

const commands = commandPaths(program());
const flagOf = (o: Option) => o.long ?? o.short!;

/**
 * Options whose values are lists of enum members, checked by their own parser (not commander's
 * choices); each is given a bad value below too.
 */
const LIST_ENUMS: Record<string, string[]> = { 'bench --engine': ['cpu', 'wasm'], 'bench --graph': ['auto', 'ort', 'portable'] };

test('the CLI registers the commands a user reads about', () => {
  const names = commands.map((c) => c.words.join(' '));
  for (const n of ['models', 'convert', 'predict', 'eval', 'prune', 'quantize', 'bench', 'analyze', 'tune']) assert.ok(names.includes(n), n);
});

test('vitopt --help, --version and every command --help exit 0', async () => {
  const top = await run(['--help']);
  assert.equal(top.status, 0, top.stderr);
  const v = await run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
  const results = await pool(commands, async ({ words }) => ({ words, r: await run([...words, '--help']) }));
  for (const { words, r } of results) {
    assert.equal(r.status, 0, `${words.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: vitopt ${words.join(' ')}\\b`), words.join(' '));
    assert.equal(r.stderr, '', `${words.join(' ')} --help writes nothing on stderr`);
  }
});

test('every enum option rejects a bad value: one line naming the flag and the allowed values, exit 2', async () => {
  const cases: { words: string[]; flag: string; allowed: readonly string[] }[] = [];
  for (const { words, cmd } of commands) {
    for (const o of cmd.options) {
      if (o.argChoices) cases.push({ words, flag: flagOf(o), allowed: o.argChoices });
    }
  }
  for (const [key, allowed] of Object.entries(LIST_ENUMS)) {
    const [c, flag] = key.split(' ') as [string, string];
    cases.push({ words: [c], flag, allowed });
  }
  // The options the issue names are among them (a command that drops its choices fails here).
  const seen = new Set(cases.map((c) => `${c.words.join(' ')} ${c.flag}`));
  for (const k of ['predict --graph-opt', 'predict --engine', 'predict --layout', 'eval --engine', 'eval --layout', 'prune --method',
    'quantize --mode', 'quantize --int8-format', 'quantize --calibration-method', 'bench --execution-mode', 'serve --graph-opt',
    'serve --overload-status', 'convert --graph', 'prune --graph', 'quantize --graph', 'profile --graph', 'tune --engine',
    // hidden old spellings validate their values as before
    'predict --provider', 'loadtest --input']) assert.ok(seen.has(k), k);
  const results = await pool(cases, async (c) => ({ c, r: await run([...c.words, c.flag, 'bogus-value']) }));
  for (const { c, r } of results) {
    const what = `${c.words.join(' ')} ${c.flag} bogus-value`;
    assert.equal(r.status, 2, `${what}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one line expected, got:\n${r.stderr}`);
    assert.ok(lines[0]!.startsWith('vitopt: '), `${what}: the one error prefix: ${lines[0]}`);
    assert.ok(lines[0]!.includes(c.flag) && lines[0]!.includes('bogus-value'), `${what}: names the flag and the value: ${lines[0]}`);
    for (const a of c.allowed) assert.ok(lines[0]!.includes(a), `${what}: lists '${a}': ${lines[0]}`);
    assert.equal(r.stdout, '');
  }
});

test('options that describe a fixed set of values ("a | b", "a|b|c") declare them as choices', () => {
  const undeclared: string[] = [];
  for (const { words, cmd } of commands) {
    for (const o of cmd.options) {
      const key = `${words.join(' ')} ${flagOf(o)}`;
      if (!o.argChoices && !(key in LIST_ENUMS) && o.required !== false && /(^|[\s(])[a-z][\w.-]*( \(default\))?( ?\| ?[a-z][\w.-]*)+(?=[\s),;:]|\.\s|$)/.test(o.description)) undeclared.push(`${key}: ${o.description}`);
    }
  }
  assert.deepEqual(undeclared, []);
});

test('the CLI choices are the library\'s own lists', () => {
  const choices = (words: string, flag: string) => commands.find((c) => c.words.join(' ') === words)!.cmd.options.find((o) => o.long === flag)!.argChoices;
  assert.deepEqual(choices('prune', '--method'), [...PRUNE_METHODS]);
  assert.deepEqual(choices('quantize', '--mode'), [...QUANTIZE_MODES]);
  assert.deepEqual(choices('quantize', '--int8-format'), ['auto', ...INT8_FORMATS]);
  assert.deepEqual(choices('quantize', '--calibration-method'), [...CALIBRATION_METHODS]);
  for (const c of ['predict', 'eval', 'prune', 'quantize', 'profile']) assert.deepEqual(choices(c, '--engine'), [...PROVIDERS], c);
  // The calibration defaults the help states are the libraries' own.
  assert.equal(PRUNE_CALIBRATION_SIZE, PRUNE_DEFAULT);
  assert.equal(QUANTIZE_CALIBRATION_SIZE, QUANTIZE_DEFAULT);
});
