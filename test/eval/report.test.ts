import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { AccuracyMeter } from '../../src/eval/metrics.js';
import { accuracySection, confusionCells, DENSE_CONFUSION_LIMIT, type EvalReport } from '../../src/eval/report.js';
import { formatConfusion, formatEvalReport } from '../../src/eval/report-text.js';
import { chartFormat, confusionSvg, writeConfusionChart } from '../../src/eval/confusion-chart.js';
import { FASHION_MNIST_CLASSES, indexLabels } from '../../src/data/labels.js';
import { tempDir } from '../data/fixtures.js';

function oneHot(k: number, i: number): Float32Array {
  const v = new Float32Array(k);
  v[i] = 1;
  return v;
}

function fashionReport(): EvalReport {
  const m = new AccuracyMeter(10);
  for (let t = 0; t < 10; t++) for (let j = 0; j < 10; j++) m.add(oneHot(10, j === 0 && t === 6 ? 0 : t), t);
  return {
    model: 'fashion-vit', dataset: { name: 'fashion-mnist-subset', source: '/x', size: 100 }, resolution: 28, normalization: null, batchSize: 32,
    labelMapping: 'index', skipped: { count: 1, items: [{ id: '/x/bad.jpg', reason: 'cannot be decoded' }] },
    imagesPerSecond: 1234.5, modelImagesPerSecond: 2345.6, seconds: 0.1,
    ...accuracySection(m, [...FASHION_MNIST_CLASSES], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    comparison: { baseline: 'fashion-vit.onnx', agreement: 0.995, meanKL: 0.00123, baselineTop1: 0.99 },
  };
}

test('text report: summary, comparison, skipped list, per class, confusion', () => {
  const r = fashionReport();
  assert.equal(r.correctTop1, 99);
  const text = formatEvalReport(r);
  assert.match(text, /top-1\s+99\.00 %\s+\(99\/100\)/);
  assert.match(text, /1234\.5 images\/s end to end/);
  assert.match(text, /agreement\s+99\.50 %/);
  assert.match(text, /mean KL\s+1\.230e-3 nats/);
  assert.match(text, /\/x\/bad\.jpg: cannot be decoded/);
  assert.match(text, /6\s+Shirt\s+10\s+90\.0 %/);
  assert.match(text, /6 Shirt\s+1\s+0\s+0\s+0\s+0\s+0\s+9\s+0\s+0\s+0/);
});

test('confusion for many classes is sparse and not printed as text', () => {
  const k = DENSE_CONFUSION_LIMIT + 50;
  const m = new AccuracyMeter(k);
  for (let t = 0; t < k; t++) m.add(oneHot(k, (t * 7) % k), t);
  const s = accuracySection(m, indexLabels(k), []);
  assert.equal(s.confusion.matrix, undefined);
  assert.equal(s.confusion.cells!.length, k);
  assert.deepEqual(s.confusion.cells![1], [1, 7, 1]);
  assert.equal(confusionCells(s.confusion).length, k);
  assert.match(formatConfusion(s.confusion), /too many for text/);
  // The chart draws the most confused classes only.
  assert.match(confusionSvg(s.confusion), /40 of 150 classes, most confused/);
});

test('SVG heat map is well formed, has a cell per pair and the labels; PNG via sharp', async () => {
  const r = fashionReport();
  const svg = confusionSvg(r.confusion, 'fashion <test>');
  assert.match(svg, /^<svg xmlns/);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 100 + 1);
  assert.match(svg, /T-shirt\/top/);
  assert.match(svg, /fashion &lt;test&gt;/);
  const meta = await sharp(Buffer.from(svg)).metadata();
  assert.equal(meta.format, 'svg');

  const dir = tempDir('vitopt-chart-');
  await writeConfusionChart(path.join(dir, 'c.svg'), r.confusion);
  assert.match(readFileSync(path.join(dir, 'c.svg'), 'utf8'), /<\/svg>\n$/);
  await writeConfusionChart(path.join(dir, 'c.png'), r.confusion);
  const png = await sharp(path.join(dir, 'c.png')).metadata();
  assert.equal(png.format, 'png');
  assert.ok(png.width! > 400 && png.height! > 400);
  assert.throws(() => chartFormat('c.jpg'), /must end in \.svg or \.png/);
});
