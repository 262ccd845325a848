import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { loadModel, saveModel, metadata } from '../../src/formats/onnx.js';
import { vitLayer, type VitConfig } from '../../src/models/config.js';
import { totalMacs } from '../../src/analyze/macs.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import type { PruneReport } from '../../src/tune/prune-report.js';
import { runCli, tinyMixer, tinyVit, tmp, writeOfficialNpz } from '../core/helpers.js';

const dir = tmp();
const vit = randomIR(tinyVit({ classes: 10 }), 41);
const vitNpz = await writeOfficialNpz(vit, path.join(dir, 'vit.npz'), { preLinen: true });
const vitOnnx = path.join(dir, 'vit.onnx');
await saveModel(vitOnnx, exportModel(vit, 'portable'));
const mixerOnnx = path.join(dir, 'mixer.onnx');
await saveModel(mixerOnnx, exportModel(randomIR(tinyMixer({ classes: 10 }), 42), 'ort'));
const DATA = 'fashion-mnist-subset';

function ok(args: string[]) {
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  return r;
}

test('prune structured from a checkpoint: FLOPs target met, report with accuracy before/after reconstruction and speed', async () => {
  const out = path.join(dir, 'vit-pruned.onnx');
  const md = path.join(dir, 'report.md');
  const r = ok(['prune', vitNpz, '-o', out, '--method', 'structured', '--target-flops', '0.7', '--data', DATA,
    '--calibration-size', '64', '--eval', DATA, '--eval-size', '96', '--report', md, '--json', '--threads', '1']);
  const rep = JSON.parse(r.stdout) as PruneReport;
  assert.ok(rep.flopsKept <= 0.7, `${rep.flopsKept}`);
  assert.equal(rep.calibration?.images, 64);
  assert.ok(rep.accuracy?.beforeReconstruction && rep.accuracy.pruned.agreement >= 0 && rep.accuracy.images === 96);
  assert.ok(rep.throughput!.ratios[1]! > 0);
  assert.ok(rep.reconstruction!.length > 0);
  assert.equal(rep.layers.length, 2);
  // The written model carries its pruned configuration, and reads back as the same shapes.
  const back = irFromOnnx(await loadModel(out), out);
  const c = back.config as VitConfig;
  assert.deepEqual([0, 1].map((l) => vitLayer(c, l).heads), rep.layers.map((l) => l.units.heads!.kept));
  assert.deepEqual([0, 1].map((l) => vitLayer(c, l).mlp), rep.layers.map((l) => l.units.mlp!.kept));
  assert.ok(totalMacs(c) / totalMacs(vit.config) <= 0.7);
  assert.match(readFileSync(md, 'utf8'), /pruned, after reconstruction/);
});

test('prune heads from a vitopt ONNX export keeps its graph style; neurons on a Mixer', async () => {
  const out = path.join(dir, 'heads.onnx');
  const r = ok(['prune', vitOnnx, '-o', out, '--method', 'heads', '--ratio', '0.5', '--ranking', 'uniform', '--data', DATA,
    '--calibration-size', '32', '--no-bench', '--json']);
  const rep = JSON.parse(r.stdout) as PruneReport;
  assert.deepEqual(rep.layers.map((l) => l.units.heads), [{ kept: 2, of: 4 }, { kept: 2, of: 4 }]);
  assert.equal(metadata(await loadModel(out))['vitopt.style'], 'portable');
  const mout = path.join(dir, 'mixer-pruned.onnx');
  const m = JSON.parse(ok(['prune', mixerOnnx, '-o', mout, '--method', 'neurons', '--ratio', '0.25', '--data', DATA,
    '--calibration-size', '32', '--no-bench', '--no-reconstruct', '--json']).stdout) as PruneReport;
  assert.ok(m.layers.every((l) => l.units.tokenMixing!.kept < 8 || l.units.channelMixing!.kept < 48));
  assert.equal(m.reconstruction, null);
});

test('magnitude and 2:4 report sparsity and gzip size; FLOPs and parameters do not change', () => {
  for (const args of [['--method', 'magnitude', '--ratio', '0.6', '--scope', 'global'], ['--method', 'nm']]) {
    const out = path.join(dir, `${args[1]}.onnx`);
    const rep = JSON.parse(ok(['prune', vitNpz, '-o', out, ...args, '--no-bench', '--json']).stdout) as PruneReport;
    assert.equal(rep.flopsKept, 1);
    assert.equal(rep.paramsKept, 1);
    assert.ok(rep.sparsity!.sparsity > 0.49);
    assert.ok(rep.size.prunedGzipBytes < rep.size.unprunedGzipBytes);
    assert.ok(rep.notes.some((n) => /do not change/.test(n)));
    assert.ok(existsSync(out));
  }
});

test('bad input: exit 2, one line on stderr, nothing written', () => {
  const cases: [string[], RegExp][] = [
    [['--method', 'structured', '--ratio', '1.5', '--data', DATA], /--ratio 1.5: must be strictly between 0 and 1/],
    [['--method', 'structured', '--ratio', '0', '--data', DATA], /--ratio 0: must be strictly between 0 and 1/],
    [['--method', 'heads', '--target-flops', '0.2', '--data', DATA, '--calibration-size', '16'], /--target-flops 0.2: cannot be met by removing attention heads/],
    [['--method', 'structured', '--ratio', '0.3'], /needs calibration images: --calibration-data <spec>, or --data <spec>/],
    [['--method', 'structured', '--ratio', '0.3', '--data', DATA, '--calibration-size', '5000'], /has 2000 images, fewer than --calibration-size 5000/],
    [['--method', 'neurons', '--ratio', '0.3', '--data', DATA, '--calibration-size', '1'], /--calibration-size 1: gives 17 rows to refit/],
    [['--method', 'structured', '--ratio', '0.3', '--data', '/nonexistent/dir'], /not a known dataset/],
    [['--method', 'prune-everything', '--ratio', '0.3'], /--method <m>' argument 'prune-everything' is invalid/],
    [['--method', 'nm', '--ratio', '0.3'], /--ratio and --target-flops do not apply/],
    [['--method', 'magnitude', '--target-flops', '0.5'], /magnitude pruning does not change FLOPs/],
  ];
  for (const [args, re] of cases) {
    const out = path.join(dir, 'bad', 'x.onnx');
    const r = runCli(['prune', vitNpz, '-o', path.join(dir, 'bad.onnx'), ...args, '--no-bench']);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(path.join(dir, 'bad.onnx')) && !existsSync(out));
  }
  // A Mixer has no heads; a foreign graph is not prunable.
  const m = runCli(['prune', mixerOnnx, '-o', path.join(dir, 'bad.onnx'), '--method', 'heads', '--ratio', '0.5', '--data', DATA]);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /MLP-Mixer has no attention heads/);
  assert.ok(!readdirSync(dir).some((f) => f.startsWith('bad') || f.includes('.tmp')));
});

test('a graph that is not a vitopt ViT/Mixer export is rejected', async () => {
  const { GraphBuilder, buildModel } = await import('../../src/formats/onnx.js');
  const g = new GraphBuilder();
  g.renameOutput(g.op('Relu', ['pixels']), 'logits');
  const file = path.join(dir, 'foreign.onnx');
  await saveModel(file, buildModel(g, { name: 'x', inputs: [{ name: 'pixels', shape: [1, 3, 16, 16] }], outputs: [{ name: 'logits', shape: [1, 3, 16, 16] }] }));
  const r = runCli(['prune', file, '-o', path.join(dir, 'f-out.onnx'), '--method', 'magnitude', '--ratio', '0.5']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /foreign\.onnx: is not a vitopt ViT\/Mixer export/);
  assert.ok(!existsSync(path.join(dir, 'f-out.onnx')));
});
