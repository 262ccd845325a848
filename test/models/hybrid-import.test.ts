/**
 * Importing official hybrid .npz checkpoints: both naming schemes (pre-Linen transformer names, old-Flax
 * GroupNorm params stored (1, 1, 1, C)), an `opt/target/` prefix, the position embedding resized on the
 * token grid the ResNet produces, and bad checkpoints refused in one line naming the key (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { randomIR } from '../../src/models/random.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { resizePosEmbedding } from '../../src/models/posemb.js';
import { exportModel } from '../../src/export/index.js';
import { verifyExport } from '../../src/export/verify.js';
import { encodeNpz } from '../../src/formats/npz.js';
import type { Tensor } from '../../src/tensor.js';
import { FileError } from '../../src/errors.js';
import { runCli, tmp, toPreLinen } from '../core/helpers.js';
import { tinyR26 } from './hybrid-fixtures.js';

const dir = tmp();
const ir = randomIR(tinyR26(), 21);

/** The IR's weights as a published file would hold them. */
function official(o: { preLinen?: boolean; oldGroupNorm?: boolean; prefix?: string } = {}): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [k, v] of ir.weights) {
    const gn = o.oldGroupNorm && /(^|\/)gn(\d+|_root|_proj)\//.test(k);
    m.set((o.prefix ?? '') + (o.preLinen ? toPreLinen(k) : k), gn ? { dims: [1, 1, 1, v.dims[0]!], data: v.data } : v);
  }
  return m;
}

async function write(name: string, arrays: Map<string, Tensor>): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, await encodeNpz(arrays, { zip64: true }));
  return file;
}

test('both naming schemes import to the same IR; the config is inferred, stem included', async () => {
  const files = [
    await write('linen.npz', official()),
    await write('prelinen-oldgn.npz', official({ preLinen: true, oldGroupNorm: true, prefix: 'opt/target/' })),
  ];
  for (const file of files) {
    const got = await loadCheckpoint(file);
    assert.deepEqual({ ...got.config, name: undefined }, { ...ir.config, name: undefined }, file);
    for (const [k, v] of ir.weights) {
      assert.deepEqual(got.weights.get(k)?.dims, v.dims, k);
      assert.deepEqual(got.weights.get(k)!.data, v.data, k);
    }
  }
  const r = await verifyExport(await loadCheckpoint(files[1]!), exportModel(await loadCheckpoint(files[1]!), 'ort'), 1);
  assert.ok(r.relativeError <= 1e-4);
});

test('another resolution resizes the position embedding on the ResNet token grid (64 px: 2×2 -> 96 px: 3×3)', async () => {
  const file = await write('res.npz', official());
  const got = await loadCheckpoint(file, { resolution: 96 });
  assert.equal(got.config.resolution, 96);
  const pe = got.weights.get('Transformer/posembed_input/pos_embedding')!;
  assert.deepEqual(pe.dims, [1, 10, 32]);
  assert.deepEqual(pe.data, resizePosEmbedding(ir.weights.get('Transformer/posembed_input/pos_embedding')!, true, 3).data);
  const r = await verifyExport(got, exportModel(got, 'portable'), 1);
  assert.ok(r.relativeError <= 1e-4);
});

/** The CLI's way: exit 2, one line, no stack trace. */
function refusedByCli(file: string, message: RegExp, extra: string[] = []): void {
  const r = runCli(['convert', file, '-o', path.join(dir, 'out.onnx'), ...extra]);
  assert.equal(r.status, 2, `${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
}

/** The same FileError (what the CLI prints in one line with exit 2), without a process per case. */
async function refused(file: string, message: RegExp, config?: string): Promise<void> {
  await assert.rejects(loadCheckpoint(file, { config }), (e: unknown) => {
    assert.ok(e instanceof FileError, String(e));
    assert.ok(e.message.startsWith(file));
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

const without = (m: Map<string, Tensor>, prefix: string) => new Map([...m].filter(([k]) => !k.startsWith(prefix)));

test('bad hybrid checkpoints: one line naming the key, exit 2', async () => {
  const good = official();
  // A missing unit (the stage layout matches no configuration) and a gap in the numbering.
  refusedByCli(await write('missing-unit.npz', without(good, 'block2/unit2/')),
    /ResNet units per stage \(2, 1, 2, 2\) match no hybrid configuration: unit 'block2\/unit2' missing against R26/);
  await refused(await write('gap.npz', without(good, 'block2/unit1/')), /ResNet unit 'block2\/unit1' is missing/);
  // An extra unit.
  const extra = new Map(good);
  for (const [k, v] of good) if (k.startsWith('block4/unit2/')) extra.set(k.replace('unit2', 'unit3'), v);
  await refused(await write('extra-unit.npz', extra), /extra unit 'block4\/unit3' against R26/);
  // Three stages: no official hybrid has (2, 2, 2).
  await refused(await write('three-stages.npz', without(good, 'block4/')), /\(2, 2, 2\) match no hybrid configuration/);
  // Wrong kernel shapes, an unexpected weight, a missing root.
  const wrong = new Map(good);
  wrong.set('block3/unit1/conv2/kernel', { dims: [3, 3, 64, 128], data: new Float32Array(3 * 3 * 64 * 128) });
  refusedByCli(await write('wrong-shape.npz', wrong), /weight 'block3\/unit1\/conv2\/kernel' has shape \(3, 3, 64, 128\), expected \(3, 3, 128, 128\)/);
  const root = new Map(good);
  root.set('conv_root/kernel', { dims: [3, 3, 3, 32], data: new Float32Array(3 * 3 * 3 * 32) });
  await refused(await write('root-shape.npz', root), /weight 'conv_root\/kernel' has shape \(3, 3, 3, 32\), expected \(7, 7, 3, width\)/);
  const odd = new Map(good);
  odd.set('block1/unit1/conv9/kernel', good.get('block1/unit1/conv1/kernel')!);
  await refused(await write('unexpected.npz', odd), /unexpected weight 'block1\/unit1\/conv9\/kernel'/);
  await refused(await write('no-root.npz', without(good, 'conv_root/')), /missing weight 'conv_root\/kernel'/);
  const gn = new Map(good);
  gn.set('block2/unit2/gn3/scale', { dims: [64], data: new Float32Array(64) });
  await refused(await write('gn-shape.npz', gn), /weight 'block2\/unit2\/gn3\/scale' has shape \(64,\), expected \(256,\)/);
  // A checkpoint named as another hybrid.
  await refused(await write('named.npz', good), /does not match config R50\+ViT-B_16/, 'R50+ViT-B_16');
});
