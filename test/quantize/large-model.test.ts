/**
 * Models over protobuf's 2 GB limit (ViT-H/14 fp32) reach ONNX Runtime through a temporary file with
 * external data (src/engines/model-source.ts). Building such a model here would take minutes and
 * gigabytes, so the limit is lowered to 0: every session below goes through the file path, and
 * must give exactly what the in-memory path gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { encodeModel } from '../../src/formats/onnx.js';
import { setInlineModelLimit } from '../../src/engines/model-source.js';
import { openModel } from '../../src/engines/create.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { assess } from '../../src/tune/quantize-assess.js';
import { arraySource } from '../../src/compress/quantize/collect.js';
import { batches, images, tiny } from './fixtures.js';

const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('vitopt-model-')).length;

async function everything() {
  const m = tiny('vit', 'ort');
  const x = images(4, 16);
  const model = await openModel(m, {}, 'tiny');
  const logits = (await model.run(x)).data;
  await model.release();
  const dynamic = await quantize(m, { mode: 'dynamic' });
  const statik = await quantize(m, { mode: 'static', calibration: arraySource('random', batches(2, 4, 16)) });
  const a = await assess(m, statik, { resolution: 16, bench: false });
  return { logits, dynamic: encodeModel(dynamic.model), static: encodeModel(statik.model), sqnr: a.sqnr, size: a.size };
}

test('a model above the in-memory limit runs, quantizes and is assessed through a temporary file, identically', async () => {
  const inMemory = await everything();
  const before = leftovers();
  const previous = setInlineModelLimit(0);
  let viaFile;
  try {
    viaFile = await everything();
  } finally {
    setInlineModelLimit(previous);
  }
  assert.deepEqual(viaFile.logits, inMemory.logits);
  assert.deepEqual(viaFile.dynamic, inMemory.dynamic, 'type inference through the file gives the same quantized graph');
  assert.deepEqual(viaFile.static, inMemory.static, 'calibration through the file gives the same ranges');
  assert.deepEqual(viaFile.sqnr, inMemory.sqnr);
  assert.deepEqual(viaFile.size, inMemory.size);
  assert.equal(leftovers(), before, 'temporary model files are removed');
});
