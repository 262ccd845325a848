/**
 * onnxruntime-node sessions. `run` of onnxruntime-node is synchronous native work on the calling
 * thread (wrapped in setImmediate); code that needs concurrency runs sessions in worker threads.
 */
import * as ort from 'onnxruntime-node';
import { FileError } from '../errors.js';
import { type EngineOptions, resolveEngineOptions } from './options.js';
import type { Tensor } from '../tensor.js';

export function sessionOptions(o: EngineOptions): ort.InferenceSession.SessionOptions {
  const r = resolveEngineOptions(o);
  return {
    executionProviders: [r.provider],
    intraOpNumThreads: r.threads,
    interOpNumThreads: r.interOpThreads,
    graphOptimizationLevel: r.graphOptimization,
    enableCpuMemArena: r.arena,
    enableMemPattern: r.memPattern,
    executionMode: r.executionMode,
    extra: { session: { intra_op: { allow_spinning: r.spinning ? '1' : '0' } } },
  };
}

/** A loaded model: one input `pixels` [batch, 3, H, W], one output `logits` [batch, classes]. */
export class OrtModel {
  private constructor(readonly session: ort.InferenceSession, readonly source: string) {}

  /** Load from a path (external data resolved beside it) or from bytes. */
  static async load(model: string | Uint8Array, options: EngineOptions = {}, label?: string): Promise<OrtModel> {
    const source = label ?? (typeof model === 'string' ? model : '<in-memory model>');
    try {
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions(options))
        : await ort.InferenceSession.create(model, sessionOptions(options));
      return new OrtModel(session, source);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0]!.replace(/^\[ONNXRuntimeError\] : \d+ : /, '');
      throw new FileError(source, `cannot be loaded by ONNX Runtime: ${msg}`);
    }
  }

  get inputName(): string {
    return this.session.inputNames[0]!;
  }

  get outputName(): string {
    return this.session.outputNames[0]!;
  }

  /** Run one NCHW float32 batch; returns the first output. */
  async run(pixels: Tensor): Promise<Tensor> {
    const feeds = { [this.inputName]: new ort.Tensor('float32', pixels.data, pixels.dims) };
    const out = await this.session.run(feeds);
    const t = out[this.outputName]!;
    return { dims: [...t.dims], data: t.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
