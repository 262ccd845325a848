import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { encodeNpy } from '../../src/formats/npy.js';
import { mkdirs, tempDir, writeIdxPair } from '../data/fixtures.js';
import { RGB_ARGMAX, writeColourNpy } from './fixtures.js';
import { writeTinyClassifier } from './tiny-model.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'eval', ...args], { encoding: 'utf8' });

function setup() {
  const dir = tempDir('vitopt-eval-cli-');
  const model = path.join(dir, 'tiny.onnx');
  writeTinyClassifier(model, RGB_ARGMAX);
  const data = writeColourNpy(dir);
  return { dir, model, spec: `${data.images}:${data.labels}` };
}

function badInput(r: ReturnType<typeof run>, pattern: RegExp) {
  assert.equal(r.status, 2, r.stderr + r.stdout);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/); // no stack trace
}

test('eval prints the summary table; --json is the report; --confusion writes a picture', async () => {
  const { dir, model, spec } = setup();
  const t = run(model, '--data', spec, '--batch', '4');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /top-1\s+66\.67 %\s+\(4\/6\)/);
  assert.match(t.stdout, /per-class accuracy/);
  assert.match(t.stdout, /confusion matrix/);
  assert.equal(t.stderr, ''); // no progress bar when stderr is not a terminal

  const png = path.join(dir, 'confusion.png');
  const j = run(model, '--data', spec, '--json', '--confusion', png, '--compare', model, '--limit', '5');
  assert.equal(j.status, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.evaluated, 5);
  assert.equal(report.correctTop1, 4);
  assert.equal(report.comparison.agreement, 1);
  assert.equal(report.comparison.meanKL, 0);
  assert.deepEqual(report.confusion.matrix, [[1, 0, 0], [1, 2, 0], [0, 0, 1]]);
  assert.equal((await sharp(png).metadata()).format, 'png');

  const out = path.join(dir, 'report.json');
  const f = run(model, '--data', spec, '--json', out, '--confusion', path.join(dir, 'c.svg'));
  assert.equal(f.status, 0, f.stderr);
  assert.match(f.stdout, /top-1/);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).evaluated, 6);
  assert.ok(readFileSync(path.join(dir, 'c.svg'), 'utf8').startsWith('<svg'));
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('bad input exits 2 with one line: unknown spec, bad --confusion, missing model', () => {
  const { dir, model, spec } = setup();
  badInput(run(model, '--data', 'imagenet-val'), /--data 'imagenet-val': not a known dataset/);
  badInput(run(model, '--data', spec, '--confusion', path.join(dir, 'c.gif')), /must end in \.svg or \.png/);
  badInput(run(model, '--data', spec, '--confusion', path.join(dir, 'nodir', 'c.svg')), /does not exist/);
  badInput(run(path.join(dir, 'none.onnx'), '--data', spec), /none\.onnx/);
  badInput(run(model, '--data', spec, '--layout', 'hwc'), /--layout <layout>' argument 'hwc' is invalid\. Allowed choices are nhwc, nchw/);
  const r = run(model);
  assert.equal(r.status, 2);
});

test('bad data files exit 2 naming the file: truncated gzip IDX, label count, garbage image', async () => {
  const { dir, model } = setup();
  const idxDir = path.join(dir, 'idx');
  mkdirs(idxDir);
  const f = writeIdxPair(idxDir, 20, { gzip: true, rows: 4, cols: 4 });
  const gz = readFileSync(f.images);
  writeFileSync(f.images, gz.subarray(0, gz.length - 12));
  badInput(run(model, '--data', `fashion-mnist:${idxDir}`), /t10k-images-idx3-ubyte\.gz: .*(truncated|corrupt)/);
  writeIdxPair(idxDir, 20, { gzip: true, rows: 4, cols: 4 });
  writeFileSync(f.labels, gzipSync(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2])));
  badInput(run(model, '--data', `fashion-mnist:${idxDir}`), /t10k-labels-idx1-ubyte\.gz: has 3 labels but .* has 20 images/);

  const folder = path.join(dir, 'folder');
  for (const [i, c] of ['r', 'g', 'b'].entries()) {
    mkdirs(path.join(folder, c));
    const bg = { r: i === 0 ? 255 : 0, g: i === 1 ? 255 : 0, b: i === 2 ? 255 : 0 };
    await sharp({ create: { width: 4, height: 4, channels: 3, background: bg } }).png().toFile(path.join(folder, c, '1.png'));
  }
  writeFileSync(path.join(folder, 'g', 'x.jpg'), 'garbage bytes');
  badInput(run(model, '--data', folder), /g\/x\.jpg: cannot be decoded as an image/);
  const s = run(model, '--data', folder, '--skip-bad', '--json');
  assert.equal(s.status, 0, s.stderr);
  const report = JSON.parse(s.stdout);
  assert.equal(report.skipped.count, 1);
  assert.match(report.skipped.items[0].id, /x\.jpg$/);
  assert.equal(report.evaluated, 3);

  const empty = path.join(dir, 'empty');
  mkdirs(empty);
  badInput(run(model, '--data', empty), /has no class subfolders/);
});

for (const name of ['fashion-vit', 'fashion-mixer']) {
  test(`${name} on the shipped subset reproduces its model card (PyTorch's figures) to the image`, () => {
    // models/<name>.json is written by tools/train_fashion.py from the PyTorch model's own predictions.
    const card = JSON.parse(readFileSync(fileURLToPath(new URL(`../../../models/${name}.json`, import.meta.url)), 'utf8'));
    const r = run(name, '--data', 'fashion-mnist-subset', '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.evaluated, card.subset.n);
    assert.equal(report.correctTop1, card.subset.correct);
    assert.equal(report.correctTop5, Math.round(card.subset.top5 * card.subset.n));
    for (const c of report.perClass) assert.equal(c.accuracy, card.subset.per_class_top1[c.label], `${name} ${c.label}`);
  });
}

test('--mean/--std: pixel images are mapped with the given statistics instead of the official ones', () => {
  const { dir, model } = setup();
  // One uint8 image, constant colour (200, 100, 60), true class 1 (green).
  const per = 4 * 4 * 3;
  const px = new Uint8Array(per);
  for (let p = 0; p < 16; p++) px.set([200, 100, 60], p * 3);
  const images = path.join(dir, 'u8.npy'), labels = path.join(dir, 'u8-labels.npy');
  writeFileSync(images, encodeNpy({ dims: [1, 4, 4, 3], data: px }));
  writeFileSync(labels, encodeNpy({ dims: [1], data: Int32Array.of(1) }));
  const spec = `${images}:${labels}`;
  // Official (x − 127.5) / 127.5 keeps red brightest: wrong.
  const official = JSON.parse(run(model, '--data', spec, '--json').stdout);
  assert.equal(official.correctTop1, 0);
  assert.equal(official.normalization, null);
  // (x/255 − mean) / std with mean (0.9, 0.1, 0.1): red 0.78 − 0.9 < green 0.39 − 0.1: right.
  const r = run(model, '--data', spec, '--json', '--mean', '0.9,0.1,0.1', '--std', '1');
  assert.equal(r.status, 0, r.stderr);
  const own = JSON.parse(r.stdout);
  assert.equal(own.correctTop1, 1);
  assert.deepEqual(own.normalization, { mean: [0.9, 0.1, 0.1], std: [1, 1, 1] });
  // Bad statistics are refused before any work.
  badInput(run(model, '--data', spec, '--mean', '0.5,0.5'), /--mean and --std go together/);
  badInput(run(model, '--data', spec, '--mean', '0.5,0.5', '--std', '0.2'), /--mean 0\.5,0\.5: expected one or three/);
  badInput(run(model, '--data', spec, '--mean', '0.5', '--std', '0'), /--std 0: expected one or three comma-separated positive/);
});
