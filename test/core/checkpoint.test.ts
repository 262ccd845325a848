/** Checkpoint import: every container/layout variant the official files use, and every bad-input path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { randomIR } from '../../src/models/random.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { encodeNpz } from '../../src/formats/npz.js';
import { encodeNpy, parseNpy, npyToFloat32 } from '../../src/formats/npy.js';
import { convertPreLinen } from '../../src/models/prelinen.js';
import { FileError, UserError } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { floatToHalf, roundToHalf, tinyMixer, tinyVit, tmp, toPreLinen, writeOfficialNpz } from './helpers.js';

function sameWeights(a: Map<string, Tensor>, b: Map<string, Tensor>) {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of a) {
    assert.deepEqual(b.get(k)!.dims, v.dims, k);
    assert.deepEqual(b.get(k)!.data, v.data, k);
  }
}

test('convert_pre_linen renumbers per prefix in natural order and is a no-op on Linen trees', () => {
  const names: string[] = ['T/posembed_input/pos_embedding'];
  for (let l = 0; l <= 10; l++) {
    for (const m of ['LayerNorm_0/scale', 'MultiHeadDotProductAttention_1/query/kernel', 'LayerNorm_2/scale', 'MlpBlock_3/Dense_0/kernel', 'MlpBlock_3/Dense_1/kernel']) {
      names.push(`T/encoderblock_${l}/${m}`);
    }
  }
  const m = convertPreLinen(names);
  assert.equal(m.get('T/encoderblock_10/LayerNorm_2/scale'), 'T/encoderblock_10/LayerNorm_1/scale');
  assert.equal(m.get('T/encoderblock_10/MultiHeadDotProductAttention_1/query/kernel'), 'T/encoderblock_10/MultiHeadDotProductAttention_0/query/kernel');
  assert.equal(m.get('T/encoderblock_10/MlpBlock_3/Dense_1/kernel'), 'T/encoderblock_10/MlpBlock_0/Dense_1/kernel');
  // Natural order: encoderblock_10 sorts after encoderblock_9, so every block keeps its number
  // (a lexicographic sort would have renamed encoderblock_10 to encoderblock_2).
  assert.equal(m.get('T/encoderblock_2/LayerNorm_0/scale'), 'T/encoderblock_2/LayerNorm_0/scale');
  assert.equal(m.get('T/encoderblock_10/LayerNorm_0/scale'), 'T/encoderblock_10/LayerNorm_0/scale');
  const linen = [...m.values()];
  assert.deepEqual([...convertPreLinen(linen).entries()].filter(([a, b]) => a !== b), []);
});

const layouts = [
  { name: 'stored, ZIP64 headers as numpy writes them, pre-Linen names', o: { preLinen: true, zip64: true } },
  { name: 'deflated (savez_compressed), no ZIP64', o: { preLinen: true, compress: true, zip64: false } },
  { name: 'Linen names with an opt/target/ prefix', o: { prefix: 'opt/target/' } },
];
for (const { name, o } of layouts) {
  test(`ViT .npz import: ${name}`, async () => {
    const ir = randomIR(tinyVit({ representation: 12 }), 1);
    const file = await writeOfficialNpz(ir, path.join(tmp(), 'm.npz'), o);
    const got = await loadCheckpoint(file);
    sameWeights(ir.weights, got.weights);
    assert.deepEqual({ ...got.config, name: undefined }, { ...ir.config, name: undefined });
  });
}

test('Mixer .npz import infers the configuration from shapes', async () => {
  const ir = randomIR(tinyMixer({ classes: 3 }), 2);
  const got = await loadCheckpoint(await writeOfficialNpz(ir, path.join(tmp(), 'mixer.npz')));
  assert.equal(got.config.family, 'mixer');
  assert.deepEqual(got.config, ir.config);
});

test('float16 arrays are widened exactly', async () => {
  const ir = randomIR(tinyVit({ classifier: 'gap' }), 3);
  roundToHalf(ir);
  const arrays = new Map<string, Tensor>();
  const dir = tmp();
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  for (const [k, t] of ir.weights) {
    const buf = Buffer.from(encodeNpy({ dims: t.dims, data: Uint16Array.from(t.data, floatToHalf) }));
    zip.addBuffer(buf, `${toPreLinen(k)}.npy`, { compress: false });
    arrays.set(k, t);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  const file = path.join(dir, 'half.npz');
  await fs.writeFile(file, Buffer.concat(chunks));
  sameWeights(arrays, (await loadCheckpoint(file)).weights);
});

test('.npy headers v1, v2 and v3 parse; Fortran order and odd dtypes are refused', () => {
  const t = { dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
  const v1 = encodeNpy(t);
  assert.equal(v1[6], 1);
  const body = v1.subarray(10);
  for (const major of [2, 3]) {
    const hl = v1[8]! | (v1[9]! << 8);
    const v = new Uint8Array(12 + body.length);
    v.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    new DataView(v.buffer).setUint32(8, hl, true);
    v.set(body, 12);
    const a = parseNpy(v, 'x.npy');
    assert.deepEqual(a.dims, [2, 3]);
    assert.deepEqual([...npyToFloat32(a, 'x.npy')], [1, 2, 3, 4, 5, 6]);
  }
  const fortran = new TextDecoder('latin1').decode(v1).replace("'fortran_order': False", "'fortran_order': True ");
  assert.throws(() => parseNpy(Uint8Array.from(fortran, (ch) => ch.charCodeAt(0)), 'f.npy'), /Fortran-order/);
  const ints = encodeNpy({ dims: [2], data: Int32Array.of(1, 2) });
  assert.throws(() => npyToFloat32(parseNpy(ints, 'i.npy'), 'i.npy'), /i\.npy: expected a float32 or float16 array, found dtype 'i4'/);
});

async function npzWith(mutate: (m: Map<string, Tensor>) => void, family: 'vit' | 'mixer' = 'vit'): Promise<string> {
  const ir = randomIR(family === 'vit' ? tinyVit() : tinyMixer(), 4);
  mutate(ir.weights);
  const file = path.join(tmp(), 'bad.npz');
  await fs.writeFile(file, await encodeNpz(new Map([...ir.weights].map(([k, v]) => [toPreLinen(k), v]))));
  return file;
}

async function rejects(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    return true;
  });
}

test('bad checkpoints give one clear line naming the file', async () => {
  const good = await writeOfficialNpz(randomIR(tinyVit(), 5), path.join(tmp(), 'good.npz'));
  const bytes = await fs.readFile(good);
  const dir = tmp();
  const truncated = path.join(dir, 'truncated.npz');
  await fs.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await rejects(loadCheckpoint(truncated), /truncated\.npz: not a valid \.npz \(zip\) archive/);
  const garbage = path.join(dir, 'garbage.npz');
  await fs.writeFile(garbage, Buffer.from('this is not a zip file at all, just text'.repeat(10)));
  await rejects(loadCheckpoint(garbage), /garbage\.npz: not a valid \.npz/);
  const corrupt = path.join(dir, 'corrupt.npz');
  const c = Buffer.from(bytes);
  c.write('XXXXXX', 30 + 'cls.npy'.length + 20 + 40); // clobber a member's .npy magic (first member's data)
  await fs.writeFile(corrupt, c);
  await assert.rejects(loadCheckpoint(corrupt), FileError);
  await rejects(loadCheckpoint(path.join(dir, 'missing.npz')), /missing\.npz: no such file/);
  await rejects(loadCheckpoint(await npzWith((w) => w.delete('Transformer/encoderblock_1/MlpBlock_0/Dense_1/bias'))),
    /missing weight 'Transformer\/encoderblock_1\/MlpBlock_0\/Dense_1\/bias'/);
  await rejects(loadCheckpoint(await npzWith((w) => w.set('extra/thing', { dims: [2], data: new Float32Array(2) }))),
    /unexpected weight 'extra\/thing'/);
  await rejects(loadCheckpoint(await npzWith((w) => w.set('Transformer/encoderblock_1/MlpBlock_0/Dense_0/bias', { dims: [63], data: new Float32Array(63) }))),
    /weight 'Transformer\/encoderblock_1\/MlpBlock_0\/Dense_0\/bias' has shape \(63,\), expected \(64,\)/);
  await rejects(loadCheckpoint(await npzWith((w) => w.set('Transformer/posembed_input/pos_embedding', { dims: [1, 12, 32], data: new Float32Array(12 * 32) }))),
    /position embedding has 11 patch rows, not a square grid/);
  await rejects(loadCheckpoint(await npzWith((w) => { w.clear(); w.set('foo', { dims: [1], data: new Float32Array(1) }); })),
    /not a ViT or Mixer checkpoint/);
  const wrongType = path.join(dir, 'model.bin');
  await fs.writeFile(wrongType, 'x');
  await rejects(loadCheckpoint(wrongType), /model\.bin: unknown checkpoint format/);
});

test('a named config is checked against the checkpoint', async () => {
  const file = await writeOfficialNpz(randomIR(tinyVit(), 6), path.join(tmp(), 'm.npz'));
  await rejects(loadCheckpoint(file, { config: 'ViT-Ti_16' }), /does not match config ViT-Ti_16: patch is 4 in the checkpoint, 16 in ViT-Ti_16/);
  await rejects(loadCheckpoint(file, { config: 'ViT-Q_99' }), /unknown model config 'ViT-Q_99'/);
});

test('a Mixer cannot change resolution; a ViT resolution below the patch size is refused', async () => {
  const mixer = await writeOfficialNpz(randomIR(tinyMixer(), 7), path.join(tmp(), 'mx.npz'));
  await rejects(loadCheckpoint(mixer, { resolution: 32 }), /token-mixing weights are tied/);
  const vit = await writeOfficialNpz(randomIR(tinyVit(), 8), path.join(tmp(), 'v.npz'));
  await rejects(loadCheckpoint(vit, { resolution: 3 }), /--resolution 3 must be an integer of at least the patch size 4/);
});
