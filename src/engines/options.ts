import { availableParallelism, cpus } from 'node:os';

/**
 * Engine settings, explicit and recorded with every result (a benchmark that does not say how the
 * session was configured cannot be reproduced).
 */
export interface EngineOptions {
  /** Execution provider: 'cpu' (default), 'webgpu', 'cuda', 'tensorrt'. */
  provider?: 'cpu' | 'webgpu' | 'cuda' | 'tensorrt';
  /** Intra-op threads; 0 = ORT default (one per physical core), capped at the CPUs this process may use. */
  threads?: number;
  interOpThreads?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** CPU memory arena (default on). Off lowers retained memory, costs some speed. */
  arena?: boolean;
  memPattern?: boolean;
  /** Spin-wait of idle intra-op threads (default on in ORT); off saves CPU when processes share cores. */
  spinning?: boolean;
  executionMode?: 'sequential' | 'parallel';
}

export const DEFAULT_ENGINE_OPTIONS: Required<EngineOptions> = {
  provider: 'cpu',
  threads: 0,
  interOpThreads: 1,
  graphOptimization: 'all',
  arena: true,
  memPattern: true,
  spinning: true,
  executionMode: 'sequential',
};

/**
 * ORT's default intra-op pool has one thread per physical core of the machine, whatever CPUs the
 * process is allowed to run on (taskset, cpusets of containers). Restricted to fewer CPUs, it
 * oversubscribes them: ViT-B/32 at batch 1 under `taskset -c 1` took 300 ms a run with the default
 * pool against 171 ms with one thread (2026-11-29, this VM). So when the affinity mask holds fewer
 * CPUs than the machine, "default" means one thread per allowed CPU.
 */
export function defaultThreads(allowed = availableParallelism(), machine = cpus().length): number {
  return allowed < machine ? allowed : 0;
}

export function resolveEngineOptions(o: EngineOptions = {}): Required<EngineOptions> {
  const r = { ...DEFAULT_ENGINE_OPTIONS };
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  if (r.threads === 0) r.threads = defaultThreads();
  return r;
}
