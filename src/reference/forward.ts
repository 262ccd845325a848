/**
 * An independent float64 reference of the forward pass, written from the spec's formulas
 * (docs/models.md) and sharing no code with the ONNX exporters: NHWC input,
 * HWIO conv kernels, 3-D attention kernels contracted with einsum-style loops, one-pass LayerNorm
 * variance, query scaled before QKᵀ. Slow (plain JS loops): meant for tests and `--verify` on small
 * models.
 */
import { type MixerConfig, type ModelConfig, type VitConfig, mixerLayer, vitLayer } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { MIXER, mixerBlockNames, VIT, vitBlockNames } from '../models/names.js';
import type { Tensor } from '../tensor.js';
import { resnetStemForward } from './resnet.js';

type M = Float64Array; // row-major [rows, cols]

function w64(ir: ModelIR, name: string): Float64Array {
  const t = ir.weights.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return Float64Array.from(t.data);
}

/** erf to ~1e-15: Maclaurin series for |x| < 3, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax, sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= -ax * ax / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + (k / 2) / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

function gelu(x: number, kind: 'tanh' | 'erf'): number {
  if (kind === 'erf') return 0.5 * x * (1 + erf(x / Math.SQRT2));
  return x * 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** y[r, :] = x[r, :] @ W[in, out] + b */
function denseRows(x: M, rows: number, din: number, W: Float64Array, b: Float64Array | null, dout: number): M {
  const y = new Float64Array(rows * dout);
  for (let r = 0; r < rows; r++) {
    const yo = r * dout;
    if (b) for (let j = 0; j < dout; j++) y[yo + j] = b[j]!;
    for (let i = 0; i < din; i++) {
      const xv = x[r * din + i]!;
      if (xv === 0) continue;
      const wo = i * dout;
      for (let j = 0; j < dout; j++) y[yo + j]! += xv * W[wo + j]!;
    }
  }
  return y;
}

/** flax LayerNorm: var = E[x²] − E[x]² (clipped at 0), y = (x − mean)·rsqrt(var + eps)·scale + bias. */
function layerNorm(x: M, rows: number, d: number, scale: Float64Array, bias: Float64Array, eps: number): M {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < d; i++) { const v = x[r * d + i]!; s += v; s2 += v * v; }
    const mean = s / d;
    const v = Math.max(0, s2 / d - mean * mean);
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * (inv * scale[i]!) + bias[i]!;
  }
  return y;
}

/** Patch conv on one NHWC image (or a hybrid's feature map, `cin` channels): [g*g, D] tokens, row-major. `pad` = [top, left] zero padding (SAME). */
function patchify(img: Float64Array, side: number, P: number, kernel: Float64Array, bias: Float64Array, D: number,
  g: number, padTop = 0, padLeft = 0, cin = 3): M {
  const out = new Float64Array(g * g * D);
  for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) {
    const o = (i * g + j) * D;
    for (let d = 0; d < D; d++) out[o + d] = bias[d]!;
    for (let kh = 0; kh < P; kh++) for (let kw = 0; kw < P; kw++) {
      const y = i * P + kh - padTop, x = j * P + kw - padLeft;
      if (y < 0 || x < 0 || y >= side || x >= side) continue;
      for (let c = 0; c < cin; c++) {
        const v = img[(y * side + x) * cin + c]!;
        const ko = ((kh * P + kw) * cin + c) * D;
        for (let d = 0; d < D; d++) out[o + d]! += v * kernel[ko + d]!;
      }
    }
  }
  return out;
}

/** Options of the reference forward pass. */
export interface ReferenceOptions {
  /**
   * How Token Merging breaks exact ties in similarity: 'lowest' (the rule vitopt's graphs follow, as
   * ONNX TopK/ArgMax do: the lowest index wins) or 'highest' (only for tests that prove a tie matters).
   */
  mergeTies?: 'lowest' | 'highest';
}

/**
 * One Token Merging step (Bolya et al., ICLR 2023, §3; written from the paper and the description in
 * docs/token-merging.md, not from the exporter): tokens alternate between set A (even positions) and
 * B (odd); each A token's most similar B token by cosine similarity of the head-averaged keys; the r A
 * tokens with the most similar matches are averaged into them, weighted by size; the cls token (A's
 * first) is never merged. New order: the unmerged A tokens (by index with a cls token, else by
 * descending similarity), then every B token. Returns the new tokens and sizes.
 */
function mergeStep(x: M, size: Float64Array, metric: M, T: number, D: number, hd: number, r: number, cls: boolean,
  ties: 'lowest' | 'highest'): { x: M; size: Float64Array } {
  const A: number[] = [], B: number[] = [];
  for (let t = 0; t < T; t++) (t % 2 === 0 ? A : B).push(t);
  const unit = (t: number) => {
    let n = 0;
    for (let d = 0; d < hd; d++) n += metric[t * hd + d]! ** 2;
    n = Math.sqrt(n);
    return Array.from({ length: hd }, (_, d) => metric[t * hd + d]! / n);
  };
  const ua = A.map(unit), ub = B.map(unit);
  // better(v, w): does a candidate with score v beat the incumbent w that has the lower index?
  const beats = (v: number, w: number) => (ties === 'lowest' ? v > w : v >= w);
  const best = A.map((_, i) => {
    if (cls && i === 0) return { score: -Infinity, j: 0 };
    let score = -Infinity, j = -1;
    for (let k = 0; k < B.length; k++) {
      let s = 0;
      for (let d = 0; d < hd; d++) s += ua[i]![d]! * ub[k]![d]!;
      if (j < 0 || beats(s, score)) { score = s; j = k; }
    }
    return { score, j };
  });
  // A tokens by descending score; equal scores: lower index first ('lowest') or last ('highest').
  const order = A.map((_, i) => i).sort((p, q) => best[q]!.score - best[p]!.score || (ties === 'lowest' ? p - q : q - p));
  const merged = order.slice(0, r);
  let kept = order.slice(r);
  if (cls) kept = kept.sort((p, q) => p - q);
  const rows = [...kept.map((i) => A[i]!), ...B];
  const sum = new Float64Array(rows.length * D), sz = new Float64Array(rows.length);
  rows.forEach((t, o) => {
    sz[o] = size[t]!;
    for (let d = 0; d < D; d++) sum[o * D + d] = x[t * D + d]! * size[t]!;
  });
  for (const i of merged) {
    const o = kept.length + best[i]!.j, t = A[i]!;
    sz[o]! += size[t]!;
    for (let d = 0; d < D; d++) sum[o * D + d]! += x[t * D + d]! * size[t]!;
  }
  for (let o = 0; o < rows.length; o++) for (let d = 0; d < D; d++) sum[o * D + d]! /= sz[o]!;
  return { x: sum, size: sz };
}

function vitForward(ir: ModelIR, c: VitConfig, img: Float64Array, opts: ReferenceOptions = {}): Float64Array {
  const D = c.hidden, P = c.patch;
  // A hybrid's patch embedding reads the ResNet stem's feature map instead of the pixels.
  const fm = c.resnet ? resnetStemForward(ir, c.resnet, img, c.resolution) : { side: c.resolution, channels: 3, data: img };
  const g = Math.floor(fm.side / P), N = g * g;
  const cls = c.classifier === 'token';
  let T = N + (cls ? 1 : 0);
  // Token Merging: tokens merged per block, and each token's size (how many patches it stands for).
  const r = Array.from({ length: c.layers }, (_, l) => c.mergeTokens?.[l] ?? 0);
  let size: Float64Array = new Float64Array(T).fill(1);
  const patches = patchify(fm.data, fm.side, P, w64(ir, VIT.embedding.kernel), w64(ir, VIT.embedding.bias), D, g, 0, 0, fm.channels);
  let x: M = new Float64Array(T * D);
  if (cls) x.set(w64(ir, VIT.cls), 0);
  x.set(patches, cls ? D : 0);
  const pos = w64(ir, VIT.posEmbedding);
  for (let i = 0; i < T * D; i++) x[i]! += pos[i]!;
  const eps = c.layerNormEps;
  for (let l = 0; l < c.layers; l++) {
    const n = vitBlockNames(l), a = n.attn;
    const { heads: H, headDim: hd, mlp } = vitLayer(c, l);
    const A = H * hd; // attention width; D unless heads were pruned
    const y = layerNorm(x, T, D, w64(ir, n.ln1.scale), w64(ir, n.ln1.bias), eps);
    // q,k,v [T, H, hd] from kernels (D, H, hd): flattening (H, hd) head-major is a plain [D, D] matmul.
    const q = denseRows(y, T, D, w64(ir, a.query.kernel), w64(ir, a.query.bias), A);
    const k = denseRows(y, T, D, w64(ir, a.key.kernel), w64(ir, a.key.bias), A);
    const v = denseRows(y, T, D, w64(ir, a.value.kernel), w64(ir, a.value.bias), A);
    const scale = 1 / Math.sqrt(hd);
    for (let i = 0; i < q.length; i++) q[i]! *= scale;
    const o = new Float64Array(T * A);
    const logits = new Float64Array(T);
    // Proportional attention: + log(size) per key (0 while nothing has merged).
    const logSize = size.map(Math.log);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i * A + h * hd + d]! * k[j * A + h * hd + d]!;
          s += logSize[j]!;
          logits[j] = s;
          if (s > mx) mx = s;
        }
        let z = 0;
        for (let j = 0; j < T; j++) { logits[j] = Math.exp(logits[j]! - mx); z += logits[j]!; }
        for (let j = 0; j < T; j++) {
          const p = logits[j]! / z;
          for (let d = 0; d < hd; d++) o[i * A + h * hd + d]! += p * v[j * A + h * hd + d]!;
        }
      }
    }
    const att = denseRows(o, T, A, w64(ir, a.out.kernel), w64(ir, a.out.bias), D);
    for (let i = 0; i < x.length; i++) x[i]! += att[i]!;
    if (r[l]! > 0) {
      // Merge metric: the keys averaged over heads, [T, hd].
      const metric = new Float64Array(T * hd);
      for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let d = 0; d < hd; d++) metric[t * hd + d]! += k[t * A + h * hd + d]! / H;
      ({ x, size } = mergeStep(x, size, metric, T, D, hd, r[l]!, cls, opts.mergeTies ?? 'lowest'));
      T -= r[l]!;
    }
    const y2 = layerNorm(x, T, D, w64(ir, n.ln2.scale), w64(ir, n.ln2.bias), eps);
    const hmid = denseRows(y2, T, D, w64(ir, n.mlp.fc1.kernel), w64(ir, n.mlp.fc1.bias), mlp);
    for (let i = 0; i < hmid.length; i++) hmid[i] = gelu(hmid[i]!, c.gelu);
    const mo = denseRows(hmid, T, mlp, w64(ir, n.mlp.fc2.kernel), w64(ir, n.mlp.fc2.bias), D);
    for (let i = 0; i < x.length; i++) x[i]! += mo[i]!;
  }
  x = layerNorm(x, T, D, w64(ir, VIT.encoderNorm.scale), w64(ir, VIT.encoderNorm.bias), eps);
  let z: M = new Float64Array(D);
  if (cls) z = x.slice(0, D);
  else if (r.some((v) => v > 0) && (c.mergePool ?? 'weighted') === 'weighted') {
    // Merged tokens weighted by the patches they stand for: the unmerged model's mean over N patches.
    let total = 0;
    for (let t = 0; t < T; t++) {
      total += size[t]!;
      for (let d = 0; d < D; d++) z[d]! += size[t]! * x[t * D + d]!;
    }
    for (let d = 0; d < D; d++) z[d]! /= total;
  } else {
    for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) z[d]! += x[t * D + d]!;
    for (let d = 0; d < D; d++) z[d]! /= T;
  }
  let zd = D;
  if (c.representation) {
    z = denseRows(z, 1, D, w64(ir, VIT.preLogits.kernel), w64(ir, VIT.preLogits.bias), c.representation).map(Math.tanh);
    zd = c.representation;
  }
  return denseRows(z, 1, zd, w64(ir, VIT.head.kernel), w64(ir, VIT.head.bias), c.classes);
}

function mixerForward(ir: ModelIR, c: MixerConfig, img: Float64Array): Float64Array {
  const C = c.hidden, P = c.patch, g = Math.ceil(c.resolution / P), S = g * g, eps = c.layerNormEps;
  const total = Math.max((g - 1) * P + P - c.resolution, 0);
  const pad = Math.floor(total / 2);
  const x = patchify(img, c.resolution, P, w64(ir, MIXER.stem.kernel), w64(ir, MIXER.stem.bias), C, g, pad, pad);
  for (let i = 0; i < c.blocks; i++) {
    const n = mixerBlockNames(i), tm = n.tokenMixing, cm = n.channelMixing;
    const { tokensMlp, channelsMlp } = mixerLayer(c, i);
    const y = layerNorm(x, S, C, w64(ir, n.ln1.scale), w64(ir, n.ln1.bias), eps);
    // swapaxes -> [C, S], token MLP along S, swap back.
    const yt = new Float64Array(C * S);
    for (let s = 0; s < S; s++) for (let ch = 0; ch < C; ch++) yt[ch * S + s] = y[s * C + ch]!;
    const h = denseRows(yt, C, S, w64(ir, tm.fc1.kernel), w64(ir, tm.fc1.bias), tokensMlp)
      .map((v) => gelu(v, c.gelu));
    const o = denseRows(h, C, tokensMlp, w64(ir, tm.fc2.kernel), w64(ir, tm.fc2.bias), S);
    for (let s = 0; s < S; s++) for (let ch = 0; ch < C; ch++) x[s * C + ch]! += o[ch * S + s]!;
    const y2 = layerNorm(x, S, C, w64(ir, n.ln2.scale), w64(ir, n.ln2.bias), eps);
    const h2 = denseRows(y2, S, C, w64(ir, cm.fc1.kernel), w64(ir, cm.fc1.bias), channelsMlp)
      .map((v) => gelu(v, c.gelu));
    const o2 = denseRows(h2, S, channelsMlp, w64(ir, cm.fc2.kernel), w64(ir, cm.fc2.bias), C);
    for (let k = 0; k < x.length; k++) x[k]! += o2[k]!;
  }
  const y = layerNorm(x, S, C, w64(ir, MIXER.preHeadNorm.scale), w64(ir, MIXER.preHeadNorm.bias), eps);
  const z = new Float64Array(C);
  for (let s = 0; s < S; s++) for (let ch = 0; ch < C; ch++) z[ch]! += y[s * C + ch]!;
  for (let ch = 0; ch < C; ch++) z[ch]! /= S;
  return denseRows(z, 1, C, w64(ir, MIXER.head.kernel), w64(ir, MIXER.head.bias), c.classes);
}

/** Logits [n, classes] in float64 for NHWC float32 images [n, H, W, 3]. */
export function referenceForward(ir: ModelIR, nhwc: Tensor, opts: ReferenceOptions = {}): { dims: number[]; data: Float64Array } {
  const c: ModelConfig = ir.config;
  const [n, h, w] = nhwc.dims as [number, number, number, number];
  if (h !== c.resolution || w !== c.resolution) throw new Error(`reference: images are ${h}x${w}, model takes ${c.resolution}`);
  const per = h * w * 3;
  const out = new Float64Array(n * c.classes);
  for (let i = 0; i < n; i++) {
    const img = Float64Array.from(nhwc.data.subarray(i * per, (i + 1) * per));
    out.set(c.family === 'vit' ? vitForward(ir, c, img, opts) : mixerForward(ir, c, img), i * c.classes);
  }
  return { dims: [n, c.classes], data: out };
}

/** max |a − ref| / max |ref|: the relative error the 1e-4 bar is stated in. */
export function relativeError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let md = 0, mr = 0;
  for (let i = 0; i < ref.length; i++) {
    md = Math.max(md, Math.abs(a[i]! - ref[i]!));
    mr = Math.max(mr, Math.abs(ref[i]!));
  }
  return md / mr;
}
