/** Quantization (the library surface of src/compress/quantize): dynamic / static INT8, FP16, INT4. */
export { quantize, QUANTIZE_MODES, DEFAULT_CALIBRATION_METHOD, META_QUANTIZATION,
  type QuantizeMode, type QuantizeOptions, type QuantizeResult, type QuantizeSettings, type LayerResult } from './quantize.js';
export { analyze, type Analysis } from './prepare.js';
export { CALIBRATION_METHODS, DEFAULT_PERCENTILE, RangeCollector, entropyThreshold, type CalibrationMethod } from './calibrate.js';
export { arraySource, collectRanges, type CalibrationSource } from './collect.js';
export { datasetSource, openCalibrationData, trainSplitSpec, DEFAULT_CALIBRATION_SIZE } from './calibration-data.js';
export { INT8_FORMATS, quantizeWeight, dequantizeWeight, activationParams, sqnr, type Int8Format } from './int8.js';
export { quantizeBlockwise, dequantizeBlockwise, DEFAULT_INT4, type Int4Options } from './int4.js';
export { FP16_BLOCK_OPS } from './fp16.js';
export { detectCpu, cpuFromCpuinfo, int8FormatFor, type CpuInfo } from './cpu.js';
export { alreadyQuantized, assertQuantizable } from './check.js';
export { STEM_CHOICES, MEASURED_STEM, defaultStem, stemConvs, type StemChoice } from './stem.js';
