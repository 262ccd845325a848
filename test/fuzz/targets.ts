/**
 * The parsers under fuzz, each with valid seed files built by vitopt's own writers (or sharp), a
 * generator of hostile inputs (mutated seeds, and headers that lie about sizes), and the call a user's
 * input goes through. Inputs are written to files because that is how they reach the parsers.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import { encodeNpy, npyToFloat32, npyToInts, parseNpy } from '../../src/formats/npy.js';
import { encodeNpz, loadNpz } from '../../src/formats/npz.js';
import { encodeSafetensors, parseSafetensors } from '../../src/formats/safetensors.js';
import { encodeModel, loadModel, saveModel, type ModelProto } from '../../src/formats/onnx.js';
import { newerModel } from '../formats/newer-model.js';
import { exportModel } from '../../src/export/index.js';
import { randomIR } from '../../src/models/random.js';
import { inspectNpyFile, readNpyRows } from '../../src/data/npy-file.js';
import { NpyDataset } from '../../src/data/npy-dataset.js';
import { IdxDataset } from '../../src/data/idx.js';
import { decodeImageFile } from '../../src/data/image-folder.js';
import { collectInputs, readTensorBatch } from '../../src/predict/inputs.js';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import type { Tensor } from '../../src/tensor.js';
import { mutatedArb } from './mutate.js';

/** One input: the main file and, for formats that come in pairs, its companion. */
export interface FuzzCase {
  bytes: Uint8Array;
  companion?: Uint8Array;
}

export interface FuzzTarget {
  name: string;
  /** Generator of inputs (built once: seeds are made by the writers). */
  arbitrary(): Promise<fc.Arbitrary<FuzzCase>>;
  /** Feed one input (already written under `dir` by `write`) through the parser; resolves when accepted. */
  run(dir: string): Promise<unknown>;
  /** Write a case's files into `dir`. */
  write(c: FuzzCase, dir: string): Promise<void>;
}

const HOSTILE_COUNTS = ['1000000000000', '-1', '-0', '18446744073709551617', '9007199254740993', '1e12', '4294967296', 'NaN', '', '0x10', '3.5', ' 7 '];
const tensor = (dims: number[], fill = 0.25): Tensor => ({ dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill * (i % 7)) });
const u8 = (b: Uint8Array | Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function single(name: string): Pick<FuzzTarget, 'write'> & { file: (dir: string) => string } {
  return {
    file: (dir) => path.join(dir, name),
    write: async (c, dir) => {
      await fs.writeFile(path.join(dir, name), c.bytes);
    },
  };
}

// ---------------------------------------------------------------- .npy

function npySeeds(): Uint8Array[] {
  return [
    encodeNpy(tensor([2, 3])),
    encodeNpy(tensor([1, 4, 4, 3])),
    encodeNpy(tensor([])),
    encodeNpy({ dims: [5], data: Int32Array.of(1, 2, 3, 4, 5) }),
    encodeNpy({ dims: [2, 2], data: Uint8Array.of(0, 1, 254, 255) }),
    encodeNpy({ dims: [3], data: Uint16Array.of(0x3c00, 0x7c00, 0x8001) }),
    encodeNpy({ dims: [2], data: Float64Array.of(1e300, -0) }),
  ];
}

/** A .npy whose header says anything: shapes of 10^12 elements, negative, overflowing, not numbers. */
const hostileNpy: fc.Arbitrary<Uint8Array> = fc.record({
  version: fc.constantFrom(1, 2, 3, 9),
  descr: fc.constantFrom('<f4', '<f2', '<f8', '|u1', '<i8', '>f4', '<c8', '|O', '<U8', 'f4', '<f4 '),
  fortran: fc.constantFrom('False', 'True', 'maybe'),
  shape: fc.array(fc.oneof(fc.constantFrom(...HOSTILE_COUNTS), fc.nat({ max: 64 }).map(String)), { maxLength: 5 }),
  trailing: fc.boolean(),
  data: fc.uint8Array({ maxLength: 64 }),
}).map(({ version, descr, fortran, shape, trailing, data }) => {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}${trailing ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  const header = new TextEncoder().encode(dict + ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n');
  const out = new Uint8Array(pre + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(header, pre);
  out.set(data, pre + header.length);
  return out;
});

const npyArb = async () => fc.oneof(mutatedArb(npySeeds()), hostileNpy, fc.uint8Array({ maxLength: 128 })).map((bytes) => ({ bytes }));

export const npyTarget: FuzzTarget = {
  name: 'npy',
  arbitrary: npyArb,
  ...single('x.npy'),
  async run(dir) {
    const file = path.join(dir, 'x.npy');
    const a = parseNpy(u8(await fs.readFile(file)), file);
    return a.dtype.startsWith('f') ? npyToFloat32(a, file) : npyToInts(a, file);
  },
};

/** .npy read by byte range (datasets too big for one buffer), and as the images of an eval dataset. */
export const npyFileTarget: FuzzTarget = {
  name: 'npy-dataset',
  arbitrary: async () => fc.oneof(
    mutatedArb([encodeNpy(tensor([3, 4, 4, 3])), encodeNpy({ dims: [3, 4, 4], data: new Uint8Array(48).fill(7) }),
      encodeNpy({ dims: [3, 2, 2, 3], data: new Uint8Array(36).fill(200) })]),
    hostileNpy,
  ).map((bytes) => ({ bytes })),
  async write(c, dir) {
    await fs.writeFile(path.join(dir, 'images.npy'), c.bytes);
    await fs.writeFile(path.join(dir, 'labels.txt'), '0\n1\n0\n');
  },
  async run(dir) {
    const file = path.join(dir, 'images.npy');
    const info = await inspectNpyFile(file);
    if (info.dims.length > 0) await readNpyRows(info, 0, Math.min(info.dims[0]!, 2));
    const ds = await NpyDataset.open(file, path.join(dir, 'labels.txt'));
    for await (const b of ds.batches(2, { limit: 3 })) void b;
  },
};

/** What `vitopt predict` does with a file: sniff it, then read it as a .npy batch or decode it as an image. */
export const cliNpyTarget: FuzzTarget = {
  name: 'cli-inputs',
  arbitrary: async () => fc.oneof(
    mutatedArb([encodeNpy(tensor([2, 4, 4, 3])), encodeNpy(tensor([1, 3, 4, 4]))]), hostileNpy,
  ).map((bytes) => ({ bytes })),
  ...single('input'),
  async run(dir) {
    const [input] = await collectInputs([path.join(dir, 'input')]);
    return input!.kind === 'npy' ? readTensorBatch(input!.file, 'nhwc', 4) : decodeImageFile(input!.file);
  },
};

// ---------------------------------------------------------------- .npz (ZIP)

/** Offsets of the size fields of a ZIP's records, to make headers that lie. */
function zipSizeFields(z: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = 0; i + 4 <= z.length; i++) {
    if (z[i] !== 0x50 || z[i + 1] !== 0x4b) continue;
    const sig = (z[i + 2]! << 8) | z[i + 3]!;
    if (sig === 0x0304) at.push(i + 18, i + 22, i + 26, i + 28); // local: compressed, uncompressed, name and extra lengths
    if (sig === 0x0102) at.push(i + 20, i + 24, i + 28, i + 30, i + 42); // central: sizes, lengths, local offset
    if (sig === 0x0506) at.push(i + 8, i + 10, i + 12, i + 16); // end of central directory: counts, size, offset
    if (sig === 0x0606) at.push(i + 24, i + 32, i + 40, i + 48); // ZIP64 end: counts, size, offset
  }
  return at;
}

export const npzTarget: FuzzTarget = {
  name: 'npz',
  async arbitrary() {
    const arrays = new Map([['a', tensor([2, 3])], ['b/c', tensor([4])]]);
    const seeds = [u8(await encodeNpz(arrays)), u8(await encodeNpz(arrays, { compress: true })), u8(await encodeNpz(arrays, { zip64: true }))];
    const lying = fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 0xffff, 0x7fffffff, 0xffffffff, 1e9), fc.boolean()), { minLength: 1, maxLength: 3 }))
      .map(([s, edits]) => {
        const z = Uint8Array.from(seeds[s]!);
        const fields = zipSizeFields(z);
        const dv = new DataView(z.buffer);
        for (const [k, v, wide] of edits) {
          const o = fields[k % fields.length]!;
          if (wide && o + 4 <= z.length) dv.setUint32(o, v >>> 0, true);
          else if (o + 2 <= z.length) dv.setUint16(o, v & 0xffff, true);
        }
        return z;
      });
    return fc.oneof(mutatedArb(seeds), lying).map((bytes) => ({ bytes }));
  },
  ...single('x.npz'),
  run: (dir) => loadNpz(path.join(dir, 'x.npz')),
};

// ---------------------------------------------------------------- safetensors

const hostileSafetensors: fc.Arbitrary<Uint8Array> = fc.record({
  header: fc.oneof(
    fc.json(),
    fc.dictionary(fc.constantFrom('w', 'b', '__metadata__', 'x'), fc.oneof(
      fc.constant(null), fc.integer(), fc.string(),
      fc.record({
        dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'Q4'),
        shape: fc.oneof(fc.array(fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(-1, 1e12, 2 ** 53, 0.5, 1e308)), { maxLength: 4 }), fc.constant('4'), fc.constant(null)),
        data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -8, max: 64 }), fc.integer({ min: -8, max: 64 })), fc.constant([0, 4e12]), fc.constant([4, 0]), fc.constant(null), fc.constant([0])),
      }, { requiredKeys: [] }),
    )).map((o) => JSON.stringify(o)),
  ),
  declared: fc.oneof(fc.constant(-1), fc.constantFrom(0n, 10n ** 12n, 2n ** 63n, 2n ** 64n - 1n)),
  data: fc.uint8Array({ maxLength: 64 }),
}).map(({ header, declared, data }) => {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared === -1 ? BigInt(h.length) : declared as bigint, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
});

export const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  arbitrary: async () => fc.oneof(
    mutatedArb([encodeSafetensors(new Map([['w', tensor([2, 3])], ['b', tensor([3])]]), { format: 'pt' })]), hostileSafetensors,
  ).map((bytes) => ({ bytes })),
  ...single('x.safetensors'),
  run: async (dir) => parseSafetensors(u8(await fs.readFile(path.join(dir, 'x.safetensors'))), path.join(dir, 'x.safetensors')),
};

// ---------------------------------------------------------------- ONNX

function tinyModel(): ModelProto {
  return exportModel(randomIR({ family: 'vit', patch: 4, hidden: 8, mlp: 16, heads: 2, layers: 1, classifier: 'token', representation: null,
    classes: 3, resolution: 8, gelu: 'tanh', layerNormEps: 1e-6 }, 5), 'portable');
}

/** A model whose first initializer points into external data with any location, offset and length. */
function withExternal(m: ModelProto, location: string, offset: string | undefined, length: string | undefined): Uint8Array {
  const init = m.graph!.initializer!.map((t, i) => i !== 0 ? t : {
    ...t, rawData: new Uint8Array(0), floatData: [], dataLocation: 1,
    externalData: [{ key: 'location', value: location },
      ...(offset === undefined ? [] : [{ key: 'offset', value: offset }]), ...(length === undefined ? [] : [{ key: 'length', value: length }])],
  });
  return encodeModel({ ...m, graph: { ...m.graph!, initializer: init } } as ModelProto);
}

export const onnxTarget: FuzzTarget = {
  name: 'onnx',
  async arbitrary() {
    const m = tinyModel();
    const plain = encodeModel(m);
    // A genuine external-data pair, as `convert --external-data` writes it.
    const tmp = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'vitopt-fuzz-seed-'));
    await saveModel(path.join(tmp, 'm.onnx'), m, { external: true });
    const extModel = u8(await fs.readFile(path.join(tmp, 'm.onnx')));
    const extData = u8(await fs.readFile(path.join(tmp, 'm.onnx.data')));
    await fs.rm(tmp, { recursive: true, force: true });
    const field = fc.option(fc.oneof(fc.constantFrom(...HOSTILE_COUNTS), fc.nat({ max: 4096 }).map(String)), { nil: undefined });
    const hostile = fc.record({
      location: fc.constantFrom('m.onnx.data', '../m.onnx.data', '/etc/hostname', 'missing.bin', '', '.', 'sub/../m.onnx.data'),
      offset: field, length: field,
      data: fc.uint8Array({ maxLength: 512 }),
    }).map(({ location, offset, length, data }) => ({ bytes: withExternal(m, location, offset, length), companion: data }));
    return fc.oneof(
      // The second seed carries fields newer than ONNX 1.10 (device configurations, overloads, metadata everywhere).
      { arbitrary: mutatedArb([plain, encodeModel(newerModel())]).map((bytes) => ({ bytes })), weight: 3 },
      { arbitrary: fc.tuple(mutatedArb([extModel]), fc.boolean()).map(([bytes, keep]) => ({ bytes, companion: keep ? extData : extData.subarray(0, 17) })), weight: 2 },
      { arbitrary: hostile, weight: 2 },
    );
  },
  async write(c, dir) {
    await fs.writeFile(path.join(dir, 'm.onnx'), c.bytes);
    await fs.rm(path.join(dir, 'm.onnx.data'), { force: true });
    if (c.companion) await fs.writeFile(path.join(dir, 'm.onnx.data'), c.companion);
  },
  run: (dir) => loadModel(path.join(dir, 'm.onnx')),
};

// ---------------------------------------------------------------- IDX

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, magic, false);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d >>> 0, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

export const idxTarget: FuzzTarget = {
  name: 'idx',
  async arbitrary() {
    const images = idx(0x803, [3, 4, 4], Uint8Array.from({ length: 48 }, (_, i) => i * 5));
    const labels = idx(0x801, [3], Uint8Array.of(0, 1, 2));
    const hostile = fc.record({
      dims: fc.array(fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 1e9, 0x80000000), fc.nat({ max: 8 })), { minLength: 3, maxLength: 3 }),
      body: fc.uint8Array({ maxLength: 96 }),
      gzip: fc.boolean(),
    }).map(({ dims, body, gzip }) => ({ bytes: gzip ? u8(gzipSync(idx(0x803, dims, body))) : idx(0x803, dims, body), companion: labels }));
    const mutatedImages = fc.tuple(mutatedArb([images, u8(gzipSync(images))]), fc.boolean()).map(([bytes]) => ({ bytes, companion: labels }));
    const mutatedLabels = mutatedArb([labels, u8(gzipSync(labels))]).map((l) => ({ bytes: images, companion: l }));
    return fc.oneof(mutatedImages, mutatedLabels, hostile);
  },
  async write(c, dir) {
    await fs.writeFile(path.join(dir, 'images-idx3'), c.bytes);
    await fs.writeFile(path.join(dir, 'labels-idx1'), c.companion!);
  },
  async run(dir) {
    const ds = await IdxDataset.open(path.join(dir, 'images-idx3'), path.join(dir, 'labels-idx1'), { classes: ['a', 'b', 'c'] });
    for await (const b of ds.batches(2)) void b;
  },
};

// ---------------------------------------------------------------- images (sharp)

/** PNG chunk with its CRC, so that a lying IHDR passes the CRC check and reaches the decoder. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length, false);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  let c = 0xffffffff;
  for (const b of out.subarray(4, 8 + data.length)) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  dv.setUint32(8 + data.length, (c ^ 0xffffffff) >>> 0, false);
  return out;
}

function lyingPng(width: number, height: number, colourType: number, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width >>> 0, false);
  dv.setUint32(4, height >>> 0, false);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const imageTarget: FuzzTarget = {
  name: 'image',
  async arbitrary() {
    const raw = Buffer.from(Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 37) & 0xff));
    const img = () => sharp(raw, { raw: { width: 8, height: 8, channels: 3 } });
    const seeds = [u8(await img().png().toBuffer()), u8(await img().jpeg().toBuffer()), u8(await img().webp().toBuffer()),
      u8(await img().webp({ lossless: true }).toBuffer()), u8(await img().greyscale().png().toBuffer())];
    const deflated = u8((await import('node:zlib')).deflateSync(new Uint8Array(200)));
    const lying = fc.record({
      width: fc.oneof(fc.constantFrom(0, 1, 16383, 16384, 65535, 100000, 0x7fffffff, 0xffffffff), fc.nat({ max: 64 })),
      height: fc.oneof(fc.constantFrom(0, 1, 16383, 16384, 65535, 100000, 0x7fffffff, 0xffffffff), fc.nat({ max: 64 })),
      colourType: fc.constantFrom(0, 2, 3, 4, 6, 7),
      idat: fc.oneof(fc.constant(deflated), fc.uint8Array({ maxLength: 64 })),
    }).map(({ width, height, colourType, idat }) => lyingPng(width, height, colourType, idat));
    return fc.oneof({ arbitrary: mutatedArb(seeds), weight: 4 }, { arbitrary: lying, weight: 1 }).map((bytes) => ({ bytes }));
  },
  ...single('image'),
  run: (dir) => decodeImageFile(path.join(dir, 'image')),
};

// ---------------------------------------------------------------- checkpoints (.npz weights -> config inference)

/**
 * Well-formed archives with the wrong weights: arrays dropped, reshaped (including zero and huge
 * sides) or renamed, the way a truncated download or a checkpoint of another model looks. The
 * configuration is inferred from the weights, so every shape is a hostile input to that code.
 */
export const checkpointTarget: FuzzTarget = {
  name: 'checkpoint',
  async arbitrary() {
    const weights = [...randomIR({ family: 'vit', patch: 4, hidden: 8, mlp: 16, heads: 2, layers: 2, classifier: 'token', representation: null,
      classes: 3, resolution: 8, gelu: 'tanh', layerNormEps: 1e-6 }, 3).weights];
    const seed = u8(await encodeNpz(new Map(weights)));
    const edit = fc.array(fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('drop', 'reshape', 'rename', 'transpose'),
      dims: fc.array(fc.oneof(fc.nat({ max: 20 }), fc.constantFrom(0, 1, 3, 100)), { maxLength: 4 }),
      name: fc.constantFrom('Transformer/encoderblock_7/MlpBlock_3/Dense_0/kernel', 'head/kernel', 'embedding/kernel', 'cls', 'x'),
    }), { minLength: 1, maxLength: 4 });
    const wrongWeights = edit.map((edits) => {
      const w = new Map(weights);
      const names = [...w.keys()];
      for (const e of edits) {
        const name = names[e.at % names.length]!;
        const t = w.get(name);
        if (!t) continue;
        if (e.kind === 'drop') w.delete(name);
        else if (e.kind === 'rename') { w.delete(name); w.set(e.name, t); }
        else if (e.kind === 'transpose') w.set(name, { dims: [...t.dims].reverse(), data: t.data });
        else {
          const n = e.dims.reduce((a, b) => a * b, 1);
          if (n <= 4096) w.set(name, { dims: e.dims, data: new Float32Array(n).fill(0.5) });
        }
      }
      return w;
    });
    // Encoded lazily per case (fast-check maps are synchronous): the archive is built in write().
    return fc.oneof(
      { arbitrary: mutatedArb([seed]).map((bytes) => ({ bytes })), weight: 1 },
      { arbitrary: wrongWeights.map((w) => ({ bytes: new Uint8Array(0), weights: w })), weight: 3 },
    ) as fc.Arbitrary<FuzzCase>;
  },
  async write(c, dir) {
    const w = (c as FuzzCase & { weights?: Map<string, Tensor> }).weights;
    await fs.writeFile(path.join(dir, 'model.npz'), w ? await encodeNpz(w) : c.bytes);
  },
  run: (dir) => loadCheckpoint(path.join(dir, 'model.npz')),
};

export const TARGETS: readonly FuzzTarget[] = [npyTarget, npyFileTarget, cliNpyTarget, npzTarget, safetensorsTarget, onnxTarget, idxTarget, imageTarget, checkpointTarget];
