/** A dense float32 array with its shape (row-major, C order). The unit every format reads and writes. */
export interface Tensor {
  dims: number[];
  data: Float32Array;
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensor(dims: number[], data?: Float32Array): Tensor {
  const n = numel(dims);
  if (data && data.length !== n) throw new Error(`tensor: ${data.length} values for shape [${dims}]`);
  return { dims, data: data ?? new Float32Array(n) };
}

export function shapeString(dims: readonly number[]): string {
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** NHWC -> NCHW for image batches. */
export function nhwcToNchw(t: Tensor): Tensor {
  const [n, h, w, c] = t.dims as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((b * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = t.data[src + k]!;
      }
    }
  }
  return { dims: [n, c, h, w], data: out };
}
