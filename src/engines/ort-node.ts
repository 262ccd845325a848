/**
 * onnxruntime-node sessions. `run` of onnxruntime-node is synchronous native work on the calling
 * thread (wrapped in setImmediate); code that needs concurrency runs sessions in worker threads.
 */
import * as ort from 'onnxruntime-node';
import { FileError } from '../errors.js';
import { createSession, type ModelInput } from './model-source.js';
import { type EngineOptions, resolveEngineOptions } from './options.js';
import {
  type CreateSessionOptions, type EngineName, type EngineSession, type Pixels, type RunOutput, type SessionSettings,
  EngineUnavailableError, cleanError, ownedInput, recordedSettings, sourceLabel,
} from './engine.js';

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

/** The runtime's own name and version, recorded with every result. */
export function ortNodeVersion(): string {
  return `onnxruntime-node ${ort.env.versions?.node ?? ort.env.versions?.common ?? '?'}`;
}

/** Execution providers compiled into this onnxruntime-node build, and whether their libraries ship with it. */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  const list = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends;
  return list ? list() : [{ name: 'cpu', bundled: true }];
}

const PROVIDER_HINT: Partial<Record<EngineName, string>> = {
  cuda: 'vitopt\'s package.json (allowScripts) skips the CUDA provider download; with CUDA 12 + cuDNN installed: ' +
    'ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js',
  tensorrt: 'vitopt\'s package.json (allowScripts) skips the TensorRT provider download; with CUDA 12 + TensorRT installed: ' +
    'ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js',
  webgpu: 'needs a GPU adapter (on Linux: a GPU with Vulkan drivers)',
};

/** A session of onnxruntime-node on any of its providers, behind the engine interface. */
class NodeSession implements EngineSession {
  constructor(readonly engine: EngineName, readonly session: ort.InferenceSession, readonly settings: SessionSettings) {}
  get inputName(): string {
    return this.session.inputNames[0]!;
  }
  get outputName(): string {
    return this.session.outputNames[0]!;
  }
  async run(pixels: Pixels): Promise<RunOutput> {
    const out = await this.session.run({ [this.inputName]: new ort.Tensor('float32', ownedInput(pixels.data), pixels.dims) });
    const t = out[this.outputName]!;
    return { data: t.data as Float32Array, dims: [...t.dims] };
  }
  release(): Promise<void> {
    return this.session.release();
  }
}

/** Whether a provider works at all here (a one-node model), cached per process: null = usable, else the reason. */
const usable = new Map<EngineName, Promise<string | null>>();

export function providerProblem(engine: EngineName): Promise<string | null> {
  let p = usable.get(engine);
  if (!p) {
    p = (async () => {
      const listed = supportedBackends().find((b) => b.name === engine);
      if (!listed) return `this onnxruntime-node build has no ${engine} execution provider`;
      try {
        const { probeModel } = await import('./probe-model.js');
        const s = await ort.InferenceSession.create(probeModel(), { executionProviders: [engine], logSeverityLevel: 4 });
        await s.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) });
        await s.release();
        return null;
      } catch (e) {
        const hint = PROVIDER_HINT[engine];
        return `${cleanError(e)}${hint ? ` — ${hint}` : ''}`;
      }
    })();
    usable.set(engine, p);
  }
  return p;
}

/** A session of `model` (a path, bytes, or a ModelProto of any size: model-source.ts) on an onnxruntime-node provider. */
export async function createNodeSession(engine: EngineName, model: ModelInput, o: CreateSessionOptions = {},
  label?: string): Promise<EngineSession> {
  if (engine === 'wasm') throw new Error('internal: wasm is not an onnxruntime-node provider');
  const source = sourceLabel(model, label);
  if (engine !== 'cpu') {
    const problem = await providerProblem(engine);
    if (problem) throw new EngineUnavailableError(engine, problem);
  }
  const settings = recordedSettings(engine, ortNodeVersion(), o);
  const opts: ort.InferenceSession.SessionOptions = o.runtimeDefaults
    ? (engine === 'cpu' ? {} : { executionProviders: [engine] })
    : { ...sessionOptions({ ...o, provider: engine }), logSeverityLevel: o.logSeverity ?? 3 };
  try {
    return new NodeSession(engine, await createSession(model, opts), settings);
  } catch (e) {
    throw new FileError(source, `cannot be loaded by ${ENGINE_TEXT[engine]}: ${cleanError(e)}`);
  }
}

const ENGINE_TEXT: Record<Exclude<EngineName, 'wasm'>, string> = {
  cpu: 'ONNX Runtime', webgpu: 'ONNX Runtime (WebGPU)', cuda: 'ONNX Runtime (CUDA)', tensorrt: 'ONNX Runtime (TensorRT)',
};
