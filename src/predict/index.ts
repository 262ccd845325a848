/** Classifying image files and .npy tensors with a loaded model (the library side of `vitopt predict`). */
export { classify, predict, DEFAULT_TOP_K, DEFAULT_PREDICT_BATCH, type PredictModel, type PredictOptions, type PredictResult, type PredictRunOptions } from './predict.js';
export { collectInputs, readTensorBatch, type PredictInput, type TensorLayout } from './inputs.js';
