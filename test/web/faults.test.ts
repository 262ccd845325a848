/**
 * Faults in real Chromium: a site missing onnxruntime-web's .wasm, a variant that cannot run where it
 * is asked to (fp16 with no shader-f16 adapter, or no WebGPU at all) — a clear message in the page,
 * never a frozen or silently wrong one. And a backend whose output disagrees with the check pair is
 * not used (a corrupted check pair stands in for a backend that computes garbage).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { chromiumMissing, launchChromium, openApp } from './browser.js';
import { buildFashionSite } from './fixtures.js';
import { serveSite, type SiteServer } from '../../src/web/serve.js';
import type { EngineInfo, Manifest } from '../../src/web/app/manifest.js';

const skip = chromiumMissing();
let browser: Browser;
let site: string;
const servers: SiteServer[] = [];

before(async () => {
  if (skip) return;
  ({ dir: site } = await buildFashionSite(['int8', 'fp32', 'fp16']));
  browser = await launchChromium();
});

after(async () => {
  // Each site holds ~42 MB of onnxruntime-web runtime: do not leave them in /tmp.
  if (site) await fs.rm(path.dirname(site), { recursive: true, force: true }).catch(() => undefined);
  await browser?.close();
  for (const s of servers) await s.close();
});

/** A copy of the site, changed by `edit`, served with isolation. */
async function variantSite(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(path.dirname(site), name);
  await fs.cp(site, dir, { recursive: true });
  await edit(dir);
  const s = await serveSite(dir);
  servers.push(s);
  return s.url;
}

test('missing .wasm: the page says which file and what to do', { skip: skip ?? false }, async () => {
  const url = await variantSite('no-wasm', (d) => fs.rm(path.join(d, 'ort', 'ort-wasm-simd-threaded.wasm')));
  const app = await openApp(browser, url);
  assert.match(app.error ?? '', /ort\/ort-wasm-simd-threaded\.wasm is missing \(HTTP 404\).*rebuild/);
  const shown = await app.page.$eval('#error', (e) => ({ text: e.textContent, hidden: (e as HTMLElement).hidden }));
  assert.equal(shown.hidden, false);
  assert.match(shown.text ?? '', /is missing/);
});

test('a backend that disagrees with the check pair is not used: falls back and says so', { skip: skip ?? false }, async () => {
  const url = await variantSite('bad-int8', async (d) => {
    const file = path.join(d, 'manifest.json');
    const m = JSON.parse(await fs.readFile(file, 'utf8')) as Manifest;
    const v = m.variants.find((x) => x.id === 'int8')!;
    v.check.expected = v.check.expected.map((x) => x + 3); // what a silently wrong backend looks like from the page
    await fs.writeFile(file, JSON.stringify(m));
  });
  const app = await openApp(browser, url);
  assert.equal(app.error, null);
  const info = app.ready as EngineInfo;
  assert.equal(info.variant, 'fp32', 'fell back to the next variant');
  assert.ok(info.notes.some((n) => /wasm\/int8 gave wrong results on the check input/.test(n)), info.notes.join('; '));
  const notes = await app.page.$eval('#notes', (e) => e.textContent ?? '');
  assert.match(notes, /gave wrong results/);
});

test('asking for a variant that cannot run here: clear message, no hang', { skip: skip ?? false }, async () => {
  const url = await variantSite('as-built', async () => undefined);
  const none = await openApp(browser, `${url}?variant=nonexistent`);
  assert.match(none.error ?? '', /no backend could run this model: .*no variant named 'nonexistent'/);
  // fp16 is WebGPU-only: without an adapter that has shader-f16 (SwiftShader has none) nothing can run it.
  const f16 = await openApp(browser, `${url}?variant=fp16&backend=webgpu`);
  if (f16.error === null) {
    // A real GPU with shader-f16: then it must really have run there.
    assert.deepEqual([(f16.ready as EngineInfo).backend, (f16.ready as EngineInfo).variant], ['webgpu', 'fp16']);
    return;
  }
  assert.match(f16.error, /no backend could run this model: .*(lacks the shader-f16 feature|WebGPU unavailable)/);
  assert.match(await f16.page.$eval('#error', (e) => e.textContent ?? ''), /no backend could run this model/);
});
