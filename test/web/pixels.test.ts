/**
 * Same pixels everywhere: the page's preprocessing (createImageBitmap + canvas decode, then the shared
 * src/data/preprocess.ts resize and normalization) against `vitopt eval`'s Node pipeline (sharp decode,
 * same code) on the same files, in real Chromium. PNG must agree to within 1/255 of the pixel range.
 * Also the faults: an undecodable image gives a clear message and the page keeps working.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import type { Browser, Page } from 'puppeteer-core';
import { chromiumMissing, launchChromium, openApp } from './browser.js';
import { buildFashionSite } from './fixtures.js';
import { serveSite, type SiteServer } from '../../src/web/serve.js';
import { decodeImageFile } from '../../src/data/image-folder.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import { tmp } from '../core/helpers.js';

const skip = chromiumMissing();
let browser: Browser;
let server: SiteServer;
let page: Page;
let work: string;
let resolution: number;
let siteDir: string;

before(async () => {
  if (skip) return;
  const { dir, report } = await buildFashionSite(['int8']);
  siteDir = dir;
  resolution = report.resolution;
  server = await serveSite(dir);
  browser = await launchChromium();
  const app = await openApp(browser, server.url);
  assert.equal(app.error, null, app.error ?? '');
  page = app.page;
  work = tmp();
});

after(async () => {
  if (siteDir) await fs.rm(path.dirname(siteDir), { recursive: true, force: true }).catch(() => undefined);
  await browser?.close();
  await server?.close();
});

/** Deterministic pixels with every value 0..255 present and sharp edges (worst case for resizing). */
function pattern(width: number, height: number, channels: number): Buffer {
  const b = Buffer.alloc(width * height * channels);
  for (let i = 0; i < b.length; i++) b[i] = (i * 97 + (i >> 3) * 31) & 255;
  return b;
}

async function inPage(file: string, type: string): Promise<Float32Array> {
  const b64 = (await fs.readFile(file)).toString('base64');
  const values = await page.evaluate(async (data: string, t: string, name: string) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return (window as unknown as { vitopt: { pixels(b: Blob, n: string): Promise<number[]> } }).vitopt.pixels(new Blob([bytes], { type: t }), name);
  }, b64, type, path.basename(file));
  return Float32Array.from(values);
}

/** Largest difference in units of the 0..255 pixel scale (model range [-1, 1] spans 255 of them). */
async function worstDifference(file: string, type: string): Promise<number> {
  const browserPixels = await inPage(file, type);
  const nodePixels = preprocessBatch([await decodeImageFile(file)], resolution).data;
  assert.equal(browserPixels.length, nodePixels.length);
  let worst = 0;
  for (let i = 0; i < nodePixels.length; i++) worst = Math.max(worst, Math.abs(browserPixels[i]! - nodePixels[i]!) * 127.5);
  return worst;
}

const cases: [string, number, number, number][] = [
  ['RGB at the model size (no resize)', 28, 28, 3],
  ['grey, upscaled 13x17 -> 28', 13, 17, 1],
  ['RGB, downscaled 61x45 -> 28', 61, 45, 3],
  ['RGBA fully opaque, 40x40 -> 28', 40, 40, 4],
];

for (const [name, w, h, c] of cases) {
  test(`PNG ${name}: browser tensor = vitopt eval tensor within 1/255`, { skip: skip ?? false }, async (t) => {
    const raw = pattern(w, h, c);
    if (c === 4) for (let i = 3; i < raw.length; i += 4) raw[i] = 255;
    const file = path.join(work, `${name.replace(/\W+/g, '_')}.png`);
    await sharp(raw, { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } }).png().toFile(file);
    const worst = await worstDifference(file, 'image/png');
    t.diagnostic(`largest difference ${worst.toFixed(4)}/255`);
    assert.ok(worst <= 1, `largest difference ${worst.toFixed(4)}/255`);
  });
}

test('JPEG: decoders may differ (chroma upsampling, IDCT); measured and bounded', { skip: skip ?? false }, async (t) => {
  const file = path.join(work, 'photo.jpg');
  await sharp(pattern(64, 48, 3), { raw: { width: 64, height: 48, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  const worst = await worstDifference(file, 'image/jpeg');
  // Both sides use libjpeg-turbo here; a few levels is what different IDCT/upsampling choices give.
  t.diagnostic(`JPEG largest difference ${worst.toFixed(3)}/255`);
  // Measured 0 with Debian chromium 156 and sharp 0.34 (libjpeg-turbo on both sides).
  assert.ok(worst <= 1, `largest difference ${worst.toFixed(4)}/255`);
});

test('PNG with semi-transparent alpha: canvas premultiplies, so colour may be off; measured and bounded', { skip: skip ?? false }, async (t) => {
  const raw = pattern(28, 28, 4);
  for (let i = 3; i < raw.length; i += 4) raw[i] = 64 + (i % 128); // alpha 64..191
  const file = path.join(work, 'alpha.png');
  await sharp(raw, { raw: { width: 28, height: 28, channels: 4 } }).png().toFile(file);
  const worst = await worstDifference(file, 'image/png');
  t.diagnostic(`semi-transparent PNG largest difference ${worst.toFixed(3)}/255`);
  // Alpha >= 64: un-premultiplying 8-bit values loses at most 255/64 ≈ 4 levels.
  assert.ok(worst <= 4, `largest difference ${worst.toFixed(4)}/255`);
});

test('an undecodable image: clear message, and the page keeps working', { skip: skip ?? false }, async () => {
  const err = await page.evaluate(async () => {
    try {
      await (window as unknown as { vitopt: { classify(b: Blob, n: string): Promise<unknown> } }).vitopt
        .classify(new Blob([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], { type: 'image/png' }), 'broken.png');
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
  assert.match(err ?? 'no error', /broken\.png: this browser cannot decode it as an image/);
  const ok = await page.evaluate(() => (window as unknown as { vitopt: { classify(u: string): Promise<{ label: string }> } }).vitopt
    .classify('samples/00-ankle-boot.png'));
  assert.equal(ok.label, 'Ankle boot');
});
