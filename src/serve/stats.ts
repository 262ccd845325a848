/**
 * Triton's statistics extension (docs/protocol/extension_statistics.md) for one model: cumulative
 * {count, ns} totals, so a client differencing two samples gets rates and mean durations.
 * inference_count counts images, execution_count model runs (their ratio is the average batch size).
 */
export interface DurationStat { count: number; ns: number }

const zero = (): DurationStat => ({ count: 0, ns: 0 });
const add = (d: DurationStat, ms: number) => { d.count++; d.ns += Math.round(ms * 1e6); };

export class ModelStats {
  inferenceCount = 0;
  executionCount = 0;
  lastInference = 0;
  readonly inference = {
    success: zero(), fail: zero(), queue: zero(), compute_input: zero(), compute_infer: zero(), compute_output: zero(),
    cache_hit: zero(), cache_miss: zero(),
  };
  private batches = new Map<number, { compute_input: DurationStat; compute_infer: DurationStat; compute_output: DurationStat }>();

  /** One model run of `images` images. */
  execution(images: number, computeMs: number): void {
    this.executionCount++;
    this.inferenceCount += images;
    this.lastInference = Date.now();
    let b = this.batches.get(images);
    if (!b) this.batches.set(images, b = { compute_input: zero(), compute_infer: zero(), compute_output: zero() });
    add(b.compute_infer, computeMs);
    add(b.compute_input, 0);
    add(b.compute_output, 0);
  }

  /** One request answered: whole duration, queue wait, its run's compute time; input/output = decode + preprocess / encode. */
  success(totalMs: number, queueMs: number, computeMs: number, inputMs: number, outputMs: number): void {
    add(this.inference.success, totalMs);
    add(this.inference.queue, queueMs);
    add(this.inference.compute_infer, computeMs);
    add(this.inference.compute_input, inputMs);
    add(this.inference.compute_output, outputMs);
  }

  failure(totalMs: number): void {
    add(this.inference.fail, totalMs);
  }

  toJSON(name: string, version: string) {
    return {
      name, version, last_inference: this.lastInference, inference_count: this.inferenceCount, execution_count: this.executionCount,
      inference_stats: this.inference,
      batch_stats: [...this.batches.entries()].sort((a, b) => a[0] - b[0]).map(([batch_size, s]) => ({ batch_size, ...s })),
      memory_usage: [],
    };
  }
}
