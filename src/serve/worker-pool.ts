/**
 * N instances of one model, each an ONNX Runtime session in its own worker thread (`WorkerSession`),
 * so inference never blocks the HTTP event loop. The pool hands out idle instances to the batcher,
 * warms every batch size on each new session before calling it healthy (ORT's first run at a new
 * shape is slow), and restarts an instance whose thread dies, with back-off, counting restarts.
 *
 * A crash fails only the batch that instance was running (the caller gets WorkerCrashError and
 * answers 503); other instances keep serving.
 */
import { EventEmitter } from 'node:events';
import { WorkerSession } from '../engines/worker.js';
import type { CreateSessionOptions, EngineName, RunOutput } from '../engines/engine.js';

export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
}

/** Delays before restarting a crashed instance, by consecutive failure (TorchServe backs off similarly, in seconds). */
export const RESTART_BACKOFF_MS = [100, 500, 1000, 2000, 5000, 10_000, 30_000];

export interface PoolOptions {
  instances: number;
  engine?: EngineName;
  session: CreateSessionOptions;
  /** Per-image input dims [3, H, W]. */
  imageDims: number[];
  /** Batch sizes run once on every new session before it serves. */
  warmBatches: number[];
  label: string;
  backoffMs?: number[];
}

type State = 'starting' | 'healthy' | 'dead' | 'closed';

export class Instance {
  session: WorkerSession | null = null;
  state: State = 'starting';
  busy = false;
  failures = 0;
  restarts = 0;
  lastError: string | null = null;
  /** While a batch runs: settles when the worker answers, and a way to fail the batch now. */
  current: Promise<void> | null = null;
  abort: ((e: Error) => void) | null = null;
  constructor(readonly index: number) {}
}

export class WorkerPool extends EventEmitter {
  readonly instances: Instance[];
  private timers = new Set<NodeJS.Timeout>();
  inputName = 'pixels';
  outputName = 'logits';
  /** Restarts since the pool started, all instances. */
  restarts = 0;

  constructor(private readonly model: string | Uint8Array, private readonly o: PoolOptions) {
    super();
    this.instances = Array.from({ length: o.instances }, (_, i) => new Instance(i));
  }

  /** Start every instance; resolves when all are healthy (fails if any cannot start). */
  async start(): Promise<void> {
    await Promise.all(this.instances.map((inst) => this.spawn(inst)));
  }

  get healthy(): number {
    return this.instances.filter((i) => i.state === 'healthy').length;
  }

  /** Instances that are starting or waiting to restart: work queued now may still be served. */
  get recovering(): number {
    return this.instances.filter((i) => i.state === 'starting' || i.state === 'dead').length;
  }

  idle(): Instance | undefined {
    return this.instances.find((i) => i.state === 'healthy' && !i.busy);
  }

  private async spawn(inst: Instance): Promise<void> {
    inst.state = 'starting';
    const s = await WorkerSession.create(this.o.engine ?? 'cpu', this.model, this.o.session, this.o.label);
    try {
      const per = this.o.imageDims.reduce((a, d) => a * d, 1);
      // Values do not matter to warm-up (shapes do): zeros.
      for (const b of this.o.warmBatches) await s.run({ data: new Float32Array(b * per), dims: [b, ...this.o.imageDims] });
    } catch (e) {
      await s.release().catch(() => {});
      throw e;
    }
    if ((inst.state as State) === 'closed') {
      await s.release();
      return;
    }
    this.inputName = s.inputName;
    this.outputName = s.outputName;
    inst.session = s;
    inst.state = 'healthy';
    inst.busy = false;
    s.thread.once('exit', (code) => this.onExit(inst, s, `worker thread exited (code ${code})`));
    this.emit('change');
  }

  private onExit(inst: Instance, s: WorkerSession, why: string): void {
    if (inst.session !== s || inst.state === 'closed') return;
    inst.session = null;
    inst.state = 'dead';
    inst.busy = false;
    inst.lastError = why;
    inst.abort?.(new WorkerCrashError(`worker instance ${inst.index} crashed while running this batch (${why}); it is being restarted`));
    this.emit('crash', inst.index, why);
    this.emit('change');
    this.scheduleRestart(inst);
  }

  private scheduleRestart(inst: Instance): void {
    const backoff = this.o.backoffMs ?? RESTART_BACKOFF_MS;
    const delay = backoff[Math.min(inst.failures, backoff.length - 1)]!;
    inst.failures++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (inst.state === 'closed') return;
      this.spawn(inst).then(() => {
        inst.restarts++;
        this.restarts++;
        this.emit('restart', inst.index);
      }, (e: Error) => {
        if (inst.state === 'closed') return;
        inst.state = 'dead';
        inst.lastError = `restart failed: ${e.message.split('\n')[0]}`;
        this.emit('change');
        this.scheduleRestart(inst);
      });
    }, delay);
    this.timers.add(t);
  }

  /** Run one batch on an idle instance (the caller took it from idle()). */
  async run(inst: Instance, data: Float32Array, dims: number[]): Promise<RunOutput> {
    const s = inst.session;
    if (!s || inst.state !== 'healthy') throw new WorkerCrashError(`instance ${inst.index} is not healthy`);
    inst.busy = true;
    const run = s.run({ data, dims });
    inst.current = run.then(() => {}, () => {});
    const aborted = new Promise<never>((_, reject) => {
      inst.abort = reject;
    });
    try {
      const out = await Promise.race([run, aborted]);
      inst.failures = 0;
      return out;
    } catch (e) {
      if (e instanceof WorkerCrashError) throw e;
      if (inst.session !== s || inst.state !== 'healthy') {
        throw new WorkerCrashError(`worker instance ${inst.index} crashed while running this batch (${inst.lastError ?? (e as Error).message}); it is being restarted`);
      }
      throw e;
    } finally {
      inst.abort = null;
      inst.current = null;
      if (inst.session === s) inst.busy = false;
      this.emit('change');
    }
  }

  /**
   * Kill an instance as a crash would (chaos testing; admin-only over HTTP). An idle thread is
   * terminated, and the pool sees it exit like any dead thread. A busy one cannot be: terminating a
   * thread while ONNX Runtime is inside run() aborts the whole process (onnxruntime-node's binding
   * fails fatally when its isolate is terminating; seen with 1.30). So a busy instance is declared
   * dead at once (its batch fails with 503, a restart is scheduled) and its thread is terminated as
   * soon as the native run has returned.
   */
  kill(index: number): boolean {
    const inst = this.instances[index];
    const s = inst?.session;
    if (!inst || !s) return false;
    const thread = s.thread;
    if (inst.current) {
      const current = inst.current;
      this.onExit(inst, s, 'killed');
      void current.then(() => thread.terminate());
    } else {
      void thread.terminate();
    }
    return true;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.instances.map(async (inst) => {
      const s = inst.session;
      inst.state = 'closed';
      inst.session = null;
      if (s) await s.release().catch(() => {});
    }));
  }
}
