/** Datasets, preprocessing and label maps (the library surface of src/data). */
export type { Batch, BatchOptions, Dataset, RawImage, SkippedItem } from './dataset.js';
export { IdxDataset, parseIdxHeader, readIdxLabels, inspectIdxImages } from './idx.js';
export { ImageFolderDataset, decodeImageFile, IMAGE_EXTENSIONS } from './image-folder.js';
export { NpyDataset, readLabelsFile, type ImageLayout } from './npy-dataset.js';
export { openDataSpec, packageRoot, DATA_SPEC_HELP, type DataSpecOptions } from './data-spec.js';
export { axisInterpolation, resizeBilinear, normalizeToUnitRange, preprocessImage, preprocessBatch } from './preprocess.js';
export {
  FASHION_MNIST_CLASSES, imagenet1kLabels, indexLabels, defaultLabels, labelsFor, labelsFromHfConfig,
  softmax, topIndices, topK, topKBatch, formatPredictions, type Prediction,
} from './labels.js';
