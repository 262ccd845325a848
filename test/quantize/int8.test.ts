import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationParams, dequantizeWeight, quantizeWeight, sqnr } from '../../src/compress/quantize/int8.js';
import { cpuFromCpuinfo, int8FormatFor } from '../../src/compress/quantize/cpu.js';
import { gaussian, rng } from '../../src/models/random.js';

const K = 64, N = 24;
const r = gaussian(rng(1));
// Columns with very different scales: what per-channel quantization is for.
const w = Float32Array.from({ length: K * N }, (_, i) => r() * 0.02 * (1 + (i % N)));

test('symmetric int8 weights: per-channel scales fit each column; error within half a step', () => {
  const q = quantizeWeight(w, K, N, { format: 'u8s8', perChannel: true });
  assert.equal(q.scale.length, N);
  assert.ok(q.zeroPoint.every((z) => z === 0));
  const d = dequantizeWeight(q);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(d[i]! - w[i]!) <= q.scale[i % N]! / 2 + 1e-9);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(q.data[k * N + n]!));
    assert.equal(m, 127, 'each column uses the full range');
  }
  const t = quantizeWeight(w, K, N, { format: 'u8s8', perChannel: false });
  assert.equal(t.scale.length, 1);
  assert.ok(sqnr(w, d) > sqnr(w, dequantizeWeight(t)) + 3, 'per-channel beats per-tensor on uneven columns');
});

test('reduced range keeps weights in 7 bits; u8u8 is asymmetric with zero points', () => {
  const q = quantizeWeight(w, K, N, { format: 'u8s8-reduced', perChannel: true });
  assert.ok(q.data.every((v) => v >= -63 && v <= 63));
  assert.ok(sqnr(w, dequantizeWeight(q)) > 30);
  const u = quantizeWeight(w.map((v) => v + 0.01), K, N, { format: 'u8u8', perChannel: true });
  assert.ok(u.data instanceof Uint8Array && u.zeroPoint instanceof Uint8Array);
  assert.ok(u.zeroPoint.some((z) => z !== 128), 'zero points follow each column\'s range');
  assert.ok(sqnr(w.map((v) => v + 0.01), dequantizeWeight(u)) > 38);
  const zero = quantizeWeight(new Float32Array(6), 2, 3, { format: 'u8s8', perChannel: true });
  assert.deepEqual([...dequantizeWeight(zero)], [0, 0, 0, 0, 0, 0]);
});

test('activation parameters include zero; SQNR in dB', () => {
  assert.deepEqual(activationParams(-1, 1).zeroPoint, 128);
  const p = activationParams(0.5, 2); // widened to [0, 2]
  assert.equal(p.zeroPoint, 0);
  assert.ok(Math.abs(p.scale - 2 / 255) < 1e-7);
  assert.equal(activationParams(0, 0).scale, 1);
  assert.equal(sqnr([1, 2], [1, 2]), Infinity);
  assert.ok(Math.abs(sqnr([1, 0], [0.9, 0]) - 20) < 1e-9);
});

test('int8 format from the CPU flags: VNNI -> u8s8, none -> 7-bit weights, ARM -> u8s8', () => {
  const vnni = cpuFromCpuinfo('processor : 0\nflags : fpu avx2 avx512f avx512_vnni\n', 'x64');
  assert.equal(vnni.vnni, true);
  assert.equal(int8FormatFor(vnni), 'u8s8');
  assert.equal(int8FormatFor(cpuFromCpuinfo('flags : fpu avx2 avx_vnni\n', 'x64')), 'u8s8');
  const avx2 = cpuFromCpuinfo('flags : fpu sse avx2 fma\n', 'x64');
  assert.equal(avx2.vnni, false);
  assert.equal(int8FormatFor(avx2), 'u8s8-reduced');
  assert.equal(int8FormatFor(cpuFromCpuinfo(null, 'x64')), 'u8s8-reduced');
  assert.equal(int8FormatFor(cpuFromCpuinfo(null, 'arm64')), 'u8s8');
});
