/**
 * Where a model's time goes, op type by op type, from ONNX Runtime's own profiler.
 *
 * The session is created with profiling on; after `warmup` untimed runs and `runs` profiled runs the
 * trace (Chrome trace-event JSON: one "Node" event per kernel, one "Session" `model_run` event per
 * run) is read back and every kernel event inside the last `runs` model_run windows is summed by its
 * op type. The profile describes the graph ORT really ran, after its own optimizations (fusions it
 * applied show up as their fused op types), which is why graph choices are made from it.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from '../engines/runtime.js';
import { sessionOptions } from '../engines/ort-node.js';
import { createSession, type ModelInput } from '../engines/model-source.js';
import type { EngineOptions } from '../engines/options.js';
import { benchInput } from './input.js';
import { percentile } from './stats.js';

export interface OpTypeTime {
  opType: string;
  /** Kernel nodes of this type in the optimized graph. */
  nodes: number;
  /** Mean milliseconds per run spent in kernels of this type. */
  ms: number;
  /** Share of the summed kernel time. */
  share: number;
}

export interface OpProfile {
  batch: number;
  runs: number;
  threads: number;
  /** Median wall time of a profiled run (model_run event), ms. */
  runMs: number;
  /** Summed kernel time per run, ms (below runMs: the gap is the executor's own overhead). */
  kernelMs: number;
  byOpType: OpTypeTime[];
  /** The slowest single nodes (name, op type, mean ms per run). */
  topNodes: { name: string; opType: string; ms: number }[];
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; provider?: string };
}

export interface ProfileOptions {
  batch?: number;
  runs?: number;
  warmup?: number;
  engine?: EngineOptions;
  top?: number;
}

/** Profile a model (path or bytes) with input `[batch, ...inputDims]` of its first input. */
export async function profileModel(model: ModelInput, inputDims: readonly number[], o: ProfileOptions = {}): Promise<OpProfile> {
  const batch = o.batch ?? 1, runs = o.runs ?? 10, warmup = o.warmup ?? 3;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitopt-profile-'));
  try {
    const session = await createSession(model, {
      ...sessionOptions(o.engine ?? {}), enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
    });
    const data = benchInput(batch, inputDims);
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [batch, ...inputDims]) };
    for (let i = 0; i < warmup + runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = (await fs.readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const events = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as TraceEvent[];
    return summarizeTrace(events, { batch, runs, threads: o.engine?.threads ?? 0, top: o.top ?? 10 });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Aggregate a trace's kernel events over its last `runs` model_run windows. Exported for tests. */
export function summarizeTrace(events: TraceEvent[], o: { batch: number; runs: number; threads: number; top: number }): OpProfile {
  const windows = events.filter((e) => e.cat === 'Session' && e.name === 'model_run' && e.ts !== undefined && e.dur !== undefined)
    .sort((a, b) => a.ts! - b.ts!).slice(-o.runs);
  if (windows.length === 0) throw new Error('the profile has no model_run events');
  const inWindow = (ts: number) => windows.some((w) => ts >= w.ts! && ts <= w.ts! + w.dur!);
  const byType = new Map<string, { us: number; nodes: Set<string> }>();
  const byNode = new Map<string, { opType: string; us: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts === undefined || !inWindow(e.ts)) continue;
    const opType = e.args?.op_name ?? '?';
    const node = e.name.slice(0, -'_kernel_time'.length);
    const t = byType.get(opType) ?? { us: 0, nodes: new Set<string>() };
    t.us += e.dur ?? 0;
    t.nodes.add(node);
    byType.set(opType, t);
    const n = byNode.get(node) ?? { opType, us: 0 };
    n.us += e.dur ?? 0;
    byNode.set(node, n);
    total += e.dur ?? 0;
  }
  const n = windows.length;
  const byOpType = [...byType].map(([opType, t]) => ({ opType, nodes: t.nodes.size, ms: t.us / n / 1000, share: total ? t.us / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
  const topNodes = [...byNode].map(([name, v]) => ({ name, opType: v.opType, ms: v.us / n / 1000 }))
    .sort((a, b) => b.ms - a.ms).slice(0, o.top);
  return {
    batch: o.batch, runs: n, threads: o.threads,
    runMs: percentile(windows.map((w) => w.dur! / 1000).sort((a, b) => a - b), 50),
    kernelMs: total / n / 1000, byOpType, topNodes,
  };
}

/** Markdown table of the per-op-type times. */
export function renderProfile(p: OpProfile, title: string): string {
  const lines = [
    `### ${title}`, '',
    `batch ${p.batch}, ${p.runs} profiled runs, ${p.threads || 'default'} threads: median run ${p.runMs.toFixed(1)} ms, kernels ${p.kernelMs.toFixed(1)} ms per run`, '',
    '| op type | nodes | ms per run | share |', '|---|---:|---:|---:|',
    ...p.byOpType.map((t) => `| ${t.opType} | ${t.nodes} | ${t.ms.toFixed(2)} | ${(100 * t.share).toFixed(1)}% |`),
  ];
  return lines.join('\n');
}
