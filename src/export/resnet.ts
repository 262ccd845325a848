/**
 * The hybrid models' ResNet stem -> ONNX, in standard ops only (both graph styles; spec §3.3):
 *   - StdConv: the weight standardization is a function of the weights alone, so it is done once here,
 *     in float64, and the Conv gets the standardized kernel (`<conv>/kernel_std`, OIHW);
 *   - SAME padding written out as explicit pads (XLA puts the odd pixel at the end);
 *   - GroupNorm (32 groups) as Reshape [B, 32, -1] -> InstanceNormalization -> Reshape back -> per-channel
 *     scale and bias: opset 17 has no GroupNormalization (opset 18's scales per group was a spec bug, fixed
 *     in opset 21), and this form runs in every runtime, onnxruntime-web included;
 *   - max_pool as MaxPool (its pads never win, as flax's −inf padding).
 * Input: NCHW pixels; output: the NCHW feature map the patch embedding reads.
 */
import { float, ints } from '../formats/onnx.js';
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import { dense, groupNormOf, type NormNames } from '../models/names.js';
import { type ConvSpec, GROUPNORM_EPS, GROUPNORM_GROUPS, type ResnetConfig, STDCONV_EPS, resnetConvs, resnetUnits, sameSide } from '../models/resnet.js';
import { hwioToOihw, oihwToHwio, type Tensor } from '../tensor.js';
import type { Ctx } from './layers.js';

/** [top, left, bottom, right] pads of an XLA SAME window. */
function samePads(side: number, k: number, stride: number): number[] {
  const total = Math.max((sameSide(side, stride) - 1) * stride + k - side, 0);
  const lo = Math.floor(total / 2);
  return [lo, lo, total - lo, total - lo];
}

/** StdConv's standardization of an HWIO kernel, per output channel, computed in float64. */
export function standardizeKernel(t: Tensor): Tensor {
  const cout = t.dims[3]!, n = t.data.length / cout;
  const out = new Float32Array(t.data.length);
  for (let o = 0; o < cout; o++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) s += t.data[i * cout + o]!;
    const mean = s / n;
    for (let i = 0; i < n; i++) s2 += (t.data[i * cout + o]! - mean) ** 2;
    const denom = Math.sqrt(s2 / n) + STDCONV_EPS;
    for (let i = 0; i < n; i++) out[i * cout + o] = (t.data[i * cout + o]! - mean) / denom;
  }
  return { dims: t.dims, data: out };
}

/**
 * A kernel whose standardization is `std` (HWIO): the inverse of `standardizeKernel` up to the mean it
 * removed, which StdConv ignores anyway. If w_std = (w − μ)/(σ + ε), its own std is s = σ/(σ + ε), so
 * (w − μ) = w_std·ε/(1 − s). Used to read a pruned hybrid back from its ONNX export.
 */
export function unstandardizeKernel(std: Tensor): Tensor {
  const cout = std.dims[3]!, n = std.data.length / cout;
  const out = new Float32Array(std.data.length);
  for (let o = 0; o < cout; o++) {
    let s2 = 0;
    for (let i = 0; i < n; i++) s2 += std.data[i * cout + o]! ** 2; // the mean is 0 up to rounding
    const s = Math.sqrt(s2 / n);
    // σ ≫ ε leaves 1 − s at float32 noise: any large factor then reproduces w_std to < 1e-6.
    const k = 1 - s > 1e-6 ? STDCONV_EPS / (1 - s) : 1e5;
    for (let i = 0; i < n; i++) out[i * cout + o] = std.data[i * cout + o]! * k;
  }
  return { dims: std.dims, data: out };
}

function stdConv(c: Ctx, ir: ModelIR, x: string, s: ConvSpec): string {
  const n = dense(s.name);
  const kernel = hwioToOihw(standardizeKernel(weight(ir, n.kernel)));
  return c.g.op('Conv', [x, c.g.weight(n.kernelStd, kernel)],
    { kernel_shape: ints([s.k, s.k]), strides: ints([s.stride, s.stride]), pads: ints(samePads(s.inSide, s.k, s.stride)) },
    { name: s.name });
}

/** GroupNorm over 32 contiguous channel groups of [B, C, side, side], then scale and bias; optional ReLU. */
function groupNorm(c: Ctx, ir: ModelIR, x: string, n: NormNames, channels: number, side: number, relu: boolean): string {
  const g = c.g, G = GROUPNORM_GROUPS;
  const name = n.scope;
  const grouped = g.op('Reshape', [x, g.int64(`${name}/group_shape`, [0, G, -1])]);
  const ones: Tensor = { dims: [G], data: new Float32Array(G).fill(1) };
  const normed = g.op('InstanceNormalization', [grouped, g.weight(`${name}/ones`, ones), g.weight(`${name}/zeros`, { dims: [G], data: new Float32Array(G) })],
    { epsilon: float(GROUPNORM_EPS) }, { name: `${name}/normalize` });
  const back = g.op('Reshape', [normed, g.int64(`${name}/map_shape`, [0, channels, side, side])]);
  const perChannel = (t: Tensor): Tensor => ({ dims: [channels, 1, 1], data: t.data });
  const scaled = g.op('Mul', [back, g.weight(n.scale, perChannel(weight(ir, n.scale)))]);
  const y = g.op('Add', [scaled, g.weight(n.bias, perChannel(weight(ir, n.bias)))], {}, { name });
  return relu ? g.op('Relu', [y], {}, { name: `${name}/relu` }) : y;
}

/** conv -> GroupNorm (-> ReLU) for one ConvSpec. */
function convNorm(c: Ctx, ir: ModelIR, x: string, s: ConvSpec, relu: boolean): string {
  return groupNorm(c, ir, stdConv(c, ir, x, s), groupNormOf(s.name), s.cout, s.outSide, relu);
}

/** pixels [B, 3, R, R] -> feature map [B, C, h, h] (spec §3.3). */
export function resnetStem(c: Ctx, ir: ModelIR, r: ResnetConfig, pixels: string, resolution: number): string {
  const convs = new Map(resnetConvs(r, resolution).map((s) => [s.name, s]));
  const root = convs.get('conv_root')!;
  let x = convNorm(c, ir, pixels, root, true);
  x = c.g.op('MaxPool', [x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints(samePads(root.outSide, 3, 2)) },
    { name: 'max_pool' });
  for (const u of resnetUnits(r)) {
    const at = (n: string) => convs.get(`${u.name}/${n}`)!;
    const shortcut = u.projection ? convNorm(c, ir, x, at('conv_proj'), false) : x;
    let y = convNorm(c, ir, x, at('conv1'), true);
    y = convNorm(c, ir, y, at('conv2'), true);
    y = convNorm(c, ir, y, at('conv3'), false);
    x = c.g.op('Relu', [c.g.op('Add', [y, shortcut], {}, { name: `${u.name}/residual` })], {}, { name: `${u.name}/relu` });
  }
  return x;
}

type Getter = (name: string, dims: number[]) => Tensor;

/** The stem's IR weights from a vitopt export (inverse of `resnetStem`), for pruning an .onnx hybrid. */
export function resnetWeightsFromExport(r: ResnetConfig, get: Getter): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  for (const s of resnetConvs(r, 224)) {
    const conv = dense(s.name), gn = groupNormOf(s.name);
    w.set(conv.kernel, unstandardizeKernel(oihwToHwio(get(conv.kernelStd, [s.cout, s.cin, s.k, s.k]))));
    for (const p of [gn.scale, gn.bias]) w.set(p, { dims: [s.cout], data: get(p, [s.cout, 1, 1]).data });
  }
  return w;
}
