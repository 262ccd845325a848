/** Shared bits of the quantization tests: tiny models in every graph style, random inputs, logits, error figures. */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { exportModel, type GraphStyle } from '../../src/export/index.js';
import { encodeModel, loadModel, onnx, type ModelProto } from '../../src/formats/onnx.js';
import { randomIR } from '../../src/models/random.js';
import { randomImages } from '../../src/data/random-images.js';
import type { ModelConfig } from '../../src/models/config.js';
import type { Tensor } from '../../src/tensor.js';
import { packagePath } from '../../src/util/paths.js';
import { tinyMixer, tinyVit } from '../core/helpers.js';

export function tiny(family: 'vit' | 'mixer', style: GraphStyle, o: Partial<ModelConfig> = {}, seed = 1): ModelProto {
  const cfg = family === 'vit' ? tinyVit(o as never) : tinyMixer(o as never);
  return exportModel(randomIR(cfg, seed), style);
}

/** The foreign PyTorch exports made by tools/make_foreign_vit.py (32×32 input, 10 classes). */
export async function foreign(which: 'torchvision' | 'hf'): Promise<ModelProto> {
  return loadModel(packagePath('test', 'fixtures', which === 'hf' ? 'foreign-vit-hf.onnx' : 'foreign-vit.onnx'));
}

/** Images in the model's [-1, 1] input range. */
export function images(n: number, side: number, seed = 5): Tensor {
  return randomImages(n, side, { seed, std: 0.6 });
}

export function batches(count: number, batch: number, side: number, seed = 9): Tensor[] {
  return Array.from({ length: count }, (_, i) => images(batch, side, seed + i));
}

export async function logits(m: ModelProto | Uint8Array, x: Tensor, opts: ort.InferenceSession.SessionOptions = {}): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(m instanceof Uint8Array ? m : encodeModel(m), { intraOpNumThreads: 1, ...opts });
  try {
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.data, x.dims) });
    const t = out[s.outputNames[0]!]!;
    if (t.type !== 'float32') throw new Error(`output is ${t.type}, not float32`);
    return (t.data as Float32Array).slice();
  } finally {
    await s.release();
  }
}

/** ‖a − b‖ / ‖b‖ */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, n = 0;
  for (let i = 0; i < b.length; i++) { e += (a[i]! - b[i]!) ** 2; n += b[i]! ** 2; }
  return Math.sqrt(e / n);
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Fraction of rows whose argmax agrees. */
export function top1Agreement(a: Float32Array, b: Float32Array, classes: number): number {
  const rows = b.length / classes;
  let same = 0;
  const arg = (x: Float32Array, r: number) => {
    let k = 0;
    for (let j = 1; j < classes; j++) if (x[r * classes + j]! > x[r * classes + k]!) k = j;
    return k;
  };
  for (let r = 0; r < rows; r++) if (arg(a, r) === arg(b, r)) same++;
  return same / rows;
}

export function opCounts(m: ModelProto): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of m.graph!.node ?? []) c[n.opType!] = (c[n.opType!] ?? 0) + 1;
  return c;
}

/** The graph ONNX Runtime actually runs (after its fusions), via optimizedModelFilePath. */
export async function optimizedOps(m: ModelProto, file: string): Promise<Record<string, number>> {
  const s = await ort.InferenceSession.create(encodeModel(m), { graphOptimizationLevel: 'all', optimizedModelFilePath: file,
    intraOpNumThreads: 1, logSeverityLevel: 3 });
  await s.release();
  return opCounts(onnx.ModelProto.decode(readFileSync(file)));
}
