import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomIR } from '../../src/models/random.js';
import { expectedShapes } from '../../src/models/layout.js';
import { vitLayer, mixerLayer, type VitConfig, type MixerConfig } from '../../src/models/config.js';
import { totalMacs } from '../../src/analyze/macs.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { verifyExport } from '../../src/export/verify.js';
import { randomImages } from '../../src/data/random-images.js';
import { exportModel } from '../../src/export/index.js';
import type { ModelIR } from '../../src/models/ir.js';
import { isUserError } from '../../src/errors.js';
import {
  cloneIR, planStructured, sliceAxis, sliceSublayer, sublayers, unitCost,
} from '../../src/compress/prune/structured.js';
import { measureImportance } from '../../src/compress/prune/importance.js';
import { pruneStructured } from '../../src/compress/prune/reconstruct-model.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { randomCalibration } from './fixtures.js';

test('sliceAxis keeps the given indices along one axis', () => {
  const t = { dims: [2, 3, 2], data: Float32Array.from({ length: 12 }, (_, i) => i) };
  assert.deepEqual(sliceAxis(t, 1, [0, 2]), { dims: [2, 2, 2], data: Float32Array.of(0, 1, 4, 5, 6, 7, 10, 11) });
  assert.deepEqual(sliceAxis(t, 0, [1]).data, Float32Array.of(6, 7, 8, 9, 10, 11));
});

/** The IR with the dropped units' rows of each out-projection zeroed: the function slicing must compute. */
function zeroDropped(ir: ModelIR, keep: Map<string, number[]>): ModelIR {
  const out = cloneIR(ir);
  for (const s of sublayers(ir.config)) {
    const k = keep.get(s.id);
    if (!k) continue;
    const w = out.weights.get(s.outKernel)!;
    const data = w.data.slice();
    for (let u = 0; u < s.units; u++) if (!k.includes(u)) data.fill(0, u * s.group * s.outDim, (u + 1) * s.group * s.outDim);
    out.weights.set(s.outKernel, { dims: w.dims, data });
  }
  return out;
}

for (const [name, ir] of [
  ['ViT', randomIR(tinyVit(), 11)],
  ['ViT gap', randomIR(tinyVit({ classifier: 'gap' }), 12)],
  ['Mixer', randomIR(tinyMixer(), 13)],
] as const) {
  test(`${name}: slicing units computes what zeroing their output rows computes, with the implied shapes`, async () => {
    const keep = new Map<string, number[]>();
    const pruned = cloneIR(ir);
    for (const s of sublayers(ir.config)) {
      const k = Array.from({ length: s.units }, (_, i) => i).filter((i) => (i + s.layer) % 3 !== 1);
      keep.set(s.id, k);
      sliceSublayer(pruned, s, k);
    }
    for (const [n, dims] of expectedShapes(pruned.config)) assert.deepEqual(pruned.weights.get(n)!.dims, dims, n);
    assert.equal(pruned.weights.size, expectedShapes(pruned.config).size);
    const c = pruned.config;
    if (c.family === 'vit') {
      assert.deepEqual(c.layerHeads, [3, 2]);
      assert.equal(vitLayer(c, 1).mlp, 42);
    } else {
      assert.deepEqual([mixerLayer(c, 0).tokensMlp, mixerLayer(c, 1).tokensMlp], [5, 5]);
    }
    const x = randomImages(2, ir.config.resolution, { seed: 3, layout: 'nhwc' });
    const err = relativeError(referenceForward(pruned, x).data, referenceForward(zeroDropped(ir, keep), x).data);
    assert.ok(err < 1e-12, `relative error ${err}`);
    // Both export styles of the pruned model match the float64 reference.
    for (const style of ['ort', 'portable'] as const) await verifyExport(pruned, exportModel(pruned, style));
  });
}

/** Zero the out-projection rows of some units: they contribute nothing, so their importance is 0. */
function withDeadUnits(ir: ModelIR): { ir: ModelIR; dead: Map<string, number[]> } {
  const dead = new Map<string, number[]>();
  const out = cloneIR(ir);
  for (const s of sublayers(ir.config)) {
    const d = Array.from({ length: s.units }, (_, i) => i).filter((i) => (i * 7 + s.layer) % 4 === 0);
    dead.set(s.id, d);
    const w = out.weights.get(s.outKernel)!;
    const data = w.data.slice();
    for (const u of d) data.fill(0, u * s.group * s.outDim, (u + 1) * s.group * s.outDim);
    out.weights.set(s.outKernel, { dims: w.dims, data });
  }
  return { ir: out, dead };
}

for (const [name, base] of [['ViT', randomIR(tinyVit(), 21)], ['Mixer', randomIR(tinyMixer(), 22)]] as const) {
  test(`${name}: pruning zero-importance units leaves the outputs unchanged (with and without reconstruction)`, async () => {
    const { ir, dead } = withDeadUnits(base);
    const calib = randomCalibration(ir.config.resolution);
    const imp = await measureImportance(ir, sublayers(ir.config), calib);
    for (const s of sublayers(ir.config)) {
      const score = imp.get(s.id)!.score;
      for (let u = 0; u < s.units; u++) {
        if (dead.get(s.id)!.includes(u)) assert.equal(score[u], 0, `${s.id} unit ${u}`);
        else assert.ok(score[u]! > 0, `${s.id} unit ${u}`);
      }
    }
    // Remove exactly the dead units: one ratio per sublayer is not expressible, so remove 25% uniformly
    // where 25% of the units are dead (the fixture kills every 4th unit).
    const x = randomImages(3, ir.config.resolution, { seed: 5, layout: 'nhwc' });
    const want = referenceForward(ir, x).data;
    for (const reconstruct of [false, true]) {
      const r = await pruneStructured(ir, calib, { method: 'structured', ratio: 0.25, ranking: 'uniform', reconstruct });
      for (const s of r.subs) {
        const removed = Array.from({ length: s.units }, (_, i) => i).filter((i) => !r.plan.get(s.id)!.includes(i));
        if (removed.length === dead.get(s.id)!.length) assert.deepEqual(removed, dead.get(s.id), s.id);
      }
      const allDead = r.subs.every((s) => s.units - r.plan.get(s.id)!.length === dead.get(s.id)!.length);
      assert.ok(allDead, 'the fixture removes exactly the dead units');
      const err = relativeError(referenceForward(r.ir, x).data, want);
      assert.ok(err < (reconstruct ? 1e-4 : 1e-12), `reconstruct=${reconstruct}: relative error ${err}`);
      assert.ok(totalMacs(r.ir.config) < totalMacs(ir.config));
    }
  });
}

test('FLOPs targets are met, uniformly and with a global ranking; the refit brings the outputs closer', async () => {
  const ir = randomIR(tinyVit({ layers: 3 }), 31);
  const calib = randomCalibration(16, 64);
  const x = randomImages(6, 16, { seed: 99, layout: 'nhwc' });
  const want = referenceForward(ir, x).data;
  for (const ranking of ['uniform', 'global'] as const) {
    const r = await pruneStructured(ir, calib, { method: 'structured', targetFlops: 0.75, ranking });
    const kept = totalMacs(r.ir.config) / totalMacs(ir.config);
    assert.ok(kept <= 0.75 && kept > 0.5, `${ranking}: kept ${kept}`);
    const sliced = relativeError(referenceForward(r.sliced, x).data, want);
    const refit = relativeError(referenceForward(r.ir, x).data, want);
    assert.ok(refit < sliced, `${ranking}: refit ${refit} vs sliced ${sliced}`);
    for (const f of r.fits) assert.ok(f.relErrorAfter <= f.relErrorBefore, f.id);
  }
});

test('planning: ratios per layer or global, costs, and impossible requests', () => {
  const c = tinyVit({ layers: 2, heads: 4, mlp: 8 }) as VitConfig;
  const subs = sublayers(c);
  const scores = new Map(subs.map((s) => [s.id, Float64Array.from({ length: s.units }, (_, i) => (s.layer + 1) * (i + 1))]));
  const uni = planStructured(c, subs, scores, { ratio: 0.5, ranking: 'uniform' });
  assert.deepEqual(uni.get('head@0'), [2, 3]);
  assert.deepEqual(uni.get('mlp@1'), [4, 5, 6, 7]);
  const glob = planStructured(c, subs.filter((s) => s.kind === 'head'), scores, { ratio: 0.5, ranking: 'global' });
  // Layer 0's scores are half of layer 1's: layer 0 loses 3 (one kept), layer 1 loses 1.
  assert.deepEqual(glob.get('head@0'), [3]);
  assert.deepEqual(glob.get('head@1'), [1, 2, 3]);
  // A head costs qkv + out + both attention products; a neuron 2·T·D.
  const T = 17, D = 32, hd = 8;
  assert.equal(unitCost(c, subs[0]!), T * hd * (4 * D + 2 * T));
  assert.equal(unitCost(c, subs[1]!), 2 * T * D);
  const expectUser = (f: () => unknown, re: RegExp) => assert.throws(f, (e) => isUserError(e) && re.test((e as Error).message));
  expectUser(() => planStructured(c, subs, scores, { ratio: 1, ranking: 'uniform' }), /--ratio 1: must be strictly between 0 and 1/);
  expectUser(() => planStructured(c, subs, scores, { targetFlops: 0, ranking: 'global' }), /--target-flops 0/);
  expectUser(() => planStructured(c, subs, scores, { ratio: 0.2, targetFlops: 0.5, ranking: 'global' }), /exactly one of/);
  expectUser(() => planStructured(c, subs.filter((s) => s.kind === 'head'), scores, { targetFlops: 0.2, ranking: 'global' }),
    /cannot be met by removing attention heads: keeping one unit per layer still leaves \d+\.\d% of the FLOPs/);
});

test('a Mixer has no heads to prune', async () => {
  const ir = randomIR(tinyMixer() as MixerConfig, 1);
  await assert.rejects(pruneStructured(ir, randomCalibration(16, 16), { method: 'heads', ratio: 0.5 }),
    (e) => isUserError(e) && /MLP-Mixer has no attention heads/.test((e as Error).message));
});

test('too few calibration rows for the refit is bad input', async () => {
  const ir = randomIR(tinyVit(), 1);
  await assert.rejects(pruneStructured(ir, randomCalibration(16, 1, 1), { method: 'neurons', ratio: 0.25 }),
    (e) => isUserError(e) && /--calibration-size 1: gives 17 rows to refit mlp@0 with 49 unknowns/.test((e as Error).message));
});
