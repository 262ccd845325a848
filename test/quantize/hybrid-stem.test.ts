/**
 * Hybrid ResNet+ViT in INT8: static mode quantizes the stem's convolutions (QDQ around each Conv, run by
 * ONNX Runtime as QLinearConv) exactly when asked (--stem int8, or the measured default), records the
 * choice in the metadata, and lets the accuracy guard's float map put stem convs back; dynamic mode keeps
 * the stem float. Accuracy against the independent float64 reference (src/reference/forward.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DataType, type ModelProto } from '../../src/formats/onnx.js';
import { exportModel } from '../../src/export/index.js';
import { randomIR } from '../../src/models/random.js';
import { referenceForward } from '../../src/reference/forward.js';
import { nhwcToNchw, type Tensor } from '../../src/tensor.js';
import { randomImages } from '../../src/data/random-images.js';
import { analyze, arraySource, META_QUANTIZATION, quantize, stemConvs } from '../../src/compress/quantize/index.js';
import { decideStem } from '../../src/compress/quantize/stem.js';
import { Graph } from '../../src/graph/graph.js';
import { isUserError } from '../../src/errors.js';
import { sqnr } from '../../src/compress/quantize/int8.js';
import { logits, opCounts, optimizedOps, top1Agreement } from './fixtures.js';
import { tinyHybrid } from '../models/hybrid-fixtures.js';
import { tmp } from '../core/helpers.js';

const dir = tmp();
// R+ViT-Ti-like (root only) and a two-stage stem with projection shortcuts, 32 px, 7 classes. The gap
// classifier: with random weights a token classifier's logits barely depend on the image.
// Bounds (measured 2026-12-02: root only 32.1 dB / 0.98, two stages 21.0 dB / 0.91 with the stem in int8;
// 52-53 dB / 1.00 with it float): SQNR of the image-dependent part of the logits (each class's mean over
// the images removed) against float64, and top-1 agreement of those centred logits. Random standardized
// kernels make a harsh stem (every conv output re-normalized by GroupNorm); real-weight accuracy is
// what --max-drop checks.
const CASES = [
  ['root only (R+ViT-Ti layout)', tinyHybrid({ layers: [], width: 32 }, { patch: 2, classifier: 'gap' }), { sqnr: 25, agree: 0.9 }],
  ['two stages', tinyHybrid({ layers: [1, 1], width: 32 }, { classifier: 'gap' }), { sqnr: 15, agree: 0.85 }],
] as const;
const FLOAT_STEM = { sqnr: 40, agree: 0.95 };
const N = 64;
const nhwc = randomImages(N, 32, { seed: 21, layout: 'nhwc' });
const x: Tensor = nhwcToNchw(nhwc);
const calib = arraySource('random', [0, 1, 2, 3].map((i) => nhwcToNchw(randomImages(8, 32, { seed: 40 + i, layout: 'nhwc' }))));

/** Logits minus each class's mean over the images: the part that depends on the image. */
function centred(a: ArrayLike<number>, classes: number): Float32Array {
  const o = Float32Array.from(a), n = o.length / classes;
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i * classes + c]!;
    for (let i = 0; i < n; i++) o[i * classes + c] = a[i * classes + c]! - s / n;
  }
  return o;
}

const meta = (m: ModelProto) => JSON.parse(m.metadataProps!.find((p) => p.key === META_QUANTIZATION)!.value!);
const producers = (m: ModelProto) => new Map(m.graph!.node!.flatMap((n) => n.output!.map((o) => [o, n] as const)));
const int8Init = (m: ModelProto, name: string) => m.graph!.initializer!.some((t) => t.name === name && t.dataType === DataType.INT8);

/** Is this Conv in QDQ form: DQ(Q(x)) input, DQ(int8 kernel, axis 0) weight, its output read through Q? */
function qdqConv(m: ModelProto, conv: { input?: string[] | null; output?: string[] | null }): boolean {
  const p = producers(m);
  const [xi, wi] = conv.input as [string, string];
  const xdq = p.get(xi), wdq = p.get(wi);
  const readers = m.graph!.node!.filter((n) => n.input!.includes(conv.output![0]!));
  return xdq?.opType === 'DequantizeLinear' && p.get(xdq.input![0]!)?.opType === 'QuantizeLinear' &&
    wdq?.opType === 'DequantizeLinear' && int8Init(m, wdq.input![0]!) && wdq.attribute!.some((a) => a.name === 'axis' && Number(a.i) === 0) &&
    readers.length === 1 && readers[0]!.opType === 'QuantizeLinear';
}

for (const [name, config, bound] of CASES) {
  test(`static INT8 hybrid, ${name}: stem convs QLinearConv with --stem int8, float with --stem float; both close to float64`, async () => {
    const ir = randomIR(config, 3);
    const m = exportModel(ir, 'ort');
    const stem = stemConvs(new Graph(m));
    assert.equal(stem.size, config.resnet!.layers.reduce((a, b) => a + b, 0) * 3 + 1 + config.resnet!.layers.length, 'every stem conv found');
    assert.ok(![...stem].some((n) => n.includes('embedding')), 'the patch embedding is not a stem conv');
    const ref = referenceForward(ir, nhwc).data;
    const classes = config.classes;
    const analysis = await analyze(m, { mode: 'static' });
    const out: Record<string, number> = {};
    for (const choice of ['int8', 'float'] as const) {
      const r = await quantize(m, { mode: 'static', calibration: calib, analysis, stem: choice });
      const convs = r.model.graph!.node!.filter((n) => n.opType === 'Conv');
      const q = convs.filter((c) => qdqConv(r.model, c)).map((c) => c.name!);
      assert.deepEqual(new Set(q), choice === 'int8' ? stem : new Set(), `${choice}: QDQ convs exactly the stem's`);
      const layers = r.layers.filter((l) => l.kind === 'conv');
      assert.equal(layers.length, choice === 'int8' ? stem.size : 0);
      assert.ok(layers.every((l) => l.quantized && l.weightSqnr! > 30), 'conv layers are quantized with per-channel weights');
      if (choice === 'float') {
        assert.ok([...stem].every((s) => r.kept.some((k) => k.node === s && /ResNet stem kept float: requested/.test(k.reason))));
      }
      const s = meta(r.model).stem;
      assert.deepEqual(s, { convs: choice, basis: 'requested (--stem)', quantized: choice === 'int8' ? stem.size : 0, total: stem.size });
      const fused = await optimizedOps(r.model, path.join(dir, `${name.length}-${choice}.onnx`));
      assert.equal(fused.QLinearConv ?? 0, choice === 'int8' ? stem.size : 0, JSON.stringify(fused));
      assert.equal(fused.Conv ?? 0, choice === 'int8' ? 1 : stem.size + 1, 'the patch embedding stays a float Conv');
      const y = centred(await logits(r.model, x), classes), want = centred(ref, classes);
      out[choice] = sqnr(want, y);
      const agree = top1Agreement(y, want, classes);
      const b = choice === 'int8' ? bound : FLOAT_STEM;
      assert.ok(out[choice]! > b.sqnr, `${choice}: SQNR ${out[choice]} dB against float64`);
      assert.ok(agree >= b.agree, `${choice}: top-1 agreement ${agree}`);
    }
    console.log(`# ${name}: centred logits SQNR vs float64, stem int8 ${out.int8!.toFixed(1)} dB, stem float ${out.float!.toFixed(1)} dB`);
  });
}

test('hybrid: dynamic INT8 keeps the stem float (no fast dynamic int8 conv) and says so; --stem int8 asks for static', async () => {
  const m = exportModel(randomIR(CASES[1][1], 3), 'ort');
  const stem = stemConvs(new Graph(m));
  const r = await quantize(m, { mode: 'dynamic' });
  const ops = opCounts(r.model);
  assert.equal(ops.Conv, stem.size + 1);
  assert.equal(ops.ConvInteger ?? 0, 0);
  assert.equal(ops.QLinearConv ?? 0, 0);
  assert.ok(r.layers.every((l) => l.kind !== 'conv'));
  assert.ok([...stem].every((s) => r.kept.some((k) => k.node === s && /no fast dynamic int8 convolution/.test(k.reason))));
  assert.equal(meta(r.model).stem.convs, 'float');
  assert.equal(meta(r.model).stem.quantized, 0);
  await assert.rejects(quantize(m, { mode: 'dynamic', stem: 'int8' }), (e) => isUserError(e) && /--stem int8 needs --mode static/.test((e as Error).message));
});

test('stem choice: auto follows the measured table per CPU class; a plain ViT has no stem', () => {
  const vnni = { arch: 'x64', vnni: true, avx512: true, evidence: 'flags' } as const;
  const avx2 = { arch: 'x64', vnni: false, avx512: false, evidence: 'flags' } as const;
  assert.equal(decideStem('static', 'auto', true, vnni)!.convs, 'int8');
  assert.match(decideStem('static', undefined, true, vnni)!.basis, /measured default for avx512-vnni/);
  assert.equal(decideStem('static', 'auto', true, avx2)!.convs, 'float');
  assert.equal(decideStem('static', 'float', true, vnni)!.convs, 'float');
  assert.equal(decideStem('dynamic', 'auto', true, vnni)!.convs, 'float');
  assert.equal(decideStem('static', 'auto', false, vnni), undefined);
  assert.throws(() => decideStem('static', 'int8', false, vnni), /no convolutional stem/);
});

test('the accuracy guard\'s float map and --exclude put stem convs back to float, one by one or by stage', async () => {
  const m = exportModel(randomIR(CASES[1][1], 3), 'ort');
  const stem = stemConvs(new Graph(m));
  const analysis = await analyze(m, { mode: 'static' });
  const first = await quantize(m, { mode: 'static', calibration: calib, analysis, stem: 'int8' });
  const base = { mode: 'static' as const, analysis, ranges: first.ranges, stem: 'int8' as const };
  const back = await quantize(m, { ...base, float: new Map([['conv_root', 'accuracy guard: test']]) });
  const row = back.layers.find((l) => l.id === 'conv_root')!;
  assert.equal(row.quantized, false);
  assert.equal(row.reason, 'accuracy guard: test');
  const convs = back.model.graph!.node!.filter((n) => n.opType === 'Conv');
  assert.equal(convs.filter((c) => qdqConv(back.model, c)).length, stem.size - 1);
  assert.equal(back.calibration, undefined, 'the guard reuses the first calibration');
  const ex = await quantize(m, { ...base, exclude: ['block1'] });
  const floatStage = ex.layers.filter((l) => l.kind === 'conv' && !l.quantized);
  assert.ok(floatStage.length > 0 && floatStage.every((l) => l.id.startsWith('block1/') && /--exclude block1/.test(l.reason)));
  assert.equal(meta(ex.model).stem.quantized, stem.size - floatStage.length);
});
