/**
 * Names the protocol fixes: the server's identity, the extensions it advertises in GET /v2 (clients
 * such as perf_analyzer read statistics from /stats only when "statistics" is listed), and the model
 * metadata / configuration documents built from a served model.
 */
import { createRequire } from 'node:module';
import type { ServedModel } from './model.js';

export const SERVER_NAME = 'vitopt';
export const SERVER_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

export const PROTOCOL_EXTENSIONS = ['binary_tensor_data', 'classification', 'model_repository', 'model_configuration', 'statistics', 'schedule_policy', 'parameters'];

/** ONNX models, in the OIP's <project>_<format> platform naming. */
export const PLATFORM = 'onnx_onnxv1';

/** GET /v2/models/{m}: inputs and outputs with -1 for the batch dimension. */
export function modelMetadata(m: ServedModel) {
  return {
    name: m.name, versions: [m.version], platform: PLATFORM,
    inputs: [{ name: m.pool.inputName, datatype: 'FP32', shape: [-1, ...m.imageDims] }],
    outputs: [{ name: m.pool.outputName, datatype: 'FP32', shape: [-1, m.classes ?? -1] }],
  };
}

/** GET /v2/models/{m}/config: Triton's ModelConfig as JSON (what perf_analyzer needs to drive the model). */
export function modelConfig(m: ServedModel) {
  const b = m.batching;
  return {
    name: m.name, platform: 'onnxruntime_onnx', backend: 'onnxruntime', version_policy: { latest: { num_versions: 1 } },
    max_batch_size: b.max_batch_size,
    input: [{ name: m.pool.inputName, data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: m.imageDims }],
    output: [{ name: m.pool.outputName, data_type: 'TYPE_FP32', dims: [m.classes ?? -1], ...(m.labels ? { label_filename: 'labels.txt' } : {}) }],
    dynamic_batching: {
      preferred_batch_size: b.preferred_batch_size, max_queue_delay_microseconds: b.max_queue_delay_microseconds, preserve_ordering: false,
      default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: b.default_timeout_microseconds, allow_timeout_override: true, max_queue_size: b.max_queue_size },
    },
    instance_group: [{ name: `${m.name}_0`, kind: 'KIND_CPU', count: b.instance_count }],
    parameters: { intra_op_thread_count: { string_value: String(m.threadsPerInstance) } },
  };
}
