/**
 * The built fashion-vit site in real Chromium, on WebAssembly: multi-threaded when served with the
 * COOP/COEP headers, single-threaded (and saying why) without them. Every shipped sample image gets
 * the same top-1 as onnxruntime-node on the same variant, and the float32 variant the same top-1 as
 * `vitopt predict` (the fused graph of the checkpoint).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { chromiumMissing, launchChromium, openApp } from './browser.js';
import { buildFashionSite, nodeTop1 } from './fixtures.js';
import { serveSite, type SiteServer } from '../../src/web/serve.js';
import type { Manifest, EngineInfo, Classification } from '../../src/web/app/manifest.js';
import { exportModel } from '../../src/export/index.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { saveModel } from '../../src/formats/onnx.js';

const skip = chromiumMissing();
let browser: Browser;
let site: string;
let manifest: Manifest;
let isolated: SiteServer;
let plain: SiteServer;

before(async () => {
  if (skip) return;
  ({ dir: site } = await buildFashionSite(['int8', 'fp32']));
  manifest = JSON.parse(await fs.readFile(path.join(site, 'manifest.json'), 'utf8')) as Manifest;
  isolated = await serveSite(site);
  plain = await serveSite(site, { isolation: false });
  browser = await launchChromium();
});

after(async () => {
  // Each site holds ~42 MB of onnxruntime-web runtime: do not leave them in /tmp.
  if (site) await fs.rm(path.dirname(site), { recursive: true, force: true }).catch(() => undefined);
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

async function classifyAll(url: string): Promise<{ info: EngineInfo; results: Classification[]; text: string }> {
  const app = await openApp(browser, url);
  assert.equal(app.error, null, `the page did not get ready: ${app.error}\n${app.console.join('\n')}`);
  const urls = manifest.samples.map((s) => s.url);
  const results = await app.page.evaluate(async (us: string[]) => {
    const out = [];
    for (const u of us) out.push(await (window as unknown as { vitopt: { classify(u: string): Promise<unknown> } }).vitopt.classify(u));
    return out;
  }, urls) as Classification[];
  const text = await app.page.evaluate(() => document.body.innerText);
  await app.page.close();
  return { info: app.ready as EngineInfo, results, text };
}

async function expectSameTop1(variant: string, results: Classification[]): Promise<void> {
  const files = manifest.samples.map((s) => path.join(site, s.url));
  const want = await nodeTop1(path.join(site, 'models', `${variant}.onnx`), files, manifest.resolution);
  assert.deepEqual(results.map((r) => r.index), want, `browser ${variant} top-1 vs onnxruntime-node on the same file`);
  for (const r of results) {
    assert.equal(r.variant, variant);
    assert.equal(r.label, manifest.labels[r.index]);
    assert.equal(r.scores.length, 5);
    assert.ok(r.scores[0]!.score >= r.scores[1]!.score && r.scores[0]!.score <= 1, 'scores are sorted probabilities');
    assert.ok(r.ms > 0);
  }
}

test('cross-origin isolated: dynamic INT8 on WebAssembly threads, same top-1 as onnxruntime-node', { skip: skip ?? false }, async () => {
  const { info, results } = await classifyAll(isolated.url);
  assert.equal(info.backend, 'wasm');
  assert.equal(info.variant, 'int8');
  assert.equal(info.crossOriginIsolated, true);
  const cores = await (async () => (await import('node:os')).availableParallelism())();
  if (cores > 1) assert.ok(info.threads > 1, `expected several wasm threads on ${cores} cores, got ${info.threads}`);
  assert.ok(info.checkError <= manifest.variants.find((v) => v.id === 'int8')!.check.tolerance);
  await expectSameTop1('int8', results);
  // The shipped samples' true labels: the reference model gets these ten right.
  assert.deepEqual(results.map((r) => r.label), manifest.samples.map((s) => s.label));
});

test('no isolation headers: works single-threaded and says why', { skip: skip ?? false }, async () => {
  const { info, results, text } = await classifyAll(`${plain.url}?threads=2`);
  assert.equal(info.crossOriginIsolated, false);
  assert.equal(info.threads, 1);
  assert.ok(info.notes.some((n) => /not cross-origin isolated/.test(n)), info.notes.join('; '));
  assert.match(text, /not cross-origin isolated/);
  await expectSameTop1('int8', results);
});

test('float32 variant forced: same top-1 as vitopt predict (fused graph of the checkpoint)', { skip: skip ?? false }, async () => {
  const { info, results } = await classifyAll(`${isolated.url}?variant=fp32&backend=wasm`);
  assert.equal(info.variant, 'fp32');
  assert.equal(info.backend, 'wasm');
  await expectSameTop1('fp32', results);
  // What `vitopt predict fashion-vit` runs: the checkpoint exported to the fused ('ort') graph.
  const fused = path.join(path.dirname(site), 'fashion-vit.onnx');
  await saveModel(fused, exportModel(await loadCheckpoint('fashion-vit'), 'ort'));
  const files = manifest.samples.map((s) => path.join(site, s.url));
  assert.deepEqual(results.map((r) => r.index), await nodeTop1(fused, files, manifest.resolution));
});
