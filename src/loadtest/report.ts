/** The load test report as text (a Markdown table, like perf_analyzer's summary) and as perf_analyzer's CSV. */
import { fmt, table } from '../bench/report.js';
import type { LevelResult } from './level.js';
import type { LoadtestReport } from './loadtest.js';

const ms = (x: number | null) => (x === null ? '—' : fmt(x));
const us = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${Math.round(x)}`);

function errorsText(l: LevelResult): string {
  const parts = Object.entries(l.outcomes.errorsByStatus).map(([s, n]) => `${n}×${s}`);
  const lost = l.outcomes.lost.network + l.outcomes.lost.timeout;
  if (lost) parts.push(`${lost} lost`);
  if (l.outcomes.dropped) parts.push(`${l.outcomes.dropped} dropped`);
  if (l.outcomes.check.malformed) parts.push(`${l.outcomes.check.malformed} malformed`);
  return parts.join(', ') || '0';
}

export function levelName(l: LevelResult): string {
  return l.mode === 'concurrency' ? `c=${l.value}` : `${l.value}/s`;
}

export function renderText(r: LoadtestReport): string {
  const lines: string[] = [];
  lines.push(`vitopt loadtest — ${r.model} at ${r.url}`);
  lines.push(`${r.workload.distinctPayloads} distinct requests of ${r.workload.batchSize} image(s) from ${r.workload.source}, ` +
    `${r.workload.input === 'bytes' ? 'encoded images (BYTES)' : 'FP32 pixels'} as ${r.workload.format === 'binary' ? 'binary tensor data' : 'JSON'}; ` +
    `windows of ${r.settings.windowMs} ms, stable when the last 3 agree within ${r.settings.stabilityPct}% (throughput and p95)`);
  if (r.reference) {
    lines.push(`answers checked against a reference pass (${r.reference.images} images at concurrency 1` +
      `${r.reference.agreementWithLabels !== null ? `; it agrees with the dataset labels for ${(100 * r.reference.agreementWithLabels).toFixed(1)}%` : ''})`);
  } else if (r.expect === 'labels') {
    lines.push('answers checked against the dataset labels');
  } else {
    lines.push('answers not checked (--expect none)');
  }
  lines.push('');
  const rows = r.levels.map((l) => [
    levelName(l), l.stable ? 'yes' : 'unstable', fmt(l.measured.requestsPerSecond), fmt(l.measured.imagesPerSecond),
    ms(l.measured.latency.p50Ms), ms(l.measured.latency.p90Ms), ms(l.measured.latency.p95Ms), ms(l.measured.latency.p99Ms),
    l.server?.avgBatchSize != null ? fmt(l.server.avgBatchSize) : '—', us(l.server?.queueUs), us(l.server?.computeInferUs),
    `${l.outcomes.sent}`, errorsText(l), `${l.outcomes.check.mismatched}${l.outcomes.check.ties ? ` (+${l.outcomes.check.ties} ties)` : ''}`,
  ]);
  lines.push(table(['load', 'stable', 'req/s', 'img/s', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'server batch', 'queue µs', 'compute µs', 'sent', 'errors', 'mismatched'],
    rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])));
  const t = r.totals;
  lines.push('');
  lines.push(`totals: ${t.sent} sent, ${t.succeeded} succeeded, ${t.failed} HTTP errors, ${t.lost} lost, ${t.malformed} malformed, ` +
    `${t.mismatched} mismatched, ${t.misrouted} misrouted, ${t.duplicates} duplicated, ${t.unaccounted} unaccounted`);
  for (const l of r.levels) {
    for (const [m, n] of Object.entries(l.outcomes.errorMessages)) lines.push(`  ${levelName(l)}: ${n}× ${m}`);
    for (const e of l.outcomes.check.examples) lines.push(`  ${levelName(l)}: ${e}`);
  }
  return lines.join('\n');
}

/**
 * perf_analyzer's `-f` CSV columns (µs), then ours. Client Send / Client Recv are not measured apart
 * from the wait: they are 0 and that time is inside "Network+Server Send/Recv" (client latency minus
 * the server's queue and compute).
 */
export function renderCsv(r: LoadtestReport): string {
  const head = [r.levels[0]?.mode === 'rate' ? 'Request Rate' : 'Concurrency', 'Inferences/Second', 'Client Send', 'Network+Server Send/Recv',
    'Server Queue', 'Server Compute Input', 'Server Compute Infer', 'Server Compute Output', 'Client Recv',
    'p50 latency', 'p90 latency', 'p95 latency', 'p99 latency', 'Avg latency', 'Requests/Second', 'Stable', 'Sent', 'Failed', 'Lost', 'Mismatched'];
  const rows = r.levels.map((l) => {
    const m = l.measured.latency;
    const u = (x: number | null) => (x === null ? '' : String(Math.round(x * 1000)));
    const s = l.server;
    const serverUs = (s?.queueUs ?? 0) + (s?.computeInputUs ?? 0) + (s?.computeInferUs ?? 0) + (s?.computeOutputUs ?? 0);
    const network = m.meanMs === null ? '' : String(Math.max(0, Math.round(m.meanMs * 1000 - serverUs)));
    const failed = Object.values(l.outcomes.errorsByStatus).reduce((a, b) => a + b, 0);
    return [l.value, l.measured.imagesPerSecond, 0, network, s?.queueUs ?? '', s?.computeInputUs ?? '', s?.computeInferUs ?? '', s?.computeOutputUs ?? '', 0,
      u(m.p50Ms), u(m.p90Ms), u(m.p95Ms), u(m.p99Ms), u(m.meanMs), l.measured.requestsPerSecond, l.stable ? 1 : 0, l.outcomes.sent, failed,
      l.outcomes.lost.network + l.outcomes.lost.timeout, l.outcomes.check.mismatched].map(String);
  });
  return [head, ...rows].map((r) => r.join(',')).join('\n') + '\n';
}
