/**
 * `runLoadtest`: connect, learn the model from the server, build the request pool, take the reference
 * answers, then run each load level in turn (level.ts) and return one report object — the same object
 * `vitopt loadtest --json` prints.
 */
import { cpus } from 'node:os';
import { UserError } from '../errors.js';
import { HttpClient, NoAnswerError } from './http-client.js';
import { fetchModelInfo, fetchModelLabels, type ModelInfo } from './model-info.js';
import { buildWorkload, requestBody, type InputKind, type WireFormat, type Workload } from './workload.js';
import { decodeInferResponse, argmax } from './response.js';
import { runLevel, type LevelResult, type LoadMode, type WindowResult } from './level.js';
import { DEFAULT_STABILITY_PCT } from './stability.js';

export type ExpectMode = 'reference' | 'labels' | 'none';

export interface LoadtestOptions {
  url: string;
  model?: string;
  /** Concurrency levels (closed loop) … */
  concurrency?: number[];
  /** … or request rates per second (open loop). */
  rate?: number[];
  distribution?: 'constant' | 'poisson';
  windowMs?: number;
  stabilityPct?: number;
  maxWindows?: number;
  durationS?: number;
  requests?: number;
  images?: string;
  input?: InputKind;
  format?: WireFormat;
  batchSize?: number;
  limit?: number;
  expect?: ExpectMode;
  tieTolerance?: number;
  requestTimeoutMs?: number;
  maxInflight?: number;
  bucketMs?: number;
  onProgress?: (line: string) => void;
}

export interface LoadtestReport {
  tool: 'vitopt loadtest';
  date: string;
  url: string;
  model: string;
  machine: { cpu: string; cores: number };
  workload: { source: string; input: InputKind; format: WireFormat; batchSize: number; distinctPayloads: number; images: number; labelled: boolean; labelMatch?: string };
  expect: ExpectMode;
  /** The reference pass: the server's answers at concurrency 1 that later answers must repeat. */
  reference: { images: number; agreementWithLabels: number | null } | null;
  settings: { windowMs: number; stabilityPct: number; maxWindows: number; durationS: number | null; requests: number | null; requestTimeoutMs: number };
  levels: LevelResult[];
  /** Sums over the levels: the soak's headline. */
  totals: { sent: number; succeeded: number; failed: number; lost: number; mismatched: number; misrouted: number; duplicates: number; malformed: number; unaccounted: number };
}

export const DEFAULT_WINDOW_MS = 5000;
export const DEFAULT_MAX_WINDOWS = 10;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_TIE_TOLERANCE = 1e-3;

async function connect(client: HttpClient, url: string): Promise<void> {
  let r;
  try {
    r = await client.send('GET', '/v2/health/ready');
  } catch (e) {
    throw new UserError(`${url}: cannot reach the server (${(e as Error).message})`);
  }
  if (r.status !== 200) throw new UserError(`${url}: the server is not ready (GET /v2/health/ready answered ${r.status})`);
}

async function chooseModel(client: HttpClient, url: string, model: string | undefined): Promise<string> {
  if (model) return model;
  const { status, json } = await client.getJson<{ models?: { name: string }[] }>('/v2/models');
  const names = status === 200 ? (json.models ?? []).map((m) => m.name) : [];
  if (names.length === 1) return names[0]!;
  throw new UserError(`--model: required (${url} serves ${names.length ? names.join(', ') : 'no model list'})`);
}

/** Send every payload once, one at a time, and take the server's top-1 answers as the expected ones. */
async function referencePass(client: HttpClient, info: ModelInfo, w: Workload): Promise<{ images: number; agreementWithLabels: number | null }> {
  const path = `/v2/models/${encodeURIComponent(info.name)}/infer`;
  let images = 0, labelled = 0, agree = 0;
  for (const [k, p] of w.payloads.entries()) {
    const { body, headers } = requestBody(p, `reference-${k}`);
    let r;
    try {
      r = await client.send('POST', path, body, headers);
    } catch (e) {
      throw new Error(`reference pass: ${p.name}: no answer (${e instanceof NoAnswerError ? e.message : String(e)})`);
    }
    if (r.status !== 200) throw new UserError(`reference pass: ${p.name}: the server answered ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`);
    const d = decodeInferResponse(r, p.images, info.classes);
    for (let i = 0; i < p.images; i++) {
      p.expected[i] = argmax(d.logits, i * info.classes, info.classes);
      images++;
      if (p.labels[i]! >= 0) {
        labelled++;
        if (p.labels[i] === p.expected[i]) agree++;
      }
    }
  }
  return { images, agreementWithLabels: labelled ? Math.round((agree / labelled) * 10000) / 10000 : null };
}

export async function runLoadtest(o: LoadtestOptions): Promise<LoadtestReport> {
  if (!/^https?:\/\//.test(o.url)) throw new UserError(`${o.url}: expected the server's URL, e.g. http://127.0.0.1:8000`);
  if (o.url.startsWith('https:')) throw new UserError(`${o.url}: https is not supported; put the load generator beside the server`);
  if (o.concurrency && o.rate) throw new UserError('--concurrency and --rate: give one or the other');
  const modes: LoadMode[] = o.rate
    ? o.rate.map((value) => ({ kind: 'rate' as const, value, distribution: o.distribution ?? 'constant' }))
    : (o.concurrency ?? [1]).map((value) => ({ kind: 'concurrency' as const, value }));
  const maxInflight = o.maxInflight ?? 1024;
  const sockets = Math.max(...modes.map((m) => (m.kind === 'concurrency' ? m.value : maxInflight)));
  const timeoutMs = o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const client = new HttpClient(o.url, { sockets, timeoutMs });
  const say = o.onProgress ?? (() => {});
  try {
    await connect(client, o.url);
    const model = await chooseModel(client, o.url, o.model);
    const info = await fetchModelInfo(client, model);
    const labels = o.images !== undefined ? await fetchModelLabels(client, info) : null;
    const batchSize = o.batchSize ?? 1;
    const workload = await buildWorkload(info, { images: o.images, input: o.input, format: o.format ?? 'binary', batchSize, limit: o.limit }, labels);
    const expect = o.expect ?? 'reference';
    if (expect === 'labels' && !workload.labelled) throw new UserError('--expect labels: needs labelled --images (a dataset such as fashion-mnist-subset or <dir>/<class>/*.png)');
    let reference: LoadtestReport['reference'] = null;
    if (expect === 'reference') {
      say(`reference pass: ${workload.payloads.length} requests at concurrency 1`);
      reference = await referencePass(client, info, workload);
      if (reference.agreementWithLabels !== null) say(`reference answers agree with the labels for ${(reference.agreementWithLabels * 100).toFixed(1)}% of images`);
    } else if (expect === 'labels') {
      for (const p of workload.payloads) p.expected.set(p.labels);
    }
    const levels: LevelResult[] = [];
    for (const [i, mode] of modes.entries()) {
      const name = mode.kind === 'concurrency' ? `concurrency ${mode.value}` : `rate ${mode.value}/s`;
      say(`${name}: measuring`);
      const r = await runLevel(client, info.name, workload.payloads, {
        mode, windowMs: o.windowMs ?? DEFAULT_WINDOW_MS, stabilityPct: o.stabilityPct ?? DEFAULT_STABILITY_PCT, maxWindows: o.maxWindows ?? DEFAULT_MAX_WINDOWS,
        durationMs: o.durationS !== undefined ? o.durationS * 1000 : undefined, requests: o.requests, maxInflight, bucketMs: o.bucketMs ?? 250,
        classes: info.classes, tieTolerance: expect === 'reference' ? o.tieTolerance ?? DEFAULT_TIE_TOLERANCE : null, tag: `L${i}`,
        onWindow: (w: WindowResult, v) => say(`${name}: window ${w.index + 1}: ${w.throughput.toFixed(1)} req/s, p95 ${w.latency.p95Ms ?? '—'} ms` +
          `${w.errors ? `, ${w.errors} errors` : ''}${v.stable ? ' (stable)' : ''}`),
      });
      say(`${name}: ${r.stable ? 'stable' : 'unstable'}; ${r.measured.requestsPerSecond} req/s, p50 ${r.measured.latency.p50Ms ?? '—'} ms, p95 ${r.measured.latency.p95Ms ?? '—'} ms`);
      levels.push(r);
    }
    const sum = (f: (l: LevelResult) => number) => levels.reduce((s, l) => s + f(l), 0);
    const failedHttp = sum((l) => Object.values(l.outcomes.errorsByStatus).reduce((a, b) => a + b, 0));
    const lost = sum((l) => l.outcomes.lost.network + l.outcomes.lost.timeout);
    const malformed = sum((l) => l.outcomes.check.malformed);
    const sent = sum((l) => l.outcomes.sent), succeeded = sum((l) => l.outcomes.succeeded);
    return {
      tool: 'vitopt loadtest', date: new Date().toISOString(), url: o.url, model: info.name,
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
      workload: { source: workload.source, input: workload.input, format: workload.format, batchSize, distinctPayloads: workload.payloads.length,
        images: workload.payloads.reduce((s, p) => s + p.images, 0), labelled: workload.labelled, labelMatch: workload.labelMatch },
      expect, reference,
      settings: { windowMs: o.windowMs ?? DEFAULT_WINDOW_MS, stabilityPct: o.stabilityPct ?? DEFAULT_STABILITY_PCT, maxWindows: o.maxWindows ?? DEFAULT_MAX_WINDOWS,
        durationS: o.durationS ?? null, requests: o.requests ?? null, requestTimeoutMs: timeoutMs },
      levels,
      totals: {
        sent, succeeded, failed: failedHttp, lost, malformed,
        mismatched: sum((l) => l.outcomes.check.mismatched), misrouted: sum((l) => l.outcomes.check.misrouted), duplicates: sum((l) => l.outcomes.check.duplicates),
        // Every request sent ends in exactly one of: success, HTTP error, malformed answer, no answer.
        unaccounted: sent - succeeded - failedHttp - lost - malformed,
      },
    };
  } finally {
    client.close();
  }
}
