/**
 * InferenceMonitor: the reference playbook's monitor (a rolling window of the last N requests: mean and
 * p95 latency, throughput), plus a last-T-seconds window, p50/p99, average batch size, errors, queue
 * depth and memory. A library class (record / snapshot); the server feeds it and serves snapshots as
 * GET /v2/monitor and, once a second, as server-sent events.
 */
import { percentile } from '../bench/stats.js';

export interface RequestSample {
  /** When the request finished (ms, monotonic clock of the monitor). */
  at: number;
  latencyMs: number;
  queueMs: number;
  images: number;
  ok: boolean;
}

export interface WindowStats {
  window: string;
  requests: number;
  errors: number;
  /** Over successful requests. */
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  queueMs: { mean: number | null; p95: number | null };
  /** Completed requests (and images) per second over the window's span. */
  throughput: { requestsPerSecond: number | null; imagesPerSecond: number | null };
  /** Images per model execution (Triton: inference_count / execution_count). */
  avgBatchSize: number | null;
}

export interface MonitorSnapshot {
  time: string;
  uptimeSeconds: number;
  lastN: WindowStats;
  lastSeconds: WindowStats;
  queueDepth: number;
  inFlight: number;
  memory: { rssBytes: number; heapUsedBytes: number; externalBytes: number };
}

export interface MonitorOptions {
  /** Requests in the count window (default 100, as the playbook). */
  lastN?: number;
  /** Seconds in the time window (default 60: Triton's summary max_age). */
  windowSeconds?: number;
  now?: () => number;
}

/** Samples kept for the time window at most: beyond this, the oldest go first (bounded memory at any rate). */
const MAX_TIME_SAMPLES = 200_000;

const round = (x: number) => Math.round(x * 1000) / 1000;

export class InferenceMonitor {
  readonly lastN: number;
  readonly windowSeconds: number;
  private readonly now: () => number;
  private readonly started: number;
  private samples: RequestSample[] = [];
  private executions: { at: number; images: number }[] = [];

  constructor(o: MonitorOptions = {}) {
    this.lastN = o.lastN ?? 100;
    this.windowSeconds = o.windowSeconds ?? 60;
    this.now = o.now ?? (() => performance.now());
    this.started = this.now();
  }

  record(s: Omit<RequestSample, 'at'> & { at?: number }): void {
    this.samples.push({ ...s, at: s.at ?? this.now() });
    this.prune();
  }

  execution(images: number, at = this.now()): void {
    this.executions.push({ at, images });
    this.prune();
  }

  /** Keep what either window needs: the last N samples and everything within T seconds. */
  private prune(): void {
    const cutoff = this.now() - this.windowSeconds * 1000;
    let drop = 0;
    while (drop < this.samples.length - this.lastN && (this.samples[drop]!.at < cutoff || this.samples.length - drop > MAX_TIME_SAMPLES)) drop++;
    if (drop > 1024 || drop * 2 > this.samples.length) this.samples = this.samples.slice(drop);
    else if (drop) this.samples.splice(0, drop);
    let e = 0;
    while (e < this.executions.length && this.executions[e]!.at < Math.min(cutoff, this.samples[0]?.at ?? cutoff)) e++;
    if (e) this.executions.splice(0, e);
  }

  private stats(window: string, samples: RequestSample[], spanStart: number, end: number): WindowStats {
    const ok = samples.filter((s) => s.ok);
    const lat = ok.map((s) => s.latencyMs).sort((a, b) => a - b);
    const q = ok.map((s) => s.queueMs).sort((a, b) => a - b);
    const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
    const pct = (xs: number[], p: number) => (xs.length ? round(percentile(xs, p)) : null);
    const span = (end - spanStart) / 1000;
    const execs = this.executions.filter((x) => x.at >= spanStart && x.at <= end);
    const images = ok.reduce((s, x) => s + x.images, 0);
    return {
      window, requests: samples.length, errors: samples.length - ok.length,
      latencyMs: { mean: mean(lat), p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: lat.length ? round(lat[lat.length - 1]!) : null },
      queueMs: { mean: mean(q), p95: pct(q, 95) },
      throughput: span > 0 && samples.length ? { requestsPerSecond: round(ok.length / span), imagesPerSecond: round(images / span) } : { requestsPerSecond: null, imagesPerSecond: null },
      avgBatchSize: execs.length ? round(execs.reduce((s, x) => s + x.images, 0) / execs.length) : null,
    };
  }

  snapshot(live: { queueDepth?: number; inFlight?: number } = {}): MonitorSnapshot {
    this.prune();
    const now = this.now();
    const lastN = this.samples.slice(-this.lastN);
    // The count window spans from the start of its oldest request to now.
    const nStart = lastN.length ? Math.min(...lastN.map((s) => s.at - s.latencyMs)) : now;
    const tStart = Math.max(this.started, now - this.windowSeconds * 1000);
    const inT = this.samples.filter((s) => s.at >= tStart);
    const m = process.memoryUsage();
    return {
      time: new Date().toISOString(),
      uptimeSeconds: round((now - this.started) / 1000),
      lastN: this.stats(`last ${this.lastN} requests`, lastN, nStart, now),
      lastSeconds: this.stats(`last ${this.windowSeconds} s`, inT, tStart, now),
      queueDepth: live.queueDepth ?? 0,
      inFlight: live.inFlight ?? 0,
      memory: { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external },
    };
  }
}
