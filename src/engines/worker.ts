/**
 * Sessions hosted in worker threads. `run` of onnxruntime-node is synchronous native work on the
 * calling thread, so a session run on the main thread blocks its event loop (timers, sockets,
 * progress) for the whole inference. A `WorkerSession` owns one engine session inside a
 * `worker_threads` Worker: `run` posts the input and awaits the answer, and the caller's event loop
 * stays free. Several WorkerSessions run concurrently (one session per worker, each with its own
 * intra-op threads: keep workers × threads ≤ cores).
 *
 * Inputs are copied to the worker (structured clone); a SharedArrayBuffer view crosses without a copy.
 * Outputs (logits) come back copied.
 */
import { Worker } from 'node:worker_threads';
import type { CreateSessionOptions, EngineName, EngineSession, Pixels, RunOutput, SessionSettings } from './engine.js';
import { EngineUnavailableError } from './engine.js';
import { FileError, UserError } from '../errors.js';

/** Messages between the main thread and the worker (worker-entry.ts). */
export type ToWorker =
  | { type: 'create'; engine: EngineName; model: string | Uint8Array; options: CreateSessionOptions; label?: string }
  | { type: 'run'; id: number; data: Float32Array; dims: number[] }
  | { type: 'release' };

export type FromWorker =
  | { type: 'created'; settings: SessionSettings; inputName: string; outputName: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id?: number; kind: 'engine' | 'file' | 'user' | 'internal'; message: string; engine?: EngineName; reason?: string; file?: string; problem?: string }
  | { type: 'released' };

/** Rebuild the typed error the worker caught, so callers see the same classes as in-thread sessions. */
export function errorFrom(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.kind === 'engine') return new EngineUnavailableError(m.engine!, m.reason!);
  if (m.kind === 'file') return new FileError(m.file!, m.problem!);
  if (m.kind === 'user') return new UserError(m.message);
  return new Error(m.message);
}

export class WorkerSession implements EngineSession {
  private next = 1;
  private pending = new Map<number, { resolve(o: RunOutput): void; reject(e: Error): void }>();
  private dead: Error | null = null;

  private constructor(private readonly worker: Worker, readonly engine: EngineName, readonly settings: SessionSettings,
    readonly inputName: string, readonly outputName: string) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'result') {
        this.pending.get(m.id)?.resolve({ data: m.data, dims: m.dims });
        this.pending.delete(m.id);
      } else if (m.type === 'error' && m.id !== undefined) {
        this.pending.get(m.id)?.reject(errorFrom(m));
        this.pending.delete(m.id);
      }
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`session worker exited (code ${code})`)));
  }

  /** Start a worker and create the session in it. */
  static create(engine: EngineName, model: string | Uint8Array, options: CreateSessionOptions = {}, label?: string): Promise<WorkerSession> {
    const worker = new Worker(new URL('./worker-entry.js', import.meta.url));
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`session worker exited before the session was created (code ${code})`));
      worker.once('exit', onExit);
      worker.once('error', reject);
      worker.once('message', (m: FromWorker) => {
        worker.off('exit', onExit);
        worker.off('error', reject);
        if (m.type === 'created') {
          resolve(new WorkerSession(worker, engine, m.settings, m.inputName, m.outputName));
        } else if (m.type === 'error') {
          void worker.terminate();
          reject(errorFrom(m));
        } else {
          void worker.terminate();
          reject(new Error(`internal: unexpected message '${m.type}' from a session worker`));
        }
      });
      worker.postMessage({ type: 'create', engine, model, options, label } satisfies ToWorker);
    });
  }

  /** The worker thread hosting the session: a supervisor watches its 'exit' to notice a death at once, and may terminate it. */
  get thread(): Worker {
    return this.worker;
  }

  run(pixels: Pixels): Promise<RunOutput> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, data: pixels.data, dims: [...pixels.dims] } satisfies ToWorker);
    });
  }

  async release(): Promise<void> {
    if (this.dead) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      this.worker.once('message', (m: FromWorker) => { if (m.type === 'released') { clearTimeout(t); resolve(); } });
      this.worker.postMessage({ type: 'release' } satisfies ToWorker);
    });
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    this.dead = new Error('session released');
  }
}
