/**
 * `vitopt convert --format transformers.js`: the folder loads in @huggingface/transformers (Node,
 * local files only) and `pipeline('image-classification', dir)` gives the same top-1 as vitopt on
 * shipped Fashion-MNIST images: fp32 against `vitopt predict`'s model (the checkpoint's fused graph)
 * and q8 (onnx/model_quantized.onnx) against onnxruntime-node on that same file through vitopt's pipeline.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { runCli, tmp } from '../core/helpers.js';
import { fashionSamples, writeSamples, type SampleImage } from '../../src/web/samples.js';
import { nodeTop1 } from './fixtures.js';
import { exportModel } from '../../src/export/index.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { saveModel, loadModel } from '../../src/formats/onnx.js';
import { FASHION_MNIST_CLASSES } from '../../src/data/labels.js';

let dir: string;
let samples: SampleImage[];
let files: string[];

before(async () => {
  const root = tmp();
  dir = path.join(root, 'fashion-vit-tjs');
  const r = runCli(['convert', 'fashion-vit', '--format', 'transformers.js', '-o', dir]);
  assert.equal(r.status, 0, r.stderr);
  samples = await fashionSamples(2);
  await writeSamples(path.join(root, 'images'), samples);
  files = samples.map((s) => path.join(root, 'images', s.name));
});

async function pipelineTop1(dtype: 'fp32' | 'q8'): Promise<string[]> {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const classify = await pipeline('image-classification', path.basename(dir), { dtype, device: 'cpu' });
  const out: string[] = [];
  for (const f of files) {
    const r = await classify(f, { top_k: 1 }) as { label: string; score: number }[];
    out.push(r[0]!.label);
  }
  await classify.dispose();
  return out;
}

test('the folder has what Transformers.js reads', async () => {
  const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'vit');
  assert.deepEqual(Object.values(config.id2label), FASHION_MNIST_CLASSES);
  assert.equal(config.label2id['Ankle boot'], 9);
  const pre = JSON.parse(await fs.readFile(path.join(dir, 'preprocessor_config.json'), 'utf8'));
  assert.deepEqual(pre.size, { height: 28, width: 28 });
  assert.deepEqual(pre.image_mean, [0.5, 0.5, 0.5]);
  for (const f of ['model.onnx', 'model_quantized.onnx']) {
    const m = await loadModel(path.join(dir, 'onnx', f));
    assert.deepEqual(m.graph!.input!.map((i) => i.name), ['pixel_values']);
    assert.deepEqual(m.graph!.output!.map((o) => o.name), ['logits']);
  }
});

test('pipeline fp32: same top-1 as vitopt predict on shipped images', async () => {
  const got = await pipelineTop1('fp32');
  const fused = path.join(path.dirname(dir), 'fashion-vit.onnx');
  await saveModel(fused, exportModel(await loadCheckpoint('fashion-vit'), 'ort'));
  const want = (await nodeTop1(fused, files, 28)).map((i) => FASHION_MNIST_CLASSES[i]);
  assert.deepEqual(got, want);
});

test('pipeline q8 (model_quantized.onnx): same top-1 as onnxruntime-node on that file', async () => {
  const got = await pipelineTop1('q8');
  const want = (await nodeTop1(path.join(dir, 'onnx', 'model_quantized.onnx'), files, 28)).map((i) => FASHION_MNIST_CLASSES[i]);
  assert.deepEqual(got, want);
});

test('bad --format and an .onnx path for a folder: exit 2, one line', () => {
  const a = runCli(['convert', 'fashion-vit', '--format', 'tfjs', '-o', path.join(path.dirname(dir), 'x')]);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--format.*tfjs.*onnx, transformers\.js/);
  const b = runCli(['convert', 'fashion-vit', '--format', 'transformers.js', '-o', path.join(path.dirname(dir), 'x.onnx')]);
  assert.equal(b.status, 2);
  assert.equal(b.stderr.trim().split('\n').length, 1);
});
