/**
 * The one interface every data source implements. A dataset is a stream of labelled images read in
 * batches, so evaluating 10,000 images never holds them all decoded at once: IDX and .npy files are
 * read by byte range, image files are decoded one batch at a time.
 */

/** One image as the reader found it, before resizing and normalization. Layout is HWC. */
export type RawImage =
  /** Pixel values 0..255; channels 1 (grey, replicated to RGB later) or 3 (RGB). */
  | { kind: 'uint8'; height: number; width: number; channels: 1 | 3; data: Uint8Array }
  /** Already in the model's input range ([-1, 1] for the official pipeline): only resized, never normalized. */
  | { kind: 'float'; height: number; width: number; channels: 3; data: Float32Array };

/** An input that could not be read and was left out (only with `skipBad`). */
export interface SkippedItem {
  id: string;
  reason: string;
}

export interface Batch {
  images: RawImage[];
  /** Class index of each image, in the dataset's own class order. */
  labels: Int32Array;
  /** A stable name for each image: a file path, or `<file>#<index>` for array files. */
  ids: string[];
  /** Inputs of this batch that were skipped (undecodable); not part of images/labels/ids. */
  skipped: SkippedItem[];
}

export interface BatchOptions {
  /** Read at most this many items (skipped ones count: the same items are read whatever decodes). */
  limit?: number;
  /** Skip undecodable images (recorded in Batch.skipped) instead of failing. */
  skipBad?: boolean;
}

export interface Dataset {
  /** Short name for reports, e.g. 'fashion-mnist:test'. */
  readonly name: string;
  /** Where it was read from (directory or files). */
  readonly source: string;
  /** Number of items. */
  readonly size: number;
  /** Class names in label-index order, when the dataset knows them. */
  readonly classes: string[] | null;
  batches(batchSize: number, opts?: BatchOptions): AsyncIterable<Batch>;
}

/** How many items a run reads. */
export function itemsToRead(size: number, limit?: number): number {
  return limit === undefined ? size : Math.max(0, Math.min(size, limit));
}

/** Split the first `count` indices into [start, end) ranges of at most `batchSize`. */
export function* batchRanges(count: number, batchSize: number): Generator<[number, number]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  for (let start = 0; start < count; start += batchSize) yield [start, Math.min(count, start + batchSize)];
}
