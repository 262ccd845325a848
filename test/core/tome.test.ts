/**
 * Token Merging (ToMe) in the exported graph: both graph styles against the independent float64
 * reference (relative error ≤ 1e-4) on random weights, on the trained fashion-vit and at a resized
 * resolution; the tie rule with a constructed exact tie; the schedule's validation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { randomIR } from '../../src/models/random.js';
import { exportModel, type GraphStyle } from '../../src/export/index.js';
import { ALL_FUSIONS } from '../../src/export/layers.js';
import { encodeModel } from '../../src/formats/onnx.js';
import { openModel } from '../../src/engines/create.js';
import { referenceForward, relativeError, type ReferenceOptions } from '../../src/reference/forward.js';
import { randomImages } from '../../src/data/random-images.js';
import { nhwcToNchw, permute4, type Tensor } from '../../src/tensor.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import type { ModelIR } from '../../src/models/ir.js';
import type { VitConfig } from '../../src/models/config.js';
import { isUserError } from '../../src/errors.js';
import { openDataSpec } from '../../src/data/data-spec.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import {
  cappedSchedule, checkMergeSchedule, parseMergeTokens, tokenCounts, withMergeConfig, withMergeSchedule,
} from '../../src/models/tome.js';
import { tinyMixer, tinyVit, tmp, writeOfficialNpz } from './helpers.js';

const TOL = 1e-4;
const STYLES = ['ort', 'portable'] as const;

async function onnxLogits(ir: ModelIR, style: GraphStyle, nhwc: Tensor): Promise<Float32Array> {
  const model = await openModel(encodeModel(exportModel(ir, style)), { threads: 1 });
  try {
    return (await model.run(nhwcToNchw(nhwc))).data;
  } finally {
    await model.release();
  }
}

async function check(ir: ModelIR, style: GraphStyle, x = randomImages(3, ir.config.resolution, { seed: 11, layout: 'nhwc' })): Promise<number> {
  const got = await onnxLogits(ir, style, x);
  const err = relativeError(got, referenceForward(ir, x).data);
  assert.ok(err <= TOL, `relative error ${err} > ${TOL}`);
  return err;
}

// tinyVit: 16 px, patch 4 -> 16 patches (+ cls = 17 tokens), 2 layers.
const variants: [string, () => Promise<ModelIR>][] = [
  ['token, r = 2', async () => withMergeSchedule(randomIR(tinyVit(), 1), 2)],
  ['token, schedule [3, 5]', async () => withMergeSchedule(randomIR(tinyVit(), 2), [3, 5])],
  ['token, largest schedule [8, 4] (17 -> 9 -> 5 tokens)', async () => withMergeSchedule(randomIR(tinyVit(), 3), [8, 4])],
  ['token, nothing merged in block 0: [0, 6, 2]', async () => withMergeSchedule(randomIR(tinyVit({ layers: 3 }), 4), [0, 6, 2])],
  ['gap, size-weighted pooling', async () => withMergeSchedule(randomIR(tinyVit({ classifier: 'gap' }), 5), 3, { pool: 'weighted' })],
  ['gap, plain mean pooling', async () => withMergeSchedule(randomIR(tinyVit({ classifier: 'gap' }), 6), 3, { pool: 'mean' })],
  ['gap, odd token count (25) and the largest schedule [12, 6]', async () =>
    withMergeSchedule(randomIR(tinyVit({ classifier: 'gap', resolution: 20 }), 7), [12, 6])],
  ['gap + pre_logits, erf GELU, eps 1e-12', async () =>
    withMergeSchedule(randomIR(tinyVit({ classifier: 'gap', representation: 16, gelu: 'erf', layerNormEps: 1e-12 }), 8), [4, 2])],
  ['pruned (per-layer heads and MLP widths)', async () =>
    withMergeSchedule(randomIR(tinyVit({ layerHeads: [3, 1], layerMlp: [40, 17], headDim: 8 }), 9), [5, 3])],
  ['ViT from an official .npz resized 16 px -> 28 px (50 tokens), r = 12', async () => {
    const file = await writeOfficialNpz(randomIR(tinyVit(), 10), path.join(tmp(), 'vit.npz'), { preLinen: true });
    const ir = withMergeSchedule(await loadCheckpoint(file, { resolution: 28 }), 12);
    assert.deepEqual(tokenCounts(ir.config as VitConfig), [50, 38, 26]);
    return ir;
  }],
  ['gap ViT from .npz resized 16 px -> 24 px (36 tokens), schedule [10, 13]', async () => {
    const file = await writeOfficialNpz(randomIR(tinyVit({ classifier: 'gap' }), 12), path.join(tmp(), 'vit.npz'), { preLinen: true });
    return withMergeSchedule(await loadCheckpoint(file, { resolution: 24 }), [10, 13]);
  }],
];

for (const [name, make] of variants) {
  for (const style of STYLES) {
    test(`ToMe ${name}: ${style} graph matches the float64 reference`, async () => {
      const ir = await make();
      await check(ir, style);
    });
  }
}

test('ToMe changes the output (the merge is really applied), and r = 0 is the unmerged model', async () => {
  const ir = randomIR(tinyVit({ classifier: 'gap' }), 1);
  const x = randomImages(2, 16, { seed: 3, layout: 'nhwc' });
  const plain = referenceForward(ir, x).data;
  assert.ok(relativeError(referenceForward(withMergeSchedule(ir, 4), x).data, plain) > 1e-3);
  const zero = withMergeSchedule(ir, 0);
  assert.equal((zero.config as VitConfig).mergeTokens, undefined);
  assert.deepEqual(encodeModel(exportModel(zero, 'ort')), encodeModel(exportModel(ir, 'ort')));
});

test('graph ops: standard ONNX merge in both styles; the ort style keeps the fused Attention with the size bias', () => {
  const ir = withMergeSchedule(randomIR(tinyVit({ layers: 3 }), 1), [2, 0, 3]);
  const count = (s: GraphStyle) => {
    const c: Record<string, number> = {};
    for (const n of exportModel(ir, s).graph!.node!) c[`${n.domain || 'ai.onnx'}:${n.opType}`] = (c[`${n.domain || 'ai.onnx'}:${n.opType}`] ?? 0) + 1;
    return c;
  };
  for (const style of STYLES) {
    const c = count(style);
    for (const op of ['TopK', 'GatherElements', 'GatherND', 'ScatterND', 'LpNormalization', 'Range', 'Log']) {
      assert.ok((c[`ai.onnx:${op}`] ?? 0) > 0, `${style}: ${op}`);
    }
    assert.equal(c['ai.onnx:ScatterND'], 2 * 2, `${style}: two merging blocks, x and sizes`);
  }
  assert.ok(Object.keys(count('portable')).every((k) => k.startsWith('ai.onnx:')));
  const attention = exportModel(ir, 'ort', { fusions: ALL_FUSIONS }).graph!.node!.filter((n) => n.opType === 'Attention');
  assert.equal(attention.length, 3);
  // Block 0 has no merged tokens yet; blocks 1 and 2 add log(size) through `attention_bias` (input 5).
  assert.deepEqual(attention.map((n) => n.input!.length), [3, 6, 6]);
  assert.ok(attention.every((n) => n.input!.slice(3, 5).every((i) => i === '')));
});

/**
 * A constructed exact tie. Tokens 2, 4 (set A) and 3, 5 (set B) get position embeddings with the same
 * first half and permutations of one dyadic second half (sums exact in any order, so LayerNorm gives
 * them bit-identical first halves), and the first block's key kernel ignores the second half: their
 * keys are equal, so A tokens 2 and 4 tie for the best score and both tie between B tokens 3 and 5.
 * Their values differ, so which token merges where changes the logits.
 */
function tiedModel(classifier: 'token' | 'gap'): ModelIR {
  const ir = withMergeSchedule(randomIR(tinyVit({ classifier }), 3), [1, 2]);
  const D = 32, half = 16;
  const w = (n: string) => ir.weights.get(n)!.data;
  w('embedding/kernel').fill(0);
  w('embedding/bias').fill(0);
  const dy = (i: number) => ((i * 7) % 13 - 6) / 4;
  const first = Array.from({ length: half }, (_, i) => dy(i));
  const second = Array.from({ length: half }, (_, i) => 4 * dy(i + 5) + 2);
  const rotated = (k: number) => second.map((_, i) => second[(i + k) % half]!);
  const offset = classifier === 'token' ? 0 : -1; // the gap model has no cls row
  for (const [t, k] of [[2, 0], [4, 3], [3, 5], [5, 9]] as const) w('Transformer/posembed_input/pos_embedding').set([...first, ...rotated(k)], (t + offset) * D);
  const key = w('Transformer/encoderblock_0/MultiHeadDotProductAttention_0/key/kernel'); // [D, H, hd]
  key.fill(0, half * 32);
  return ir;
}

for (const classifier of ['token', 'gap'] as const) {
  test(`tie rule (${classifier}): the lowest index wins, in both graph styles as in the reference`, async () => {
    const ir = tiedModel(classifier);
    const x = randomImages(2, 16, { seed: 11, layout: 'nhwc' });
    const ref = (o: ReferenceOptions) => referenceForward(ir, x, o).data;
    const lowest = ref({ mergeTies: 'lowest' }), highest = ref({ mergeTies: 'highest' });
    const gap = relativeError(highest, lowest);
    assert.ok(gap > 2e-4, `the constructed tie decides the output (${gap})`);
    for (const style of STYLES) {
      const got = await onnxLogits(ir, style, x);
      const errLowest = relativeError(got, lowest), errHighest = relativeError(got, highest);
      assert.ok(errLowest <= TOL && errLowest < errHighest / 100, `${style}: ${errLowest} vs lowest, ${errHighest} vs highest`);
    }
  });
}

/** The first n images of the shipped Fashion-MNIST subset, NHWC in the model's range. */
async function fashionImages(n: number): Promise<Tensor> {
  const ds = await openDataSpec('fashion-mnist-subset');
  for await (const b of ds.batches(n, { limit: n })) return permute4(preprocessBatch(b.images, 28), [0, 2, 3, 1]);
  throw new Error('no images');
}

test('fashion-vit (50 tokens, 6 layers) with ToMe: both styles match the float64 reference on real images', async () => {
  const ir = await loadCheckpoint('fashion-vit');
  const x = await fashionImages(12);
  for (const r of [2, 7, 8, [0, 12, 0, 6, 6, 0]] as const) {
    const t = withMergeSchedule(ir, r);
    if (r === 8) assert.deepEqual((t.config as VitConfig).mergeTokens, [8, 8, 8, 8, 8, 4], 'r = 8 is capped in the last block');
    for (const style of STYLES) await check(t, style, x);
  }
});

test('schedule validation: one clear UserError for every bad schedule', () => {
  const vit = tinyVit(); // 17 tokens, 2 layers
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => isUserError(e) && re.test((e as Error).message));
  bad(() => checkMergeSchedule(tinyMixer(), 2), /MLP-Mixer cannot merge tokens/);
  bad(() => checkMergeSchedule(vit, [1, 2, 3]), /3 entries, the model has 2 layers/);
  bad(() => checkMergeSchedule(vit, [-1, 2]), /non-negative integers/);
  bad(() => checkMergeSchedule(vit, 1.5), /non-negative integers/);
  bad(() => checkMergeSchedule(vit, 9), /too large for 17 tokens .*at most 8/);
  bad(() => checkMergeSchedule(vit, [8, 5]), /block 1 has 9 tokens .*at most 4 can merge there .*8,4/);
  bad(() => checkMergeSchedule(tinyVit({ classifier: 'gap' }), [9, 0]), /block 0 has 16 tokens; at most 8/);
  bad(() => withMergeConfig(vit, 2, { pool: 'mean' }), /applies to gap/);
  bad(() => parseMergeTokens('-1'), /--merge-tokens -1: expected a non-negative integer/);
  bad(() => parseMergeTokens('2.5'), /expected a non-negative integer/);
  bad(() => parseMergeTokens('4,,4'), /expected a non-negative integer/);
  bad(() => parseMergeTokens('four'), /expected a non-negative integer/);
  assert.deepEqual(parseMergeTokens('8'), 8);
  assert.deepEqual(parseMergeTokens('8, 4'), [8, 4]);
  // One number follows the reference code (each block merges at most its bound); a list is literal.
  assert.deepEqual(checkMergeSchedule(vit, 8), [8, 4]);
  assert.deepEqual(checkMergeSchedule(vit, [8, 4]), [8, 4]);
  assert.deepEqual(cappedSchedule(vit, [8, 9]), [8, 4]);
  // A schedule that no longer fits (e.g. after a resolution change) fails at export.
  const ir = withMergeSchedule(randomIR(tinyVit({ resolution: 24 }), 1), [10, 5]);
  ir.config.resolution = 16;
  bad(() => exportModel(ir, 'ort'), /merge schedule .*block 0 has 17 tokens/);
});

test('withMergeSchedule: a new IR sharing the weights; the caller\'s IR is untouched; gap models default to weighted pooling', () => {
  const ir = randomIR(tinyVit({ classifier: 'gap' }), 1);
  const before = JSON.stringify(ir.config);
  const t = withMergeSchedule(ir, [2, 3]);
  assert.equal(JSON.stringify(ir.config), before);
  assert.equal(t.weights, ir.weights);
  assert.deepEqual((t.config as VitConfig).mergeTokens, [2, 3]);
  assert.equal((t.config as VitConfig).mergePool, 'weighted');
  assert.deepEqual(tokenCounts(t.config as VitConfig), [16, 14, 11]);
  // Re-scheduling keeps an explicit pooling choice.
  const mean = withMergeSchedule(withMergeSchedule(ir, 1, { pool: 'mean' }), 2);
  assert.equal((mean.config as VitConfig).mergePool, 'mean');
});

test('the portable ToMe graph runs in onnxruntime-web (WebAssembly) and matches the reference', async () => {
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  web.env.logLevel = 'error';
  const ir = withMergeSchedule(randomIR(tinyVit({ classifier: 'gap' }), 1), [3, 2]);
  const x = randomImages(2, 16, { seed: 4, layout: 'nhwc' }), t = nhwcToNchw(x);
  const s = await web.InferenceSession.create(encodeModel(exportModel(ir, 'portable')), { executionProviders: ['wasm'] });
  try {
    const out = await s.run({ pixels: new web.Tensor('float32', t.data, t.dims) });
    assert.ok(relativeError(out.logits!.data as Float32Array, referenceForward(ir, x).data) <= TOL);
  } finally {
    await s.release();
  }
});
