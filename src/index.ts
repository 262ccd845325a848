/**
 * vitopt as a library: `import { … } from 'vitopt'`. The CLI is a thin layer over these functions, and
 * every command's `--json` report is the object the function here returns.
 *
 *   load      resolveIR / loadCheckpoint (.npz, .safetensors, fashion-vit, fashion-mixer), zooConfig,
 *             loadModel (.onnx), loadRunnable (anything a command accepts -> a model ready to run)
 *   export    exportModel (IR -> ONNX), saveModel (atomic; external data above 2 GB), verifyExport
 *   predict   predict / classify (image files, folders, .npy tensors -> top-k), createSession (one interface over
 *             onnxruntime-node CPU/WebGPU/CUDA/TensorRT and onnxruntime-web wasm)
 *   compress  quantize (dynamic/static INT8, FP16, INT4), prune (structured with refit, magnitude, N:M)
 *   analyze   analyze (params, MACs, memory, roofline of a config), countParams
 *   eval      evaluate (top-1/top-5, per class, agreement), openDataSpec (datasets by name)
 *   bench     runBench, findBatch, probeHardware
 *
 * Errors that are the caller's to fix are `UserError` (with `FileError` for one file); anything else
 * is a bug.
 */

// Errors and tensors
export { UserError, FileError, isUserError } from './errors.js';
export type { Tensor } from './tensor.js';

// Models: configurations, checkpoints, the reference models
export type { ModelConfig, VitConfig, MixerConfig, Numerics } from './models/config.js';
export type { ResnetConfig } from './models/resnet.js';
export { describe as describeConfig } from './models/config.js';
export type { ModelIR } from './models/ir.js';
export { ZOO, zooConfig, isZooName, type ZooEntry } from './models/zoo.js';
export { REFERENCE_MODELS, referenceModel, type ReferenceModel } from './models/reference.js';
export { loadCheckpoint, type ImportOptions } from './models/checkpoint.js';
export { resolveConfig, resolveIR, loadRunnable, specKind, type Runnable, type ModelSpecKind } from './models/resolve.js';
export { randomIR } from './models/random.js';

// ONNX: export, read, write
export { exportModel, type GraphStyle } from './export/index.js';
export { verifyExport } from './export/verify.js';
export { loadModel, saveModel, encodeModel, metadata, type ModelProto } from './formats/onnx.js';

// Predict and engines
export {
  predict, classify, collectInputs, DEFAULT_TOP_K, type PredictModel, type PredictOptions, type PredictRunOptions, type PredictResult, type PredictInput,
} from './predict/index.js';
export { createSession, openModel } from './engines/create.js';
export { type ModelInput } from './engines/model-source.js';
export {
  ENGINE_NAMES, parseEngineName, EngineUnavailableError, type EngineName, type EngineSession, type SessionSettings,
  type CreateSessionOptions, type RunOutput, type Pixels,
} from './engines/engine.js';
export { type EngineOptions, DEFAULT_ENGINE_OPTIONS } from './engines/options.js';
export { detectEngine, detectEngines, type EngineAvailability } from './engines/detect.js';

// Compression
export {
  quantize, QUANTIZE_MODES, type QuantizeMode, type QuantizeOptions, type QuantizeResult, type LayerResult,
  arraySource, datasetSource, type CalibrationSource, CALIBRATION_METHODS, type CalibrationMethod, INT8_FORMATS, type Int8Format,
} from './compress/quantize/index.js';
export {
  prune, PRUNE_METHODS, loadCalibration, irFromOnnx, type PruneMethod, type PruneOptions, type PruneOutcome, type Calibration,
} from './compress/prune/index.js';

// Analysis
export { analyze, renderText as renderAnalysis, type AnalysisReport, type AnalyzeOptions } from './analyze/report.js';
export { countParams } from './analyze/params.js';
export type { HardwareProfile } from './analyze/roofline.js';

// Data and evaluation
export type { Dataset, Batch, RawImage } from './data/dataset.js';
export { openDataSpec, type DataSpecOptions } from './data/data-spec.js';
export { decodeImageFile } from './data/image-folder.js';
export { preprocessBatch, type Normalization } from './data/preprocess.js';
export { FASHION_MNIST_CLASSES, topK, softmax, type Prediction } from './data/labels.js';
export { evaluate, type EvalModel, type EvalOptions, type Classifier } from './eval/evaluate.js';
export type { EvalReport } from './eval/report.js';
export { formatEvalReport } from './eval/report-text.js';

// Benchmarks
export { runBench, findBatch, probeHardware, type BenchOptions, type BenchReport, type FindBatchOptions, type FindBatchReport } from './bench/index.js';

// Profiling and graph fusions
export { profileModel, renderProfile, type OpProfile, type OpTypeTime } from './bench/profile.js';
export { defaultFusions, parseFusions, describeFusions, type FusionChoice } from './export/fusions.js';
export { ALL_FUSIONS, NO_FUSIONS, type Fusions } from './export/layers.js';

// Serving
export { startServer, InferenceMonitor, type RunningServer, type ServeOptions, type MonitorSnapshot } from './serve/index.js';
