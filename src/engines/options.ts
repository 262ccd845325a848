/**
 * Engine settings, explicit and recorded with every result (a benchmark that does not say how the
 * session was configured cannot be reproduced).
 */
export interface EngineOptions {
  /** Execution provider: 'cpu' (default), 'webgpu', 'cuda', 'tensorrt'. */
  provider?: 'cpu' | 'webgpu' | 'cuda' | 'tensorrt';
  /** Intra-op threads; 0 = ORT default (one per physical core). */
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

export function resolveEngineOptions(o: EngineOptions = {}): Required<EngineOptions> {
  const r = { ...DEFAULT_ENGINE_OPTIONS };
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
