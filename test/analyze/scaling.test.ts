import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossover, scalingTable, usableResolutions } from '../../src/analyze/scaling.js';
import { macs } from '../../src/analyze/macs.js';
import { zooConfig } from '../../src/models/zoo.js';
import type { VitConfig } from '../../src/models/config.js';
import { TINY_VIT } from './fixtures.js';

test('crossover T = 2D + M: quadratic equals linear per block exactly there', () => {
  // gap, patch 1, 4×4 px → T = N = 16 = 2·4 + 8
  const c: VitConfig = { ...TINY_VIT, classifier: 'gap', patch: 1, hidden: 4, mlp: 8, heads: 2, resolution: 4 };
  const per = Object.fromEntries(macs(c).components.map((x) => [x.key, x.perLayer]));
  const quad = per.attentionScores! + per.attentionValues!;
  const lin = per.qkv! + per.attentionOut! + per.mlp!;
  assert.equal(quad, lin);
  assert.equal(crossover(c)!.blockT, 16);
});

test('ViT-B crossover figures', () => {
  const x = crossover(zooConfig('ViT-B_16'))!;
  assert.equal(x.blockT, 4608);
  assert.equal(x.projectionsT, 1536);
  assert.equal(x.modelGrid, 69);
  assert.equal(x.modelResolution, 1104);
  const m = macs({ ...zooConfig('ViT-B_16'), resolution: 68 * 16 });
  assert.ok(m.quadratic < m.linear); // 68×68 is still linear-dominated once the patch embedding counts
  assert.equal(crossover(zooConfig('Mixer-B_16')), null);
});

test('ViT scaling rows: only whole grids, ratio = T/(2D+M) per block', () => {
  const rows = scalingTable(zooConfig('ViT-B_16'));
  assert.deepEqual(rows.map((r) => r.resolution), [112, 160, 224, 288, 384, 448, 512]);
  const r224 = rows.find((r) => r.resolution === 224)!;
  assert.equal(r224.tokens, 196);
  assert.equal(r224.quadraticMacs, 12 * 2 * 197 * 197 * 768);
  assert.equal(r224.linearMacs + r224.quadraticMacs + 768 * 1000, r224.totalMacs);
  for (const r of rows) {
    const per = Object.fromEntries(macs({ ...zooConfig('ViT-B_16'), resolution: r.resolution }).components.map((x) => [x.key, x.perLayer]));
    const ratio = (per.attentionScores! + per.attentionValues!) / (per.qkv! + per.attentionOut! + per.mlp!);
    assert.ok(Math.abs(ratio - r.sequence / (2 * 768 + 3072)) < 1e-12);
  }
  // H/14: only multiples of 14 (plus its own resolution)
  assert.deepEqual(usableResolutions(zooConfig('ViT-H_14')), [112, 224, 448]);
  assert.deepEqual(usableResolutions({ ...zooConfig('ViT-H_14'), resolution: 392 }), [112, 224, 392, 448]);
});

test('Mixer scaling rows: no quadratic term, token-mixing weights grow with S', () => {
  const rows = scalingTable(zooConfig('Mixer-B_16'));
  for (const r of rows) {
    assert.equal(r.quadraticMacs, 0);
    assert.equal(r.tokenMixingMacs, 12 * 2 * 768 * r.tokens * 384);
    assert.equal(r.channelMixingMacs, 12 * 2 * r.tokens * 768 * 3072);
    assert.equal(r.tokenMixingParams, 12 * (2 * r.tokens * 384 + 384 + r.tokens));
  }
});
