/**
 * Verified export: run the ONNX graph in ONNX Runtime and the independent float64 reference on the
 * same random images and compare (max |Δ| / max |ref|). Used by `convert --verify` and the tests.
 */
import type { ModelProto } from '../formats/onnx.js';
import { openModel } from '../engines/create.js';
import type { ModelIR } from '../models/ir.js';
import { gaussian, rng } from '../models/random.js';
import { referenceForward, relativeError } from '../reference/forward.js';
import { nhwcToNchw, type Tensor } from '../tensor.js';

export const VERIFY_TOLERANCE = 1e-4;

/** Random NHWC images in the model's input range [-1, 1]. */
export function randomImages(n: number, side: number, seed = 1): Tensor {
  const r = rng(seed), g = gaussian(r);
  const data = Float32Array.from({ length: n * side * side * 3 }, () => Math.max(-1, Math.min(1, 0.5 * g())));
  return { dims: [n, side, side, 3], data };
}

export async function verifyExport(ir: ModelIR, onnx: ModelProto, images = 2) {
  const x = randomImages(images, ir.config.resolution);
  const model = await openModel(onnx, { threads: 0 });
  const got = await model.run(nhwcToNchw(x));
  await model.release();
  const ref = referenceForward(ir, x);
  const err = relativeError(got.data, ref.data);
  if (!(err <= VERIFY_TOLERANCE)) {
    throw new Error(`verification failed: relative error ${err.toExponential(2)} exceeds ${VERIFY_TOLERANCE}`);
  }
  return { images, relativeError: err, tolerance: VERIFY_TOLERANCE };
}
