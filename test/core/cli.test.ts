/** The CLI contract: commands, outputs, exit codes, one-line errors and no partial output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { randomIR } from '../../src/models/random.js';
import { encodeNpy, npyToFloat32, parseNpy } from '../../src/formats/npy.js';
import { randomImages } from '../../src/data/random-images.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { ZOO } from '../../src/models/zoo.js';
import { runCli, tinyMixer, tinyVit, tmp, writeHfCheckpoint, writeOfficialNpz } from './helpers.js';

function badInput(r: { status: number | null; stderr: string }, re: RegExp) {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

test('--help lists the commands', () => {
  const r = runCli(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['models', 'convert', 'predict', 'analyze']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test('models lists every zoo entry with its official parameter count', () => {
  const r = runCli(['models', '--json']);
  assert.equal(r.status, 0);
  const rows = (JSON.parse(r.stdout) as { name: string; params: number; kind: string }[]).filter((x) => x.kind === 'zoo');
  assert.deepEqual(rows.map((x) => x.name), ZOO.map((z) => z.config.name));
  assert.equal(rows.find((x) => x.name === 'ViT-B_16')!.params, 86_567_656);
  assert.equal(rows.find((x) => x.name === 'Mixer-L_16')!.params, 208_196_168);
});

test('convert -> predict: logits match the float64 reference (ViT checkpoint, portable and ort)', async () => {
  const dir = tmp();
  const ir = randomIR(tinyVit(), 31);
  const ckpt = await writeOfficialNpz(ir, path.join(dir, 'vit.npz'), { preLinen: true });
  const x = randomImages(4, 16, { seed: 2, layout: 'nhwc' });
  await fs.writeFile(path.join(dir, 'x.npy'), encodeNpy(x));
  const ref = referenceForward(ir, x);
  for (const style of [[], ['--graph', 'portable']]) {
    const onnx = path.join(dir, `m${style.length}.onnx`);
    const c = runCli(['convert', ckpt, '-o', onnx, ...style, '--json']);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).style, style.length ? 'portable' : 'ort');
    const out = path.join(dir, `logits${style.length}.npy`);
    const p = runCli(['predict', onnx, '--input', path.join(dir, 'x.npy'), '-o', out, '--threads', '1', '--batch', '3']);
    assert.equal(p.status, 0, p.stderr);
    const got = parseNpy(await fs.readFile(out), out);
    assert.deepEqual(got.dims, [4, 7]);
    assert.ok(relativeError(npyToFloat32(got, out), ref.data) < 1e-4);
  }
  // A checkpoint runs directly too (converted in memory), and --top-k prints names.
  const p = runCli(['predict', ckpt, '--input', path.join(dir, 'x.npy'), '--top-k', '2', '--json']);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).top[0].length, 2);
});

test('convert --random-weights builds a zoo model; --verify checks it against the reference', () => {
  const dir = tmp();
  const r = runCli(['convert', '--config', 'ViT-Ti_16', '--random-weights', '--classes', '3', '--resolution', '32', '--verify',
    '-o', path.join(dir, 'ti.onnx'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.config.resolution, 32);
  assert.ok(rep.verification.relativeError < 1e-4);
});

test('--external-data writes the weights beside the graph and the model still loads and runs', async () => {
  const dir = tmp();
  const onnx = path.join(dir, 'ext.onnx');
  const r = runCli(['convert', await writeOfficialNpz(randomIR(tinyVit(), 35), path.join(dir, 'v.npz')), '-o', onnx, '--external-data', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).files, [onnx, `${onnx}.data`]);
  assert.ok((await fs.stat(onnx)).size < 20_000, 'graph file holds no weights');
  await fs.writeFile(path.join(dir, 'x.npy'), encodeNpy(randomImages(1, 16, { seed: 3, layout: 'nhwc' })));
  const p = runCli(['predict', onnx, '--input', path.join(dir, 'x.npy'), '--top-k', '1']);
  assert.equal(p.status, 0, p.stderr);
});

test('predict on a Hugging Face checkpoint prints its id2label names', async () => {
  const dir = tmp();
  const file = await writeHfCheckpoint(randomIR(tinyVit(), 32), dir);
  await fs.writeFile(path.join(dir, 'x.npy'), encodeNpy(randomImages(1, 16, { seed: 3, layout: 'nhwc' })));
  const r = runCli(['predict', file, '--input', path.join(dir, 'x.npy'), '--top-k', '3']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /thing \d/);
});

test('bad input: one line, exit 2, no output file left behind', async () => {
  const dir = tmp();
  const ckpt = await writeOfficialNpz(randomIR(tinyMixer(), 33), path.join(dir, 'mx.npz'));
  const onnx = path.join(dir, 'mx.onnx');
  assert.equal(runCli(['convert', ckpt, '-o', onnx]).status, 0);
  const out = path.join(dir, 'out.npy');
  const x = path.join(dir, 'x.npy');
  await fs.writeFile(x, encodeNpy(randomImages(2, 16, { seed: 4, layout: 'nhwc' })));

  const truncated = path.join(dir, 'truncated.onnx');
  await fs.writeFile(truncated, (await fs.readFile(onnx)).subarray(0, 5000));
  badInput(runCli(['predict', truncated, '--input', x, '-o', out]), /truncated\.onnx: not a valid ONNX model/);
  const junk = path.join(dir, 'junk.onnx');
  await fs.writeFile(junk, 'definitely not protobuf '.repeat(50));
  badInput(runCli(['predict', junk, '--input', x, '-o', out]), /junk\.onnx: /);

  const ints = path.join(dir, 'ints.npy');
  await fs.writeFile(ints, encodeNpy({ dims: [1, 16, 16, 3], data: new Int32Array(768) }));
  badInput(runCli(['predict', onnx, '--input', ints, '-o', out]), /ints\.npy: expected float32 images, found dtype 'i4'/);
  const rank3 = path.join(dir, 'rank3.npy');
  await fs.writeFile(rank3, encodeNpy({ dims: [16, 16, 3], data: new Float32Array(768) }));
  badInput(runCli(['predict', onnx, '--input', rank3, '-o', out]), /rank3\.npy: expected a rank-4 NHWC image batch/);
  const nchw = path.join(dir, 'nchw.npy');
  await fs.writeFile(nchw, encodeNpy({ dims: [1, 3, 16, 16], data: new Float32Array(768) }));
  badInput(runCli(['predict', onnx, '--input', nchw, '-o', out]), /pass --layout nchw/);
  assert.equal(runCli(['predict', onnx, '--input', nchw, '--layout', 'nchw', '-o', out]).status, 0);
  await fs.rm(out);

  badInput(runCli(['predict', onnx, '--input', x, '-o', path.join(dir, 'no', 'such', 'dir', 'o.npy')]), /cannot write: directory .* does not exist/);
  badInput(runCli(['convert', ckpt, '-o', path.join(dir, 'nodir', 'm.onnx')]), /cannot write/);
  badInput(runCli(['convert', '--config', 'ViT-Z_9', '--random-weights', '-o', path.join(dir, 'z.onnx')]), /unknown model config 'ViT-Z_9'/);
  badInput(runCli(['predict', 'nothing-like-a-model', '--input', x, '-o', out]), /is not a model/);
  badInput(runCli(['convert', ckpt, '-o', path.join(dir, 'r.onnx'), '--resolution', 'abc']), /--resolution must be an integer/);

  const badSt = path.join(dir, 'hf');
  await writeHfCheckpoint(randomIR(tinyVit(), 34), badSt);
  const st = path.join(badSt, 'model.safetensors');
  await fs.writeFile(st, (await fs.readFile(st)).subarray(0, 300));
  badInput(runCli(['convert', st, '-o', path.join(dir, 'hf.onnx')]), /model\.safetensors: truncated/);

  for (const f of ['out.npy', 'z.onnx', 'hf.onnx', 'r.onnx']) assert.ok(!existsSync(path.join(dir, f)), `${f} must not exist`);
  const leftovers = (await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});
