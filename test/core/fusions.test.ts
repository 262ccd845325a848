/**
 * Every combination of the 'ort' graph's contrib-op fusions computes the same function: ONNX Runtime's
 * output against the independent float64 reference (relative error ≤ 1e-4), and their dynamic INT8
 * versions against the float reference (top-1 agreement and SQNR bounds). The fusion choice is
 * written into the model's metadata.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { ALL_FUSIONS, type Fusions, NO_FUSIONS } from '../../src/export/layers.js';
import { cpuClass, defaultFusions, describeFusions, MEASURED, parseFusions } from '../../src/export/fusions.js';
import { encodeModel } from '../../src/formats/onnx.js';
import { openModel } from '../../src/engines/create.js';
import { referenceForward, relativeError } from '../../src/reference/forward.js';
import { randomImages } from '../../src/data/random-images.js';
import { nhwcToNchw } from '../../src/tensor.js';
import { quantize } from '../../src/compress/quantize/index.js';
import { sqnr } from '../../src/compress/quantize/int8.js';
import { cpuFromCpuinfo } from '../../src/util/cpu.js';
import { META_FUSIONS } from '../../src/models/metadata.js';
import { withMergeSchedule } from '../../src/models/tome.js';
import type { ModelIR } from '../../src/models/ir.js';
import { UserError } from '../../src/errors.js';
import { tinyVit } from './helpers.js';

const combos: Fusions[] = [];
for (const attention of [false, true]) for (const skipLayerNorm of [false, true]) for (const gelu of [false, true]) {
  combos.push({ attention, skipLayerNorm, gelu });
}

const models: [string, ModelIR][] = [
  ['ViT token, tanh GELU', randomIR(tinyVit(), 1)],
  ['ViT gap, erf GELU, pre_logits', randomIR(tinyVit({ classifier: 'gap', representation: 16, gelu: 'erf', layerNormEps: 1e-12 }), 4)],
  ['ViT pruned per layer', randomIR(tinyVit({ layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8 }), 6)],
];

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const m = await openModel(bytes, { threads: 1 });
  const out = await m.run({ dims, data: x });
  await m.release();
  return out.data;
}

for (const [name, ir] of models) {
  test(`${name}: every fusion combination matches the float64 reference (1e-4)`, async () => {
    const n = 3, R = ir.config.resolution;
    const x = randomImages(n, R, { seed: 11, layout: 'nhwc' });
    const ref = referenceForward(ir, x).data;
    const nchw = nhwcToNchw(x);
    for (const f of combos) {
      const got = await run(encodeModel(exportModel(ir, 'ort', { fusions: f })), nchw.data, nchw.dims);
      const err = relativeError(got, ref);
      assert.ok(err <= 1e-4, `${describeFusions(f)}: relative error ${err}`);
    }
  });
}

test('ToMe graphs: every fusion combination matches the float64 reference (1e-4)', async () => {
  const ir = randomIR(tinyVit({ resolution: 24 }), 3);
  const merged = withMergeSchedule(ir, [2, 2]);
  const x = randomImages(2, 24, { seed: 5, layout: 'nhwc' });
  const ref = referenceForward(merged, x).data;
  const nchw = nhwcToNchw(x);
  for (const f of combos) {
    const err = relativeError(await run(encodeModel(exportModel(merged, 'ort', { fusions: f })), nchw.data, nchw.dims), ref);
    assert.ok(err <= 1e-4, `${describeFusions(f)}: relative error ${err}`);
  }
});

test('dynamic INT8 of every fusion combination stays close to the float reference', async () => {
  const ir = randomIR(tinyVit({ hidden: 64, mlp: 128, heads: 4, classes: 10 }), 8);
  const n = 32, R = ir.config.resolution;
  const x = randomImages(n, R, { seed: 9, layout: 'nhwc' });
  const ref = referenceForward(ir, x).data;
  const nchw = nhwcToNchw(x);
  const C = ir.config.classes;
  const argmax = (a: Float32Array | Float64Array, i: number) => { let b = 0; for (let c = 1; c < C; c++) if (a[i * C + c]! > a[i * C + b]!) b = c; return b; };
  for (const f of combos) {
    const q = await quantize(exportModel(ir, 'ort', { fusions: f }), { mode: 'dynamic' });
    const got = await run(encodeModel(q.model), nchw.data, nchw.dims);
    let agree = 0;
    for (let i = 0; i < n; i++) if (argmax(got, i) === argmax(ref, i)) agree++;
    const s = sqnr(Float32Array.from(ref), got);
    assert.ok(s >= 20, `${describeFusions(f)}: SQNR ${s.toFixed(1)} dB < 20 dB`);
    assert.ok(agree / n >= 0.85, `${describeFusions(f)}: top-1 agreement ${agree}/${n}`);
  }
});

test('the fusion choice travels in the model metadata; the portable graph has none', () => {
  const ir = randomIR(tinyVit(), 1);
  const meta = (f?: Fusions, style: 'ort' | 'portable' = 'ort') =>
    exportModel(ir, style, f ? { fusions: f } : {}).metadataProps!.find((p) => p.key === META_FUSIONS)?.value;
  assert.equal(meta(ALL_FUSIONS), 'attention,skip-layernorm,gelu');
  assert.equal(meta({ ...NO_FUSIONS, attention: true }), 'attention');
  assert.equal(meta(undefined, 'portable'), 'none');
  assert.equal(meta(), describeFusions(defaultFusions('fp32').fusions));
  const ops = new Set(exportModel(ir, 'ort', { fusions: { ...ALL_FUSIONS, skipLayerNorm: false } }).graph!.node!.map((n) => n.opType));
  assert.ok(!ops.has('SkipLayerNormalization') && ops.has('Attention') && ops.has('FastGelu'));
});

test('--fusions parsing and the CPU classes the defaults are keyed by', () => {
  assert.equal(parseFusions('auto'), null);
  assert.deepEqual(parseFusions('all'), ALL_FUSIONS);
  assert.deepEqual(parseFusions('none'), NO_FUSIONS);
  assert.deepEqual(parseFusions('attention,gelu'), { attention: true, skipLayerNorm: false, gelu: true });
  assert.throws(() => parseFusions('attention,bogus'), (e: Error) => e instanceof UserError && /unknown fusion 'bogus'/.test(e.message));
  const vnni = cpuFromCpuinfo('flags\t: fpu avx2 avx512f avx512_vnni\n', 'x64');
  const avx2 = cpuFromCpuinfo('flags\t: fpu avx2 fma\n', 'x64');
  assert.equal(cpuClass(vnni), 'avx512-vnni');
  assert.equal(cpuClass(avx2), 'avx2');
  assert.deepEqual(defaultFusions('int8', vnni).fusions, MEASURED['avx512-vnni'].int8);
  assert.match(defaultFusions('int8', avx2).basis, /avx2 int8/);
});

test('unfuse: rewriting fused nodes into standard ops keeps the function (fp32, ToMe attention bias included)', async () => {
  const { unfuse } = await import('../../src/graph/unfuse.js');
  const ir = withMergeSchedule(randomIR(tinyVit({ resolution: 24, gelu: 'erf' }), 12), [2, 1]);
  const x = nhwcToNchw(randomImages(2, 24, { seed: 13, layout: 'nhwc' }));
  const fused = exportModel(ir, 'ort', { fusions: ALL_FUSIONS });
  const ref = await run(encodeModel(fused), x.data, x.dims);
  for (const keep of combos) {
    const r = unfuse(fused, keep);
    const ops = new Set(r.model.graph!.node!.map((n) => n.opType));
    assert.equal(ops.has('Attention'), keep.attention, describeFusions(keep));
    assert.equal(ops.has('SkipLayerNormalization'), keep.skipLayerNorm, describeFusions(keep));
    assert.equal(ops.has('BiasGelu'), keep.gelu, describeFusions(keep));
    const err = relativeError(await run(encodeModel(r.model), x.data, x.dims), Float64Array.from(ref));
    assert.ok(err <= 1e-5, `${describeFusions(keep)}: relative error ${err}`);
  }
  assert.equal(fused.graph!.node!.filter((n) => n.opType === 'Attention').length, 2, 'the input model is not changed');
});

test('quantize applies the int8 fusion choice and records it', async () => {
  const ir = randomIR(tinyVit(), 2);
  const fp32 = exportModel(ir, 'ort', { fusions: ALL_FUSIONS });
  const q = await quantize(fp32, { mode: 'dynamic', fusions: { ...ALL_FUSIONS, skipLayerNorm: false } });
  const ops = new Set(q.model.graph!.node!.map((n) => n.opType));
  assert.ok(!ops.has('SkipLayerNormalization') && ops.has('LayerNormalization') && ops.has('DynamicQuantizeMatMul'));
  assert.equal(q.settings.fusions?.kept, 'attention,gelu');
  assert.equal(q.settings.fusions?.unfused.SkipLayerNormalization, 4);
  assert.equal(q.model.metadataProps!.find((p) => p.key === META_FUSIONS)?.value, 'attention,gelu');
  // fp16/int4 keep the graph's own fusions.
  const h = await quantize(fp32, { mode: 'int4' });
  assert.ok(h.model.graph!.node!.some((n) => n.opType === 'SkipLayerNormalization'));
});
