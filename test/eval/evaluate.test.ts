import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../src/errors.js';
import { NpyDataset } from '../../src/data/npy-dataset.js';
import { ImageFolderDataset } from '../../src/data/image-folder.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { klDivergence } from '../../src/eval/metrics.js';
import { mkdirs, tempDir } from '../data/fixtures.js';
import { COLOURS, LABELS, PREDICTED, RGB_ARGMAX, writeColourNpy } from './fixtures.js';
import { tinyClassifier } from './tiny-model.js';

async function colourData(side = 4) {
  const f = writeColourNpy(tempDir(), side);
  return NpyDataset.open(f.images, f.labels);
}

test('top-1, top-5, per-class accuracy and confusion match the hand count', async () => {
  const model = await tinyClassifier(RGB_ARGMAX);
  const r = await evaluate(model, await colourData(), { batchSize: 4 });
  assert.equal(r.evaluated, 6);
  assert.equal(r.correctTop1, 4); // images 3 and 5 are wrong
  assert.equal(r.top1, 4 / 6);
  assert.equal(r.top5, 1); // 3 classes: top-5 holds every class
  assert.deepEqual(r.perClass.map((c) => [c.index, c.count, c.correct]), [[0, 2, 1], [1, 3, 2], [2, 1, 1]]);
  assert.deepEqual(r.confusion.classes, [0, 1, 2]);
  assert.deepEqual(r.confusion.matrix, [[1, 0, 1], [1, 2, 0], [0, 0, 1]]);
  assert.deepEqual(r.confusion.labels, ['class_0', 'class_1', 'class_2']);
  assert.equal(r.skipped.count, 0);
  assert.equal(r.resolution, 4);
  assert.ok(r.imagesPerSecond > 0 && r.modelImagesPerSecond > 0);
  assert.equal(r.comparison, undefined);
  // Same numbers whatever the batch size, and --limit reads the first n.
  const one = await evaluate(model, await colourData(), { batchSize: 1 });
  assert.deepEqual(one.confusion, r.confusion);
  const lim = await evaluate(model, await colourData(), { batchSize: 2, limit: 3 });
  assert.equal(lim.evaluated, 3);
  assert.equal(lim.top1, 1);
});

test('images are resized to the model resolution first (8x8 data, 4x4 model)', async () => {
  const model = await tinyClassifier(RGB_ARGMAX);
  const r = await evaluate(model, await colourData(8), {});
  assert.equal(r.correctTop1, 4);
});

test('baseline comparison: agreement and mean KL(baseline || model)', async () => {
  const model = await tinyClassifier(RGB_ARGMAX, 'model');
  const same = await evaluate(model, await colourData(), { baseline: await tinyClassifier(RGB_ARGMAX, 'copy') });
  assert.equal(same.comparison!.agreement, 1);
  assert.equal(same.comparison!.meanKL, 0);
  assert.equal(same.comparison!.baseline, 'copy');

  // A sharper baseline (logits 2·x): same argmax, KL by hand from the softmax definition.
  const sharper = await tinyClassifier({ ...RGB_ARGMAX, weights: RGB_ARGMAX.weights.map((w) => 2 * w) }, 'sharper');
  const r = await evaluate(model, await colourData(), { baseline: sharper, batchSize: 4 });
  const sm = (z: number[]) => { const e = z.map(Math.exp); const s = e.reduce((a, b) => a + b); return e.map((v) => v / s); };
  let kl = 0;
  for (const c of COLOURS) {
    const p = sm(c.map((v) => 2 * v));
    const q = sm(c);
    kl += p.reduce((acc, pi, i) => acc + pi * Math.log(pi / q[i]!), 0);
  }
  assert.equal(r.comparison!.agreement, 1);
  assert.ok(Math.abs(r.comparison!.meanKL - kl / 6) < 1e-6, `${r.comparison!.meanKL} vs ${kl / 6}`);
  assert.equal(r.comparison!.baselineTop1, 4 / 6);

  // A baseline that always says class 0 agrees where the model says 0 (images 0 and 3).
  const always0 = await tinyClassifier({ ...RGB_ARGMAX, bias: [10, 0, 0] }, 'always0');
  const a = await evaluate(model, await colourData(), { baseline: always0 });
  assert.equal(a.comparison!.agreement, PREDICTED.filter((p) => p === 0).length / 6);
  assert.equal(a.comparison!.baselineTop1, LABELS.filter((l) => l === 0).length / 6);
});

test('KL divergence: zero for equal rows, hand value for a two-class case', () => {
  assert.equal(klDivergence([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(klDivergence([1, 2, 3], [11, 12, 13]), 0); // softmax is shift-invariant
  // p = (0.5, 0.5), q = (0.25, 0.75): KL = 0.5 ln 2 + 0.5 ln(2/3)
  const kl = klDivergence([0, 0], [0, Math.log(3)]);
  assert.ok(Math.abs(kl - (0.5 * Math.log(2) + 0.5 * Math.log(2 / 3))) < 1e-12);
});

test('labels outside the model\'s classes and mismatched baselines are UserErrors', async () => {
  const two = await tinyClassifier({ resolution: 4, weights: [1, 0, 0, 1, 0, 0], bias: [0, 0] });
  await assert.rejects(evaluate(two, await colourData()), (e: unknown) => e instanceof UserError && /label 2 is outside the 2 classes/.test(e.message));
  const model = await tinyClassifier(RGB_ARGMAX);
  await assert.rejects(evaluate(model, await colourData(), { baseline: two }), /baseline .* has 2 classes, tiny has 3/);
  await assert.rejects(evaluate({ model: model.model }, await colourData()), /resolution unknown/);
  await assert.rejects(evaluate(model, await colourData(), { batchSize: 0 }), /batch size/);
});

async function colourFolder(names: string[], badFile = false) {
  const root = tempDir('vitopt-eval-folder-');
  const colours = [{ r: 255, g: 0, b: 0 }, { r: 0, g: 255, b: 0 }, { r: 0, g: 0, b: 255 }];
  for (const [i, n] of names.entries()) {
    mkdirs(path.join(root, n));
    for (const k of [0, 1]) {
      await sharp({ create: { width: 6, height: 5, channels: 3, background: colours[i]! } }).png().toFile(path.join(root, n, `${k}.png`));
    }
  }
  if (badFile) writeFileSync(path.join(root, names[0]!, 'broken.jpg'), 'garbage');
  return root;
}

test('image folder, skipBad: the bad file is skipped, counted and listed', async () => {
  const root = await colourFolder(['a_red', 'b_green', 'c_blue'], true);
  const model = await tinyClassifier(RGB_ARGMAX);
  const ds = await ImageFolderDataset.open(root);
  await assert.rejects(evaluate(model, ds, {}), /broken\.jpg: cannot be decoded as an image/);
  const r = await evaluate(model, ds, { skipBad: true, batchSize: 3 });
  assert.equal(r.evaluated, 6);
  assert.equal(r.top1, 1);
  assert.equal(r.skipped.count, 1);
  assert.equal(r.skipped.items[0]!.id, path.join(root, 'a_red', 'broken.jpg'));
  assert.deepEqual(r.confusion.labels, ['a_red', 'b_green', 'c_blue']); // dataset names when the model has none
});

test('class names decide when the model has labels and the folders are named after them', async () => {
  // Folder order (sorted): blue, green, red; model order: red, green, blue.
  const root = await colourFolder(['red', 'green', 'blue']);
  const model = await tinyClassifier({ ...RGB_ARGMAX, labels: ['Red', 'Green', 'Blue'] });
  const r = await evaluate(model, await ImageFolderDataset.open(root), {});
  assert.equal(r.labelMapping, 'name');
  assert.equal(r.top1, 1);
  assert.deepEqual(r.confusion.labels, ['Red', 'Green', 'Blue']);
});
