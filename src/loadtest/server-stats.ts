/**
 * The server's own view of a load level, as perf_analyzer reads it: two samples of Triton's statistics
 * extension (GET /v2/models/{m}/stats, cumulative {count, ns} totals) taken before and after the level;
 * their difference gives the requests the server answered, its average batch size and how a request's
 * time split between waiting in the queue and computing.
 */
import type { HttpClient } from './http-client.js';

interface DurationStat { count: number; ns: number }
interface ModelStatsJson {
  inference_count: number;
  execution_count: number;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', DurationStat>;
}

export type StatsSample = ModelStatsJson;

export interface ServerSplit {
  /** Successful requests the server counted during the level. */
  successes: number;
  failures: number;
  inferenceCount: number;
  executionCount: number;
  avgBatchSize: number | null;
  /** Averages per successful request, µs. */
  requestUs: number | null;
  queueUs: number | null;
  computeInputUs: number | null;
  computeInferUs: number | null;
  computeOutputUs: number | null;
}

export async function sampleStats(client: HttpClient, model: string): Promise<StatsSample | null> {
  try {
    const { status, json } = await client.getJson<{ model_stats?: ModelStatsJson[] }>(`/v2/models/${encodeURIComponent(model)}/stats`);
    return status === 200 && json.model_stats?.[0]?.inference_stats ? json.model_stats[0] : null;
  } catch {
    return null; // a server without the statistics extension: the report says so
  }
}

export function statsDelta(a: StatsSample, b: StatsSample): ServerSplit {
  const d = (k: keyof ModelStatsJson['inference_stats']) => ({
    count: b.inference_stats[k].count - a.inference_stats[k].count, ns: b.inference_stats[k].ns - a.inference_stats[k].ns,
  });
  const success = d('success');
  const per = (s: DurationStat) => (s.count > 0 ? Math.round(s.ns / s.count / 100) / 10 : null);
  const inferenceCount = b.inference_count - a.inference_count;
  const executionCount = b.execution_count - a.execution_count;
  return {
    successes: success.count, failures: d('fail').count, inferenceCount, executionCount,
    avgBatchSize: executionCount > 0 ? Math.round((inferenceCount / executionCount) * 100) / 100 : null,
    requestUs: per(success), queueUs: per(d('queue')), computeInputUs: per(d('compute_input')),
    computeInferUs: per(d('compute_infer')), computeOutputUs: per(d('compute_output')),
  };
}
