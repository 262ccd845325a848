/** Exact MACs of a Token Merging ViT: per block at its own token count; `vitopt analyze --merge-tokens`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { macs, vitBlockMacs } from '../../src/analyze/macs.js';
import { scalingTable } from '../../src/analyze/scaling.js';
import { analyze, withOverrides } from '../../src/analyze/report.js';
import { zooConfig } from '../../src/models/zoo.js';
import { withMergeConfig } from '../../src/models/tome.js';
import { isUserError } from '../../src/errors.js';
import type { VitConfig } from '../../src/models/config.js';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { encodeModel } from '../../src/formats/onnx.js';
import { withMergeSchedule } from '../../src/models/tome.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CACHE = mkdtempSync(path.join(tmpdir(), 'vitopt-analyze-cache-'));
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'analyze', ...args],
  { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: CACHE } });

const tiny: VitConfig = { family: 'vit', patch: 4, hidden: 32, mlp: 64, heads: 4, layers: 2, classifier: 'token',
  representation: null, classes: 7, resolution: 16, gelu: 'tanh', layerNormEps: 1e-6 };

test('per-block MACs by hand: 17 -> 14 -> 9 tokens (r = [3, 5], D 32, 4 heads of 8, MLP 64)', () => {
  const c = withMergeConfig(tiny, [3, 5]);
  const D = 32, hd = 8, M = 64;
  const block = (T: number, r: number) => ({
    attention: 3 * T * D * D + 2 * T * T * D + T * D * D,
    merge: T * D * hd + Math.ceil(T / 2) * Math.floor(T / 2) * hd,
    mlp: 2 * (T - r) * D * M,
  });
  const b = vitBlockMacs(c);
  assert.deepEqual(b.map((x) => [x.tokens, x.merged]), [[17, 3], [14, 5]]);
  for (const [l, [T, r]] of [[17, 3], [14, 5]].entries()) {
    const e = block(T!, r!);
    assert.deepEqual([b[l]!.attention, b[l]!.merge, b[l]!.mlp, b[l]!.total], [e.attention, e.merge, e.mlp, e.attention + e.merge + e.mlp]);
  }
  const m = macs(c);
  const outside = 16 * 4 * 4 * 3 * D + D * 7; // patch embedding + head
  assert.equal(m.total, b[0]!.total + b[1]!.total + outside);
  assert.equal(m.linear + m.quadratic + m.constant, m.total);
  assert.deepEqual(m.blocks, b);
  assert.equal(macs(tiny).blocks, undefined, 'no per-block table without merging');
});

test('ViT-B/16 r = 16 (reference cap: 16 × 11, then 10): about half the MACs; the scaling table is the architecture\'s', () => {
  const base = zooConfig('ViT-B_16');
  const c = withMergeConfig(base, 16);
  assert.deepEqual(c.mergeTokens, [...Array(11).fill(16), 10]);
  const ratio = macs(base).total / macs(c).total;
  assert.ok(ratio > 1.95 && ratio < 2.05, `predicted speed-up ${ratio}`);
  assert.deepEqual(scalingTable(c), scalingTable(base));
  const r = analyze(c);
  assert.ok(r.notes.some((n) => /Token Merging: ToMe r = \[16/.test(n)));
  assert.ok(r.roofline.batch1.fp32.imagesPerSecond > analyze(base).roofline.batch1.fp32.imagesPerSecond * 1.9);
  // A schedule that does not fit another resolution is refused there.
  assert.throws(() => withOverrides(withMergeConfig(base, [...Array(11).fill(16), 10]), { resolution: 160 }),
    (e: unknown) => isUserError(e) && /--resolution 160: the model's merge schedule/.test((e as Error).message));
});

test('vitopt analyze --merge-tokens: per-block table and JSON; a ToMe .onnx carries its schedule; Mixer refused', () => {
  const t = run('fashion-vit', '--merge-tokens', '4');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /## Token merging \(exact MACs per block\)/);
  assert.match(t.stdout, /\| 5 +\| +30 \| +4 \| +26 \|/);
  const j = JSON.parse(run('ViT-B_16', '--merge-tokens', '8', '--json').stdout);
  assert.deepEqual(j.macs.blocks.map((b: { tokens: number }) => b.tokens), [197, 189, 181, 173, 165, 157, 149, 141, 133, 125, 117, 109]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vitopt-tome-')), 'tome.onnx');
  writeFileSync(file, encodeModel(exportModel(withMergeSchedule(randomIR(tiny, 1), [3, 5]), 'ort')));
  const f = JSON.parse(run(file, '--json').stdout);
  assert.deepEqual(f.macs.blocks.map((b: { tokens: number }) => b.tokens), [17, 14]);
  const bad = run('fashion-mixer', '--merge-tokens', '2');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /MLP-Mixer cannot merge tokens/);
});
