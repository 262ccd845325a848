import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementwiseFlops, macs } from '../../src/analyze/macs.js';
import { zooConfig } from '../../src/models/zoo.js';
import { TINY_MIXER, TINY_VIT } from './fixtures.js';

const byKey = (r: ReturnType<typeof macs>) => Object.fromEntries(r.components.map((c) => [c.key, c.macs]));

test('published MAC totals (timm/fvcore) within 1%', () => {
  for (const [name, published] of [['ViT-B_16', 17.58e9], ['ViT-B_32', 4.41e9], ['Mixer-B_16', 12.61e9]] as const) {
    const total = macs(zooConfig(name)).total;
    assert.ok(Math.abs(total / published - 1) < 0.01, `${name}: ${total} vs ${published}`);
  }
});

test('ViT-B/16 @224 exact total from the closed form', () => {
  const T = 197, D = 768, M = 3072, L = 12;
  const expected = 196 * 16 * 16 * 3 * D + L * (4 * T * D * D + 2 * T * T * D + 2 * T * D * M) + D * 1000;
  assert.equal(expected, 17_563_828_224);
  const r = macs(zooConfig('ViT-B_16'));
  assert.equal(r.total, expected);
  assert.equal(r.flops, 2 * expected);
  assert.equal(macs(zooConfig('ViT-B_32')).total, 4_409_186_304);
  assert.equal(macs(zooConfig('Mixer-B_16')).total, 12_601_767_936);
});

test('tiny ViT, per component by hand', () => {
  const r = macs(TINY_VIT);
  assert.equal(r.tokens, 4);
  assert.equal(r.sequence, 5);
  assert.deepEqual(byKey(r), {
    patchEmbedding: 4 * 4 * 4 * 3 * 16, // N·P²·3·D = 3072
    qkv: 3 * 5 * 16 * 16, // 3840
    attentionScores: 5 * 5 * 16, // H·T²·hd = 2·25·8 = 400
    attentionValues: 400,
    attentionOut: 5 * 16 * 16, // 1280
    mlp: 2 * 5 * 16 * 64, // 10240
    preLogits: 0,
    head: 16 * 10,
  });
  assert.equal(r.total, 19392);
  assert.equal(r.perLayerTotal, 3840 + 400 + 400 + 1280 + 10240);
});

test('tiny ViT, linear / quadratic / constant split', () => {
  const r = macs(TINY_VIT);
  assert.equal(r.linear, 3072 + 3840 + 1280 + 10240);
  assert.equal(r.quadratic, 800);
  assert.equal(r.constant, 160);
  assert.equal(r.linear + r.quadratic + r.constant, r.total);
  const q = r.components.filter((c) => c.scaling === 'quadratic').map((c) => c.key);
  assert.deepEqual(q, ['attentionScores', 'attentionValues']);
});

test('attention MACs do not depend on the number of heads (H·T²·hd = T²·D)', () => {
  const a = macs({ ...TINY_VIT, heads: 1 }), b = macs({ ...TINY_VIT, heads: 8 });
  assert.equal(a.total, b.total);
});

test('pre_logits and gap are counted', () => {
  const r = macs({ ...TINY_VIT, representation: 12 });
  assert.equal(byKey(r).preLogits, 16 * 12);
  assert.equal(byKey(r).head, 12 * 10);
  const gap = macs({ ...TINY_VIT, classifier: 'gap' }); // T = N = 4
  assert.equal(byKey(gap).qkv, 3 * 4 * 16 * 16);
});

test('tiny Mixer, per component by hand', () => {
  const r = macs(TINY_MIXER);
  assert.deepEqual(byKey(r), {
    stem: 4 * 4 * 4 * 3 * 8, // S·P²·3·C = 1536
    tokenMixing: 2 * 8 * 4 * 6, // 2·C·S·D_S = 384
    channelMixing: 2 * 4 * 8 * 16, // 2·S·C·D_C = 1024
    head: 80,
  });
  assert.equal(r.total, 3024);
  assert.equal(r.quadratic, 0);
});

test('Mixer token mixing is linear in S at fixed D_S', () => {
  const at = (resolution: number) => byKey(macs({ ...TINY_MIXER, resolution })).tokenMixing!;
  assert.equal(at(16) / at(8), 4); // S: 4 → 16
});

test('elementwise estimate, tiny ViT by hand', () => {
  const e = elementwiseFlops(TINY_VIT);
  assert.equal(e.estimate, true);
  assert.equal(e.layerNorm, 3 * 5 * 16 * 7);
  assert.equal(e.softmax, 2 * 25 * 5);
  assert.equal(e.gelu, 5 * 64 * 9);
  assert.equal(e.biasAndMisc, 64 + 80 + (240 + 80 + 320 + 80) + 80 + 10);
  assert.equal(e.residual, 160);
  assert.equal(e.total, 5924);
  assert.equal(elementwiseFlops({ ...TINY_VIT, gelu: 'erf' }).gelu, 5 * 64 * 5);
});
