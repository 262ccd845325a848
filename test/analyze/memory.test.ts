import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationMemory, weightBytes } from '../../src/analyze/memory.js';
import { zooConfig } from '../../src/models/zoo.js';
import { TINY_MIXER, TINY_VIT } from './fixtures.js';

test('tiny ViT weight bytes by hand', () => {
  const w = weightBytes(TINY_VIT);
  // embedding 784 + cls/pos 96 + block 3280 + final LN 32 + head 170
  assert.equal(w.params, 4362);
  assert.equal(w.matmulParams, 4 * 256 + 16 * 64 + 64 * 16 + 16 * 10); // 3232
  assert.equal(w.fp32, 4 * 4362);
  assert.equal(w.fp16, 2 * 4362);
  const rest = 4 * (4362 - 3232);
  // int8: 1 byte per kernel weight + fp32 scale per output column (16·4 + 64 + 16 + 10 columns)
  assert.equal(w.int8, 3232 + 4 * (64 + 64 + 16 + 10) + rest);
  // int4: blocks of 32 along the input: q/k/v/out 1×16 each, fc1 1×64, fc2 2×16, head 1×10 = 170 blocks of 16 + 4 bytes
  assert.equal(w.int4, 170 * 20 + rest);
});

test('ViT-B/16 weight bytes', () => {
  const w = weightBytes(zooConfig('ViT-B_16'));
  assert.equal(w.fp32, 4 * 86_567_656);
  assert.equal(w.matmulParams, 85_702_656);
  // every input dim is a multiple of 32: 0.5 + 4/32 bytes per kernel weight
  assert.equal(w.int4, 85_702_656 * 0.625 + 4 * (86_567_656 - 85_702_656));
});

test('tiny ViT activation peak by hand', () => {
  // TD = 80, TM = 320, H·T² = 50. Widest op: GELU with g[320] + h[320] + x1[80] = 720 floats.
  const a = activationMemory(TINY_VIT, 1);
  assert.equal(a.peakOp, 'GELU');
  assert.equal(a.peakBytes, 720 * 4);
  assert.equal(a.attentionMatrixBytes, 2 * 25 * 4);
  // written: prologue 64+80+80, block 80+240+50+50+80+80+80+80+320+320+80+80, epilogue 80+16+10
  assert.equal(a.writtenBytes, 1870 * 4);
  const b = activationMemory(TINY_VIT, 3);
  assert.equal(b.peakBytes, 3 * 720 * 4);
  assert.equal(b.attentionMatrixBytes, 3 * 200);
});

test('attention dominates the peak at long sequences', () => {
  // 4×4 patches at 64 px: T = 257, H·T² ≫ T·M
  const a = activationMemory({ ...TINY_VIT, resolution: 64 });
  assert.equal(a.peakOp, 'softmax');
  const T = 257;
  assert.equal(a.peakBytes, 4 * (2 * 2 * T * T + 2 * T * 16));
});

test('tiny Mixer activation peak: the input image', () => {
  // pixels 3·8·8 = 192 + stem output S·C = 32 beats every block op (largest: GELU 32 + 2·64 = 160)
  const a = activationMemory(TINY_MIXER);
  assert.equal(a.peakOp, 'stem');
  assert.equal(a.peakBytes, 224 * 4);
  assert.equal(a.attentionMatrixBytes, 0);
});

test('ViT-B/16 @224: peak at the MLP GELU', () => {
  const a = activationMemory(zooConfig('ViT-B_16'));
  assert.equal(a.peakOp, 'GELU');
  assert.equal(a.peakBytes, 4 * (197 * 768 + 2 * 197 * 3072));
  assert.equal(a.attentionMatrixBytes, 4 * 12 * 197 * 197);
});
