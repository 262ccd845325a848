/**
 * `vitopt serve` as a user runs it (a child process): the URL on stdout once ready; SIGTERM turns
 * ready to 503, lets the in-flight request finish, refuses new work, and exits 0; bad flags and
 * files exit 2 with one line on stderr.
 */
import { spawnServe } from '../../src/serve/spawn.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { slowModelFile, tinyModelFile } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SIDE = 64;

const serve = (args: string[]) => spawnServe(args);

// The in-flight run must outlast the ready probe and the refused request (~60 ms after SIGTERM):
// 40,000 steps take ~0.3 s on a fast 2-core VM (8,000 took 56 ms there and lost the race).
test('SIGTERM: ready 503, in-flight request completes, new work refused, exit 0', async () => {
  const { child, url, exited, stderr } = await serve([slowModelFile(40_000), '--port', '0', '--threads', '1', '--max-batch-size', '1', '--drain-timeout-ms', '20000']);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const body = new Uint8Array(new Float32Array(3 * SIDE * SIDE).fill(0.25).buffer);
  const infer = () => fetch(`${url}/v2/models/slow/infer`, { method: 'POST', headers: { 'inference-header-content-length': '0' }, body });
  assert.equal((await infer()).status, 200);
  const inflight = infer();
  await new Promise((r) => setTimeout(r, 40));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 20));
  const ready = await fetch(`${url}/v2/health/ready`);
  assert.equal(ready.status, 503);
  assert.match((await ready.json() as { error: string }).error, /shutting down/);
  const refused = await infer();
  assert.equal(refused.status, 503);
  const done = await inflight;
  assert.equal(done.status, 200);
  const out = await done.arrayBuffer();
  assert.equal(out.byteLength > SIDE * 4, true);
  assert.equal(await exited, 0, stderr());
  assert.match(stderr(), /SIGTERM: draining/);
});

test('bad input exits 2 with one line naming the flag or file', async () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    for (const [args, pattern] of [
      [[], /nothing to serve/],
      [[tinyModelFile(), '--overload-status', '418'], /--overload-status <code>' argument '418' is invalid. Allowed choices are 429, 503/],
      [['/no/such/model.onnx'], /no\/such\/model\.onnx: no such file/],
      [['--model-repository', '/no/such/dir'], /\/no\/such\/dir: does not exist/],
      [[tinyModelFile(), '--port', String(port)], new RegExp(`--port ${port}: already in use`)],
      [[tinyModelFile(), '--max-batch-size', '0'], /--max-batch-size/],
      [[tinyModelFile(), '--preferred-batch-size', '16'], /preferred_batch_size 16 is larger than max_batch_size 8/],
    ] as [string[], RegExp][]) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    busy.close();
  }
});
