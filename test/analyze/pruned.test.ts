/**
 * `analyze` on structurally pruned models (per-layer heads and hidden widths): every figure is summed
 * block by block. Tiny random models are pruned non-uniformly (a different number of units kept in each
 * layer, as src/compress/prune/ leaves them), exported, and the analysis is checked against counts
 * taken from the exported graph alone (test/analyze/graph-count.ts), and against hand counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { saveModel } from '../../src/formats/onnx.js';
import { type MixerConfig, type ModelConfig, type VitConfig, isPruned, mixerLayer, vitLayer } from '../../src/models/config.js';
import type { ModelIR } from '../../src/models/ir.js';
import { numel } from '../../src/tensor.js';
import { cloneIR, sliceSublayer, sublayers } from '../../src/compress/prune/structured.js';
import { onnxInfo } from '../../src/models/resolve.js';
import { withMergeConfig } from '../../src/models/tome.js';
import { countParams, paramBreakdown } from '../../src/analyze/params.js';
import { elementwiseFlops, macs } from '../../src/analyze/macs.js';
import { activationMemory, weightBytes } from '../../src/analyze/memory.js';
import { crossover, scalingTable } from '../../src/analyze/scaling.js';
import { analyze, renderText } from '../../src/analyze/report.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';
import { tinyHybrid } from '../models/hybrid-fixtures.js';
import { graphKernelParams, graphMacs, graphParams } from './graph-count.js';

/** Prune `ir` to `keep[kind][layer]` units per sublayer, keeping a scattered (not leading) subset. */
function pruneTo(ir: ModelIR, keep: Record<string, number[]>): ModelIR {
  const out = cloneIR(ir);
  for (const s of sublayers(ir.config)) {
    const k = keep[s.kind]?.[s.layer];
    if (k === undefined) continue;
    // Every other unit first, then the rest: which units go does not change any count.
    const order = [...Array.from({ length: s.units }, (_, i) => i).filter((i) => i % 2 === 1), ...Array.from({ length: s.units }, (_, i) => i).filter((i) => i % 2 === 0)];
    sliceSublayer(out, s, order.slice(0, k).sort((a, b) => a - b));
  }
  return out;
}

const VIT = pruneTo(randomIR(tinyVit({ layers: 3 }), 1), { head: [1, 3, 2], mlp: [20, 50, 33] });
const VIT_GAP = pruneTo(randomIR(tinyVit({ classifier: 'gap', representation: 16 }), 2), { head: [2, 4], mlp: [64, 7] });
const MIXER = pruneTo(randomIR(tinyMixer({ blocks: 3 }), 3), { token: [8, 3, 5], channel: [10, 48, 25] });

test('the pruned fixtures really differ per layer', () => {
  const v = VIT.config as VitConfig, m = MIXER.config as MixerConfig;
  assert.deepEqual([0, 1, 2].map((l) => vitLayer(v, l).heads), [1, 3, 2]);
  assert.deepEqual([0, 1, 2].map((l) => vitLayer(v, l).mlp), [20, 50, 33]);
  assert.deepEqual([0, 1, 2].map((i) => mixerLayer(m, i).tokensMlp), [8, 3, 5]);
  assert.deepEqual([0, 1, 2].map((i) => mixerLayer(m, i).channelsMlp), [10, 48, 25]);
  for (const ir of [VIT, VIT_GAP, MIXER]) assert.ok(isPruned(ir.config));
});

for (const [name, ir] of [['ViT', VIT], ['ViT gap + pre_logits', VIT_GAP], ['Mixer', MIXER]] as const) {
  test(`${name} pruned: parameters = the IR's weights = the exported initializers`, () => {
    const fromWeights = [...ir.weights.values()].reduce((a, t) => a + numel(t.dims), 0);
    assert.equal(countParams(ir.config), fromWeights);
    for (const style of ['ort', 'portable'] as const) {
      const proto = exportModel(ir, style);
      assert.equal(countParams(ir.config), graphParams(proto), style);
      // The config analyze reads from an .onnx is the one in its metadata: the pruned one.
      assert.deepEqual(onnxInfo(proto, 'x.onnx').config, JSON.parse(JSON.stringify(ir.config)));
    }
  });

  test(`${name} pruned: MACs = the graph's matrix products`, () => {
    for (const style of ['ort', 'portable'] as const) assert.equal(macs(ir.config).total, graphMacs(exportModel(ir, style)), style);
  });

  test(`${name} pruned: Dense-kernel parameters (int8/int4 bytes) = the graph's MatMul/Attention weights`, () => {
    const w = weightBytes(ir.config);
    assert.equal(w.matmulParams, graphKernelParams(exportModel(ir, 'ort')));
    assert.equal(w.params, countParams(ir.config));
  });
}

test('the graph counts agree with analyze on unpruned models too', () => {
  for (const c of [tinyVit({ layers: 3 }), tinyVit({ classifier: 'gap', representation: 16 }), tinyMixer({ blocks: 3 })]) {
    const proto = exportModel(randomIR(c, 5), 'ort');
    assert.equal(countParams(c), graphParams(proto));
    assert.equal(macs(c).total, graphMacs(proto));
    assert.equal(weightBytes(c).matmulParams, graphKernelParams(proto));
  }
});

test('hybrid pruned: the encoder\'s parameters and MACs from the graph, the ResNet stem unchanged', () => {
  const base = randomIR(tinyHybrid({ layers: [1], width: 8 }), 4);
  const ir = pruneTo(base, { head: [3, 1], mlp: [17, 64] });
  const proto = exportModel(ir, 'ort');
  const p = paramBreakdown(ir.config);
  assert.equal(p.blocks + p.finalNorm, graphParams(proto, 'Transformer/'));
  assert.equal(p.resnet, paramBreakdown(base.config).resnet);
  const m = macs(ir.config);
  const resnet = m.components.filter((x) => x.key.startsWith('resnet')).reduce((a, x) => a + x.macs, 0);
  assert.equal(resnet, macs(base.config).components.filter((x) => x.key.startsWith('resnet')).reduce((a, x) => a + x.macs, 0));
  assert.equal(m.total - resnet, graphMacs(proto));
  assert.equal(weightBytes(ir.config).matmulParams, graphKernelParams(proto));
});

test('ViT pruned: activation memory by hand, block by block', () => {
  // T = 17, D = 32, hd = 8. Heads [1, 3, 2] (A = 8, 24, 16), MLP [20, 50, 33]. The widest op is block 1's
  // softmax: probs + scores (2·3·17²) + x (T·D) + v (T·A) = 1734 + 544 + 408 = 2686 floats; the widest
  // GELU (block 1: T·D + 2·T·50 = 2244) and the uniform model's softmax (2·4·17² + 2·T·D = 3400) differ.
  const c = VIT.config;
  const a = activationMemory(c, 2);
  assert.equal(a.peakOp, 'softmax');
  assert.equal(a.peakBlock, 1);
  assert.equal(a.peakBytes, 2 * 4 * 2686);
  assert.equal(a.attentionMatrixBytes, 2 * 4 * 3 * 17 * 17);
  // Written: prologue patches 512 + tokens 544 + x 544; block l: 6·T·D + 4·T·A_l + 2·H_l·T² + 2·T·M_l;
  // epilogue z 544 + pooled 32 + logits 7.
  const T = 17, D = 32, A = [8, 24, 16], H = [1, 3, 2], M = [20, 50, 33];
  const blocks = [0, 1, 2].reduce((s, l) => s + 6 * T * D + 4 * T * A[l]! + 2 * H[l]! * T * T + 2 * T * M[l]!, 0);
  assert.equal(a.writtenBytes, 2 * 4 * (1600 + blocks + 583));
  const e = elementwiseFlops(c);
  assert.equal(e.softmax, (1 + 3 + 2) * T * T * 5);
  assert.equal(e.gelu, (20 + 50 + 33) * T * 9);
});

test('Mixer pruned: activation peak in the widest channel-mixing block; token-mixing weights by scaling row', () => {
  // S = 16, C = 24: block 1's channel GELU S·C + 2·S·48 = 1920 floats beats the stem (768 + 384).
  const a = activationMemory(MIXER.config);
  assert.equal(a.peakOp, 'GELU');
  assert.equal(a.peakBlock, 1);
  assert.equal(a.peakBytes, 4 * (16 * 24 + 2 * 16 * 48));
  const row = scalingTable(MIXER.config).find((r) => r.resolution === MIXER.config.resolution)!;
  const tokenMixing = [...MIXER.weights].filter(([n]) => n.includes('/token_mixing/')).reduce((s, [, t]) => s + numel(t.dims), 0);
  assert.equal(row.tokenMixingParams, tokenMixing);
  assert.equal(row.tokenMixingMacs! + row.channelMixingMacs! + 24 * 5 + 16 * 48 * 24, row.totalMacs); // + head + stem
});

test('ViT pruned: the crossover sums the blocks (2D + D·ΣM_l/ΣA_l), each block has its own', () => {
  const x = crossover(VIT.config)!;
  assert.equal(x.blockT, 64 + 32 * 103 / 48);
  assert.deepEqual(x.layerT, [64 + 32 * 20 / 8, 64 + 32 * 50 / 24, 64 + 32 * 33 / 16]);
  assert.equal(x.projectionsT, 64);
  // At the model crossover the quadratic MACs (each block at its own A_l) overtake the linear ones.
  const at = (g: number) => macs({ ...VIT.config, resolution: 4 * g });
  assert.ok(at(x.modelGrid).quadratic > at(x.modelGrid).linear);
  assert.ok(at(x.modelGrid - 1).quadratic <= at(x.modelGrid - 1).linear);
  assert.equal(crossover(tinyVit())!.layerT, undefined);
});

test('a uniform configuration written per layer gives exactly the unpruned figures', () => {
  const strip = (r: ReturnType<typeof analyze>) => JSON.parse(JSON.stringify({ ...r, model: null, config: null, description: null, notes: null, layers: null,
    macs: { ...r.macs, components: r.macs.components.map((m) => ({ ...m, formula: null })) } }));
  const v: VitConfig = tinyVit({ layers: 3 });
  const vl: VitConfig = { ...v, layerHeads: [4, 4, 4], layerMlp: [64, 64, 64], headDim: 8 };
  const m: MixerConfig = tinyMixer();
  const ml: MixerConfig = { ...m, layerTokensMlp: [8, 8], layerChannelsMlp: [48, 48] };
  for (const [a, b] of [[v, vl], [m, ml]] as [ModelConfig, ModelConfig][]) {
    const r = strip(analyze(b, { batch: 3 }));
    // Scaling's crossover gains the per-layer list and the summed formula; the figures are the same.
    if (r.crossover) { delete r.crossover.layerT; r.crossover.formula = null; }
    const u = strip(analyze(a, { batch: 3 }));
    if (u.crossover) u.crossover.formula = null;
    assert.deepEqual(r, u);
  }
});

test('ToMe on a pruned ViT: each block at its own widths and token count', () => {
  const c = withMergeConfig(VIT.config, 2);
  const r = analyze(c);
  assert.equal(r.layers!.length, 3);
  assert.deepEqual(r.layers!.map((b) => b.macs), r.macs.blocks!.map((b) => b.total));
  // Block totals + patch embedding + head = the model total.
  assert.equal(r.layers!.reduce((s, b) => s + b.macs, 0) + 16 * 48 * 32 + 32 * 7, r.macs.total);
  // Unmerged, block l is 3·T·D·A_l + 2·T²·A_l + T·A_l·D + 2·T·D·M_l with T = 17.
  const u = analyze(VIT.config);
  const A = [8, 24, 16], M = [20, 50, 33], T = 17, D = 32;
  assert.deepEqual(u.layers!.map((b) => b.macs), A.map((a, l) => 4 * T * D * a + 2 * T * T * a + 2 * T * D * M[l]!));
  assert.ok(r.macs.total < u.macs.total);
});

test('vitopt analyze <pruned.onnx>: per-layer figures from the file, equal to the graph\'s counts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-analyze-pruned-'));
  const file = path.join(dir, 'pruned.onnx');
  const proto = exportModel(VIT, 'ort');
  await saveModel(file, proto);
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [main, 'analyze', file, ...args],
    { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: dir } });
  const j = run('--json');
  assert.equal(j.status, 0, j.stderr);
  const r = JSON.parse(j.stdout);
  assert.equal(r.params.total, graphParams(proto));
  assert.equal(r.macs.total, graphMacs(proto));
  assert.deepEqual(r.layers.map((b: { heads: number }) => b.heads), [1, 3, 2]);
  assert.ok(r.notes.some((n: string) => /structurally pruned/.test(n)));
  const t = run();
  assert.equal(t.status, 0, t.stderr);
  assert.ok(t.stdout.includes('## Blocks (structurally pruned)'));
  assert.ok(t.stdout.includes('softmax (block 1)'));
  assert.ok(renderText(analyze(VIT.config)).includes('Σ_l 3·T·D·A_l'));
});
