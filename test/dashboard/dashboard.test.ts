/**
 * The dashboard at `/` in a real headless Chromium (Debian's /usr/bin/chromium via puppeteer-core)
 * against a real `vitopt serve fashion-vit`: it subscribes to the monitor stream and shows the server's
 * numbers (checked against GET /v2/monitor and against the 30 requests this test sent), draws its
 * charts (pixels of the chart colours in a screenshot), and classifies an image chosen with the file
 * input or dropped on the page, naming the class onnxruntime-node predicts in this process.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'puppeteer-core';
import type { RunningServer } from '../../src/serve/server.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/labels.js';
import type { RawImage } from '../../src/data/dataset.js';
import { clearImages, startFashion, type Predicted } from '../loadtest/fixtures.js';

const CHROMIUM = process.env.VITOPT_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt install chromium, or set VITOPT_CHROMIUM)`;

let server: RunningServer;
let browser: Browser;
let page: Page;
let clear: Predicted;
const pageErrors: string[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-dashboard-'));

/** The page's own number format (client.ts fmt), to compare server figures with what is shown. */
function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

async function png(img: RawImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data as Uint8Array), { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
}

const text = (id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');

before(async () => {
  if (skip) return;
  server = await startFashion();
  clear = await clearImages(3);
  const puppeteer = (await import('puppeteer-core')).default;
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('pageerror', (e) => pageErrors.push((e as Error).message));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('GET / is the page and its script is served', { skip }, async () => {
  const r = await fetch(`${server.url}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/html/);
  assert.match(await r.text(), /<script type="module" src="\/dashboard\/client\.js">/);
  const js = await fetch(`${server.url}/dashboard/client.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type')!, /javascript/);
  assert.match(await js.text(), /\/v2\/monitor\/stream/);
});

test('the page shows the server\'s live numbers and draws them', { skip }, async () => {
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { vitoptDashboard?: { snapshots: number } }).vitoptDashboard?.snapshots! >= 1, { timeout: 20_000 });
  assert.equal(await text('status'), 'ready');
  assert.equal(await text('v-requests'), '0');

  // 30 inference requests (raw binary pixels, batch 1).
  const body = new Uint8Array(new Float32Array(3 * 28 * 28).fill(0.1).buffer);
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${server.url}/v2/models/fashion-vit/infer`, { method: 'POST', headers: { 'inference-header-content-length': '0' }, body });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  await page.waitForFunction(() => document.getElementById('v-requests')!.textContent === '30', { timeout: 20_000 });
  // Nothing more is sent: the last-100 latency figures are fixed now, and the page must show the server's.
  const mon = await (await fetch(`${server.url}/v2/monitor`)).json() as { lastN: { latencyMs: Record<string, number | null>; avgBatchSize: number | null } };
  const seen = await page.evaluate(() => (window as unknown as { vitoptDashboard: { snapshots: number } }).vitoptDashboard.snapshots);
  // Two more snapshots after the one that first showed the 30: each latency line then has at least three points.
  await page.waitForFunction((n) => (window as unknown as { vitoptDashboard: { snapshots: number } }).vitoptDashboard.snapshots >= n + 2, { timeout: 20_000 }, seen);
  assert.equal(await text('v-p50'), fmt(mon.lastN.latencyMs.p50!));
  assert.equal(await text('v-p95'), fmt(mon.lastN.latencyMs.p95!));
  assert.equal(await text('v-p99'), fmt(mon.lastN.latencyMs.p99!));
  assert.equal(await text('v-batch'), fmt(mon.lastN.avgBatchSize), 'one client, one request at a time: batches of 1');
  assert.equal(await text('v-batch'), '1.00');
  assert.equal(await text('v-errors'), '0');
  assert.ok(Number(await text('v-rps')) > 0);
  assert.ok(Number(await text('v-rss')) > 20, 'RSS in MiB');
  // Charts: a line per series, and the latency axis reaches the p99 shown.
  const lines = await page.$$eval('#c-latency polyline', (ps) => ps.map((p) => p.getAttribute('points')!.trim().split(' ').length));
  assert.equal(lines.length, 3);
  assert.ok(lines.every((n) => n >= 3), `points per line: ${lines}`);
  const axis = await page.$$eval('#c-latency text', (ts) => ts.map((t) => Number(t.textContent)).filter(Number.isFinite));
  assert.ok(Math.max(...axis) >= mon.lastN.latencyMs.p99!, `axis ${axis} vs p99 ${mon.lastN.latencyMs.p99}`);
  for (const c of ['throughput', 'batch', 'memory']) assert.ok((await page.$$(`#c-${c} polyline`)).length >= 1, c);

  // A screenshot that is not blank and holds the chart colours.
  const shot = path.join(dir, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const stats = await sharp(shot).stats();
  assert.ok(stats.channels.slice(0, 3).every((ch) => ch.stdev > 10), 'screenshot is not blank');
  const count = (rgb: [number, number, number]) => {
    let n = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      if (Math.abs(data[i]! - rgb[0]) < 12 && Math.abs(data[i + 1]! - rgb[1]) < 12 && Math.abs(data[i + 2]! - rgb[2]) < 12) n++;
    }
    return n;
  };
  assert.ok(count([0xff, 0x7f, 0x0e]) > 50, 'p95 line drawn (orange pixels)');
  assert.ok(count([0x17, 0xbe, 0xcf]) > 50, 'RSS line drawn (cyan pixels)');
  assert.deepEqual(pageErrors, []);
});

test('an image chosen or dropped is classified as onnxruntime-node classifies it here', { skip }, async () => {
  await page.waitForFunction(() => (document.getElementById('model') as HTMLSelectElement).value === 'fashion-vit');
  const file = path.join(dir, 'item0.png');
  writeFileSync(file, await png(clear.images[0]!));
  const input = await page.$('#file');
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
  await page.waitForFunction(() => (window as unknown as { vitoptDashboard: { classified: number } }).vitoptDashboard.classified >= 1, { timeout: 20_000 });
  assert.equal(await page.$eval('#result', (e) => (e as HTMLElement).dataset.top1), FASHION_MNIST_CLASSES[clear.top1[0]!]);
  assert.equal((await page.$$('#result li.prediction')).length, 5);

  // Drag and drop of another image, as a person would.
  const b64 = (await png(clear.images[1]!)).toString('base64');
  await page.evaluate((data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.waitForFunction(() => (window as unknown as { vitoptDashboard: { classified: number } }).vitoptDashboard.classified >= 2, { timeout: 20_000 });
  assert.equal(await page.$eval('#result', (e) => (e as HTMLElement).dataset.top1), FASHION_MNIST_CLASSES[clear.top1[1]!]);

  // Not an image: the server's error is shown, nothing is made up.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new TextEncoder().encode('not an image')], 'x.png', { type: 'image/png' }));
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => (window as unknown as { vitoptDashboard: { classified: number } }).vitoptDashboard.classified >= 3, { timeout: 20_000 });
  assert.match(await text('result'), /could not classify: .*cannot be decoded/);
  assert.deepEqual(pageErrors, []);
});
