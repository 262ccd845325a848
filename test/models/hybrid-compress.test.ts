/**
 * Compressing a hybrid: dynamic and static INT8 quantize the transformer's matrix multiplies (the stem's
 * convolutions stay float, or in static mode with --stem int8 become QDQ convolutions), structured pruning removes heads and MLP units from the transformer (the
 * stem is kept whole), from a checkpoint and from a vitopt .onnx export; each result runs and agrees
 * with the float model / the float64 reference of its own configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { randomIR } from '../../src/models/random.js';
import { exportModel } from '../../src/export/index.js';
import { loadModel, saveModel } from '../../src/formats/onnx.js';
import { encodeNpz } from '../../src/formats/npz.js';
import { irFromOnnx } from '../../src/compress/prune/from-onnx.js';
import { verifyExport } from '../../src/export/verify.js';
import { vitLayer, type VitConfig } from '../../src/models/config.js';
import type { QuantizeReport } from '../../src/tune/quantize-report.js';
import type { PruneReport } from '../../src/tune/prune-report.js';
import { runCli, tmp } from '../core/helpers.js';
import { tinyR26 } from './hybrid-fixtures.js';

const dir = tmp();
// The importer takes official stage layouts only: R26's (2, 2, 2, 2), narrowed to width 32.
const ir = randomIR(tinyR26({ hidden: 64, mlp: 128, classes: 10 }), 17);
const onnx = path.join(dir, 'hybrid.onnx');
await saveModel(onnx, exportModel(ir, 'ort'));
const npz = path.join(dir, 'hybrid.npz');
await fs.writeFile(npz, await encodeNpz(ir.weights, { zip64: true }));
const DATA = 'fashion-mnist-subset';

function ok<T>(args: string[]): T {
  const r = runCli([...args, '--json', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

test('dynamic and static INT8 on a hybrid: the transformer is int8; the stem convs float (dynamic, --stem float) or QLinearConv (--stem int8); outputs agree', async () => {
  for (const [mode, stem] of [['dynamic', 'auto'], ['static', 'float'], ['static', 'int8']] as const) {
    const out = path.join(dir, `q-${mode}-${stem}.onnx`);
    const r = ok<QuantizeReport>(['quantize', mode === 'static' ? npz : onnx, '-o', out, '--mode', mode, '--stem', stem, '--data', DATA,
      '--calibration-size', '16', '--eval-size', '32', '--no-bench']);
    const quantized = r.layers.filter((l) => l.quantized).map((l) => l.label);
    // qkv, out, fc1, fc2 in 2 blocks (the head stays float); with --stem int8 also the root + 4 stages × (4 convs in unit1 + 3 in unit2).
    const convs = stem === 'int8' ? 1 + 4 * 7 : 0;
    assert.equal(quantized.length, 8 + convs, quantized.join());
    assert.equal(quantized.filter((l) => l.startsWith('Transformer/')).length, 8);
    assert.equal(r.settings.stem!.convs, stem === 'int8' ? 'int8' : 'float');
    assert.equal(r.settings.stem!.quantized, convs);
    console.log(`# ${mode} --stem ${stem}: logits SQNR ${r.logitsSqnr.toFixed(1)} dB, agreement ${r.accuracy!.agreement}`);
    // Measured 2026-12-02: 57.7 / 56.2 / 35.9 dB, agreement 1 in all three.
    assert.ok(r.logitsSqnr > 20, `${mode} --stem ${stem}: logits SQNR ${r.logitsSqnr}`);
    assert.ok(r.accuracy!.agreement >= 0.9, `${mode} --stem ${stem}: agreement ${r.accuracy!.agreement}`);
    const nodes = (await loadModel(out)).graph!.node!;
    // The root, 4 stages × (4 convs in unit1 + 3 in unit2), and the patch embedding: all still Conv nodes (QDQ form for int8).
    assert.equal(nodes.filter((n) => n.opType === 'Conv').length, 1 + 4 * 7 + 1);
    const dq = new Set(nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.output![0]));
    assert.equal(nodes.filter((n) => n.opType === 'Conv' && dq.has(n.input![0]!)).length, convs);
  }
});

test('structured pruning of a hybrid: from the checkpoint and from its .onnx export; the stem is kept', async () => {
  for (const [src, args] of [[npz, ['--method', 'structured', '--ratio', '0.5']], [onnx, ['--method', 'heads', '--ratio', '0.5', '--ranking', 'uniform']]] as const) {
    const out = path.join(dir, `p-${path.basename(src)}.onnx`);
    const r = ok<PruneReport>(['prune', src, '-o', out, ...args, '--data', DATA, '--calibration-size', '16', '--no-bench']);
    assert.equal(r.layers.length, 2);
    const back = irFromOnnx(await loadModel(out), out);
    const c = back.config as VitConfig;
    assert.deepEqual(c.resnet, { layers: [2, 2, 2, 2], width: 32 });
    assert.ok([0, 1].every((l) => vitLayer(c, l).heads < 4));
    // The pruned model is exactly its own configuration: export and reference agree.
    const v = await verifyExport(back, exportModel(back, 'portable'), 1);
    assert.ok(v.relativeError <= 1e-4);
  }
  // A FLOPs target the transformer alone cannot meet is a clear error.
  const r = runCli(['prune', npz, '-o', path.join(dir, 'x.onnx'), '--method', 'structured', '--target-flops', '0.5', '--data', DATA]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /cannot be met by removing attention heads and MLP hidden units/);
});
