import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileError } from '../../src/errors.js';
import { IdxDataset, parseIdxHeader } from '../../src/data/idx.js';
import { idxBytes, tempDir, writeIdxPair } from './fixtures.js';

async function collect(ds: IdxDataset, batch: number, limit?: number) {
  const out: { sizes: number[]; labels: number[]; first: number[]; ids: string[] } = { sizes: [], labels: [], first: [], ids: [] };
  for await (const b of ds.batches(batch, { limit })) {
    out.sizes.push(b.images.length);
    out.labels.push(...b.labels);
    out.ids.push(...b.ids);
    for (const img of b.images) {
      assert.equal(img.kind, 'uint8');
      assert.equal(img.channels, 1);
      out.first.push(img.data[0]!);
    }
  }
  return out;
}

for (const gzip of [false, true]) {
  test(`reads IDX images and labels lazily in batches (${gzip ? 'gzipped' : 'plain'})`, async () => {
    const dir = tempDir();
    const f = writeIdxPair(dir, 45, { gzip });
    const ds = await IdxDataset.open(f.images, f.labels, { name: 't' });
    assert.equal(ds.size, 45);
    const r = await collect(ds, 16);
    assert.deepEqual(r.sizes, [16, 16, 13]);
    assert.deepEqual(r.labels, [...f.labelValues]);
    assert.deepEqual(r.first, Array.from({ length: 45 }, (_, i) => (i * 7) % 256));
    assert.equal(r.ids[3], `${f.images}#3`);
    const limited = await collect(ds, 16, 20);
    assert.deepEqual(limited.sizes, [16, 4]);
  });
}

test('image dims and pixel order are kept', async () => {
  const dir = tempDir();
  const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
  const images = path.join(dir, 'i');
  const labels = path.join(dir, 'l');
  writeFileSync(images, idxBytes(0x803, [2, 2, 3], pixels));
  writeFileSync(labels, idxBytes(0x801, [2], new Uint8Array([1, 0])));
  const ds = await IdxDataset.open(images, labels);
  for await (const b of ds.batches(8)) {
    assert.deepEqual(b.images.map((i) => [i.height, i.width, [...i.data]]), [[2, 3, [0, 1, 2, 3, 4, 5]], [2, 3, [6, 7, 8, 9, 10, 11]]]);
  }
});

async function rejects(p: Promise<unknown>, file: string, pattern: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FileError, `expected FileError, got ${e}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('bad magic names the file and says what it is', async () => {
  const dir = tempDir();
  const f = writeIdxPair(dir, 4);
  await rejects(IdxDataset.open(f.labels, f.labels), f.labels, /magic 0x00000801, expected 0x00000803 \(it is an IDX labels file\)/);
  writeFileSync(f.images, new TextEncoder().encode('<html>not idx</html>'));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /is not an IDX images file: magic/);
  assert.throws(() => parseIdxHeader(new Uint8Array([0, 0, 8]), 'x', 'images'), /only 3 bytes/);
});

test('short file, long file and empty file', async () => {
  const dir = tempDir();
  const f = writeIdxPair(dir, 4);
  const full = readFileSync(f.images);
  writeFileSync(f.images, full.subarray(0, full.length - 5));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /truncated: header promises 4 images \(64 bytes\), file has 59 bytes/);
  writeFileSync(f.images, Buffer.concat([full, Buffer.from([1, 2])]));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /2 unexpected bytes/);
  writeFileSync(f.images, new Uint8Array(0));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /only 0 bytes/);
  writeFileSync(f.images, full.subarray(0, 10)); // cut inside the header
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /truncated: IDX header needs 16 bytes/);
});

test('truncated and corrupt gzip', async () => {
  const dir = tempDir();
  const f = writeIdxPair(dir, 50, { gzip: true, rows: 28, cols: 28 });
  const gz = readFileSync(f.images);
  writeFileSync(f.images, gz.subarray(0, Math.floor(gz.length / 2)));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /gzip data is truncated/);
  const corrupt = Buffer.from(gz);
  for (let i = 20; i < 60; i++) corrupt[i] = 0xff;
  writeFileSync(f.images, corrupt);
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /gzip data is corrupt|cannot gunzip/);
  // The gzip is fine but the IDX inside is short.
  writeFileSync(f.images, gzipSync(idxBytes(0x803, [50, 28, 28], new Uint8Array(100))));
  await rejects(IdxDataset.open(f.images, f.labels), f.images, /truncated: header promises 50 images/);
});

test('label count differs from image count: names the labels file', async () => {
  const dir = tempDir();
  const f = writeIdxPair(dir, 6);
  writeFileSync(f.labels, idxBytes(0x801, [5], new Uint8Array(5)));
  await rejects(IdxDataset.open(f.images, f.labels), f.labels, new RegExp(`has 5 labels but .*${path.basename(f.images)} has 6 images`));
});

test('labels beyond the known classes, and a missing file', async () => {
  const dir = tempDir();
  const f = writeIdxPair(dir, 6, { classes: 6 });
  await rejects(IdxDataset.open(f.images, f.labels, { classes: ['a', 'b', 'c'] }), f.labels, /label 3 at index 3 is out of range for 3 classes/);
  await rejects(IdxDataset.open(path.join(dir, 'nope'), f.labels), path.join(dir, 'nope'), /does not exist/);
});

const DEBIAN = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
test('the real Fashion-MNIST test split streams 10,000 images, 1,000 per class', { skip: !existsSync(DEBIAN) && 'dataset-fashion-mnist not installed' }, async () => {
  const ds = await IdxDataset.open(DEBIAN, DEBIAN.replace('images-idx3', 'labels-idx1'));
  assert.equal(ds.size, 10000);
  const hist = new Array(10).fill(0);
  let n = 0;
  for await (const b of ds.batches(1000)) {
    n += b.images.length;
    for (const l of b.labels) hist[l]++;
    assert.equal(b.images[0]!.height, 28);
  }
  assert.equal(n, 10000);
  assert.deepEqual(hist, new Array(10).fill(1000));
});
