/** The worker-thread side of `WorkerSession` (./worker.ts): one engine session per worker. */
import { parentPort } from 'node:worker_threads';
import { type EngineSession, EngineUnavailableError } from './engine.js';
import { createSession } from './create.js';
import type { FromWorker, ToWorker } from './worker.js';
import { FileError, UserError } from '../errors.js';

const port = parentPort;
if (!port) throw new Error('internal: worker-entry.js must run in a worker thread');

function errorMessage(e: unknown, id?: number): FromWorker {
  if (e instanceof EngineUnavailableError) return { type: 'error', id, kind: 'engine', message: e.message, engine: e.engine, reason: e.reason };
  if (e instanceof FileError) return { type: 'error', id, kind: 'file', message: e.message, file: e.file, problem: e.message.slice(e.file.length + 2) };
  if (e instanceof UserError) return { type: 'error', id, kind: 'user', message: e.message };
  return { type: 'error', id, kind: 'internal', message: (e as Error)?.stack ?? String(e) };
}

let session: EngineSession | null = null;

port.on('message', async (m: ToWorker) => {
  try {
    if (m.type === 'create') {
      session = await createSession(m.engine, m.model, m.options, m.label);
      port.postMessage({ type: 'created', settings: session.settings, inputName: session.inputName, outputName: session.outputName } satisfies FromWorker);
    } else if (m.type === 'run') {
      if (!session) throw new Error('internal: run before create');
      const out = await session.run({ data: m.data, dims: m.dims });
      // Outputs (logits) are small: copied by structured clone. Runtime-owned buffers cannot always be transferred.
      port.postMessage({ type: 'result', id: m.id, data: out.data, dims: out.dims } satisfies FromWorker);
    } else if (m.type === 'release') {
      await session?.release();
      session = null;
      port.postMessage({ type: 'released' } satisfies FromWorker);
    }
  } catch (e) {
    port.postMessage(errorMessage(e, m.type === 'run' ? m.id : undefined));
  }
});
