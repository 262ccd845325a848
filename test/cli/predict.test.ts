/**
 * `vitopt predict` on image files: real Fashion-MNIST images as PNG / JPEG / WebP, classified by the
 * shipped reference model, checked against the independent float64 forward pass and against `eval`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { encodeNpy, npyToFloat32, parseNpy } from '../../src/formats/npy.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { oneLineError, runCli, subsetImages, tmp, writeImage } from './fixtures.js';

/** The official preprocessing of a 28×28 grey image for a 28-px model, by hand: replicate, (x − 127.5) / 127.5. */
function officialNhwc(pixels: readonly Uint8Array[]): { dims: number[]; data: Float32Array } {
  const data = new Float32Array(pixels.length * 28 * 28 * 3);
  pixels.forEach((px, n) => px.forEach((v, i) => data.fill(Math.fround((v - 127.5) / 127.5), (n * 784 + i) * 3, (n * 784 + i) * 3 + 3)));
  return { dims: [pixels.length, 28, 28, 3], data };
}

test('predict fashion-vit on PNG and WebP files: logits match the float64 reference; top-5 by default', async () => {
  const dir = tmp();
  const imgs = await subsetImages(6);
  const files = await Promise.all(imgs.map((img, i) => writeImage(img, path.join(dir, `img${i}.${i % 2 ? 'webp' : 'png'}`), i % 2 ? 'webp' : 'png')));
  const out = path.join(dir, 'logits.npy');
  const r = runCli(['predict', 'fashion-vit', ...files, '-o', out, '--json', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.images, 6);
  assert.deepEqual(rep.ids, files);
  assert.ok(rep.top.every((t: unknown[]) => t.length === 5), 'top-5 by default');
  const got = parseNpy(await fs.readFile(out), out);
  assert.deepEqual(got.dims, [6, 10]);
  // Lossless files decode to the stored pixels, and at 28 px the resize is the identity: the
  // reference sees exactly what the official pipeline would feed.
  const ref = referenceForward(await loadCheckpoint('fashion-vit'), officialNhwc(imgs.map((i) => i.pixels)));
  assert.ok(relativeError(npyToFloat32(got, out), ref.data) < 1e-4);
  for (let i = 0; i < 6; i++) {
    const row = Array.from(ref.data.subarray(i * 10, i * 10 + 10));
    assert.equal(rep.top[i][0].index, row.indexOf(Math.max(...row)), `image ${i}`);
    const p = rep.top[i].map((x: { probability: number }) => x.probability);
    assert.ok(p.every((v: number, k: number) => k === 0 || v <= p[k - 1]), 'sorted by probability');
  }
  // The text output: one line per image naming the file and its classes with percentages.
  const text = runCli(['predict', 'fashion-vit', files[0]!, '--top-k', '2']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`${files[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${rep.top[0][0].label.replace('/', '\\/')} \\d+\\.\\d%, [^,]+ \\d+\\.\\d%\\n`));
});

test('a folder of resized JPEGs: predict agrees with eval on the same images, image for image', async () => {
  const dir = tmp();
  // 'T-shirt/top' cannot be a folder name (eval would then map classes by index): leave that class out.
  const imgs = (await subsetImages(30)).filter((i) => i.label !== 0).slice(0, 20);
  // eval reads <root>/<class>/*; predict walks the same folder. 56 px JPEGs make both resize and decode lossy.
  await Promise.all(imgs.map((img, i) => writeImage(img, path.join(dir, 'set', img.className, `${String(i).padStart(2, '0')}.jpg`), 'jpeg', 56)));
  const p = runCli(['predict', 'fashion-mixer', path.join(dir, 'set'), '--top-k', '1', '--json', '--threads', '1']);
  assert.equal(p.status, 0, p.stderr);
  const rep = JSON.parse(p.stdout);
  assert.equal(rep.images, 20);
  let correct = 0;
  rep.ids.forEach((id: string, i: number) => {
    if (rep.top[i][0].label === path.basename(path.dirname(id))) correct++;
  });
  const e = runCli(['eval', 'fashion-mixer', '--data', path.join(dir, 'set'), '--json', '--threads', '1']);
  assert.equal(e.status, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.evaluated, 20);
  assert.equal(correct, ev.correctTop1, 'same preprocessing, same predictions');
  assert.ok(correct >= 14, `a 90% model gets most of 20 real images right (got ${correct})`);
});

test('.npy tensors still work, mixed with image files, in input order', async () => {
  const dir = tmp();
  const imgs = await subsetImages(3);
  const npy = path.join(dir, 'x.npy');
  await fs.writeFile(npy, encodeNpy(officialNhwc([imgs[0]!.pixels, imgs[1]!.pixels])));
  const png = await writeImage(imgs[2]!, path.join(dir, 'c.png'), 'png');
  const r = runCli(['predict', 'fashion-vit', npy, png, '--top-k', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.deepEqual(rep.ids, [`${npy}#0`, `${npy}#1`, png]);
  // The old form (--input) is kept.
  const old = runCli(['predict', 'fashion-vit', '--input', npy, '--top-k', '1', '--json']);
  assert.equal(old.status, 0, old.stderr);
  assert.deepEqual(JSON.parse(old.stdout).top, rep.top.slice(0, 2));
});

test('bad inputs: one line naming the file, exit 2, before the model is loaded', async () => {
  const dir = tmp();
  const junk = path.join(dir, 'shirt.png');
  await fs.writeFile(junk, 'not an image at all');
  oneLineError(runCli(['predict', 'fashion-vit', junk]), /shirt\.png: cannot be decoded as an image/);
  oneLineError(runCli(['predict', 'fashion-vit', path.join(dir, 'missing.jpg')]), /missing\.jpg: no such file or folder/);
  await fs.mkdir(path.join(dir, 'empty'));
  oneLineError(runCli(['predict', 'fashion-vit', path.join(dir, 'empty')]), /empty: contains no images/);
  oneLineError(runCli(['predict', 'fashion-vit']), /no inputs/);
  oneLineError(runCli(['predict', 'fashion-vit', junk, '-o', path.join(dir, 'logits.txt')]), /--output .*logits\.txt: logits are written as \.npy/);
});
