/**
 * Create a session on an engine: the one place that knows which runtime module serves which engine
 * (kept apart from engine.ts, which the runtime modules import, so that no import cycle forms).
 */
import type { CreateSessionOptions, EngineName, EngineSession } from './engine.js';

/**
 * Create a session on an engine. `model` is a path (ORT resolves external data beside it) or the
 * model's bytes. onnxruntime-web is imported only when the wasm engine is asked for.
 */
export async function createSession(engine: EngineName, model: string | Uint8Array, options: CreateSessionOptions = {},
  label?: string): Promise<EngineSession> {
  if (engine === 'wasm') {
    const { createWasmSession } = await import('./ort-web.js');
    return createWasmSession(model, options, label);
  }
  const { createNodeSession } = await import('./ort-node.js');
  return createNodeSession(engine, model, options, label);
}
