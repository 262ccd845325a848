/**
 * Which engines work on this machine, found at run time by starting each one on a one-node model:
 * a provider compiled into onnxruntime-node may still lack its libraries (CUDA, TensorRT) or a device
 * (WebGPU adapter). An unusable engine comes back with the reason, never as an exception.
 *
 * Starting the GPU providers makes the runtime print to stderr and can, with broken drivers, take the
 * process down: `vitopt bench` runs this in a child process.
 */
import { ENGINE_LABELS, ENGINE_NAMES, type EngineName, cleanError } from './engine.js';

export interface EngineAvailability {
  engine: EngineName;
  label: string;
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  /** Runtime package and version. */
  runtime?: string;
  /** wasm: threads the runtime started with. */
  threads?: number;
  notes?: string[];
}

export async function detectEngine(engine: EngineName, o: { wasmThreads?: number } = {}): Promise<EngineAvailability> {
  const base = { engine, label: ENGINE_LABELS[engine] };
  try {
    if (engine === 'wasm') {
      const { createWasmSession } = await import('./ort-web.js');
      const { probeModel } = await import('./probe-model.js');
      const s = await createWasmSession(probeModel(), { threads: o.wasmThreads ?? 0 }, 'probe model');
      await s.release();
      return { ...base, available: true, runtime: s.settings.runtime, threads: s.settings.threads, notes: s.settings.notes };
    }
    const { providerProblem, ortNodeVersion } = await import('./ort-node.js');
    const problem = await providerProblem(engine);
    return problem ? { ...base, available: false, reason: problem, runtime: ortNodeVersion() }
      : { ...base, available: true, runtime: ortNodeVersion() };
  } catch (e) {
    const reason = (e as { reason?: string }).reason ?? cleanError(e);
    return { ...base, available: false, reason };
  }
}

/** Every engine (or the ones named), in order. */
export async function detectEngines(engines: readonly EngineName[] = ENGINE_NAMES, o: { wasmThreads?: number } = {}): Promise<EngineAvailability[]> {
  const out: EngineAvailability[] = [];
  for (const e of engines) out.push(await detectEngine(e, o));
  return out;
}
