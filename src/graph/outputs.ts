/**
 * Intermediate tensors as extra graph outputs: how calibration and per-layer error measurement read
 * activations. The outputs are added without a type; ONNX Runtime infers it from the producer, and
 * `tensorInfo` uses exactly that to learn the element type and shape of every tensor (ONNX shape
 * inference is not available in JavaScript).
 */
import * as ort from '../engines/runtime.js';
import { UserError } from '../errors.js';
import { DataType, onnx, type ModelProto } from '../formats/onnx.js';
import { createSession } from '../engines/model-source.js';
import { cleanError } from '../engines/engine.js';

/** A copy of `m` (sharing nodes and initializers) whose outputs also include `tensors`. */
export function withOutputs(m: ModelProto, tensors: readonly string[]): ModelProto {
  const g = m.graph!;
  const existing = new Set((g.output ?? []).map((v) => v.name));
  const extra = tensors.filter((t) => !existing.has(t)).map((name) => ({ name }));
  return onnx.ModelProto.create({ ...m, graph: { ...g, output: [...(g.output ?? []), ...extra] } });
}

export interface TensorInfo {
  /** ONNX element type (DataType), 0 when unknown. */
  elemType: number;
  /** Dims; strings for symbolic ones; null when unknown. */
  shape: (number | string)[] | null;
}

const ORT_TYPES: Record<string, number> = {
  float32: DataType.FLOAT, uint8: DataType.UINT8, int8: DataType.INT8, int32: DataType.INT32, int64: DataType.INT64,
  float16: DataType.FLOAT16, float64: DataType.DOUBLE, bool: 9, int16: 5, uint16: 4, string: 8,
};

/**
 * Element type and shape of every node output of `m`, as ONNX Runtime infers them (session created
 * with optimizations off, so no tensor is fused away). Loads the model once: seconds for ViT-B.
 */
export async function tensorInfo(m: ModelProto): Promise<Map<string, TensorInfo>> {
  const names = new Set<string>();
  for (const n of m.graph!.node ?? []) for (const o of n.output ?? []) if (o) names.add(o);
  const probe = withOutputs(m, [...names]);
  let session: ort.InferenceSession;
  try {
    session = await createSession(probe, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  } catch (e) {
    throw new UserError(`the model cannot be loaded by ONNX Runtime: ${cleanError(e)}`);
  }
  try {
    const out = new Map<string, TensorInfo>();
    for (const md of session.outputMetadata) {
      out.set(md.name, md.isTensor ? { elemType: ORT_TYPES[md.type] ?? 0, shape: [...md.shape] } : { elemType: 0, shape: null });
    }
    for (const v of m.graph!.input ?? []) {
      const tt = v.type?.tensorType;
      if (tt) out.set(v.name!, { elemType: tt.elemType ?? 0, shape: (tt.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue ?? 0)) });
    }
    for (const t of m.graph!.initializer ?? []) out.set(t.name!, { elemType: t.dataType ?? 0, shape: (t.dims ?? []).map(Number) });
    return out;
  } finally {
    await session.release();
  }
}
