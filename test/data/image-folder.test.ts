import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { FileError } from '../../src/errors.js';
import { ImageFolderDataset, decodeImageFile } from '../../src/data/image-folder.js';
import type { Batch } from '../../src/data/dataset.js';
import { mkdirs, tempDir } from './fixtures.js';

async function png(file: string, width: number, height: number, channels: 1 | 2 | 3 | 4, data: number[]) {
  await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toFile(file);
}

async function all(ds: ImageFolderDataset, batch: number, opts = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(batch, opts)) out.push(b);
  return out;
}

/** root/bag/{a,b,c}.png, root/coat/{a}.png, root/sandal/{a,b}.webp|jpg */
async function makeFolder() {
  const root = tempDir('vitopt-folder-');
  mkdirs(path.join(root, 'bag'), path.join(root, 'coat'), path.join(root, 'sandal'));
  await png(path.join(root, 'bag', 'a.png'), 2, 1, 3, [255, 0, 0, 0, 255, 0]);
  await png(path.join(root, 'bag', 'b.png'), 2, 1, 1, [10, 200]); // grey
  await png(path.join(root, 'bag', 'c.PNG'), 1, 1, 4, [1, 2, 3, 0]); // RGBA: alpha dropped, not composited
  await png(path.join(root, 'coat', 'a.png'), 1, 1, 2, [77, 128]); // grey + alpha
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 0, g: 128, b: 255 } } }).webp({ lossless: true }).toFile(path.join(root, 'sandal', 'a.webp'));
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toFile(path.join(root, 'sandal', 'b.jpg'));
  writeFileSync(path.join(root, 'sandal', 'notes.txt'), 'not an image, ignored');
  return root;
}

test('classes are sorted subfolders; images decode to RGB uint8; grey and alpha handled', async () => {
  const root = await makeFolder();
  const ds = await ImageFolderDataset.open(root);
  assert.deepEqual(ds.classes, ['bag', 'coat', 'sandal']);
  assert.equal(ds.size, 6);
  const [b] = await all(ds, 100);
  const byName = new Map(b!.ids.map((id, i) => [path.relative(root, id), { img: b!.images[i]!, label: b!.labels[i] }]));
  const px = (name: string) => [...byName.get(name)!.img.data];
  assert.deepEqual(px('bag/a.png'), [255, 0, 0, 0, 255, 0]);
  assert.deepEqual(px('bag/b.png'), [10, 10, 10, 200, 200, 200]);
  assert.deepEqual(px('bag/c.PNG'), [1, 2, 3]);
  assert.deepEqual(px('coat/a.png'), [77, 77, 77]);
  assert.deepEqual(px('sandal/a.webp').slice(0, 3), [0, 128, 255]);
  const jpg = byName.get('sandal/b.jpg')!;
  assert.equal(jpg.label, 2);
  assert.equal(jpg.img.height, 6);
  assert.equal(jpg.img.width, 8);
  assert.ok(px('sandal/b.jpg').every((v) => Math.abs(v - 128) <= 2));
});

test('reading order is round-robin over classes so --limit samples every class', async () => {
  const root = await makeFolder();
  const ds = await ImageFolderDataset.open(root);
  assert.deepEqual(ds.files.map((f) => path.relative(root, f)),
    ['bag/a.png', 'coat/a.png', 'sandal/a.webp', 'bag/b.png', 'sandal/b.jpg', 'bag/c.PNG']);
  const batches = await all(ds, 2, { limit: 3 });
  assert.deepEqual(batches.map((b) => [...b.labels]), [[0, 1], [2]]);
});

test('an undecodable image is a FileError naming it; with skipBad it is skipped and listed', async () => {
  const root = await makeFolder();
  const bad = path.join(root, 'coat', 'x.jpg');
  writeFileSync(bad, Buffer.from('definitely not a jpeg'));
  const ds = await ImageFolderDataset.open(root);
  await assert.rejects(all(ds, 4), (e: unknown) => {
    assert.ok(e instanceof FileError);
    assert.equal(e.file, bad);
    assert.match(e.message, /cannot be decoded as an image/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  const batches = await all(ds, 4, { skipBad: true });
  const skipped = batches.flatMap((b) => b.skipped);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.id, bad);
  assert.match(skipped[0]!.reason, /cannot be decoded/);
  assert.equal(batches.reduce((n, b) => n + b.images.length, 0), 6);
  await assert.rejects(decodeImageFile(bad), FileError);
});

test('symbolic links to class folders and images are followed', async () => {
  const root = await makeFolder();
  const linked = tempDir('vitopt-links-');
  symlinkSync(path.join(root, 'bag'), path.join(linked, 'bag'));
  mkdirs(path.join(linked, 'coat'));
  symlinkSync(path.join(root, 'coat', 'a.png'), path.join(linked, 'coat', 'a.png'));
  symlinkSync(path.join(root, 'coat', 'missing.png'), path.join(linked, 'coat', 'dangling.png'));
  const ds = await ImageFolderDataset.open(linked);
  assert.deepEqual(ds.classes, ['bag', 'coat']);
  assert.equal(ds.size, 4);
});

test('empty folder, class folder without images, missing folder', async () => {
  const empty = tempDir('vitopt-empty-');
  await assert.rejects(ImageFolderDataset.open(empty), /has no class subfolders/);
  mkdirs(path.join(empty, 'cats'));
  writeFileSync(path.join(empty, 'cats', 'readme.txt'), 'x');
  await assert.rejects(ImageFolderDataset.open(empty), (e: unknown) => e instanceof FileError && e.file === path.join(empty, 'cats') && /contains no images/.test(e.message));
  await assert.rejects(ImageFolderDataset.open(path.join(empty, 'nope')), /does not exist/);
});
