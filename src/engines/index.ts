/** The engine layer: one interface over onnxruntime-node (CPU, WebGPU, CUDA, TensorRT) and onnxruntime-web (wasm). */
export * from './engine.js';
export { createSession } from './create.js';
export * from './options.js';
export { OrtModel, sessionOptions, supportedBackends, ortNodeVersion } from './ort-node.js';
export { WorkerSession } from './worker.js';
export { detectEngine, detectEngines, type EngineAvailability } from './detect.js';
