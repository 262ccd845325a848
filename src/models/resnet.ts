/**
 * The ResNet stem of the hybrid R+ViT models (vit_jax/models_resnet.py and models_vit.py; spec §1.2,
 * §2.3, §3.3): a ResNet-v1.5-style *post-activation* bottleneck network built from weight-standardized
 * convolutions (StdConv, no biases) and GroupNorm, whose feature map becomes the ViT's patch tokens.
 *
 *   conv_root 7×7/2 (SAME) -> gn_root -> relu -> max_pool 3×3/2 (SAME)
 *   -> stage s = 1..S: unit1 (stride 1 in stage 1, 2 later; projection shortcut) + plain units
 *   -> the ViT's `embedding` conv (VALID, patch P) on that map.
 *
 * The root always downsamples 4× (conv stride 2 and max-pool stride 2), even with no stages: the
 * `R+ViT-Ti_16` config comment says "2x", the code does 4×, so 8×8 patches give 7×7 tokens at 224 px
 * (spec §1.2 gotcha). Everything here is shape arithmetic; the numerics live in src/reference/resnet.ts
 * (float64) and src/export/resnet.ts (ONNX).
 */
import { dense, groupNormOf } from './names.js';

export interface ResnetConfig {
  /** Units per stage, e.g. [3, 4, 9] for R50+ViT-B_16; [] = the root alone (R+ViT-Ti_16). */
  layers: number[];
  /** Root width: int(64 · width_factor); 64 in every official config. */
  width: number;
}

/** flax GroupNorm defaults, and StdConv's epsilon (added to the standard deviation, not the variance). */
export const GROUPNORM_GROUPS = 32;
export const GROUPNORM_EPS = 1e-6;
export const STDCONV_EPS = 1e-5;

/** The stage layouts of the official hybrids; an imported checkpoint must have one of them. */
export const RESNET_LAYOUTS: readonly { label: string; layers: readonly number[] }[] = [
  { label: 'root only (R+ViT-Ti_16)', layers: [] },
  { label: 'R50 (R50+ViT-B_16)', layers: [3, 4, 9] },
  { label: 'R26 (R26+ViT-B_32, R26+ViT-S_32)', layers: [2, 2, 2, 2] },
  { label: 'R50 (R50+ViT-L_32)', layers: [3, 4, 6, 3] },
];

/** Bottleneck width of stage s (0-based): width·2^s; the unit outputs 4× that. */
export function stageWidth(r: ResnetConfig, s: number): number {
  return r.width * 2 ** s;
}

/** Channels of the feature map the stem hands to the patch embedding. */
export function stemChannels(r: ResnetConfig): number {
  return r.layers.length ? 4 * stageWidth(r, r.layers.length - 1) : r.width;
}

/** Total downsampling of the stem: 4 for the root, ×2 for every stage after the first. */
export function stemStride(r: ResnetConfig): number {
  return 4 * 2 ** Math.max(r.layers.length - 1, 0);
}

/** SAME output side: ceil(in / stride) (XLA rule). */
export const sameSide = (side: number, stride: number) => Math.ceil(side / stride);

/** Side of the stem's output feature map for a square input of `resolution` pixels. */
export function stemSide(r: ResnetConfig, resolution: number): number {
  let s = sameSide(sameSide(resolution, 2), 2); // conv_root, max_pool
  for (let i = 1; i < r.layers.length; i++) s = sameSide(s, 2);
  return s;
}

export interface UnitSpec {
  /** 'block{s}/unit{u}' (1-based, as in the checkpoints). */
  name: string;
  stage: number;
  cin: number;
  /** Bottleneck width f; the unit outputs 4f channels. */
  nout: number;
  stride: number;
  /** conv_proj + gn_proj shortcut (cin ≠ 4f or stride ≠ 1: unit1 of every stage). */
  projection: boolean;
}

export function resnetUnits(r: ResnetConfig): UnitSpec[] {
  const units: UnitSpec[] = [];
  let cin = r.width;
  r.layers.forEach((n, s) => {
    const nout = stageWidth(r, s);
    for (let u = 1; u <= n; u++) {
      const stride = u === 1 && s > 0 ? 2 : 1;
      units.push({ name: `block${s + 1}/unit${u}`, stage: s + 1, cin, nout, stride, projection: cin !== 4 * nout || stride !== 1 });
      cin = 4 * nout;
    }
  });
  return units;
}

/** One convolution of the stem, with its place in the network (for shapes, MACs and export). */
export interface ConvSpec {
  /** Weight prefix, e.g. 'block2/unit1/conv2' (its GroupNorm is the same path with gn…). */
  name: string;
  /** 0 = the root, s = stage s. */
  stage: number;
  k: number;
  stride: number;
  cin: number;
  cout: number;
  /** Input and output side for the given resolution. */
  inSide: number;
  outSide: number;
}

/** Every convolution of the stem at a resolution, in checkpoint order (spec §2.3 / r50vitb16_384_tree.txt). */
export function resnetConvs(r: ResnetConfig, resolution: number): ConvSpec[] {
  const root = sameSide(resolution, 2);
  const convs: ConvSpec[] = [{ name: 'conv_root', stage: 0, k: 7, stride: 2, cin: 3, cout: r.width, inSide: resolution, outSide: root }];
  let side = sameSide(root, 2);
  for (const u of resnetUnits(r)) {
    const out = sameSide(side, u.stride);
    const c = (n: string, k: number, stride: number, cin: number, cout: number, inSide: number, outSide: number): ConvSpec =>
      ({ name: `${u.name}/${n}`, stage: u.stage, k, stride, cin, cout, inSide, outSide });
    if (u.projection) convs.push(c('conv_proj', 1, u.stride, u.cin, 4 * u.nout, side, out));
    convs.push(c('conv1', 1, 1, u.cin, u.nout, side, side));
    convs.push(c('conv2', 3, u.stride, u.nout, u.nout, side, out));
    convs.push(c('conv3', 1, 1, u.nout, 4 * u.nout, out, out));
    side = out;
  }
  return convs;
}

/** Weight names and shapes of the stem (HWIO kernels, GroupNorm scale/bias per channel). */
export function resnetShapes(r: ResnetConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const c of resnetConvs(r, 224)) {
    const gn = groupNormOf(c.name);
    m.set(dense(c.name).kernel, [c.k, c.k, c.cin, c.cout]);
    m.set(gn.scale, [c.cout]);
    m.set(gn.bias, [c.cout]);
  }
  return m;
}

/** Parameters of the stem: conv kernels (no biases) + GroupNorm scale and bias. */
export function resnetParams(r: ResnetConfig): number {
  let n = 0;
  for (const dims of resnetShapes(r).values()) n += dims.reduce((a, b) => a * b, 1);
  return n;
}

export function describeResnet(r: ResnetConfig): string {
  const stages = r.layers.length ? `(${r.layers.join(', ')}${r.layers.length === 1 ? ',' : ''})` : 'root only';
  return `ResNet stem ${stages} width ${r.width}, stride ${stemStride(r)}, ${stemChannels(r)} channels`;
}
