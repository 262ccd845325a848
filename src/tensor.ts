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

/** Row-major [rows, cols] values -> [cols, rows], in an array of the same type. */
export function transposeValues<T extends Float32Array | Int8Array | Uint8Array>(data: T, rows: number, cols: number): T {
  const out = new (data.constructor as new (n: number) => T)(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** 2-D transpose: [r, c] -> [c, r] (torch Linear [out, in] <-> Dense kernel [in, out]). */
export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.dims as [number, number];
  return { dims: [c, r], data: transposeValues(t.data, r, c) };
}

/** 4-D transpose: output axis k is input axis perm[k] (numpy's `transpose(perm)`). */
export function permute4(t: Tensor, perm: readonly [number, number, number, number]): Tensor {
  const d = t.dims as [number, number, number, number];
  const inStride = [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1];
  const od = perm.map((p) => d[p]!) as [number, number, number, number];
  const s = perm.map((p) => inStride[p]!) as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  let k = 0;
  for (let a = 0; a < od[0]; a++) for (let b = 0; b < od[1]; b++) for (let c = 0; c < od[2]; c++) {
    const base = a * s[0] + b * s[1] + c * s[2];
    for (let e = 0; e < od[3]; e++) out[k++] = t.data[base + e * s[3]]!;
  }
  return { dims: od, data: out };
}

/** Conv kernel OIHW (ONNX, torch) -> HWIO (flax). */
export function oihwToHwio(t: Tensor): Tensor {
  return permute4(t, [2, 3, 1, 0]);
}

/** Conv kernel HWIO (flax) -> OIHW (ONNX Conv). */
export function hwioToOihw(t: Tensor): Tensor {
  return permute4(t, [3, 2, 0, 1]);
}
