/**
 * ONNX Runtime opens a model from bytes or from a file. Bytes are one protobuf message, which cannot
 * exceed 2 GB, so a larger model held in memory (ViT-H/14 fp32 is 2.5 GB) is handed over as a
 * temporary file whose weights are external data. The file is removed as soon as the session exists:
 * ORT has read it by then (where it maps the weights instead, Linux keeps a mapped file alive after
 * unlink).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EXTERNAL_DATA_THRESHOLD, encodeModel, initializerBytes, type ModelProto, saveModel } from '../formats/onnx.js';

let inlineLimit = EXTERNAL_DATA_THRESHOLD;

/** Weight bytes above which a model goes through a file; returns the previous limit (tests use 0). */
export function setInlineModelLimit(bytes: number): number {
  const previous = inlineLimit;
  inlineLimit = bytes;
  return previous;
}

/** Calls `open` with what ORT can load for `m`: its bytes, or the path of a temporary copy. */
async function withModelSource<T>(m: ModelProto, open: (source: Uint8Array | string) => Promise<T>): Promise<T> {
  if (initializerBytes(m) <= inlineLimit) return open(encodeModel(m));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitopt-model-'));
  try {
    const file = path.join(dir, 'model.onnx');
    await saveModel(file, m, { external: true });
    return await open(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** A model as ORT can be given it: encoded bytes, a file path, or a decoded model of any size. */
export type ModelInput = Uint8Array | string | ModelProto;

/**
 * An inference session for any of them. (The two `create` calls only satisfy the typings: ORT's
 * overloads take a path or bytes, not their union.)
 */
export function createSession(m: ModelInput, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  if (typeof m === 'string') return ort.InferenceSession.create(m, options);
  if (m instanceof Uint8Array) return ort.InferenceSession.create(m, options);
  return withModelSource(m, (source) => createSession(source, options));
}
