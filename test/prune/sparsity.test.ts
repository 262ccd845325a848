import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomIR } from '../../src/models/random.js';
import { kthAbsBits, magnitudePrune, sparsifiable } from '../../src/compress/prune/magnitude.js';
import { applyNM, nmPrune, parseNM } from '../../src/compress/prune/nm.js';
import { isUserError } from '../../src/errors.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';

test('radix select finds the k-th smallest magnitude', () => {
  const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 3);
  const b = Float32Array.from({ length: 333 }, (_, i) => -i / 100);
  const sorted = [...a, ...b].map(Math.abs).sort((x, y) => x - y);
  for (const k of [0, 1, 500, 1332]) {
    const bits = kthAbsBits([a, b], k);
    assert.equal(new Float32Array(Uint32Array.of(bits).buffer)[0], Math.fround(sorted[k]!), `k=${k}`);
  }
});

for (const [name, ir] of [['ViT', randomIR(tinyVit(), 1)], ['Mixer', randomIR(tinyMixer(), 2)]] as const) {
  test(`${name}: magnitude pruning zeroes exactly the smallest weights, per matrix or globally`, () => {
    const layer = magnitudePrune(ir, { ratio: 0.4, scope: 'layer' });
    for (const t of sparsifiable(ir.config)) {
      const w = layer.ir.weights.get(t.name)!.data, orig = ir.weights.get(t.name)!.data;
      const zeros = w.filter((v) => v === 0).length;
      assert.equal(zeros, Math.round(0.4 * w.length), t.name);
      // Every zeroed weight is no larger than every kept one.
      let maxZeroed = 0, minKept = Infinity;
      for (let i = 0; i < w.length; i++) {
        if (w[i] === 0) maxZeroed = Math.max(maxZeroed, Math.abs(orig[i]!));
        else { minKept = Math.min(minKept, Math.abs(w[i]!)); assert.equal(w[i], orig[i]); }
      }
      assert.ok(maxZeroed <= minKept, t.name);
    }
    assert.ok(Math.abs(layer.sparsity - 0.4) < 1e-3);
    const global = magnitudePrune(ir, { ratio: 0.4, scope: 'global' });
    const total = global.matrices.reduce((s, m) => s + m.size, 0);
    assert.equal(global.matrices.reduce((s, m) => s + m.zeros, 0), Math.round(0.4 * total));
    // Untouched weights (embedding, head, LayerNorms, biases) stay identical.
    assert.equal(global.ir.weights.get('head/kernel'), ir.weights.get('head/kernel'));
    assert.ok(global.modelSparsity < global.sparsity);
    assert.throws(() => magnitudePrune(ir, { ratio: 1.2 }), (e) => isUserError(e));
  });

  test(`${name}: 2:4 keeps the two largest of every four inputs of each output`, () => {
    const r = nmPrune(ir);
    for (const t of sparsifiable(ir.config)) {
      const w = r.ir.weights.get(t.name)!.data, orig = ir.weights.get(t.name)!.data;
      for (let j = 0; j < t.cols; j++) {
        for (let g = 0; g < t.rows; g += 4) {
          const idx = [0, 1, 2, 3].map((q) => g + q).filter((i) => i < t.rows).map((i) => i * t.cols + j);
          const nz = idx.filter((i) => w[i] !== 0);
          assert.ok(nz.length <= 2, `${t.name} col ${j} group ${g}`);
          const kept = Math.min(...nz.map((i) => Math.abs(orig[i]!)));
          for (const i of idx) if (w[i] === 0) assert.ok(Math.abs(orig[i]!) <= kept);
        }
      }
    }
    // Input dims divisible by 4 (all of them here except the Mixer's S = 16: also divisible) give exactly 50%.
    assert.ok(Math.abs(r.sparsity - 0.5) < 1e-9, `${r.sparsity}`);
  });
}

test('N:M with a trailing partial group, and pattern parsing', () => {
  const w = Float32Array.of(1, -5, 3, 2, 9, -1, 7); // one column, 7 inputs
  applyNM(w, 7, 1, 2, 4);
  assert.deepEqual([...w], [0, -5, 3, 0, 9, 0, 7]);
  assert.deepEqual(parseNM('1:8'), { n: 1, m: 8 });
  for (const bad of ['4:2', '2:2', 'x', '0:4']) assert.throws(() => parseNM(bad), (e) => isUserError(e));
});
