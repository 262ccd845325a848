/**
 * Any model vitopt writes loads from a Triton-layout repository: fashion-vit exported to .onnx (fp32)
 * and its dynamic-INT8 quantization, served side by side; labels come from the vitopt metadata; the
 * fp32 logits equal the in-process model's, the INT8 ones agree with them on the top class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { exportModel } from '../../src/export/index.js';
import { saveModel } from '../../src/formats/onnx.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { openModel } from '../../src/engines/create.js';
import { benchInput } from '../../src/bench/input.js';
import { topIndices } from '../../src/data/labels.js';
import { tempDir } from './fixtures.js';

test('fp32 and INT8 exports of fashion-vit from a repository', async () => {
  const repo = tempDir();
  const fp32 = exportModel(await loadCheckpoint('fashion-vit'), 'ort');
  const int8 = (await quantize(fp32, { mode: 'dynamic' })).model;
  for (const [name, m] of [['fv', fp32], ['fv-int8', int8]] as const) {
    mkdirSync(path.join(repo, name, '1'), { recursive: true });
    await saveModel(path.join(repo, name, '1', 'model.onnx'), m);
  }
  const s = await startServer({ modelRepository: repo, port: 0, threads: 1, maxBatchSize: 4 });
  try {
    const x = benchInput(4, [3, 28, 28], 7);
    const ask = async (model: string) => {
      const r = await fetch(`${s.url}/v2/models/${model}/infer`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'pixels', shape: [4, 3, 28, 28], datatype: 'FP32', data: Array.from(x) }],
          outputs: [{ name: 'logits', parameters: { classification: 1 } }] }),
      });
      assert.equal(r.status, 200, model);
      return (await r.json() as { outputs: { data: string[] }[] }).outputs[0]!.data;
    };
    const ref = await openModel(path.join(repo, 'fv', '1', 'model.onnx'), { threads: 1 });
    const logits = (await ref.run({ dims: [4, 3, 28, 28], data: x })).data;
    await ref.release();
    const expected = [0, 1, 2, 3].map((i) => topIndices(logits.subarray(i * 10, i * 10 + 10), 1)[0]!);
    const a = await ask('fv');
    a.forEach((str, i) => {
      const [v, idx, label] = str.split(':');
      assert.equal(Number(idx), expected[i]);
      assert.ok(Math.abs(Number(v) - logits[i * 10 + expected[i]!]!) < 1e-4);
      assert.ok(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'].includes(label!)); // vitopt metadata labels
    });
    const b = await ask('fv-int8');
    const agree = b.filter((str, i) => Number(str.split(':')[1]) === expected[i]).length;
    assert.ok(agree >= 3, `INT8 agrees on ${agree}/4 top classes`);
  } finally {
    await s.close();
  }
});
