/**
 * WebGPU in headless Chromium on the software adapter (SwiftShader, with --enable-unsafe-webgpu):
 * correctness only, never speed. The page must pass the check pair on WebGPU itself (not fall back
 * to WebAssembly), skip the FP16 variant because the adapter lacks shader-f16 (saying so), and give
 * the same top-1 as onnxruntime-node on the same float32 file. Skips, with the reason, when Chromium
 * grants no WebGPU adapter here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { chromiumMissing, launchChromium, openApp } from './browser.js';
import { buildFashionSite, nodeTop1 } from './fixtures.js';
import { serveSite, type SiteServer } from '../../src/web/serve.js';
import type { Classification, EngineInfo, Manifest } from '../../src/web/app/manifest.js';

const missing = chromiumMissing();
let browser: Browser;
let server: SiteServer;
let site: string;

before(async () => {
  if (missing) return;
  ({ dir: site } = await buildFashionSite(['int8', 'fp32', 'fp16']));
  server = await serveSite(site);
  browser = await launchChromium();
});

after(async () => {
  // Each site holds ~42 MB of onnxruntime-web runtime: do not leave them in /tmp.
  if (site) await fs.rm(path.dirname(site), { recursive: true, force: true }).catch(() => undefined);
  await browser?.close();
  await server?.close();
});

test('WebGPU (software adapter): fp32 passes the check pair, fp16 refused for lack of shader-f16, same top-1', { skip: missing ?? false }, async (t) => {
  const probe = await browser.newPage();
  await probe.goto(server.url);
  const adapter = await probe.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> } }).gpu;
    if (!gpu) return 'navigator.gpu is missing';
    try {
      return (await gpu.requestAdapter()) ? null : 'requestAdapter() returned null';
    } catch (e) {
      return `requestAdapter() failed: ${(e as Error).message}`;
    }
  });
  await probe.close();
  if (adapter) {
    t.skip(`no WebGPU adapter in this headless Chromium: ${adapter}`);
    return;
  }
  const manifest = JSON.parse(await fs.readFile(path.join(site, 'manifest.json'), 'utf8')) as Manifest;
  const app = await openApp(browser, `${server.url}?backend=webgpu`);
  assert.equal(app.error, null, app.error ?? '');
  const info = app.ready as EngineInfo;
  assert.equal(info.backend, 'webgpu', `fell back: ${info.notes.join('; ')}`);
  assert.equal(info.variant, 'fp32');
  t.diagnostic(`adapter: ${info.adapter}; check deviation ${info.checkError.toExponential(2)}`);
  const f16 = info.notes.find((n) => /shader-f16/.test(n));
  if (/swiftshader/i.test(info.adapter ?? '')) assert.ok(f16, 'SwiftShader has no shader-f16: the fp16 variant must be skipped with a note');
  const samples = manifest.samples.slice(0, 3);
  const results = await app.page.evaluate(async (us: string[]) => {
    const out = [];
    for (const u of us) out.push(await (window as unknown as { vitopt: { classify(u: string): Promise<unknown> } }).vitopt.classify(u));
    return out;
  }, samples.map((s) => s.url)) as Classification[];
  assert.ok(results.every((r) => r.backend === 'webgpu'));
  const want = await nodeTop1(path.join(site, 'models', 'fp32.onnx'), samples.map((s) => path.join(site, s.url)), manifest.resolution);
  assert.deepEqual(results.map((r) => r.index), want);
});
