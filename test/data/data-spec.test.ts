import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { FileError, UserError } from '../../src/errors.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_SUBSET_DIR, openDataSpec, packageRoot } from '../../src/data/data-spec.js';
import { encodeNpy } from '../../src/formats/npy.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/labels.js';
import { mkdirs, tempDir, writeIdxPair } from './fixtures.js';

test('package root is the directory of vitopt\'s package.json', () => {
  const root = packageRoot();
  assert.equal(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).name, 'vitopt');
});

test('unknown specs are one-line UserErrors that list the accepted forms', async () => {
  for (const spec of ['imagenet', 'no/such/dir', 'cifar10:train']) {
    await assert.rejects(openDataSpec(spec), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /fashion-mnist-subset/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  await assert.rejects(openDataSpec(''), /empty/);
  await assert.rejects(openDataSpec('mnist:'), /needs a directory/);
});

test('fashion-mnist:<dir>[:split] and mnist:<dir> read IDX directories', async () => {
  const dir = tempDir();
  writeIdxPair(dir, 12, { gzip: true });
  writeIdxPair(dir, 30, { prefix: 'train' }); // plain, not gzipped
  const test = await openDataSpec(`fashion-mnist:${dir}`);
  assert.equal(test.size, 12);
  assert.equal(test.name, 'fashion-mnist:test');
  assert.deepEqual(test.classes, FASHION_MNIST_CLASSES);
  const train = await openDataSpec(`fashion-mnist:${dir}:train`);
  assert.equal(train.size, 30);
  const m = await openDataSpec(`mnist:${dir}`);
  assert.deepEqual(m.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  await assert.rejects(openDataSpec(`fashion-mnist:${path.join(dir, 'missing')}`), (e: unknown) => e instanceof FileError && /does not exist/.test(e.message));
  const other = tempDir();
  await assert.rejects(openDataSpec(`fashion-mnist:${other}`), /has no t10k-images-idx3-ubyte\[\.gz\] \(the test split\)/);
  // A directory of IDX files given as an image folder gets a pointer to the right spec.
  await assert.rejects(openDataSpec(dir), /holds IDX files, not class folders; use fashion-mnist:/);
});

test('a directory is an image folder; <images>:<labels> is an .npy or IDX pair', async () => {
  const root = tempDir();
  mkdirs(path.join(root, 'a'), path.join(root, 'b'));
  for (const c of ['a', 'b']) {
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toFile(path.join(root, c, '1.png'));
  }
  const folder = await openDataSpec(root);
  assert.deepEqual(folder.classes, ['a', 'b']);

  const x = path.join(root, 'x.npy');
  const y = path.join(root, 'y.txt');
  writeFileSync(x, encodeNpy({ dims: [2, 4, 4, 3], data: new Float32Array(96) }));
  writeFileSync(y, '1\n0\n');
  assert.equal((await openDataSpec(`${x}:${y}`)).size, 2);
  await assert.rejects(openDataSpec(`${x}:${path.join(root, 'nolabels.txt')}`), /nolabels\.txt: does not exist/);
  await assert.rejects(openDataSpec(`${path.join(root, 'nox.npy')}:${y}`), /nox\.npy: does not exist/);
  await assert.rejects(openDataSpec(x), /a single file is not a dataset/);

  const idx = writeIdxPair(root, 5);
  assert.equal((await openDataSpec(`${idx.images}:${idx.labels}`)).size, 5);
});

const subsetDir = path.join(packageRoot(), FASHION_SUBSET_DIR);
test('fashion-mnist-subset: 2,000 images, 200 per class, from the package root whatever the cwd',
  { skip: !existsSync(path.join(subsetDir, 't10k-images-idx3-ubyte.gz')) && 'subset not shipped yet' }, async () => {
    const cwd = process.cwd();
    process.chdir(tempDir());
    try {
      const ds = await openDataSpec('fashion-mnist-subset');
      assert.equal(ds.size, 2000);
      assert.deepEqual(ds.classes, FASHION_MNIST_CLASSES);
      const hist = new Array(10).fill(0);
      for await (const b of ds.batches(500)) for (const l of b.labels) hist[l]++;
      assert.deepEqual(hist, new Array(10).fill(200));
    } finally {
      process.chdir(cwd);
    }
  });

test('fashion-mnist resolves to Debian\'s dataset-fashion-mnist', { skip: !existsSync(DEBIAN_FASHION_MNIST_DIR) && 'not installed' }, async () => {
  assert.equal((await openDataSpec('fashion-mnist')).size, 10000);
  assert.equal((await openDataSpec('fashion-mnist:test')).size, 10000);
  const train = await openDataSpec('fashion-mnist:train');
  assert.equal(train.size, 60000);
  assert.equal(train.name, 'fashion-mnist:train');
});
