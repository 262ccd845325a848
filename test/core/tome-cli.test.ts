/** `vitopt convert --merge-tokens`: checkpoints and vitopt .onnx exports in, bad input out (exit 2, one line, nothing written). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { encodeModel, loadModel, metadata } from '../../src/formats/onnx.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import { quantize } from '../../src/compress/quantize/index.js';
import type { VitConfig } from '../../src/models/config.js';
import { packagePath } from '../../src/util/paths.js';
import { runCli, tinyVit, tmp } from './helpers.js';

function badInput(r: { status: number | null; stderr: string }, re: RegExp, output: string) {
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0]!, re);
  assert.ok(!existsSync(output), 'nothing written');
}

const configOf = async (file: string) => JSON.parse(metadata(await loadModel(file))['vitopt.config']!) as VitConfig;
const styleOf = async (file: string) => metadata(await loadModel(file))['vitopt.style'];

test('convert fashion-vit --merge-tokens 4 --verify: the schedule travels in the metadata, verified against float64', async () => {
  const out = path.join(tmp(), 'tome.onnx');
  const r = runCli(['convert', 'fashion-vit', '--merge-tokens', '4', '--verify', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /token merging: ToMe r = \[4, 4, 4, 4, 4, 4\] \(50 → 26 tokens\)/);
  assert.match(r.stdout, /verified against the float64 reference/);
  assert.deepEqual((await configOf(out)).mergeTokens, [4, 4, 4, 4, 4, 4]);
  const s = runCli(['convert', 'fashion-vit', '--merge-tokens', '8,8,8,8,8,4', '--graph', 'portable', '--json', '-o', out]);
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout).config.mergeTokens, [8, 8, 8, 8, 8, 4]);
  assert.equal(await styleOf(out), 'portable');
});

test('convert a vitopt .onnx (pruned) -> ToMe: keeps its graph style unless --portable; --merge-tokens 0 removes ToMe', async () => {
  const dir = tmp();
  const pruned = randomIR(tinyVit({ layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8, classifier: 'gap' }), 4);
  for (const style of ['ort', 'portable'] as const) {
    const input = path.join(dir, `pruned-${style}.onnx`);
    await fs.writeFile(input, encodeModel(exportModel(pruned, style)));
    const out = path.join(dir, `tome-${style}.onnx`);
    const r = runCli(['convert', input, '--merge-tokens', '3', '--merge-pool', 'mean', '--verify', '--json', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.style, style);
    assert.ok(report.verification.relativeError <= 1e-4);
    const c = await configOf(out);
    assert.deepEqual([c.layerHeads, c.layerMlp, c.mergeTokens, c.mergePool], [[3, 1], [40, 17], [3, 3], 'mean']);
    // prune/quantize/analyze read the model back through the same metadata.
    assert.deepEqual((irFromOnnx(await loadModel(out), out).config as VitConfig).mergeTokens, [3, 3]);
    const p = runCli(['convert', out, '--graph', 'portable', '-o', path.join(dir, 'p.onnx')]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(await styleOf(path.join(dir, 'p.onnx')), 'portable');
    assert.deepEqual((await configOf(path.join(dir, 'p.onnx'))).mergeTokens, [3, 3], 'an .onnx input keeps its schedule');
    const z = runCli(['convert', out, '--merge-tokens', '0', '-o', path.join(dir, 'z.onnx')]);
    assert.equal(z.status, 0, z.stderr);
    assert.equal((await configOf(path.join(dir, 'z.onnx'))).mergeTokens, undefined);
  }
});

test('convert --merge-tokens: bad input is exit 2, one line, nothing written', async () => {
  const dir = tmp();
  const out = path.join(dir, 'out.onnx');
  const cases: [string[], RegExp][] = [
    [['fashion-vit', '--merge-tokens', '25'], /--merge-tokens 25: too large for 50 tokens .*at most 24/],
    [['fashion-vit', '--merge-tokens', '8,8,8,8,8,8'], /block 5 has 10 tokens .*at most 4 .*8,8,8,8,8,4/],
    [['fashion-vit', '--merge-tokens', '4,4'], /2 entries, the model has 6 layers/],
    [['fashion-vit', '--merge-tokens', '-1'], /--merge-tokens -1: expected a non-negative integer/],
    [['fashion-vit', '--merge-tokens', '1.5'], /--merge-tokens 1\.5: expected a non-negative integer/],
    [['fashion-mixer', '--merge-tokens', '2'], /MLP-Mixer cannot merge tokens/],
    [['fashion-vit', '--merge-tokens', '2', '--merge-pool', 'mean'], /--merge-pool mean: applies to gap/],
    [['fashion-vit', '--merge-pool', 'mean'], /--merge-pool goes with --merge-tokens/],
    [['fashion-vit', '--merge-tokens', '2', '--merge-pool', 'median'], /--merge-pool <kind>' argument 'median' is invalid\. Allowed choices are weighted, mean/],
    [['--config', 'ViT-B_16', '--random-weights', '--merge-tokens', '99'], /too large for 197 tokens .*at most 98/],
    [[packagePath('test', 'fixtures', 'foreign-vit.onnx'), '--merge-tokens', '2'], /foreign-vit\.onnx: is not a vitopt export/],
  ];
  for (const [args, re] of cases) badInput(runCli(['convert', ...args, '-o', out]), re, out);
  const q = path.join(dir, 'q.onnx');
  await fs.writeFile(q, encodeModel((await quantize(exportModel(randomIR(tinyVit(), 1), 'ort'), { mode: 'dynamic' })).model));
  badInput(runCli(['convert', q, '--merge-tokens', '2', '-o', out]), /q\.onnx: is quantized; convert the float32 model/, out);
});

test('prune a ToMe model (structured): calibrated and refitted unmerged, the schedule back on the result', async () => {
  const dir = tmp();
  const input = path.join(dir, 'tome.onnx'), out = path.join(dir, 'pruned.onnx');
  assert.equal(runCli(['convert', 'fashion-vit', '--merge-tokens', '2', '-o', input]).status, 0);
  const r = runCli(['prune', input, '--method', 'neurons', '--ratio', '0.3', '--data', 'fashion-mnist-subset',
    '--calibration-size', '32', '--no-bench', '--json', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const c = await configOf(out);
  assert.deepEqual(c.mergeTokens, [2, 2, 2, 2, 2, 2]);
  assert.ok(c.layerMlp!.some((m) => m < 192), 'pruned');
});
