/**
 * Running accuracy statistics over batches of logits: top-1/top-5, per-class counts, a confusion
 * matrix, and agreement / KL divergence against a baseline model's logits for the same images.
 * Everything is accumulated in counts and float64 sums, so batching never changes a result.
 */
import { topIndices } from '../data/labels.js';

/** log-softmax of one row in float64. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - lse;
  return out;
}

/** KL(p ‖ q) = Σ p·(log p − log q) of the softmax of two logit rows, in nats. */
export function klDivergence(pLogits: ArrayLike<number>, qLogits: ArrayLike<number>): number {
  const lp = logSoftmax(pLogits);
  const lq = logSoftmax(qLogits);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const p = Math.exp(lp[i]!);
    if (p > 0) kl += p * (lp[i]! - lq[i]!);
  }
  return Math.max(0, kl); // rounding can give -1e-17 for identical rows
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export class AccuracyMeter {
  count = 0;
  top1 = 0;
  top5 = 0;
  /** Per true class: [images, top-1 correct]. */
  readonly perClass = new Map<number, { count: number; correct: number }>();
  /** (true · classes + predicted) -> count. Sparse, because 21k-class models exist. */
  readonly confusion = new Map<number, number>();
  readonly predictedClasses = new Set<number>();
  // Baseline comparison
  compared = 0;
  agree = 0;
  klSum = 0;
  baselineTop1 = 0;

  constructor(readonly classes: number) {}

  /** One image: the model's logits, its true class (model index), and optionally the baseline's logits. */
  add(logits: ArrayLike<number>, label: number, baselineLogits?: ArrayLike<number>): void {
    const top = topIndices(logits, 5);
    const pred = top[0]!;
    this.count++;
    if (pred === label) this.top1++;
    if (top.includes(label)) this.top5++;
    const pc = this.perClass.get(label) ?? { count: 0, correct: 0 };
    pc.count++;
    if (pred === label) pc.correct++;
    this.perClass.set(label, pc);
    const key = label * this.classes + pred;
    this.confusion.set(key, (this.confusion.get(key) ?? 0) + 1);
    this.predictedClasses.add(pred);
    if (baselineLogits) {
      const bpred = argmax(baselineLogits);
      this.compared++;
      if (bpred === pred) this.agree++;
      if (bpred === label) this.baselineTop1++;
      this.klSum += klDivergence(baselineLogits, logits);
    }
  }

  /** Rows of a [batch, classes] logits array. */
  addBatch(logits: Float32Array, labels: ArrayLike<number>, baselineLogits?: Float32Array): void {
    const k = this.classes;
    for (let i = 0; i < labels.length; i++) {
      this.add(logits.subarray(i * k, (i + 1) * k), labels[i]!, baselineLogits?.subarray(i * k, (i + 1) * k));
    }
  }

  confusionCount(trueClass: number, predicted: number): number {
    return this.confusion.get(trueClass * this.classes + predicted) ?? 0;
  }
}
