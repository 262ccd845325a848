import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROFILE, rooflineBound } from '../../src/analyze/roofline.js';
import { zooConfig } from '../../src/models/zoo.js';
import { TINY_VIT } from './fixtures.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('tiny ViT roofline arithmetic', () => {
  const r = rooflineBound(TINY_VIT, 2, { fp32GflopsPerS: 1, int8GopsPerS: 4, memBandwidthGBs: 0.001 });
  const flops = 2 * 2 * 19392;
  assert.equal(r.fp32.flops, flops);
  close(r.fp32.computeSeconds, flops / 1e9);
  // compulsory traffic: fp32 weights 17448 B + 2 images × (192 pixels + 10 logits) × 4 B
  close(r.fp32.memorySeconds!, (17448 + 1616) / 1e6);
  assert.equal(r.fp32.limitedBy, 'memory');
  close(r.fp32.imagesPerSecond, 2 / ((17448 + 1616) / 1e6));
  close(r.fp32.arithmeticIntensity, flops / (17448 + 2 * 7480));
  close(r.ridgeIntensity!, 1000);
  // int8: q/k/v + out + MLP + head MACs at the int8 rate, patch embedding and attention products at fp32
  const int8Flops = 2 * 2 * (3840 + 1280 + 10240 + 160);
  assert.equal(r.int8!.int8Flops, int8Flops);
  close(r.int8!.computeSeconds, (flops - int8Flops) / 1e9 + int8Flops / 4e9);
  assert.equal(r.int8!.weightBytes, 8368);
});

test('no bandwidth, no int8: compute bound only', () => {
  const r = rooflineBound(TINY_VIT, 1, { fp32GflopsPerS: 10 });
  assert.equal(r.fp32.memorySeconds, null);
  assert.equal(r.fp32.limitedBy, 'compute');
  assert.equal(r.int8, null);
  assert.equal(r.ridgeIntensity, null);
});

test('ViT-B/16 at the default 300 GFLOP/s: 117 ms per image', () => {
  assert.equal(DEFAULT_PROFILE.fp32GflopsPerS, 300);
  const r = rooflineBound(zooConfig('ViT-B_16'), 8);
  close(r.fp32.computeSeconds, 8 * 2 * 17_563_828_224 / 300e9);
  close(r.fp32.imagesPerSecond, 300e9 / (2 * 17_563_828_224));
});
