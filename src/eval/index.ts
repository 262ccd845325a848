/** Accuracy evaluation (the library surface of src/eval). */
export { evaluate, DEFAULT_EVAL_BATCH, type Classifier, type EvalModel, type EvalOptions } from './evaluate.js';
export type { EvalReport, ClassAccuracy, ConfusionReport, ComparisonReport } from './report.js';
export { AccuracyMeter, klDivergence, logSoftmax, argmax } from './metrics.js';
export { labelMapping, type LabelMapping } from './label-mapping.js';
export { formatEvalReport, formatConfusion } from './report-text.js';
export { confusionSvg, writeConfusionChart } from './confusion-chart.js';
export { progressBar, type Progress } from './progress.js';
