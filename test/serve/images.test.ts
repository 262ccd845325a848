/**
 * Encoded images through the server give exactly the logits of the eval/predict path on the same
 * images: shipped Fashion-MNIST test images (data/fashion-mnist-subset) as PNG, WebP and JPEG, sent
 * as JSON BYTES (base64), binary BYTES (length-prefixed), a raw body, and the curl route /classify;
 * the reference is the fashion-vit model loaded in this process (loadRunnable, as predict does) on
 * preprocessBatch of the dataset's own pixels (PNG/WebP are lossless) or of decodeImageFile (JPEG).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { openDataSpec } from '../../src/data/data-spec.js';
import { decodeImageFile } from '../../src/data/image-folder.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import type { RawImage } from '../../src/data/dataset.js';
import { loadRunnable, type Runnable } from '../../src/models/resolve.js';
import { topK } from '../../src/data/labels.js';
import { decodeImageBytes } from '../../src/serve/images.js';
import { binaryBody, lengthPrefixed, readBinaryResponse, f32, tempDir } from './fixtures.js';

let server: RunningServer;
let ref: Runnable;
let images: RawImage[];
let labels: Int32Array;
let png: Buffer[];

before(async () => {
  const data = await openDataSpec('fashion-mnist-subset');
  for await (const b of data.batches(4, { limit: 4 })) {
    images = b.images;
    labels = b.labels;
  }
  png = await Promise.all(images.map((im) => sharp(Buffer.from(im.data), { raw: { width: im.width, height: im.height, channels: im.channels } }).png().toBuffer()));
  server = await startServer({ models: ['fashion-vit'], port: 0, threads: 1, maxBatchSize: 4 });
  ref = await loadRunnable('fashion-vit', { threads: 1 });
});
after(async () => {
  await server?.close();
  await ref?.model.release();
});

async function reference(raw: RawImage[]): Promise<Float32Array> {
  return (await ref.model.run(preprocessBatch(raw, ref.resolution))).data;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

test('decoding request bytes gives the pixels decodeImageFile (eval on an image folder) gives', async () => {
  const dir = tempDir();
  const jpeg = await sharp(png[0]!).jpeg({ quality: 80 }).toBuffer();
  for (const [name, bytes] of [['a.png', png[0]!], ['b.jpg', jpeg]] as const) {
    writeFileSync(path.join(dir, name), bytes);
    const fromFile = await decodeImageFile(path.join(dir, name));
    const fromBytes = await decodeImageBytes(bytes, name);
    assert.deepEqual({ ...fromBytes, data: null }, { ...fromFile, data: null });
    assert.ok(Buffer.from(fromBytes.data).equals(Buffer.from(fromFile.data)), name);
  }
});

test('JSON BYTES (base64 PNG): the logits of predict/eval on the dataset pixels', async () => {
  const expected = await reference(images);
  const res = await fetch(`${server.url}/v2/models/fashion-vit/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'image', shape: [4], datatype: 'BYTES', data: png.map((b) => b.toString('base64')) }] }),
  });
  assert.equal(res.status, 200);
  const out = (await res.json() as { outputs: { shape: number[]; data: number[] }[] }).outputs[0]!;
  assert.deepEqual(out.shape, [4, 10]);
  close(out.data, expected);
  // The reference model classifies these correctly or not, the server agrees either way; and most are right.
  const hits = [0, 1, 2, 3].filter((i) => topK(out.data.slice(i * 10, i * 10 + 10), 1)[0]!.index === labels[i]).length;
  assert.ok(hits >= 3, `${hits}/4 correct`);
});

test('binary BYTES (length-prefixed WebP and PNG), raw body, classification output', async () => {
  const webp = await Promise.all(png.slice(0, 2).map((b) => sharp(b).webp({ lossless: true }).toBuffer()));
  const elements = lengthPrefixed(webp[0]!, png[1]!);
  const { body, headerLength } = binaryBody({
    inputs: [{ name: 'image', shape: [2, 1], datatype: 'BYTES', parameters: { binary_data_size: elements.length } }],
    outputs: [{ name: 'logits', parameters: { binary_data: true } }],
  }, elements);
  const res = await fetch(`${server.url}/v2/models/fashion-vit/infer`, {
    method: 'POST', headers: { 'inference-header-content-length': String(headerLength) }, body: new Uint8Array(body),
  });
  assert.equal(res.status, 200);
  const { header, binary } = await readBinaryResponse(res);
  assert.deepEqual(header.outputs[0].shape, [2, 10]);
  close(f32(binary), await reference(images.slice(0, 2)));
  // Raw binary request: the whole body is one encoded image.
  const raw = await fetch(`${server.url}/v2/models/fashion-vit/infer`, {
    method: 'POST', headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' }, body: new Uint8Array(png[2]!),
  });
  assert.equal(raw.status, 200);
  close(f32((await readBinaryResponse(raw)).binary), await reference([images[2]!]));
  const cls = await fetch(`${server.url}/v2/models/fashion-vit/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [png[3]!.toString('base64')] }], outputs: [{ name: 'logits', parameters: { classification: 3 } }] }),
  });
  const strings = (await cls.json() as { outputs: { data: string[] }[] }).outputs[0]!.data;
  const expected = topK(await reference([images[3]!]), 3, ref.labels);
  assert.deepEqual(strings.map((s) => s.split(':').slice(1).join(':')), expected.map((p) => `${p.index}:${p.label}`));
});

test('POST /classify: a raw image body (JPEG) → top-k labels, as eval decodes the same file', async () => {
  const jpeg = await sharp(png[0]!).jpeg({ quality: 90 }).toBuffer();
  const res = await fetch(`${server.url}/v2/models/fashion-vit/classify?top_k=3`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
  assert.equal(res.status, 200);
  const j = await res.json() as { model_name: string; predictions: { index: number; label: string; probability: number; logit: number }[] };
  assert.equal(j.model_name, 'fashion-vit');
  const dir = tempDir();
  writeFileSync(path.join(dir, 'x.jpg'), jpeg);
  const expected = topK(await reference([await decodeImageFile(path.join(dir, 'x.jpg'))]), 3, ref.labels);
  assert.deepEqual(j.predictions.map((p) => [p.index, p.label]), expected.map((p) => [p.index, p.label]));
  expected.forEach((p, i) => assert.ok(Math.abs(j.predictions[i]!.probability - p.probability) < 1e-4));
  const bad = await fetch(`${server.url}/v2/models/fashion-vit/classify`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'not an image' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json() as { error: string }).error, /cannot be decoded/);
  const empty = await fetch(`${server.url}/v2/models/fashion-vit/classify`, { method: 'POST' });
  assert.equal(empty.status, 400);
});
