/**
 * `vitopt loadtest` as a user runs it (a child process) against `vitopt serve fashion-vit`: the text
 * table, --json/--csv/--chart files, and bad input exiting 2 with one line naming the flag or URL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import type { RunningServer } from '../../src/serve/server.js';
import { startFashion } from './fixtures.js';
import { tmp } from '../core/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let server: RunningServer;

/** Run the CLI without blocking this process's event loop (the server under test lives here). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  server = await startFashion();
});

after(async () => {
  await server?.close();
});

test('CLI: levels as a table, and the JSON, CSV and chart files', async () => {
  const dir = tmp();
  const json = path.join(dir, 'r.json'), csv = path.join(dir, 'r.csv'), chart = path.join(dir, 'r.svg');
  const r = await cli(['loadtest', server.url, '--model', 'fashion-vit', '--concurrency', '1,2', '--window-ms', '250', '--max-windows', '3',
    '--images', 'fashion-mnist-subset', '--pool-size', '10', '--json', json, '--csv', csv, '--chart', chart]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| c=1 \|/);
  assert.match(r.stdout, /\| c=2 \|/);
  assert.match(r.stdout, /totals: \d+ sent, \d+ succeeded, 0 HTTP errors, 0 lost, 0 malformed, 0 mismatched/);
  assert.match(r.stderr, /loadtest: concurrency 2: window 3:/);
  const rep = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(rep.levels.length, 2);
  assert.equal(rep.reference.images, 10);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^Concurrency,Inferences\/Second,Client Send,Network\+Server Send\/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency/);
  const row = lines[1]!.split(',');
  assert.equal(row[0], '1');
  // p50 in the CSV is the JSON's p50 in µs.
  assert.equal(Number(row[9]), Math.round(rep.levels[0].measured.latency.p50Ms * 1000));
  const svg = readFileSync(chart, 'utf8');
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4, 'p50, p95, p99 and throughput lines');
});

test('CLI: bad input exits 2 with one line', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const cases: [string[], RegExp][] = [
    [['loadtest', 'localhost:8000'], /localhost:8000: expected the server's URL/],
    [['loadtest', `http://127.0.0.1:${port}`], new RegExp(`127\\.0\\.0\\.1:${port}: cannot reach the server`)],
    [['loadtest', server.url, '--model', 'nope'], /--model nope: .*not found/],
    [['loadtest', server.url, '--concurrency', '0'], /--concurrency must be a comma-separated list of integers >= 1/],
    [['loadtest', server.url, '--concurrency', '2', '--rate', '5'], /--concurrency and --rate: give one or the other/],
    [['loadtest', server.url, '--images', '/no/such/dir'], /--images .*\/no\/such\/dir/],
    [['loadtest', server.url, '--expect', 'labels'], /--expect labels: needs labelled --images/],
    [['loadtest', server.url, '--json', '/no/such/dir/r.json'], /\/no\/such\/dir\/r\.json: cannot write/],
  ];
  // Independent processes: run them side by side.
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  for (const [k, [args, re]] of cases.entries()) {
    const r = results[k]!;
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
