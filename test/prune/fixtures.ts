/** Shared bits of the pruning tests: random calibration batches and logits from ORT. */
import { openModel } from '../../src/engines/create.js';
import { exportModel, type GraphStyle } from '../../src/export/index.js';
import { randomImages } from '../../src/data/random-images.js';
import { encodeModel, type ModelProto } from '../../src/formats/onnx.js';
import type { ModelIR } from '../../src/models/ir.js';
import { nhwcToNchw, type Tensor } from '../../src/tensor.js';
import type { Calibration } from '../../src/compress/prune/capture.js';

export function randomCalibration(side: number, images = 48, batch = 16, seed = 20): Calibration {
  const batches: Tensor[] = [];
  for (let i = 0; i < images; i += batch) batches.push(nhwcToNchw(randomImages(Math.min(batch, images - i), side, { seed: seed + i, layout: 'nhwc' })));
  return { batches, images, name: 'random' };
}

export async function ortLogits(model: ModelIR | ModelProto, pixels: Tensor, style: GraphStyle = 'ort'): Promise<Float32Array> {
  const proto = 'weights' in model ? exportModel(model, style) : model;
  const m = await openModel(encodeModel(proto), { threads: 1 });
  try {
    return (await m.run(pixels)).data.slice();
  } finally {
    await m.release();
  }
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let md = 0, mr = 0;
  for (let i = 0; i < b.length; i++) { md = Math.max(md, Math.abs(a[i]! - b[i]!)); mr = Math.max(mr, Math.abs(b[i]!)); }
  return md / mr;
}
