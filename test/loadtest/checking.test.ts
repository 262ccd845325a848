/**
 * Result checking counts wrong answers instead of assuming them away: with labels that are
 * deliberately wrong for every image, every checked answer is a mismatch; with the reference pass,
 * a correct server has none, and its agreement with the dataset labels is reported.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runLoadtest } from '../../src/loadtest/index.js';
import type { RunningServer } from '../../src/serve/server.js';
import { clearImages, startFashion, writeIdx, type Predicted } from './fixtures.js';

let server: RunningServer;
let clear: Predicted;

before(async () => {
  server = await startFashion();
  clear = await clearImages(20);
});

after(async () => {
  await server?.close();
});

test('deliberately wrong labels: every answer is counted as a mismatch', async () => {
  const wrong = clear.top1.map((c) => (c + 1) % 10);
  const r = await runLoadtest({ url: server.url, model: 'fashion-vit', images: writeIdx(clear.images, wrong), expect: 'labels', concurrency: [4], requests: 60, windowMs: 200 });
  const o = r.levels[0]!.outcomes;
  assert.equal(o.succeeded, 60);
  assert.equal(o.check.checked, 60);
  assert.equal(o.check.mismatched, 60);
  assert.equal(r.totals.mismatched, 60);
  assert.match(o.check.examples[0]!, /expected class \d, got \d/);
});

test('half the labels wrong: exactly the answers to those images are mismatches', async () => {
  // Images 0, 2, 4 … keep their predicted class; 1, 3, 5 … get a wrong one. 40 requests cycle the 20 images twice.
  const labels = clear.top1.map((c, i) => (i % 2 ? (c + 3) % 10 : c));
  const r = await runLoadtest({ url: server.url, model: 'fashion-vit', images: writeIdx(clear.images, labels), expect: 'labels', concurrency: [2], requests: 40, windowMs: 200 });
  assert.equal(r.levels[0]!.outcomes.check.mismatched, 20);
});

test('reference pass: no mismatches from a correct server, agreement with labels reported', async () => {
  const labels = clear.top1.map((c, i) => (i < 5 ? (c + 1) % 10 : c)); // 15 of 20 right
  const r = await runLoadtest({ url: server.url, model: 'fashion-vit', images: writeIdx(clear.images, labels), concurrency: [4], requests: 40, windowMs: 200 });
  assert.equal(r.expect, 'reference');
  assert.equal(r.reference!.images, 20);
  assert.equal(r.reference!.agreementWithLabels, 0.75);
  assert.equal(r.levels[0]!.outcomes.check.checked, 40);
  assert.equal(r.levels[0]!.outcomes.check.mismatched, 0);
});
