/**
 * Triton's dynamic batcher (docs/user_guide/batcher.md), for one model:
 *
 *  - requests wait in one FIFO queue; a batch is formed from the front, in arrival order, of requests
 *    whose images add up to at most max_batch_size (a request's own batch is never split);
 *  - a batch goes out at once when it is full (max_batch_size), when it matches a preferred_batch_size
 *    (the largest one that can be formed), or when the next request does not fit; otherwise it waits
 *    until the OLDEST request has waited max_queue_delay_microseconds (0 = never wait);
 *  - batches are handed only to an idle instance, so requests keep accumulating while every instance
 *    is busy: that is where batching under load comes from;
 *  - the queue is bounded (max_queue_size requests): past it a request is rejected at once (overload);
 *  - a request still queued at its timeout gets 503 "Request timeout expired" (Triton's words);
 *  - one run's logits are split back to the requests in order.
 */
import type { BatchingConfig } from './config.js';
import { ServeError, unavailable } from './errors.js';
import { type WorkerPool, type Instance, WorkerCrashError } from './worker-pool.js';

export interface BatchResult {
  /** This request's logits, row-major [n, classes]. */
  logits: Float32Array;
  classes: number;
  queueMs: number;
  computeMs: number;
  /** Images in the run this request was part of. */
  batchSize: number;
}

interface Item {
  n: number;
  data: Float32Array;
  enqueued: number;
  timer: NodeJS.Timeout | null;
  resolve(r: BatchResult): void;
  reject(e: Error): void;
}

export interface BatcherHooks {
  /** One model execution: images in it, requests in it, compute time. */
  onExecution?(images: number, requests: number, computeMs: number): void;
  /** A request refused before it ran: 'full' (queue), 'timeout' (queue wait), 'unavailable' (no healthy worker). */
  onReject?(why: 'full' | 'timeout' | 'unavailable'): void;
}

export interface BatcherOptions {
  config: BatchingConfig;
  /** Elements of one image [3, H, W]. */
  imageDims: number[];
  /** HTTP status for a full queue: 429 (default; what clients retry on) or 503 (Triton's answer). */
  overloadStatus: 429 | 503;
}

export class DynamicBatcher {
  private queue: Item[] = [];
  private delayTimer: NodeJS.Timeout | null = null;
  private running = 0;
  private readonly perImage: number;

  constructor(private readonly pool: WorkerPool, private readonly o: BatcherOptions, private readonly hooks: BatcherHooks = {}) {
    this.perImage = o.imageDims.reduce((a, b) => a * b, 1);
    pool.on('change', () => this.pump());
    pool.on('crash', () => {
      // With no instance left, queued requests would wait for a restart that may take seconds or fail:
      // tell them now.
      if (this.pool.healthy === 0) this.failQueued(() => unavailable('no healthy worker: the model\'s worker crashed and is being restarted', 1, 'BACKEND'));
    });
  }

  /** Requests waiting (not yet running). */
  get depth(): number {
    return this.queue.length;
  }

  /** Requests whose batch is running now. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Queue `n` images (data = n × [3, H, W]). `timeoutUs` may lower the queue timeout for this request
   * (Triton's schedule_policy "timeout" parameter), never raise it.
   */
  submit(data: Float32Array, n: number, timeoutUs?: number): Promise<BatchResult> {
    const c = this.o.config;
    if (this.pool.healthy === 0) {
      this.hooks.onReject?.('unavailable');
      return Promise.reject(unavailable('no healthy worker for this model (crashed or still starting); retry shortly', 1, 'BACKEND'));
    }
    if (c.max_queue_size > 0 && this.queue.length >= c.max_queue_size) {
      this.hooks.onReject?.('full');
      return Promise.reject(new ServeError(this.o.overloadStatus, `Exceeds maximum queue size (${c.max_queue_size} requests waiting); retry later`,
        { 'retry-after': '1' }, 'REJECTED'));
    }
    let timeout = c.default_timeout_microseconds;
    if (timeoutUs !== undefined && timeoutUs > 0) timeout = timeout > 0 ? Math.min(timeout, timeoutUs) : timeoutUs;
    return new Promise<BatchResult>((resolve, reject) => {
      const item: Item = { n, data, enqueued: performance.now(), timer: null, resolve, reject };
      if (timeout > 0) {
        item.timer = setTimeout(() => {
          const i = this.queue.indexOf(item);
          if (i < 0) return;
          this.queue.splice(i, 1);
          this.hooks.onReject?.('timeout');
          reject(unavailable(`Request timeout expired (waited ${(timeout / 1000).toFixed(0)} ms in the queue)`, 1, 'REJECTED'));
        }, timeout / 1000);
      }
      this.queue.push(item);
      this.pump();
    });
  }

  /** How many requests from the front of the queue to run now (0 = wait). */
  private choose(now: number): number {
    const c = this.o.config;
    let count = 0, sum = 0, preferredCount = 0;
    for (const it of this.queue) {
      if (sum + it.n > c.max_batch_size) break;
      sum += it.n;
      count++;
      if (c.preferred_batch_size.includes(sum)) preferredCount = count;
    }
    if (count === 0) return 0;
    if (sum === c.max_batch_size || count < this.queue.length) return count;
    if (preferredCount > 0) return preferredCount;
    const waited = (now - this.queue[0]!.enqueued) * 1000;
    if (waited >= c.max_queue_delay_microseconds) return count;
    return 0;
  }

  /** Dispatch every batch that can go now to idle instances. */
  private pump(): void {
    while (this.queue.length > 0) {
      const inst = this.pool.idle();
      if (!inst) return;
      const now = performance.now();
      const take = this.choose(now);
      if (take === 0) {
        this.armDelay(now);
        return;
      }
      this.dispatch(inst, this.queue.splice(0, take), now);
    }
  }

  private armDelay(now: number): void {
    if (this.delayTimer) return;
    const due = this.queue[0]!.enqueued + this.o.config.max_queue_delay_microseconds / 1000;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      this.pump();
    }, Math.max(0, due - now));
  }

  private dispatch(inst: Instance, items: Item[], now: number): void {
    for (const it of items) if (it.timer) clearTimeout(it.timer);
    const images = items.reduce((s, it) => s + it.n, 0);
    let data: Float32Array;
    if (items.length === 1) {
      data = items[0]!.data;
    } else {
      data = new Float32Array(images * this.perImage);
      let off = 0;
      for (const it of items) {
        data.set(it.data, off);
        off += it.data.length;
      }
    }
    this.running += items.length;
    const t0 = performance.now();
    this.pool.run(inst, data, [images, ...this.o.imageDims]).then((out) => {
      const computeMs = performance.now() - t0;
      const classes = out.dims[1] ?? out.data.length / images;
      this.hooks.onExecution?.(images, items.length, computeMs);
      let row = 0;
      for (const it of items) {
        it.resolve({ logits: out.data.slice(row * classes, (row + it.n) * classes), classes, queueMs: now - it.enqueued, computeMs, batchSize: images });
        row += it.n;
      }
    }, (e: Error) => {
      const err = e instanceof WorkerCrashError ? unavailable(e.message, 1, 'BACKEND')
        : new ServeError(500, `inference failed: ${e.message.split('\n')[0]}`, {}, 'BACKEND');
      for (const it of items) it.reject(err);
    }).finally(() => {
      this.running -= items.length;
      this.pump();
    });
  }

  /** Reject every queued request (unload, shutdown past the drain timeout, last worker lost). */
  failQueued(err: () => Error): void {
    const items = this.queue.splice(0);
    for (const it of items) {
      if (it.timer) clearTimeout(it.timer);
      it.reject(err());
    }
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
  }
}
