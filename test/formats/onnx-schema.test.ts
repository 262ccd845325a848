/**
 * The vendored ONNX schema (ONNX 1.23, IR version 14): a model carrying fields that ONNX 1.10 (the
 * schema `onnx-proto` had) did not know survives decode -> encode -> decode, in memory and through
 * saveModel/loadModel with external data; models the official onnx package wrote re-encode
 * byte for byte; int64 fields, enums and raw_data come back as the rest of vitopt expects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeModel, loadModel, onnx, saveModel, type ModelProto } from '../../src/formats/onnx.js';
import { packagePath } from '../../src/util/paths.js';
import { newerModel } from './newer-model.js';

const DT = onnx.TensorProto.DataType;
const meta = (key: string, value: string) => ({ key, value });

/** The model as plain data (int64 as numbers, bytes as arrays), for deep comparison. */
const plain = (m: ModelProto) => onnx.ModelProto.toObject(m, { longs: Number, bytes: Array, enums: Number });

test('the schema is current: IR 14 and the recent tensor types', () => {
  assert.equal(onnx.Version.IR_VERSION, 14);
  assert.deepEqual([DT.FLOAT8E4M3FN, DT.UINT4, DT.INT4, DT.FLOAT4E2M1, DT.FLOAT8E8M0, DT.UINT2, DT.INT2], [17, 21, 22, 23, 24, 25, 26]);
  assert.equal(DT[23], 'FLOAT4E2M1', 'enums map both ways, as pbjs enums did');
  assert.equal(onnx.TensorProto.DataLocation.EXTERNAL, 1);
  assert.equal(onnx.AttributeProto.AttributeType.INTS, 7);
});

test('fields newer than ONNX 1.10 survive decode -> encode -> decode, byte for byte', () => {
  const model = newerModel();
  const bytes = encodeModel(model);
  const decoded = onnx.ModelProto.decode(bytes);
  assert.deepEqual(Buffer.from(encodeModel(decoded)), Buffer.from(bytes), 're-encoding is byte-identical');
  assert.deepEqual(plain(decoded), plain(model), 'every field comes back');

  // Spelled out, so a schema that silently lost one of them fails here by name.
  const g = decoded.graph!, n = g.node![0]!, f = decoded.functions[0]!;
  assert.equal(Number(decoded.irVersion), 13);
  assert.deepEqual(decoded.configuration.map((c) => [c.name, c.numDevices, c.device]), [['mesh', 2, ['cuda:0', 'cuda:1']]]);
  assert.equal(n.overload, 'tanh');
  assert.deepEqual(n.metadataProps!.map((p) => p.value), ['block0']);
  const spec = n.deviceConfigurations![0]!.shardingSpec![0]!;
  assert.equal(n.deviceConfigurations![0]!.pipelineStage, 1);
  assert.deepEqual(spec.device!.map(Number), [0, 1]);
  assert.deepEqual(spec.shardedDim![0]!.simpleSharding!.map((s) => [s.dimParam || Number(s.dimValue), Number(s.numShards)]), [[8, 2], ['n', 2]]);
  assert.deepEqual(g.metadataProps!.map((p) => p.value), ['main']);
  assert.deepEqual(g.input![0]!.metadataProps!.map((p) => p.value), ['NC']);
  assert.deepEqual(g.initializer!.map((t) => [t.name, t.dataType, t.metadataProps![0]!.value]),
    [['f8', 17, 'f8'], ['f8b', 20, 'f8b'], ['i4', 22, 'i4'], ['u4', 21, 'u4'], ['f4', 23, 'f4'], ['e8m0', 24, 'e8m0'], ['i2', 26, 'i2']]);
  assert.equal(f.overload, 'tanh');
  assert.equal(new TextDecoder().decode(f.attributeProto![0]!.s!), 'tanh');
  assert.deepEqual(f.valueInfo!.map((v) => v.name), ['y']);
  assert.deepEqual(f.metadataProps!.map((p) => p.value), ['gelu']);
});

test('saveModel/loadModel keep the newer fields, with weights in external data', async (t) => {
  const model = newerModel();
  const big = new Float32Array(1024).map((_, i) => i / 7);
  model.graph!.initializer!.push({ name: 'w', dataType: DT.FLOAT, dims: [1024], rawData: new Uint8Array(big.buffer),
    metadataProps: [meta('origin', 'w')] });
  const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-onnx-schema-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'm.onnx');
  const { files } = await saveModel(file, model, { external: true });
  assert.deepEqual(files, [file, `${file}.data`]);
  const stored = onnx.ModelProto.decode(readFileSync(file));
  const w = stored.graph!.initializer!.find((t) => t.name === 'w')!;
  assert.equal(w.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL, 'the big initializer went to the data file');
  assert.deepEqual(w.metadataProps!.map((p) => p.value), ['w'], 'and kept its metadata there');

  const loaded = await loadModel(file);
  const want = plain(model);
  want.graph.initializer.at(-1).dataLocation = onnx.TensorProto.DataLocation.DEFAULT; // loadModel marks the data as inline again
  assert.deepEqual(plain(loaded), want, 'loaded back whole: external data read into raw_data, every newer field kept');
});

test('models written by the official onnx package re-encode byte for byte (onnx-proto 1.10 packed their repeated int64s)', () => {
  for (const name of ['foreign-vit.onnx', 'foreign-vit-hf.onnx']) {
    const bytes = readFileSync(packagePath('test', 'fixtures', name));
    assert.ok(Buffer.from(encodeModel(onnx.ModelProto.decode(bytes))).equals(bytes), name);
  }
});

test('decoding as the rest of vitopt expects: int64 as Long (Number() reads it), raw_data a view of the input', () => {
  const bytes = Buffer.from(encodeModel(newerModel()));
  const m = onnx.ModelProto.decode(bytes);
  const dims = m.graph!.initializer![0]!.dims!;
  assert.equal(typeof dims[0], 'object', 'int64 decodes to Long, as with onnx-proto');
  assert.deepEqual(dims.map(Number), [2]);
  assert.equal(Number(m.opsetImport[0]!.version), 24);
  const raw = m.graph!.initializer![0]!.rawData!;
  assert.equal(raw.buffer, bytes.buffer, 'raw_data is not copied (a ViT-L ONNX is 1.2 GB)');
  assert.ok(m instanceof onnx.ModelProto && m.graph instanceof onnx.GraphProto, 'decode returns the message classes');
  // Absent fields read as pbjs static code had them, which callers test: bytes as an empty Buffer,
  // an unset oneof member as null (a symbolic dimension has no dimValue, not 0).
  const x = m.graph!.input![0]!.type!.tensorType!.shape!.dim!;
  assert.deepEqual([x[0]!.dimValue, x[0]!.dimParam, Number(x[1]!.dimValue), x[1]!.dimParam], [null, 'n', 8, null]);
  const attr = onnx.AttributeProto.decode(onnx.AttributeProto.encode({ name: 'axis', i: 1 }).finish());
  assert.ok(Buffer.isBuffer(attr.s) && attr.s.length === 0 && attr.t === null);
  assert.equal(onnx.ModelProto.verify(m), null);
  assert.equal(onnx.ModelProto.getTypeUrl(), 'type.googleapis.com/onnx.ModelProto');
});
