/** Patch embedding: a P×P stride-P convolution (HWIO kernel from the checkpoint) -> [B, N, D] row-major tokens. */
import { ints } from '../formats/onnx.js';
import type { PatchNames } from '../models/names.js';
import { hwioToOihw, type Tensor } from '../tensor.js';
import type { Ctx } from './layers.js';

/**
 * `pixels` is NCHW. The ViT conv is VALID (the remainder is dropped); Mixer's is SAME, which equals
 * VALID when the side is a multiple of P and otherwise pads with the XLA rule (end side gets the extra).
 */
export function patchEmbedding(c: Ctx, pixels: string, kernel: Tensor, bias: Tensor, n: PatchNames,
  pads: number[] = [0, 0, 0, 0]): string {
  const g = c.g;
  const P = kernel.dims[0]!, D = kernel.dims[3]!;
  const conv = g.op('Conv', [pixels, g.weight(n.kernel, hwioToOihw(kernel)), g.weight(n.bias, bias)],
    { kernel_shape: ints([P, P]), strides: ints([P, P]), pads: ints(pads) }, { name: n.scope });
  const flat = g.op('Reshape', [conv, g.int64(n.flattenShape, [0, D, -1])]);
  return g.op('Transpose', [flat], { perm: ints([0, 2, 1]) }, { name: n.tokens });
}
