/** The one random-image generator: deterministic, in [-1, 1], one stream however it is drawn. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pixelSource, randomBatches, randomImages, randomPixels } from '../../src/data/random-images.js';
import { gaussian, rng } from '../../src/models/random.js';

test('random pixels: the same seed gives the same values, another seed others', () => {
  for (const distribution of ['gaussian', 'uniform'] as const) {
    assert.deepEqual(randomPixels(1000, { seed: 3, distribution }), randomPixels(1000, { seed: 3, distribution }));
    assert.notDeepEqual(randomPixels(1000, { seed: 3, distribution }), randomPixels(1000, { seed: 4, distribution }));
  }
});

test('random pixels: the documented distributions (uniform on [-1, 1), clipped N(0, 0.5²))', () => {
  const n = 200_000;
  const u = randomPixels(n, { distribution: 'uniform' });
  assert.ok(u.every((x) => x >= -1 && x < 1));
  const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const sd = (a: Float32Array) => { const m = mean(a); return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length); };
  assert.ok(Math.abs(mean(u)) < 0.01 && Math.abs(sd(u) - 1 / Math.sqrt(3)) < 0.01, `${mean(u)} ${sd(u)}`);
  const g = randomPixels(n);
  assert.ok(g.every((x) => x >= -1 && x <= 1));
  const clipped = g.filter((x) => Math.abs(x) === 1).length / n;
  assert.ok(Math.abs(clipped - 0.0455) < 0.003, `${clipped} clipped (|z| > 2 at std 0.5)`);
  assert.ok(Math.abs(mean(g)) < 0.01, `${mean(g)}`);
  const wide = randomPixels(n, { std: 0.6 });
  assert.ok(sd(wide) > sd(g));
});

test('random pixels: the same values as the generators they replace (mulberry32 stream, seed as given)', () => {
  const r = rng(9), g = gaussian(rng(9));
  assert.deepEqual(randomPixels(64, { seed: 9, distribution: 'uniform' }), Float32Array.from({ length: 64 }, () => 2 * r() - 1));
  assert.deepEqual(randomPixels(64, { seed: 9 }), Float32Array.from({ length: 64 }, () => Math.max(-1, Math.min(1, 0.5 * g()))));
});

test('random images: layouts and batches drawn from one stream', () => {
  assert.deepEqual(randomImages(2, 4).dims, [2, 3, 4, 4]);
  assert.deepEqual(randomImages(2, 4, { layout: 'nhwc' }).dims, [2, 4, 4, 3]);
  const b = randomBatches(20, 8, 4, { seed: 5 });
  assert.deepEqual(b.map((t) => t.dims[0]), [8, 8, 4]);
  const all = randomPixels(20 * 48, { seed: 5 });
  assert.deepEqual(Float32Array.from(b.flatMap((t) => [...t.data])), all);
  const next = pixelSource({ seed: 5 });
  assert.deepEqual(Float32Array.from([...next(100), ...next(860)]), all);
  assert.deepEqual(randomBatches(6, 4, 2, { fixedBatch: 4 }).map((t) => t.dims[0]), [4, 4]);
});
