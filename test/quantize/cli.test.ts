import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { buildModel, GraphBuilder, ints, loadModel, metadata, saveModel } from '../../src/formats/onnx.js';
import type { QuantizeReport } from '../../src/tune/quantize-report.js';
import { packagePath } from '../../src/util/paths.js';
import { runCli, tinyMixer, tinyVit, tmp, writeOfficialNpz } from '../core/helpers.js';

const dir = tmp();
const vitOnnx = path.join(dir, 'vit.onnx');
await saveModel(vitOnnx, exportModel(randomIR(tinyVit({ classes: 10 }), 5), 'ort'));
const mixerNpz = await writeOfficialNpz(randomIR(tinyMixer({ classes: 10 }), 6), path.join(dir, 'mixer.npz'));
const FOREIGN = packagePath('test', 'fixtures', 'foreign-vit.onnx');
const DATA = 'fashion-mnist-subset';

function ok(args: string[]): QuantizeReport {
  const r = runCli([...args, '--json', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as QuantizeReport;
}

function fails(args: string[], message: RegExp): void {
  const r = runCli(args);
  assert.equal(r.status, 2, `${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
}

const noTemps = () => assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

test('quantize dynamic from the CLI: model, report with size, side-by-side speed, accuracy, per-layer SQNR', () => {
  const out = path.join(dir, 'vit-dyn.onnx'), md = path.join(dir, 'vit-dyn.md');
  const r = ok(['quantize', vitOnnx, '-o', out, '--mode', 'dynamic', '--data', DATA, '--eval-size', '64', '--report', md]);
  assert.ok(existsSync(out));
  assert.equal(r.settings.mode, 'dynamic');
  assert.ok(r.size.quantBytes < r.size.floatBytes);
  assert.ok(r.throughput!.ratio > 0 && r.throughput!.batch === 8);
  assert.equal(r.accuracy!.images, 64);
  assert.ok(r.accuracy!.agreement >= 0.9);
  assert.ok(r.layers.filter((l) => l.quantized).every((l) => Number.isFinite(l.outputSqnr) && l.weightSqnr! > 25));
  assert.ok(r.logitsSqnr > 15);
  assert.match(readFileSync(md, 'utf8'), /\| layer \| kind \| K×N \|/);
  noTemps();
});

test('quantize static from a checkpoint, calibrated on data; int4 and fp16 on a foreign export', async () => {
  const out = path.join(dir, 'mixer-static.onnx');
  const r = ok(['quantize', mixerNpz, '-o', out, '--mode', 'static', '--data', DATA, '--calibration-size', '24',
    '--calibration-method', 'entropy', '--eval-size', '32', '--no-bench']);
  assert.equal(r.calibration!.images, 24);
  assert.equal(r.settings.method, 'entropy');
  assert.equal(r.throughput, null);
  assert.ok(r.notes.some((n) => /calibration images are drawn from --data/.test(n)), 'no training split in the subset: said so');
  assert.ok(JSON.parse(metadata(await loadModel(out))['vitopt.config']!).family === 'mixer');
  const q4 = ok(['quantize', FOREIGN, '-o', path.join(dir, 'f4.onnx'), '--mode', 'int4', '--block-size', '16', '--no-bench']);
  assert.equal(q4.settings.int4!.blockSize, 16);
  assert.ok(q4.layers.some((l) => l.quantized));
  const h = ok(['quantize', FOREIGN, '-o', path.join(dir, 'f16.onnx'), '--mode', 'fp16', '--no-bench']);
  assert.ok(h.fp16!.halfNodes > 0 && h.size.ratio < 0.6);
  // A foreign model with a fixed batch size of 2: calibration, evaluation and SQNR in whole batches.
  const fixed = await loadModel(FOREIGN);
  fixed.graph!.input![0]!.type!.tensorType!.shape!.dim![0] = { dimValue: 2 };
  fixed.graph!.output![0]!.type!.tensorType!.shape!.dim![0] = { dimValue: 2 };
  const fixedFile = path.join(dir, 'fixed-batch.onnx');
  await saveModel(fixedFile, fixed);
  const f = ok(['quantize', fixedFile, '-o', path.join(dir, 'fixed-q.onnx'), '--mode', 'static', '--data', DATA,
    '--calibration-size', '15', '--eval-size', '21', '--max-drop', '5']);
  assert.equal(f.calibration!.images, 14);
  assert.equal(f.accuracy!.images, 20);
  assert.equal(f.throughput, null);
  assert.ok(f.notes.some((n) => /fixed batch size/.test(n)));
});

test('bad input: exit code 2, one line, nothing written', async () => {
  const out = path.join(dir, 'never.onnx');
  const q = path.join(dir, 'vit-dyn-again.onnx');
  ok(['quantize', vitOnnx, '-o', q, '--mode', 'dynamic', '--no-bench']);
  fails(['quantize', q, '-o', out, '--mode', 'static', '--data', DATA], /already quantized.*DynamicQuantizeMatMul/);
  const h = path.join(dir, 'half.onnx');
  ok(['quantize', vitOnnx, '-o', h, '--mode', 'fp16', '--no-bench']);
  fails(['quantize', h, '-o', out, '--mode', 'dynamic'], /already quantized|already float16/);

  // A model with no weight matrix multiply at all.
  const g = new GraphBuilder();
  const conv = g.op('Conv', ['pixels', g.weight('k', { dims: [4, 3, 4, 4], data: new Float32Array(192).fill(0.1) })], { strides: ints([4, 4]) });
  g.renameOutput(g.op('ReduceMean', [conv], { axes: ints([2, 3]), keepdims: { int: 0 } }), 'logits');
  const convOnly = path.join(dir, 'conv-only.onnx');
  await saveModel(convOnly, buildModel(g, { name: 'c', inputs: [{ name: 'pixels', shape: ['batch', 3, 16, 16] }], outputs: [{ name: 'logits', shape: ['batch', 4] }] }));
  fails(['quantize', convOnly, '-o', out, '--mode', 'dynamic'], /no quantizable ops/);

  // An op type nothing can run.
  const u = new GraphBuilder();
  const mm = u.op('MatMul', [u.op('Flatten', ['pixels']), u.weight('w', { dims: [768, 4], data: new Float32Array(3072).fill(0.01) })]);
  u.renameOutput(u.op('Frobnicate', [mm], {}, { domain: 'com.example' }), 'logits');
  const unknown = path.join(dir, 'unknown-op.onnx');
  await saveModel(unknown, buildModel(u, { name: 'u', inputs: [{ name: 'pixels', shape: ['batch', 3, 16, 16] }], outputs: [{ name: 'logits', shape: ['batch', 4] }] }));
  fails(['quantize', unknown, '-o', out, '--mode', 'dynamic'], /cannot be loaded by ONNX Runtime.*Frobnicate/);

  fails(['quantize', vitOnnx, '-o', out, '--mode', 'dynamic', '--include', 'Conv'], /ConvInteger with int8 weights is not implemented/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'dynamic', '--include', 'LayerNormalization'], /only weight matrix multiplies/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'static', '--data', DATA, '--include', 'Tile'], /--include Tile: matches no node/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'static'], /needs calibration images/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'dynamic', '--max-drop', '0.5'], /--max-drop needs --data/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'int8'], /--mode <mode>' argument 'int8' is invalid\. Allowed choices are dynamic, static, fp16, int4/);
  fails(['quantize', vitOnnx, '-o', path.join(dir, 'no', 'such', 'dir.onnx'), '--mode', 'dynamic'], /does not exist/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'int4', '--block-size', '24'], /power of two/);
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'dynamic', '--exclude', 'Transformer,Attention,MatMul'], /nothing to quantize/);
  // Calibration images of the wrong shape (a .npy that is not an image batch).
  const { encodeNpy } = await import('../../src/formats/npy.js');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'bad.npy'), encodeNpy({ dims: [4, 16, 16], data: new Float32Array(1024) }));
  writeFileSync(path.join(dir, 'bad.txt'), '0\n1\n2\n3\n');
  fails(['quantize', vitOnnx, '-o', out, '--mode', 'static', '--data', `${path.join(dir, 'bad.npy')}:${path.join(dir, 'bad.txt')}`], /images must have shape/);
  assert.ok(!existsSync(out), 'nothing half-written');
  noTemps();
});
