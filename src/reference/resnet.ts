/**
 * Float64 reference of the hybrid models' ResNet stem, written from the spec's formulas (§3.2, §3.3)
 * and sharing no code with the ONNX exporter: NHWC feature maps, HWIO kernels standardized on every
 * call as StdConv does, XLA SAME padding (the extra pixel at the end), max-pool padding that never
 * wins, one-pass GroupNorm variance over 32 contiguous channel groups. Slow plain loops, for tests.
 */
import type { ModelIR } from '../models/ir.js';
import type { ResnetConfig } from '../models/resnet.js';

/** An NHWC feature map of one image. */
export interface FeatureMap { side: number; channels: number; data: Float64Array }

function w64(ir: ModelIR, name: string): Float64Array {
  const t = ir.weights.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return Float64Array.from(t.data);
}

/** XLA/TF SAME: out = ceil(in/stride), pad_total = max((out−1)·stride + k − in, 0), pad_lo = pad_total // 2. */
function same(side: number, k: number, stride: number): { out: number; lo: number } {
  const out = Math.ceil(side / stride);
  return { out, lo: Math.floor(Math.max((out - 1) * stride + k - side, 0) / 2) };
}

/** StdConv: w ← (w − mean) / (std + 1e-5) per output channel, mean/std (ddof 0) over (kh, kw, cin). */
function standardize(w: Float64Array, cout: number): Float64Array {
  const n = w.length / cout;
  const out = new Float64Array(w.length);
  for (let o = 0; o < cout; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i * cout + o]!;
    const mean = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (w[i * cout + o]! - mean) ** 2;
    const std = Math.sqrt(v / n);
    for (let i = 0; i < n; i++) out[i * cout + o] = (w[i * cout + o]! - mean) / (std + 1e-5);
  }
  return out;
}

/** Weight-standardized conv, no bias, SAME padding; kernel HWIO (k, k, cin, cout). */
function stdConv(x: FeatureMap, ir: ModelIR, name: string, stride: number): FeatureMap {
  const t = ir.weights.get(`${name}/kernel`)!;
  const [k, , cin, cout] = t.dims as [number, number, number, number];
  if (cin !== x.channels) throw new Error(`reference: ${name} takes ${cin} channels, gets ${x.channels}`);
  const w = standardize(w64(ir, `${name}/kernel`), cout);
  const { out, lo } = same(x.side, k, stride);
  const y = new Float64Array(out * out * cout);
  for (let i = 0; i < out; i++) for (let j = 0; j < out; j++) {
    const o = (i * out + j) * cout;
    for (let kh = 0; kh < k; kh++) {
      const yy = i * stride + kh - lo;
      if (yy < 0 || yy >= x.side) continue;
      for (let kw = 0; kw < k; kw++) {
        const xx = j * stride + kw - lo;
        if (xx < 0 || xx >= x.side) continue;
        const xi = (yy * x.side + xx) * cin;
        for (let c = 0; c < cin; c++) {
          const v = x.data[xi + c]!;
          if (v === 0) continue;
          const wo = ((kh * k + kw) * cin + c) * cout;
          for (let d = 0; d < cout; d++) y[o + d]! += v * w[wo + d]!;
        }
      }
    }
  }
  return { side: out, channels: cout, data: y };
}

/** flax GroupNorm: 32 contiguous groups, var = E[x²] − E[x]² over (H, W, group channels), eps 1e-6. */
function groupNorm(x: FeatureMap, ir: ModelIR, name: string, relu: boolean): FeatureMap {
  const C = x.channels, G = 32, cg = C / G, hw = x.side * x.side;
  if (!Number.isInteger(cg)) throw new Error(`reference: ${name}: ${C} channels do not split into ${G} groups`);
  const scale = w64(ir, `${name}/scale`), bias = w64(ir, `${name}/bias`);
  const y = new Float64Array(x.data.length);
  for (let g = 0; g < G; g++) {
    let s = 0, s2 = 0;
    for (let p = 0; p < hw; p++) for (let c = g * cg; c < (g + 1) * cg; c++) { const v = x.data[p * C + c]!; s += v; s2 += v * v; }
    const n = hw * cg, mean = s / n;
    const inv = 1 / Math.sqrt(Math.max(0, s2 / n - mean * mean) + 1e-6);
    for (let p = 0; p < hw; p++) for (let c = g * cg; c < (g + 1) * cg; c++) {
      const v = (x.data[p * C + c]! - mean) * inv * scale[c]! + bias[c]!;
      y[p * C + c] = relu ? Math.max(0, v) : v;
    }
  }
  return { side: x.side, channels: C, data: y };
}

/** nn.max_pool 3×3 stride 2, SAME; padded cells are −inf, so only real pixels compete. */
function maxPool(x: FeatureMap): FeatureMap {
  const C = x.channels, { out, lo } = same(x.side, 3, 2);
  const y = new Float64Array(out * out * C).fill(-Infinity);
  for (let i = 0; i < out; i++) for (let j = 0; j < out; j++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
    const yy = i * 2 + kh - lo, xx = j * 2 + kw - lo;
    if (yy < 0 || xx < 0 || yy >= x.side || xx >= x.side) continue;
    for (let c = 0; c < C; c++) y[(i * out + j) * C + c] = Math.max(y[(i * out + j) * C + c]!, x.data[(yy * x.side + xx) * C + c]!);
  }
  return { side: out, channels: C, data: y };
}

/** Post-activation bottleneck: relu(shortcut + gn3(conv3(relu(gn2(conv2(relu(gn1(conv1(x))))))))). */
function residualUnit(x: FeatureMap, ir: ModelIR, p: string, stride: number): FeatureMap {
  const shortcut = ir.weights.has(`${p}/conv_proj/kernel`)
    ? groupNorm(stdConv(x, ir, `${p}/conv_proj`, stride), ir, `${p}/gn_proj`, false) : x;
  let y = groupNorm(stdConv(x, ir, `${p}/conv1`, 1), ir, `${p}/gn1`, true);
  y = groupNorm(stdConv(y, ir, `${p}/conv2`, stride), ir, `${p}/gn2`, true); // the stride sits on the 3×3
  y = groupNorm(stdConv(y, ir, `${p}/conv3`, 1), ir, `${p}/gn3`, false);
  for (let i = 0; i < y.data.length; i++) y.data[i] = Math.max(0, y.data[i]! + shortcut.data[i]!);
  return y;
}

/** The stem on one NHWC image [side, side, 3]: the feature map the patch embedding reads. */
export function resnetStemForward(ir: ModelIR, r: ResnetConfig, img: Float64Array, side: number): FeatureMap {
  let x: FeatureMap = { side, channels: 3, data: img };
  x = maxPool(groupNorm(stdConv(x, ir, 'conv_root', 2), ir, 'gn_root', true));
  r.layers.forEach((units, s) => {
    for (let u = 1; u <= units; u++) x = residualUnit(x, ir, `block${s + 1}/unit${u}`, u === 1 && s > 0 ? 2 : 1);
  });
  return x;
}
