/**
 * The model variants a site ships, made with vitopt's own exporter and quantizer, each with its check
 * pair: onnxruntime-node's logits on a deterministic input (check-input.ts), which the page must
 * reproduce on its backend before it trusts it.
 *
 *   int8  dynamic INT8 (DynamicQuantizeMatMul) of the fused graph: the fastest on WebAssembly; its
 *         quantized ops have no WebGPU kernels, so it is never offered to WebGPU.
 *   fp32  the portable graph (standard ONNX ops): every op has a WebGPU kernel; also the CPU fallback.
 *   fp16  FP16 of the portable graph: WebGPU with `shader-f16` only.
 *   int4  weight-only INT4 (MatMulNBits, which has a WebGPU kernel) of the portable graph: smaller download.
 */
import { UserError } from '../errors.js';
import { exportModel } from '../export/index.js';
import type { ModelProto } from '../formats/onnx.js';
import { quantize } from '../compress/quantize/index.js';
import { openModel } from '../engines/create.js';
import { checkInput } from './app/check-input.js';
import type { Backend, Dtype, Variant } from './app/manifest.js';
import type { ModelSource } from './model-source.js';

export const VARIANT_IDS = ['int8', 'fp32', 'fp16', 'int4'] as const;
export type VariantId = typeof VARIANT_IDS[number];
export const DEFAULT_VARIANTS: readonly VariantId[] = ['int8', 'fp32', 'fp16'];

/** Seed of the check input; any fixed value works, the page reads it from the manifest. */
export const CHECK_SEED = 20241202;

/**
 * Allowed relative deviation from onnxruntime-node: float32 kernels differ in summation order (WebGPU
 * agrees to ~1e-3); INT8 activations are re-quantized per run and FP16 rounds every op. A backend that
 * silently returns zeros or garbage is off by ~1.
 */
const TOLERANCE: Record<Dtype, number> = { fp32: 0.01, fp16: 0.05, int8: 0.05 };

export interface BuiltVariant {
  meta: Omit<Variant, 'bytes'>;
  model: ModelProto;
}

function largestTensor(m: ModelProto): number {
  let best = 0;
  for (const t of m.graph?.initializer ?? []) {
    const n = t.rawData?.length ?? ((t.floatData?.length ?? 0) * 4 + (t.int32Data?.length ?? 0) * 4 + (t.int64Data?.length ?? 0) * 8);
    best = Math.max(best, n);
  }
  return best;
}

async function referenceLogits(model: ModelProto, resolution: number): Promise<number[]> {
  const m = await openModel(model, { threads: 1 }, 'site variant');
  try {
    const out = await m.run({ dims: [1, 3, resolution, resolution], data: checkInput(CHECK_SEED, resolution) });
    return Array.from(out.data);
  } finally {
    await m.release();
  }
}

function variant(id: string, dtype: Dtype, graph: Variant['graph'], backends: Backend[], model: ModelProto, description: string,
  needsF16 = false): BuiltVariant {
  return {
    model,
    meta: { id, file: `models/${id}.onnx`, dtype, graph, backends, needsF16, largestTensorBytes: largestTensor(model),
      description, check: { seed: CHECK_SEED, expected: [], tolerance: TOLERANCE[dtype] } },
  };
}

async function makeVariant(id: VariantId, src: ModelSource & { kind: 'ir' }, cache: Map<string, ModelProto>): Promise<BuiltVariant> {
  const graph = (style: 'portable' | 'ort') => {
    let m = cache.get(style);
    if (!m) cache.set(style, m = exportModel(src.ir, style));
    return m;
  };
  switch (id) {
    case 'fp32':
      return variant('fp32', 'fp32', 'portable', ['webgpu', 'wasm'], graph('portable'), 'float32, standard ONNX ops');
    case 'int8': {
      // u8s8-reduced (7-bit weights) cannot saturate on any CPU, so the Node reference computed on the
      // build machine matches what WebAssembly computes whatever CPU built the site.
      const r = await quantize(graph('ort'), { mode: 'dynamic', format: 'u8s8-reduced' });
      return variant('int8', 'int8', 'ort', ['wasm'], r.model, 'dynamic INT8 (u8s8-reduced, per channel) of the fused graph');
    }
    case 'fp16': {
      const r = await quantize(graph('portable'), { mode: 'fp16' });
      return variant('fp16', 'fp16', 'portable', ['webgpu'], r.model, 'float16 weights and compute, float32 input/output', true);
    }
    case 'int4': {
      const r = await quantize(graph('portable'), { mode: 'int4' });
      return variant('int4', 'fp32', 'portable', ['webgpu', 'wasm'], r.model, 'weight-only INT4 (MatMulNBits, block 32), float32 compute');
    }
  }
}

/** Build the wanted variants and their check pairs; `onStep` reports progress. */
export async function buildVariants(src: ModelSource, wanted: readonly VariantId[], onStep: (s: string) => void = () => undefined):
  Promise<BuiltVariant[]> {
  const out: BuiltVariant[] = [];
  if (src.kind === 'onnx') {
    // A foreign or already-compressed model is shipped as it is: one variant, its check pair decides where it runs.
    let settings: { mode?: string; format?: string } = {};
    try {
      settings = src.quantization ? JSON.parse(src.quantization) as typeof settings : {};
    } catch { /* unreadable settings: described as quantized */ }
    const dtype: Dtype = !src.quantization ? 'fp32' : settings.mode === 'fp16' ? 'fp16' : 'int8';
    // Dynamic/static INT8 ops have no WebGPU kernels; INT4 (MatMulNBits) and fp16 do.
    const backends: Backend[] = dtype === 'int8' && settings.mode !== 'int4' ? ['wasm'] : ['webgpu', 'wasm'];
    const what = src.quantization ? [settings.mode ?? 'quantized', settings.format].filter(Boolean).join(' ') : 'float32';
    out.push(variant('model', dtype, 'as-given', backends, src.model, `as given (${what})`, dtype === 'fp16'));
  } else {
    const cache = new Map<string, ModelProto>();
    for (const id of wanted) {
      onStep(`making the ${id} variant`);
      out.push(await makeVariant(id, src, cache));
    }
  }
  for (const v of out) {
    onStep(`computing the check pair of ${v.meta.id} with onnxruntime-node`);
    v.meta.check.expected = await referenceLogits(v.model, src.resolution);
  }
  return out;
}

export function parseVariants(list: string): VariantId[] {
  const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new UserError('--variants: empty list');
  for (const id of ids) {
    if (!(VARIANT_IDS as readonly string[]).includes(id)) throw new UserError(`--variants ${id}: expected some of ${VARIANT_IDS.join(', ')}`);
  }
  return [...new Set(ids)] as VariantId[];
}
