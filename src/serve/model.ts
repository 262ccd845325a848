/**
 * One served model: its source, worker pool, dynamic batcher and statistics, with the lifecycle
 * states Triton's repository index reports (LOADING, READY, UNAVAILABLE, UNLOADING). Every request's
 * outcome is recorded here once, into the Triton statistics, the Prometheus metrics and the monitor.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import type { CreateSessionOptions } from '../engines/engine.js';
import { labelsFor } from '../data/labels.js';
import { DynamicBatcher, type BatchResult } from './batcher.js';
import type { BatchingConfig } from './config.js';
import { ServeError, unavailable } from './errors.js';
import type { ServeMetrics } from './metrics.js';
import type { InferenceMonitor } from './monitor.js';
import type { ModelSource } from './repository.js';
import { ModelStats } from './stats.js';
import { WorkerPool } from './worker-pool.js';

export type ModelState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

export interface ServedModelOptions {
  batching: BatchingConfig;
  /** Total intra-op threads for this model, split across its instances (default: every core). */
  threads?: number;
  overloadStatus: 429 | 503;
  session?: CreateSessionOptions;
  metrics: ServeMetrics;
  monitor: InferenceMonitor;
  backoffMs?: number[];
}

/** The batch sizes run once on every new session: every size up to max, or 1 + the preferred sizes + max. */
export function warmBatches(c: BatchingConfig): number[] {
  if (c.preferred_batch_size.length) return [...new Set([1, ...c.preferred_batch_size, c.max_batch_size])].sort((a, b) => a - b);
  return Array.from({ length: c.max_batch_size }, (_, i) => i + 1);
}

export class ServedModel {
  state: ModelState = 'LOADING';
  reason = '';
  readonly stats = new ModelStats();
  readonly pool: WorkerPool;
  readonly batcher: DynamicBatcher;
  readonly imageDims: number[];
  readonly labels: string[] | null;
  readonly threadsPerInstance: number;

  private constructor(readonly source: ModelSource, readonly batching: BatchingConfig, private readonly o: ServedModelOptions) {
    if (source.fixedBatch !== null && source.fixedBatch !== 1) {
      throw new UserError(`${source.origin}: its input has a fixed batch of ${source.fixedBatch}; only models with a dynamic batch dimension (or batch 1) are served`);
    }
    if (source.fixedBatch === 1) batching.max_batch_size = 1;
    this.imageDims = [3, source.resolution, source.resolution];
    this.labels = source.classes ? labelsFor(source.classes, source.labels) : source.labels;
    const total = o.threads && o.threads > 0 ? o.threads : availableParallelism();
    this.threadsPerInstance = Math.max(1, Math.floor(total / batching.instance_count));
    this.pool = new WorkerPool(source.model, {
      instances: batching.instance_count, session: { ...o.session, threads: this.threadsPerInstance },
      imageDims: this.imageDims, warmBatches: warmBatches(batching), label: source.origin, backoffMs: o.backoffMs,
    });
    const labels = this.labelValues;
    this.batcher = new DynamicBatcher(this.pool, { config: batching, imageDims: this.imageDims, overloadStatus: o.overloadStatus }, {
      onExecution: (images, _requests, computeMs) => {
        this.stats.execution(images, computeMs);
        o.metrics.execCount.inc(labels);
        o.metrics.inferenceCount.inc(labels, images);
        o.metrics.batchSize.observe(labels, images);
        o.monitor.execution(images);
      },
      onReject: (why) => o.metrics.rejections.inc({ ...labels, reason: why }),
    });
    this.pool.on('restart', () => o.metrics.restarts.inc(labels));
  }

  /** Start the instances and warm them; READY when done, UNAVAILABLE (with the reason) when loading fails. */
  static async load(source: ModelSource, batching: BatchingConfig, o: ServedModelOptions): Promise<ServedModel> {
    const m = new ServedModel(source, batching, o);
    try {
      await m.pool.start();
      m.state = 'READY';
    } catch (e) {
      await m.pool.close();
      m.state = 'UNAVAILABLE';
      m.reason = (e as Error).message.split('\n')[0]!;
      throw e;
    }
    return m;
  }

  get name(): string {
    return this.source.name;
  }

  get version(): string {
    return this.source.version;
  }

  get labelValues(): { model: string; version: string } {
    return { model: this.source.name, version: this.source.version };
  }

  /** Ready to serve: loaded, warmed, and at least one healthy instance. */
  get ready(): boolean {
    return this.state === 'READY' && this.pool.healthy > 0;
  }

  get classes(): number | null {
    return this.source.classes;
  }

  /** Queue `n` preprocessed images for inference. */
  infer(pixels: Float32Array, n: number, timeoutUs?: number): Promise<BatchResult> {
    if (this.state !== 'READY') return Promise.reject(unavailable(`model '${this.name}' is not ready (${this.state.toLowerCase()})`));
    if (n > this.batching.max_batch_size) {
      return Promise.reject(new ServeError(400, `batch of ${n} images exceeds max_batch_size ${this.batching.max_batch_size} of model '${this.name}'`));
    }
    return this.batcher.submit(pixels, n, timeoutUs);
  }

  recordSuccess(r: { totalMs: number; queueMs: number; computeMs: number; inputMs: number; outputMs: number; images: number }): void {
    const m = this.o.metrics, l = this.labelValues;
    this.stats.success(r.totalMs, r.queueMs, r.computeMs, r.inputMs, r.outputMs);
    m.success.inc(l);
    m.requestUs.inc(l, r.totalMs * 1000);
    m.queueUs.inc(l, r.queueMs * 1000);
    m.computeInputUs.inc(l, r.inputMs * 1000);
    m.computeInferUs.inc(l, r.computeMs * 1000);
    m.computeOutputUs.inc(l, r.outputMs * 1000);
    m.requestSeconds.observe(l, r.totalMs / 1000);
    m.queueSeconds.observe(l, r.queueMs / 1000);
    this.o.monitor.record({ latencyMs: r.totalMs, queueMs: r.queueMs, images: r.images, ok: true });
  }

  recordFailure(totalMs: number, reason: ServeError['reason']): void {
    this.stats.failure(totalMs);
    this.o.metrics.failure.inc({ ...this.labelValues, reason });
    this.o.monitor.record({ latencyMs: totalMs, queueMs: 0, images: 0, ok: false });
  }

  /** Wait until nothing is queued or running (true), or until the timeout (false). */
  async settle(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (this.batcher.depth + this.batcher.inFlight > 0) {
      if (performance.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /**
   * Stop serving: new requests get 503 at once, queued and running ones get `graceMs` to finish, what is
   * still queued then gets 503, and the instances are released.
   */
  async unload(why = 'unloaded', graceMs = 30_000): Promise<void> {
    this.state = 'UNLOADING';
    await this.settle(graceMs);
    this.batcher.failQueued(() => unavailable(`model '${this.name}' was ${why} before this request ran`));
    await this.pool.close();
    this.state = 'UNAVAILABLE';
    this.reason = why;
  }
}
