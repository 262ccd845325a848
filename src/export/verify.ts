/**
 * Verified export: run the ONNX graph in ONNX Runtime and the independent float64 reference on the
 * same random images and compare (max |Δ| / max |ref|). Used by `convert --verify` and the tests.
 */
import type { ModelProto } from '../formats/onnx.js';
import { openModel } from '../engines/create.js';
import type { ModelIR } from '../models/ir.js';
import { randomImages } from '../data/random-images.js';
import { referenceForward, relativeError } from '../reference/forward.js';
import { nhwcToNchw } from '../tensor.js';

export const VERIFY_TOLERANCE = 1e-4;

export async function verifyExport(ir: ModelIR, onnx: ModelProto, images = 2) {
  const x = randomImages(images, ir.config.resolution, { layout: 'nhwc' });
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
