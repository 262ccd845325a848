/**
 * Create a session on an engine: the one place that knows which runtime module serves which engine
 * (kept apart from engine.ts, which the runtime modules import, so that no import cycle forms).
 * Every session vitopt runs a classifier through starts here.
 */
import { encodeModel } from '../formats/onnx.js';
import type { CreateSessionOptions, EngineName, EngineSession } from './engine.js';
import type { ModelInput } from './model-source.js';

/**
 * Create a session on an engine. `model` is a path (ORT resolves external data beside it), the
 * model's bytes, or a ModelProto (onnxruntime-node: of any size, above 2 GB of weights through a
 * temporary file, model-source.ts). A model the engine cannot load throws a one-line `FileError`
 * naming `label` (default: the path, or '<in-memory model>'). onnxruntime-web is imported only when
 * the wasm engine is asked for; it gets a ModelProto as bytes, since it reads no external data from
 * disk ("Module.MountedFiles is not available") and a wasm32 memory of 4 GB has no room for a model
 * past the 2 GB protobuf limit anyway.
 */
export async function createSession(engine: EngineName, model: ModelInput, options: CreateSessionOptions = {},
  label?: string): Promise<EngineSession> {
  if (engine === 'wasm') {
    const { createWasmSession } = await import('./ort-web.js');
    const source = typeof model === 'string' || model instanceof Uint8Array ? model : encodeModel(model);
    return createWasmSession(source, options, label);
  }
  const { createNodeSession } = await import('./ort-node.js');
  return createNodeSession(engine, model, options, label);
}

/**
 * A session on the engine its options name (`provider`, default cpu): for callers that carry one
 * `EngineOptions` through (evaluation, the accuracy guard, the tuner) rather than an engine name.
 */
export function openModel(model: ModelInput, options: CreateSessionOptions = {}, label?: string): Promise<EngineSession> {
  return createSession(options.provider ?? 'cpu', model, options, label);
}
