/** The engine layer: one interface over onnxruntime-node (CPU, WebGPU, CUDA, TensorRT) and onnxruntime-web (wasm). */
export * from './engine.js';
export { createSession, openModel } from './create.js';
export * from './options.js';
export { sessionOptions, supportedBackends, ortNodeVersion } from './ort-node.js';
export { type ModelInput } from './model-source.js';
export { WorkerSession } from './worker.js';
export { detectEngine, detectEngines, type EngineAvailability } from './detect.js';
