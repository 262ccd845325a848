/**
 * Every bench script (bench/*.ts) parses its flags through commander (bench/lib/cli.ts): `--help` exits 0
 * and lists every flag its header's usage line shows, and a bad value for a flag is one line on stderr
 * and exit 2, before any work starts. No benchmark runs here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { packagePath } from '../../src/util/paths.js';

/** One flag per script and a value it must refuse (a number flag where the script has one). */
const BAD: Record<string, [string, string]> = {
  browser: ['--iterations', '0'],
  core: ['--rounds', 'x'],
  engines: ['--repeats', '1.5'],
  fusions: ['--seconds', '-1'],
  fuzz: ['--cases', 'many'],
  'hybrid-groupnorm': ['--channels', '100'],
  'hybrid-stem-int8': ['--threads', '0'],
  latency: ['--runs', 'x'],
  prune: ['--eval-size', '-5'],
  quantize: ['--rounds', '2.5'],
  serve: ['--max-batch', 'x'],
  soak: ['--requests', 'lots'],
  speed: ['--target-flops', '1.5'],
  tome: ['--speed-rs', '0,x'],
  tune: ['--cases', 'nope'],
};

const scripts = readdirSync(packagePath('bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [packagePath('dist', 'bench', `${script}.js`), ...args], { timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

test('bench scripts: every one has a bad-value case here', () => {
  assert.deepEqual(Object.keys(BAD).sort(), scripts);
});

for (const script of scripts) {
  test(`bench/${script}: --help lists its flags; a bad value is one line and exit 2`, async () => {
    const help = await run(script, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: ${script} \\[options\\]`));
    // The flags of the usage line in the script's header comment ("node dist/bench/x.js [--rounds 7] …").
    const header = /^\/\*\*[\s\S]*?\*\//.exec(readFileSync(packagePath('bench', `${script}.ts`), 'utf8'))?.[0] ?? '';
    const documented = [...header.matchAll(/\[(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
    assert.ok(documented.length > 0, 'the header shows the usage');
    for (const flag of documented) assert.match(help.stdout, new RegExp(`^\\s+${flag}\\b`, 'm'), `${flag} in --help`);

    const [flag, value] = BAD[script]!;
    const bad = await run(script, [flag, value]);
    assert.equal(bad.code, 2, `${flag} ${value}: ${bad.stderr}`);
    assert.equal(bad.stdout, '');
    const lines = bad.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(lines[0]!, new RegExp(`^error: .*${flag}`));
  });
}
