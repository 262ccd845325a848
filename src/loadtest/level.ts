/**
 * One load level, perf_analyzer's way: a closed-loop concurrency (N requests always outstanding) or an
 * open-loop request rate (sends on a schedule whatever the answers do, constant or Poisson arrivals,
 * latency measured from the scheduled send so a slow server cannot hide queueing: no coordinated
 * omission). The level is measured in consecutive windows until the last three agree (stability.ts),
 * or for a fixed duration, or for a fixed number of requests. Every request's outcome is counted:
 * success (checked), an HTTP error by status, or no answer at all (lost).
 */
import { NoAnswerError, type HttpClient } from './http-client.js';
import { summarizeLatency, type LatencySummary } from './latency.js';
import { stability } from './stability.js';
import { ResponseChecker, type CheckCounts } from './check.js';
import { decodeInferResponse, MalformedResponse } from './response.js';
import { requestBody, type Payload } from './workload.js';
import { sampleStats, statsDelta, type ServerSplit } from './server-stats.js';

export type LoadMode = { kind: 'concurrency'; value: number } | { kind: 'rate'; value: number; distribution: 'constant' | 'poisson' };

export interface LevelOptions {
  mode: LoadMode;
  windowMs: number;
  stabilityPct: number;
  maxWindows: number;
  /** Fixed-length level (ms): run this long, whatever the stability. */
  durationMs?: number;
  /** Fixed-size level: send exactly this many requests. */
  requests?: number;
  /** Rate mode: most requests outstanding; a send due beyond it is dropped (and counted). */
  maxInflight: number;
  /** Timeline bucket width (ms). */
  bucketMs: number;
  classes: number;
  tieTolerance: number | null;
  /** Prefix of this level's request ids (unique across levels). */
  tag: string;
  onWindow?: (w: WindowResult, verdict: { stable: boolean }) => void;
}

export interface WindowResult {
  index: number;
  /** Start, ms after the level began. */
  startMs: number;
  durationMs: number;
  completed: number;
  errors: number;
  /** Successful requests per second. */
  throughput: number;
  latency: LatencySummary;
}

export interface Outcomes {
  sent: number;
  succeeded: number;
  /** HTTP error answers by status code. */
  errorsByStatus: Record<string, number>;
  /** Error answers whose body was not the protocol's {"error": "..."}. */
  unclean: number;
  /** Distinct error messages (first 120 characters) with their counts, at most 10. */
  errorMessages: Record<string, number>;
  /** Sent, never answered: connection failures and client timeouts. */
  lost: { network: number; timeout: number };
  /** Rate mode: sends that were due while maxInflight requests were outstanding. */
  dropped: number;
  check: CheckCounts;
}

export interface LevelResult {
  mode: 'concurrency' | 'rate';
  /** Concurrency, or requests per second asked for. */
  value: number;
  stable: boolean;
  throughputSpread: number | null;
  latencySpread: number | null;
  windows: WindowResult[];
  /** Over the last three windows (perf_analyzer's figures). */
  measured: { requestsPerSecond: number; imagesPerSecond: number; latency: LatencySummary };
  /** Over every request of the level. */
  overall: { durationMs: number; requestsPerSecond: number; imagesPerSecond: number; latency: LatencySummary };
  outcomes: Outcomes;
  /** From /v2/models/{m}/stats before and after; null when the server has no statistics. */
  server: ServerSplit | null;
  /** Client latency not spent in the server (mean client latency − mean server request time), µs. */
  clientOverheadUs: number | null;
  /** Successful and failed completions per bucket, for recovery analysis. */
  timeline: { startEpochMs: number; bucketMs: number; ok: number[]; errors: number[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Exponential gap with mean 1/rate (Poisson arrivals). */
const poissonGap = (rate: number) => -Math.log(1 - Math.random()) / rate * 1000;

export async function runLevel(client: HttpClient, model: string, payloads: Payload[], o: LevelOptions): Promise<LevelResult> {
  const path = `/v2/models/${encodeURIComponent(model)}/infer`;
  const checker = new ResponseChecker(o.classes, o.tieTolerance);
  const out: Outcomes = { sent: 0, succeeded: 0, errorsByStatus: {}, unclean: 0, errorMessages: {}, lost: { network: 0, timeout: 0 }, dropped: 0, check: checker.counts };
  const imagesPer = payloads.reduce((s, p) => s + p.images, 0) / payloads.length;
  const before = await sampleStats(client, model);
  const t0 = performance.now();
  const startEpochMs = Date.now();
  const timeline = { startEpochMs, bucketMs: o.bucketMs, ok: [] as number[], errors: [] as number[] };
  const bump = (arr: number[], at: number) => {
    const b = Math.floor((at - t0) / o.bucketMs);
    while (arr.length <= b) arr.push(0);
    arr[b]!++;
  };
  let winLat: number[] = [];
  let winErrors = 0;
  const allLat: number[] = [];
  const windowLat: number[][] = [];
  let stopped = false;
  let seq = 0;
  const inflight = new Set<Promise<void>>();

  const outcome = async (n: number, scheduledAt: number) => {
    const p = payloads[n % payloads.length]!;
    const id = `${o.tag}-${n}`;
    const { body, headers } = requestBody(p, id);
    out.sent++;
    let ok = false;
    try {
      const r = await client.send('POST', path, body, headers);
      if (r.status === 200) {
        try {
          const d = decodeInferResponse(r, p.images, o.classes);
          checker.check(id, d.id, d.logits, p.expected, p.name);
          ok = true;
        } catch (e) {
          if (!(e instanceof MalformedResponse)) throw e;
          checker.malformed(`request ${id}: ${e.message}`);
        }
      } else {
        out.errorsByStatus[r.status] = (out.errorsByStatus[r.status] ?? 0) + 1;
        let message: string | null = null;
        try {
          const j = JSON.parse(r.body.toString('utf8')) as { error?: unknown };
          if (typeof j.error === 'string') message = j.error;
        } catch { /* counted as unclean below */ }
        if (message === null) out.unclean++;
        const key = `${r.status} ${(message ?? r.body.toString('utf8')).slice(0, 120)}`;
        if (key in out.errorMessages || Object.keys(out.errorMessages).length < 10) out.errorMessages[key] = (out.errorMessages[key] ?? 0) + 1;
      }
    } catch (e) {
      if (!(e instanceof NoAnswerError)) throw e;
      out.lost[e.kind]++;
    }
    const end = performance.now();
    if (ok) {
      out.succeeded++;
      const ms = end - scheduledAt;
      winLat.push(ms);
      allLat.push(ms);
      bump(timeline.ok, end);
    } else {
      winErrors++;
      bump(timeline.errors, end);
    }
  };

  const claim = () => !stopped && (o.requests === undefined || seq < o.requests);

  // Closed loop: each of N clients sends its next request as soon as the last is answered.
  const loops: Promise<void>[] = [];
  if (o.mode.kind === 'concurrency') {
    for (let i = 0; i < o.mode.value; i++) {
      loops.push((async () => {
        while (claim()) await outcome(seq++, performance.now());
      })());
    }
  } else {
    const { value: rate, distribution } = o.mode;
    loops.push((async () => {
      let due = performance.now();
      while (claim()) {
        const now = performance.now();
        if (due > now) {
          await sleep(Math.min(due - now, 10));
          continue;
        }
        if (inflight.size >= o.maxInflight) {
          out.dropped++;
        } else {
          const pr = outcome(seq++, due);
          inflight.add(pr);
          void pr.finally(() => inflight.delete(pr));
        }
        due += distribution === 'poisson' ? poissonGap(rate) : 1000 / rate;
      }
    })());
  }

  // Windows: close one every windowMs until the stop condition holds.
  const windows: WindowResult[] = [];
  let verdict: { stable: boolean; throughputSpread: number | null; latencySpread: number | null } = { stable: false, throughputSpread: null, latencySpread: null };
  let loopsDone = false;
  const loopsFinished = Promise.all(loops).then(() => { loopsDone = true; });
  let winStart = performance.now();
  for (;;) {
    const target = winStart + o.windowMs;
    while (performance.now() < target && !(o.requests !== undefined && loopsDone)) await Promise.race([sleep(Math.min(50, target - performance.now())), loopsFinished]);
    const now = performance.now();
    if (now < target) break; // the requests ran out mid-window: a partial window is not a measurement
    const lat = winLat, errs = winErrors;
    winLat = [];
    winErrors = 0;
    windowLat.push(lat);
    const w: WindowResult = {
      index: windows.length, startMs: Math.round(winStart - t0), durationMs: Math.round(now - winStart), completed: lat.length, errors: errs,
      throughput: r2(lat.length / ((now - winStart) / 1000)), latency: summarizeLatency(lat),
    };
    windows.push(w);
    winStart = now;
    verdict = stability(windows.map((x) => ({ throughput: x.throughput, p95: x.latency.p95Ms })), o.stabilityPct);
    o.onWindow?.(w, verdict);
    if (o.durationMs !== undefined) {
      if (now - t0 >= o.durationMs) break;
    } else if (o.requests === undefined && (verdict.stable || windows.length >= o.maxWindows)) {
      break;
    }
  }
  stopped = true;
  await loopsFinished;
  await Promise.all([...inflight]);
  const tEnd = performance.now();
  const after = before ? await sampleStats(client, model) : null;

  const lastLat = windowLat.slice(-3).flat();
  const lastWindows = windows.slice(-3);
  const lastSpan = lastWindows.reduce((s, w) => s + w.durationMs, 0) / 1000;
  const measuredRps = lastSpan > 0 ? lastLat.length / lastSpan : 0;
  const overallSpan = (tEnd - t0) / 1000;
  const latency = summarizeLatency(allLat);
  const server = before && after ? statsDelta(before, after) : null;
  return {
    mode: o.mode.kind, value: o.mode.value, stable: verdict.stable, throughputSpread: verdict.throughputSpread, latencySpread: verdict.latencySpread,
    windows,
    measured: { requestsPerSecond: r2(measuredRps), imagesPerSecond: r2(measuredRps * imagesPer), latency: summarizeLatency(lastLat) },
    overall: { durationMs: Math.round(tEnd - t0), requestsPerSecond: r2(out.succeeded / overallSpan), imagesPerSecond: r2((out.succeeded * imagesPer) / overallSpan), latency },
    outcomes: out, server,
    clientOverheadUs: server?.requestUs != null && latency.meanMs !== null ? Math.round(latency.meanMs * 1000 - server.requestUs) : null,
    timeline,
  };
}
