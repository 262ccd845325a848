import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../../src/errors.js';
import { encodeNpy, parseNpy } from '../../src/formats/npy.js';
import { NpyDataset, readLabelsFile } from '../../src/data/npy-dataset.js';
import { inspectNpyFile, readNpyRows } from '../../src/data/npy-file.js';
import type { RawImage } from '../../src/data/dataset.js';
import { tempDir } from './fixtures.js';

async function images(ds: NpyDataset, batch = 2, limit?: number): Promise<{ imgs: RawImage[]; labels: number[]; sizes: number[] }> {
  const imgs: RawImage[] = [];
  const labels: number[] = [];
  const sizes: number[] = [];
  for await (const b of ds.batches(batch, { limit })) {
    imgs.push(...b.images);
    labels.push(...b.labels);
    sizes.push(b.images.length);
  }
  return { imgs, labels, sizes };
}

test('float32 NHWC images with .npy int labels, read by batch', async () => {
  const dir = tempDir();
  const x = path.join(dir, 'x.npy');
  const y = path.join(dir, 'y.npy');
  const data = Float32Array.from({ length: 5 * 2 * 2 * 3 }, (_, i) => i / 100);
  writeFileSync(x, encodeNpy({ dims: [5, 2, 2, 3], data }));
  writeFileSync(y, encodeNpy({ dims: [5], data: new Int32Array([4, 3, 2, 1, 0]) }));
  const ds = await NpyDataset.open(x, y);
  assert.equal(ds.size, 5);
  const r = await images(ds);
  assert.deepEqual(r.sizes, [2, 2, 1]);
  assert.deepEqual(r.labels, [4, 3, 2, 1, 0]);
  assert.equal(r.imgs[1]!.kind, 'float');
  assert.deepEqual([...r.imgs[1]!.data], [...data.subarray(12, 24)]);
  assert.deepEqual((await images(ds, 2, 3)).sizes, [2, 1]);
});

test('the header reader agrees with formats/npy parseNpy, and slices rows', async () => {
  const dir = tempDir();
  const x = path.join(dir, 'x.npy');
  writeFileSync(x, encodeNpy({ dims: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i) }));
  const info = await inspectNpyFile(x);
  const ref = parseNpy(new Uint8Array(readFileSync(x)), x);
  assert.deepEqual(info.dims, ref.dims);
  assert.equal(info.dtype, ref.dtype);
  const rows = await readNpyRows(info, 1, 3);
  assert.deepEqual(rows.dims, [2, 4]);
  assert.deepEqual([...new Float32Array(rows.bytes.slice().buffer)], [4, 5, 6, 7, 8, 9, 10, 11]);
});

test('NCHW layout, uint8 [n,H,W] and [n,H,W,3], text labels', async () => {
  const dir = tempDir();
  const x = path.join(dir, 'x.npy');
  const t = path.join(dir, 'labels.txt');
  writeFileSync(t, '1\n0\n\n');
  // [2, 3, 1, 2]: image 0 channel planes R=[0,1] G=[2,3] B=[4,5]
  writeFileSync(x, encodeNpy({ dims: [2, 3, 1, 2], data: Float32Array.from({ length: 12 }, (_, i) => i) }));
  const nchw = await images(await NpyDataset.open(x, t, { layout: 'nchw' }));
  assert.deepEqual(nchw.labels, [1, 0]);
  assert.deepEqual([...nchw.imgs[0]!.data], [0, 2, 4, 1, 3, 5]);
  await assert.rejects(NpyDataset.open(x, t), /looks like NCHW: pass --layout nchw/);

  writeFileSync(x, encodeNpy({ dims: [2, 2, 2], data: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]) }));
  const grey = await images(await NpyDataset.open(x, t));
  assert.deepEqual(grey.imgs.map((i) => [i.kind, i.channels, [...i.data]]), [['uint8', 1, [0, 1, 2, 3]], ['uint8', 1, [4, 5, 6, 7]]]);

  writeFileSync(x, encodeNpy({ dims: [2, 1, 1, 3], data: new Uint8Array([9, 8, 7, 6, 5, 4]) }));
  const rgb = await images(await NpyDataset.open(x, t));
  assert.deepEqual(rgb.imgs.map((i) => [i.kind, i.channels, [...i.data]]), [['uint8', 3, [9, 8, 7]], ['uint8', 3, [6, 5, 4]]]);
});

test('bad inputs: count mismatch, bad label line, wrong dtype/shape, not npy', async () => {
  const dir = tempDir();
  const x = path.join(dir, 'x.npy');
  const y = path.join(dir, 'y.txt');
  writeFileSync(x, encodeNpy({ dims: [3, 2, 2, 3], data: new Float32Array(36) }));
  writeFileSync(y, '0\n1\n');
  await assert.rejects(NpyDataset.open(x, y), (e: unknown) => e instanceof FileError && e.file === y && /has 2 labels but .*x\.npy has 3 images/.test(e.message));
  writeFileSync(y, '0\n1\ncat\n');
  await assert.rejects(readLabelsFile(y), /line 3: 'cat' is not a non-negative integer label/);
  writeFileSync(x, encodeNpy({ dims: [3, 2], data: new Int32Array(6) }));
  await assert.rejects(NpyDataset.open(x, y), /images must be float32 \(model range\) or uint8/);
  writeFileSync(x, encodeNpy({ dims: [3, 2, 2], data: new Float32Array(12) }));
  await assert.rejects(NpyDataset.open(x, y), /must have shape \[n, H, W, 3\], found \[3, 2, 2\]/);
  writeFileSync(x, 'hello');
  await assert.rejects(NpyDataset.open(x, y), (e: unknown) => e instanceof FileError && e.file === x && /bad magic/.test(e.message));
  const full = encodeNpy({ dims: [3, 2, 2, 3], data: new Float32Array(36) });
  writeFileSync(x, full.subarray(0, full.length - 4));
  await assert.rejects(NpyDataset.open(x, y), /truncated \.npy data/);
  const yn = path.join(dir, 'y.npy');
  writeFileSync(yn, encodeNpy({ dims: [3], data: new Float32Array(3) }));
  await assert.rejects(readLabelsFile(yn), /expected an integer array/);
});
