/**
 * Hybrid R+ViT configurations: exact parameter counts (vit_jax/models_test.py, spec §1.2), the exact
 * key tree of a published R50+ViT-B/16 checkpoint, token grids (R+ViT-Ti_16 is /32, not /16), and the
 * per-stage MACs `vitopt analyze` reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { countParams } from '../../src/analyze/params.js';
import { macs } from '../../src/analyze/macs.js';
import { activationMemory } from '../../src/analyze/memory.js';
import { gridSize, tokenStride, type VitConfig } from '../../src/models/config.js';
import { expectedShapes } from '../../src/models/layout.js';
import { zooConfig } from '../../src/models/zoo.js';
import { packagePath } from '../../src/util/paths.js';
import { runCli } from '../core/helpers.js';

// vit_jax/models_test.py MODEL_SIZES (224 px, 1000 classes).
const OFFICIAL: Record<string, number> = {
  'R+ViT-Ti_16': 6_337_704, 'R50+ViT-B_16': 98_659_112, 'R26+ViT-B_32': 101_383_976,
  'R26+ViT-S_32': 36_431_912, 'R50+ViT-L_32': 328_994_856,
};

test('hybrid parameter counts equal vit_jax/models_test.py', () => {
  for (const [name, n] of Object.entries(OFFICIAL)) assert.equal(countParams(zooConfig(name)), n, name);
});

test('the layout of R50+ViT-B_16 @ 384 is exactly the published checkpoint key tree', () => {
  const lines = readFileSync(packagePath('test', 'fixtures', 'r50vitb16_384_tree.txt'), 'utf8').trim().split('\n');
  const total = Number(/^total (\d+)$/.exec(lines.pop()!)![1]);
  // The published tree is in pre-Linen naming; vitopt's IR is Linen-numbered (spec §2.1).
  const linen = (k: string) => k.replace('MultiHeadDotProductAttention_1', 'MultiHeadDotProductAttention_0')
    .replace(/(encoderblock_\d+)\/LayerNorm_2/, '$1/LayerNorm_1').replace('MlpBlock_3', 'MlpBlock_0');
  const tree = new Map(lines.map((l) => {
    const [k, shape] = l.split('\t') as [string, string];
    return [linen(k), shape.replace(/[(),]/g, ' ').trim().split(/\s+/).map(Number)];
  }));
  const c = { ...zooConfig('R50+ViT-B_16'), resolution: 384 };
  const mine = expectedShapes(c);
  assert.deepEqual([...mine.keys()].sort(), [...tree.keys()].sort());
  for (const [k, dims] of tree) assert.deepEqual(mine.get(k), dims, k);
  assert.equal(countParams(c), total);
});

test('token grids: the stem stride times the patch; R+ViT-Ti_16 is /32 (root conv and max-pool both stride 2)', () => {
  const at = (name: string, resolution: number) => ({ ...zooConfig(name), resolution });
  assert.equal(gridSize(at('R50+ViT-B_16', 224)), 14);
  assert.equal(gridSize(at('R50+ViT-B_16', 384)), 24);
  assert.equal(gridSize(at('R26+ViT-S_32', 224)), 7);
  assert.equal(gridSize(at('R50+ViT-L_32', 384)), 12);
  assert.equal(gridSize(at('R+ViT-Ti_16', 224)), 7);
  assert.equal(tokenStride(zooConfig('R+ViT-Ti_16')), 32);
  assert.equal(tokenStride(zooConfig('R50+ViT-B_16')), 16);
  // SAME convs round up: 200 px -> 100 -> 50 -> 25 -> 13 for R50 (3 stages).
  assert.equal(gridSize(at('R50+ViT-B_16', 200)), 13);
  // Names are separator-insensitive like every zoo name.
  assert.equal(zooConfig('r50-vit-b16').name, 'R50+ViT-B_16');
});

test('MACs per ResNet stage: the root conv by hand, stages sum to the stem, patch embedding on the feature map', () => {
  const c = zooConfig('R50+ViT-B_16') as VitConfig;
  const m = macs(c);
  const get = (k: string) => m.components.find((x) => x.key === k)!.macs;
  assert.equal(get('resnetRoot'), 112 * 112 * 7 * 7 * 3 * 64);
  // Stage 1 by hand (56×56 throughout): unit1 proj 64→256, conv1 64→64; units 2–3 conv1 256→64; each conv2 3×3 64→64, conv3 64→256.
  const s1 = 56 * 56 * (64 * 256 + 64 * 64 + 2 * 256 * 64 + 3 * (9 * 64 * 64 + 64 * 256));
  assert.equal(get('resnetStage1'), s1);
  assert.ok(get('resnetStage2') > 0 && get('resnetStage3') > 0);
  assert.equal(m.components.some((x) => x.key === 'resnetStage4'), false);
  assert.equal(get('patchEmbedding'), 196 * 1024 * 768);
  // The root-only stem has one ResNet component.
  const ti = macs(zooConfig('R+ViT-Ti_16'));
  assert.deepEqual(ti.components.filter((x) => x.key.startsWith('resnet')).map((x) => x.key), ['resnetRoot']);
  assert.equal(ti.components.find((x) => x.key === 'patchEmbedding')!.macs, 49 * 64 * 64 * 192);
  // At 224 px the widest activations are in the stem (56×56×256 maps), not in the transformer.
  assert.match(activationMemory(c).peakOp, /^block1\/unit1\//);
});

test('vitopt models lists the hybrids; vitopt analyze reports the ResNet stages', () => {
  const list = runCli(['models', '--json']);
  assert.equal(list.status, 0, list.stderr);
  const rows = JSON.parse(list.stdout) as { name: string; params: number }[];
  for (const [name, n] of Object.entries(OFFICIAL)) assert.equal(rows.find((r) => r.name === name)?.params, n, name);
  const r = runCli(['analyze', 'R26+ViT-S_32', '--resolution', '384']);
  assert.equal(r.status, 0, r.stderr);
  for (const s of ['ResNet root', 'ResNet stage 1', 'ResNet stage 4', 'ResNet stem (StdConv + GroupNorm)', '12×12']) assert.ok(r.stdout.includes(s), s);
  const bad = runCli(['analyze', 'R50+ViT-B_16', '--resolution', '8']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--resolution 8 is smaller than the 16 pixels of one token/);
});
