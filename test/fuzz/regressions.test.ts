/** The inputs fuzzing found that crashed a parser or broke the one-line error, each fixed: kept as regression tests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileError } from '../../src/errors.js';
import { parseSafetensors } from '../../src/formats/safetensors.js';
import { parseNpy } from '../../src/formats/npy.js';
import { encodeModel, loadModel, type ModelProto } from '../../src/formats/onnx.js';
import { exportModel } from '../../src/export/index.js';
import { randomIR } from '../../src/models/random.js';

function safetensors(header: string, data = new Uint8Array(16)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const rejects = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof FileError && re.test(e.message) && !e.message.includes('\n'));

test('safetensors: header entries that are not tensors are refused, never dereferenced', () => {
  rejects(() => parseSafetensors(safetensors('{"w": null}'), 'x'), /tensor 'w': header entry is not an object/);
  rejects(() => parseSafetensors(safetensors('[1, 2]'), 'x'), /not a JSON object/);
  rejects(() => parseSafetensors(safetensors('{"w": {"dtype": "F32", "shape": [1]}}'), 'x'), /data_offsets is not a pair/);
  rejects(() => parseSafetensors(safetensors('{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}'), 'x'), /shape is not a list/);
  rejects(() => parseSafetensors(safetensors('{"w": {"dtype": "F32", "shape": [0.5, 8], "data_offsets": [0, 16]}}'), 'x'), /shape is not a list/);
  // A negative start used to read the header's own bytes as weights.
  rejects(() => parseSafetensors(safetensors('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}'), 'x'), /data_offsets is not a pair/);
  rejects(() => parseSafetensors(safetensors('{"w": {"dtype": "F32", "shape": [1000000000000], "data_offsets": [0, 4000000000000]}}'), 'x'), /truncated/);
  rejects(() => parseSafetensors(safetensors('{"w\\n\\u001b[31m": {"dtype": "Q4", "shape": [], "data_offsets": [0, 0]}}'), 'x'), /tensor 'w\\u000a\\u001b\[31m' has unsupported dtype Q4/);
});

test('npy: a dtype with a line break and a terminal escape is quoted on one line', () => {
  const header = "{'descr': '<f4\n\u001b[2J', 'fortran_order': False, 'shape': (1,), }";
  const h = new TextEncoder().encode(header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n');
  const buf = new Uint8Array(10 + h.length + 4);
  buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(buf.buffer).setUint16(8, h.length, true);
  buf.set(h, 10);
  rejects(() => parseNpy(buf, 'x.npy'), /unsupported \.npy dtype '<f4\\u000a\\u001b\[2J'/);
});

test('onnx external data: the location stays beside the model, offset and length within the data file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-ext-'));
  const m = exportModel(randomIR({ family: 'vit', patch: 4, hidden: 8, mlp: 16, heads: 2, layers: 1, classifier: 'token', representation: null,
    classes: 3, resolution: 8, gelu: 'tanh', layerNormEps: 1e-6 }, 5), 'portable');
  const write = async (kv: Record<string, string>) => {
    const init = m.graph!.initializer!.map((t, i) => i !== 0 ? t : { ...t, rawData: new Uint8Array(0), dataLocation: 1,
      externalData: Object.entries(kv).map(([key, value]) => ({ key, value })) });
    const file = path.join(dir, 'm.onnx');
    await fs.writeFile(file, encodeModel({ ...m, graph: { ...m.graph!, initializer: init } } as ModelProto));
    return file;
  };
  await fs.writeFile(path.join(dir, 'w.bin'), new Uint8Array(64));
  const fails = async (kv: Record<string, string>, re: RegExp) => {
    await assert.rejects(loadModel(await write(kv)), (e: unknown) => e instanceof FileError && re.test(e.message));
  };
  await fails({ location: '../w.bin', length: '4' }, /external data location '\.\.\/w\.bin' is not a file beside the model/);
  await fails({ location: '/etc/hostname' }, /is not a file beside the model/);
  // 10^12 bytes declared: refused from the file's size, nothing allocated.
  await fails({ location: 'w.bin', length: '1000000000000' }, /truncated external data/);
  await fails({ location: 'w.bin', offset: '-8', length: '4' }, /offset '-8' is not a byte count/);
  await fails({ location: 'w.bin', length: 'abc' }, /length 'abc' is not a byte count/);
  await fails({ location: '.' }, /external data is not a file/);
  // Without a length, the data runs to the end of the file (the ONNX spec's default).
  const ok = await loadModel(await write({ location: 'w.bin', offset: '48' }));
  assert.equal(ok.graph!.initializer![0]!.rawData!.length, 16);
});
