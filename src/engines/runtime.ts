/**
 * The part of onnxruntime-node's API that graph tools need beyond the one-input, one-output
 * `EngineSession`: several named outputs, int64/float64/uint8 inputs, profiling (calibration,
 * pruning statistics, SQNR, hardware probes). Import it as `import * as ort from '.../engines/runtime.js'`.
 *
 * Only the tensor class and the session's type leave the engine layer, not `InferenceSession.create`:
 * such sessions come from model-source.ts's `createSession`, which loads models of any size
 * (test/arch/one-ort.test.ts keeps it so).
 */
export { Tensor } from 'onnxruntime-node';
export type { InferenceSession } from 'onnxruntime-node';
