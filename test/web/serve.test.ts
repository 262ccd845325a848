/**
 * The site server over real HTTP (COOP/COEP on or off, MIME types, no path traversal), the CLI's
 * bad-input paths, and the variant/backend choice rules (pick.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { request } from 'node:http';
import { runCli, tmp } from '../core/helpers.js';
import { serveSite, type SiteServer } from '../../src/web/serve.js';
import { candidates, wasmThreads, type Capabilities } from '../../src/web/app/pick.js';
import type { Variant } from '../../src/web/app/manifest.js';
import { checkInput, relativeDeviation } from '../../src/web/app/check-input.js';

let site: string;
let iso: SiteServer;
let plain: SiteServer;

before(async () => {
  site = path.join(tmp(), 'site');
  await fs.mkdir(path.join(site, 'ort'), { recursive: true });
  await fs.writeFile(path.join(site, 'index.html'), '<!doctype html><p>hi</p>');
  await fs.writeFile(path.join(site, 'ort', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  await fs.writeFile(path.join(path.dirname(site), 'secret.txt'), 'outside the site');
  iso = await serveSite(site);
  plain = await serveSite(site, { isolation: false });
});

after(async () => {
  await iso?.close();
  await plain?.close();
});

/** Raw GET (no URL normalisation by the client, so ../ reaches the server as sent). */
function get(base: string, p: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: p, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('isolation headers on every response, and absent with isolation off', async () => {
  const a = await get(iso.url, '/');
  assert.equal(a.status, 200);
  assert.equal(a.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(a.headers['cross-origin-embedder-policy'], 'require-corp');
  const b = await get(plain.url, '/');
  assert.equal(b.status, 200);
  assert.equal(b.headers['cross-origin-opener-policy'], undefined);
  assert.equal(b.headers['cross-origin-embedder-policy'], undefined);
});

test('.wasm is application/wasm; missing files 404; nothing outside the site', async () => {
  assert.equal((await get(iso.url, '/ort/x.wasm')).headers['content-type'], 'application/wasm');
  assert.equal((await get(iso.url, '/nope.js')).status, 404);
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/ort/..%2f..%2fsecret.txt']) {
    const r = await get(iso.url, p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.body, /outside the site/);
  }
});

test('CLI: bad input exits 2 with one line', async () => {
  const cases: [string[], RegExp][] = [
    [['web'], /missing <model>/],
    [['web', 'fashion-vit'], /missing -o, --output/],
    [['web', 'fashion-vit', '-o', path.join(site, 'x'), '--variants', 'int9'], /--variants int9: expected some of/],
    [['web', 'fashion-vit', '-o', site], /is a non-empty folder that is not a vitopt site/],
    [['web', '--serve', path.join(site, 'ort')], /has no index\.html/],
    [['web', 'nosuch.onnx', '-o', path.join(site, 'y')], /nosuch\.onnx/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

const v = (id: string, dtype: Variant['dtype'], backends: Variant['backends'], needsF16 = false): Variant => ({
  id, file: `models/${id}.onnx`, dtype, graph: 'portable', backends, bytes: 1, largestTensorBytes: 1000, needsF16,
  check: { seed: 1, expected: [], tolerance: 0.01 }, description: id,
});
const VARIANTS = [v('int8', 'int8', ['wasm']), v('fp32', 'fp32', ['webgpu', 'wasm']), v('fp16', 'fp16', ['webgpu'], true)];
const caps = (gpu: Capabilities['webgpu'], isolated = true): Capabilities =>
  ({ webgpu: gpu, webgpuReason: gpu ? null : 'none', crossOriginIsolated: isolated, hardwareConcurrency: 8 });
const order = (c: Capabilities, prefs = {}) => candidates(VARIANTS, c, prefs).list.map((x) => `${x.backend}/${x.variant.id}`);

test('choice: f16 GPU -> fp16 first; GPU without f16 -> fp32 (never dynamic INT8 on WebGPU); no GPU -> wasm INT8', () => {
  const gpu = { fallbackAdapter: false, f16: true, maxBufferSize: 1e9, description: 'real' };
  assert.deepEqual(order(caps(gpu)), ['webgpu/fp16', 'webgpu/fp32', 'wasm/int8', 'wasm/fp32']);
  assert.deepEqual(order(caps({ ...gpu, f16: false })), ['webgpu/fp32', 'wasm/int8', 'wasm/fp32']);
  assert.deepEqual(order(caps(null)), ['wasm/int8', 'wasm/fp32']);
  // A software adapter is skipped unless asked for, with a note.
  const sw = { ...gpu, f16: false, fallbackAdapter: true, description: 'swiftshader' };
  assert.deepEqual(order(caps(sw)), ['wasm/int8', 'wasm/fp32']);
  assert.match(candidates(VARIANTS, caps(sw)).notes[0]!, /software fallback/);
  assert.deepEqual(order(caps(sw), { backend: 'webgpu' }), ['webgpu/fp32', 'wasm/int8', 'wasm/fp32']);
  // A weight too big for the adapter's buffers rules WebGPU out, saying so.
  const small = candidates(VARIANTS, caps({ ...gpu, maxBufferSize: 10 }));
  assert.deepEqual(small.list.map((x) => x.backend), ['wasm', 'wasm']);
  assert.ok(small.notes.some((n) => /maxBufferSize/.test(n)));
});

test('threads: all cores up to 4 when isolated, 1 otherwise with the reason', () => {
  assert.deepEqual(wasmThreads(caps(null, true), {}), { threads: 4, note: null });
  assert.equal(wasmThreads(caps(null, true), { threads: 2 }).threads, 2);
  const t = wasmThreads(caps(null, false), { threads: 2 });
  assert.equal(t.threads, 1);
  assert.match(t.note!, /not cross-origin isolated/);
});

test('check pair: deterministic input, and the deviation measure catches zeros and NaN', () => {
  assert.deepEqual(checkInput(7, 4), checkInput(7, 4));
  assert.notDeepEqual(checkInput(7, 4), checkInput(8, 4));
  assert.ok(checkInput(7, 8).every((x) => x >= -1 && x <= 1));
  assert.equal(relativeDeviation([1, 2, 3], [1, 2, 3]), 0);
  assert.ok(relativeDeviation([0, 0, 0], [4, -2, 3]) >= 1);
  assert.equal(relativeDeviation([NaN, 2], [1, 2]), Infinity);
  assert.equal(relativeDeviation([1], [1, 2]), Infinity);
});
