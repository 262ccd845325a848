/**
 * What the server knows: its options, the served models by name, whether it is draining, and the
 * metrics registry and monitor every route reports into. Routes are thin; the decisions live here.
 */
import { UserError } from '../errors.js';
import type { BatchingConfig } from './config.js';
import { resolveBatching } from './config.js';
import { notFound, badRequest, ServeError } from './errors.js';
import { ServeMetrics } from './metrics.js';
import { ServedModel, type ModelState } from './model.js';
import { InferenceMonitor } from './monitor.js';
import { checkModelName, listRepository, sourceFromRepository, sourceFromSpec, type ModelSource } from './repository.js';
import type { CreateSessionOptions } from '../engines/engine.js';

export interface ServeOptions {
  /** Model specs: fashion-vit, checkpoints, .onnx paths. */
  models?: string[];
  /** A Triton-layout model repository: every model in it is loaded at start. */
  modelRepository?: string;
  /** Interface to bind (default 127.0.0.1: reachable only from this machine). */
  host?: string;
  /** Port (default 8000, Triton's HTTP port; 0 = any free port). */
  port?: number;
  instances?: number;
  /** Intra-op thread budget per model, split across its instances (default: every core). */
  threads?: number;
  maxBatchSize?: number;
  preferredBatchSize?: number[];
  maxQueueDelayUs?: number;
  maxQueueSize?: number;
  /** Queue-wait timeout per request, ms (0 = none). */
  timeoutMs?: number;
  /** Status of a full queue: 429 (default) or 503 (Triton). */
  overloadStatus?: 429 | 503;
  /** Bearer token of the admin endpoints; without one they answer 403. */
  adminToken?: string;
  /** How long SIGTERM / drain() waits for in-flight work (default 30 s, Triton's --exit-timeout-secs). */
  drainTimeoutMs?: number;
  /** Largest request body (default 64 MiB). */
  bodyLimitBytes?: number;
  /** Monitor windows: last N requests (default 100) and last T seconds (default 60). */
  monitorLastN?: number;
  monitorWindowSeconds?: number;
  /**
   * Engine session options other than threads (graph optimization, arena, spinning …). The server
   * turns ONNX Runtime's intra-op spin-wait off unless asked: idle spinning threads take the cores
   * the HTTP event loop needs between runs (fashion-vit, one client, 2 shared cores, 2026-12-02:
   * p50 20.5 ms spinning vs 2.9-3.5 ms not).
   */
  session?: CreateSessionOptions;
  /** Restart back-off of crashed instances (ms by consecutive failure). */
  backoffMs?: number[];
  /** Fastify's request log (pino) on stdout. */
  logger?: boolean;
}

export interface IndexEntry {
  name: string;
  version?: string;
  state: ModelState;
  reason: string;
}

export class ServeState {
  readonly models = new Map<string, ServedModel>();
  /** Models known but not loaded (unloaded, or failed to load), with why. */
  readonly unavailable = new Map<string, string>();
  /** Specs of models given by name/path, so an unloaded one can be loaded again. */
  private readonly specs = new Map<string, string>();
  readonly metrics: ServeMetrics;
  readonly monitor: InferenceMonitor;
  draining = false;
  private loading = new Set<string>();

  constructor(readonly o: ServeOptions) {
    this.monitor = new InferenceMonitor({ lastN: o.monitorLastN, windowSeconds: o.monitorWindowSeconds });
    this.metrics = new ServeMetrics(() => [...this.models.values()].map((m) => ({
      model: m.name, version: m.version, pending: m.batcher.depth, healthy: m.pool.healthy,
    })));
  }

  /** The server flags' layer of every model's batching configuration. */
  private flagBatching(): Partial<BatchingConfig> {
    const o = this.o;
    return {
      max_batch_size: o.maxBatchSize, preferred_batch_size: o.preferredBatchSize, max_queue_delay_microseconds: o.maxQueueDelayUs,
      max_queue_size: o.maxQueueSize, default_timeout_microseconds: o.timeoutMs === undefined ? undefined : o.timeoutMs * 1000,
      instance_count: o.instances,
    };
  }

  /** Load every model of the command line and the repository (startup: any failure is fatal). */
  async loadAll(): Promise<void> {
    const sources: ModelSource[] = [];
    for (const spec of this.o.models ?? []) sources.push(await sourceFromSpec(spec));
    if (this.o.modelRepository) for (const name of await listRepository(this.o.modelRepository)) sources.push(await sourceFromRepository(this.o.modelRepository, name));
    if (sources.length === 0) throw new UserError('no model to serve: give model names/paths or --model-repository DIR');
    const seen = new Set<string>();
    for (const s of sources) {
      if (seen.has(s.name)) throw new UserError(`two models are named '${s.name}': give them distinct file names`);
      seen.add(s.name);
    }
    for (const [i, spec] of (this.o.models ?? []).entries()) this.specs.set(sources[i]!.name, spec);
    // One at a time: each warms with all the cores.
    for (const s of sources) await this.start(s);
  }

  private async start(s: ModelSource): Promise<ServedModel> {
    const batching = resolveBatching(s.origin, this.flagBatching(), s.config);
    const m = await ServedModel.load(s, batching, {
      batching, threads: this.o.threads, overloadStatus: this.o.overloadStatus ?? 429, session: { spinning: false, ...this.o.session },
      metrics: this.metrics, monitor: this.monitor, backoffMs: this.o.backoffMs,
    });
    this.models.set(s.name, m);
    this.unavailable.delete(s.name);
    return m;
  }

  /** A model by URL name and optional version: 400 for names that are not names, 404 for unknown ones. */
  lookup(name: string, version?: string): ServedModel {
    try {
      checkModelName(name);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    const m = this.models.get(name);
    if (!m) throw notFound(`Request for unknown model: '${name}' is not found`);
    if (version !== undefined && version !== m.version) throw notFound(`Request for unknown model: '${name}' version ${version} is not found`);
    return m;
  }

  /** Server ready: not draining, at least one model, every loaded model ready (Triton's strict readiness). */
  readiness(): { ready: boolean; reason: string } {
    if (this.draining) return { ready: false, reason: 'the server is shutting down' };
    if (this.models.size === 0) return { ready: false, reason: 'no model is loaded' };
    const notReady = [...this.models.values()].filter((m) => !m.ready);
    if (notReady.length) return { ready: false, reason: `not ready: ${notReady.map((m) => `${m.name} (${m.pool.healthy} healthy workers)`).join(', ')}` };
    return { ready: true, reason: '' };
  }

  /** Repository index (Triton model_repository extension). */
  async index(): Promise<IndexEntry[]> {
    const out = new Map<string, IndexEntry>();
    if (this.o.modelRepository) {
      for (const name of await listRepository(this.o.modelRepository)) out.set(name, { name, state: 'UNAVAILABLE', reason: 'unloaded' });
    }
    for (const [name, reason] of this.unavailable) out.set(name, { name, state: 'UNAVAILABLE', reason });
    for (const name of this.loading) out.set(name, { name, state: 'LOADING', reason: '' });
    for (const m of this.models.values()) {
      out.set(m.name, { name: m.name, version: m.version, state: m.state === 'READY' && !m.ready ? 'UNAVAILABLE' : m.state,
        reason: m.state === 'READY' && !m.ready ? 'no healthy worker (restarting)' : m.reason });
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Load (or reload) a model: from the repository, or a model first given on the command line. */
  async load(name: string): Promise<void> {
    try {
      checkModelName(name);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    if (this.draining) throw new ServeError(503, 'the server is shutting down');
    if (this.loading.has(name)) throw new ServeError(409, `model '${name}' is already loading`);
    let source: ModelSource;
    const spec = this.specs.get(name);
    this.loading.add(name);
    try {
      if (spec) source = await sourceFromSpec(spec);
      else if (this.o.modelRepository) source = await sourceFromRepository(this.o.modelRepository, name);
      else throw notFound(`model '${name}' is not in the model repository`);
      const old = this.models.get(name);
      if (old) {
        this.models.delete(name);
        await old.unload('reloaded', this.o.drainTimeoutMs);
      }
      await this.start(source);
    } catch (e) {
      if (e instanceof ServeError) throw e;
      this.unavailable.set(name, `load failed: ${(e as Error).message.split('\n')[0]}`);
      throw new ServeError(e instanceof UserError ? 400 : 500, `failed to load '${name}': ${(e as Error).message.split('\n')[0]}`);
    } finally {
      this.loading.delete(name);
    }
  }

  async unload(name: string): Promise<void> {
    const m = this.lookup(name);
    this.models.delete(name);
    this.unavailable.set(name, 'unloaded');
    await m.unload('unloaded', this.o.drainTimeoutMs);
  }

  /** Wait for every model's queued and running requests, up to the timeout. */
  async settle(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    const results = await Promise.all([...this.models.values()].map((m) => m.settle(Math.max(0, end - performance.now()))));
    return results.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => m.unload('shut down', 0)));
    this.models.clear();
  }
}
