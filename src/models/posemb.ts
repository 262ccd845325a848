/**
 * Position-embedding resize exactly as vit_jax/checkpoint.py::interpolate_posembed does it:
 * scipy.ndimage.zoom(grid, (z, z, 1), order=1) = bilinear with align-corners sampling, float64
 * arithmetic in scipy's operation order, constant-mode zero rows where scipy's float rounding puts a
 * sample past the edge (the official loader resizes with scipy.ndimage.zoom, order 1; this is a bit-exact port of it).
 */
import type { Tensor } from '../tensor.js';

interface Tap { i0: number; i1: number; w0: number; w1: number }

function axis(nIn: number, nOut: number): (Tap | null)[] {
  const zoom = nOut > 1 ? (nIn - 1) / (nOut - 1) : 1.0;
  const taps: (Tap | null)[] = [];
  for (let k = 0; k < nOut; k++) {
    const cc = k * zoom;
    if (cc > nIn - 1 || cc < 0) {
      taps.push(null); // scipy mode='constant': the whole row/column becomes cval = 0
      continue;
    }
    const start = Math.floor(cc);
    const x = cc - start;
    const w0 = 1.0 - x;
    const w1 = 1.0 - w0;
    let i1 = start + 1;
    if (i1 > nIn - 1) i1 = Math.max(nIn - 2, 0); // mirrored tap, weight 0 there
    taps.push({ i0: start, i1, w0, w1 });
  }
  return taps;
}

/** Resize a [gIn, gIn, D] grid to [gOut, gOut, D]. */
export function zoomGrid(grid: Float32Array, gIn: number, gOut: number, D: number): Float32Array {
  const ax = axis(gIn, gOut);
  const out = new Float32Array(gOut * gOut * D);
  const at = (y: number, x: number, d: number) => grid[(y * gIn + x) * D + d]!;
  for (let oy = 0; oy < gOut; oy++) {
    const wy = ax[oy];
    if (!wy) continue;
    for (let ox = 0; ox < gOut; ox++) {
      const wx = ax[ox];
      if (!wx) continue;
      const o = (oy * gOut + ox) * D;
      for (let d = 0; d < D; d++) {
        let t = 0;
        t = t + at(wy.i0, wx.i0, d) * wy.w0 * wx.w0;
        t = t + at(wy.i0, wx.i1, d) * wy.w0 * wx.w1;
        t = t + at(wy.i1, wx.i0, d) * wy.w1 * wx.w0;
        t = t + at(wy.i1, wx.i1, d) * wy.w1 * wx.w1;
        out[o + d] = t; // Float32Array store = float32(t), as numpy's astype(float32)
      }
    }
  }
  return out;
}

/** Resize a (1, T, D) position embedding to `gOut`×`gOut` patch tokens; the cls row stays as it is. */
export function resizePosEmbedding(posemb: Tensor, hasClassToken: boolean, gOut: number): Tensor {
  const [, T, D] = posemb.dims as [number, number, number];
  const nTok = hasClassToken ? 1 : 0;
  const gIn = Math.round(Math.sqrt(T - nTok));
  const grid = posemb.data.subarray(nTok * D);
  const resized = zoomGrid(grid, gIn, gOut, D);
  const out = new Float32Array((nTok + gOut * gOut) * D);
  out.set(posemb.data.subarray(0, nTok * D), 0);
  out.set(resized, nTok * D);
  return { dims: [1, nTok + gOut * gOut, D], data: out };
}
