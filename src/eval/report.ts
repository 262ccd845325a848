/**
 * The evaluation report: a plain JSON-able object, the same one `vitopt eval --json` prints.
 */
import type { SkippedItem } from '../data/dataset.js';
import type { AccuracyMeter } from './metrics.js';

export interface ClassAccuracy {
  /** Model class index. */
  index: number;
  label: string;
  count: number;
  correct: number;
  accuracy: number;
}

/**
 * Confusion counts, rows = true class, columns = predicted class, over `classes` (model class indices:
 * every class that occurs as a true label or a prediction, plus the dataset's known classes).
 * `matrix` is dense when there are at most DENSE_CONFUSION_LIMIT classes; otherwise only the
 * non-zero `cells` [true, predicted, count] are given, so a 21k-class report stays small.
 */
export interface ConfusionReport {
  classes: number[];
  labels: string[];
  matrix?: number[][];
  cells?: [number, number, number][];
}

export const DENSE_CONFUSION_LIMIT = 100;

export interface ComparisonReport {
  baseline: string;
  /** Fraction of images where model and baseline have the same top-1 class. */
  agreement: number;
  /** Mean over images of KL(baseline ‖ model) of the softmax outputs, in nats. */
  meanKL: number;
  /** The baseline's own top-1 accuracy on the same images. */
  baselineTop1: number;
}

export interface EvalReport {
  model: string;
  dataset: { name: string; source: string; size: number };
  resolution: number;
  /** Pixel mapping to the model input: null = the official (x − 127.5) / 127.5, else (x/255 − mean) / std. */
  normalization: { mean: number[]; std: number[] } | null;
  batchSize: number;
  /** How dataset labels were matched to model outputs: by class index, or by class name. */
  labelMapping: 'index' | 'name';
  evaluated: number;
  skipped: { count: number; items: SkippedItem[] };
  top1: number;
  top5: number;
  correctTop1: number;
  correctTop5: number;
  /** Images per second for the whole loop (reading, decoding, preprocessing, model; baseline excluded). */
  imagesPerSecond: number;
  /** Images per second of model.run alone. */
  modelImagesPerSecond: number;
  seconds: number;
  perClass: ClassAccuracy[];
  confusion: ConfusionReport;
  comparison?: ComparisonReport;
}

/** The report's accuracy parts from a filled meter. */
export function accuracySection(meter: AccuracyMeter, labels: readonly string[], knownClasses: readonly number[]):
  Pick<EvalReport, 'evaluated' | 'top1' | 'top5' | 'correctTop1' | 'correctTop5' | 'perClass' | 'confusion'> {
  const n = meter.count;
  const classes = [...new Set([...knownClasses, ...meter.perClass.keys(), ...meter.predictedClasses])].sort((a, b) => a - b);
  const perClass: ClassAccuracy[] = [...meter.perClass.entries()].sort(([a], [b]) => a - b)
    .map(([index, c]) => ({ index, label: labels[index]!, count: c.count, correct: c.correct, accuracy: c.correct / c.count }));
  const confusion: ConfusionReport = { classes, labels: classes.map((i) => labels[i]!) };
  if (classes.length <= DENSE_CONFUSION_LIMIT) {
    confusion.matrix = classes.map((t) => classes.map((p) => meter.confusionCount(t, p)));
  } else {
    confusion.cells = [...meter.confusion.entries()]
      .map(([key, count]): [number, number, number] => [Math.floor(key / meter.classes), key % meter.classes, count])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }
  return {
    evaluated: n,
    top1: n ? meter.top1 / n : 0,
    top5: n ? meter.top5 / n : 0,
    correctTop1: meter.top1,
    correctTop5: meter.top5,
    perClass,
    confusion,
  };
}

/** Non-zero cells of a confusion report, whichever form it has. */
export function confusionCells(c: ConfusionReport): [number, number, number][] {
  if (c.cells) return c.cells;
  const out: [number, number, number][] = [];
  c.matrix!.forEach((row, i) => row.forEach((v, j) => { if (v) out.push([c.classes[i]!, c.classes[j]!, v]); }));
  return out;
}
