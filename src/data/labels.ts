/**
 * Class names: the known label maps, Hugging Face `id2label`, and top-k formatting of logits.
 */
import { FileError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { IMAGENET1K_CLASSES } from './imagenet1k.js';

/** Fashion-MNIST, in label order (https://github.com/zalandoresearch/fashion-mnist#labels). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** ImageNet-1k (ILSVRC-2012) class names; see imagenet1k.ts for their source and licence. */
export function imagenet1kLabels(): string[] {
  return [...IMAGENET1K_CLASSES];
}

/** `class_0 … class_<n-1>`: what is shown when no names are known (e.g. ImageNet-21k's 21,843 classes). */
export function indexLabels(classes: number): string[] {
  return Array.from({ length: classes }, (_, i) => `class_${i}`);
}

/**
 * The names a classifier with `classes` outputs most likely uses, or null when the count alone does
 * not say: 1000 is ImageNet-1k; 10 could be Fashion-MNIST, MNIST or CIFAR-10, so no guess; ImageNet-21k
 * (21843) has no name list shipped here.
 */
export function defaultLabels(classes: number): string[] | null {
  if (classes === 1000) return imagenet1kLabels();
  return null;
}

/** Names for display: the given ones when they fit, else the default map, else indices. */
export function labelsFor(classes: number, ...candidates: (readonly string[] | null | undefined)[]): string[] {
  for (const c of candidates) if (c && c.length === classes) return [...c];
  return defaultLabels(classes) ?? indexLabels(classes);
}

/** `id2label` of a Hugging Face `config.json` (keys are decimal strings) as a dense list. */
export function labelsFromHfConfig(config: unknown, file: string): string[] | null {
  const id2label = (config as { id2label?: unknown } | null)?.id2label;
  if (id2label === undefined || id2label === null) return null;
  if (typeof id2label !== 'object') throw new FileError(file, 'id2label is not an object');
  const entries = Object.entries(id2label as Record<string, unknown>);
  const out: string[] = new Array(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length) {
      throw new FileError(file, `id2label key '${k}' is not an index in 0..${entries.length - 1}`);
    }
    out[i] = String(v);
  }
  return out;
}

export interface Prediction {
  index: number;
  label: string;
  logit: number;
  probability: number;
}

/** Softmax of one row in float64, stable (max subtracted). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const kk = Math.min(k, values.length);
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === kk && !(v > values[best[kk - 1]!]!)) continue;
    let j = best.length < kk ? best.length : kk - 1;
    while (j > 0 && v > values[best[j - 1]!]!) j--;
    best.splice(j, 0, i);
    if (best.length > kk) best.pop();
  }
  return best;
}

/** The k most likely classes of one row of logits, with names and softmax probabilities. */
export function topK(logits: ArrayLike<number>, k: number, labels?: readonly string[] | null): Prediction[] {
  const p = softmax(logits);
  return topIndices(logits, k).map((i) => ({
    index: i,
    label: labels?.[i] ?? `class_${i}`,
    logit: logits[i]!,
    probability: p[i]!,
  }));
}

/** topK for every row of a [batch, classes] logits tensor. */
export function topKBatch(logits: Tensor, k: number, labels?: readonly string[] | null): Prediction[][] {
  const [b, c] = logits.dims as [number, number];
  return Array.from({ length: b }, (_, i) => topK(logits.data.subarray(i * c, (i + 1) * c), k, labels));
}

/** "Sneaker 97.1%, Sandal 2.0%, …" */
export function formatPredictions(preds: readonly Prediction[]): string {
  return preds.map((p) => `${p.label} ${(p.probability * 100).toFixed(1)}%`).join(', ');
}
