/**
 * Which model variant on which backend, from what the browser can do. Pure: the worker probes the
 * capabilities, this decides the order of candidates, and the worker tries them in turn (each one
 * must pass the check pair before it is used).
 */
import type { Backend, Preferences, Variant } from './manifest.js';

export interface Capabilities {
  /** A WebGPU adapter was granted (null = none, with the reason). */
  webgpu: { fallbackAdapter: boolean; f16: boolean; maxBufferSize: number; description: string } | null;
  webgpuReason: string | null;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

export interface Candidate {
  variant: Variant;
  backend: Backend;
}

/** Candidates best first, and notes on what was ruled out and why. */
export function candidates(variants: readonly Variant[], caps: Capabilities, prefs: Preferences = {}):
  { list: Candidate[]; notes: string[] } {
  const notes: string[] = [];
  const list: Candidate[] = [];
  const gpu = caps.webgpu;
  const wantGpu = prefs.backend === 'webgpu' || (prefs.backend === undefined && gpu !== null && !gpu.fallbackAdapter);
  if (prefs.backend === undefined && gpu?.fallbackAdapter) {
    notes.push(`WebGPU adapter is a software fallback (${gpu.description}): using WebAssembly (add ?backend=webgpu to try it anyway)`);
  }
  if (wantGpu && gpu === null) notes.push(`WebGPU unavailable: ${caps.webgpuReason ?? 'no adapter'}`);
  const usable = variants.filter((v) => prefs.variant === undefined || v.id === prefs.variant);
  if (wantGpu && gpu !== null) {
    // FP16 first where the adapter has shader-f16, then the variants whose ops all have WebGPU kernels.
    const gpuVariants = usable.filter((v) => v.backends.includes('webgpu'))
      .sort((a, b) => gpuRank(a, gpu.f16) - gpuRank(b, gpu.f16));
    for (const v of gpuVariants) {
      if (v.needsF16 && !gpu.f16) {
        notes.push(`variant ${v.id} skipped: the WebGPU adapter lacks the shader-f16 feature`);
        continue;
      }
      if (v.largestTensorBytes > gpu.maxBufferSize) {
        notes.push(`variant ${v.id} skipped: a ${mib(v.largestTensorBytes)} weight exceeds the adapter's maxBufferSize (${mib(gpu.maxBufferSize)})`);
        continue;
      }
      list.push({ variant: v, backend: 'webgpu' });
    }
  }
  // WebAssembly always comes after WebGPU: it is the fallback of every WebGPU failure, even when
  // WebGPU was asked for (the page then says that it fell back, and why).
  const cpu = usable.filter((v) => v.backends.includes('wasm')).sort((a, b) => wasmRank(a) - wasmRank(b));
  for (const v of cpu) list.push({ variant: v, backend: 'wasm' });
  if (prefs.variant !== undefined && usable.length === 0) notes.push(`no variant named '${prefs.variant}' in this site`);
  return { list, notes };
}

function gpuRank(v: Variant, f16: boolean): number {
  if (v.dtype === 'fp16') return f16 ? 0 : 9;
  if (v.dtype === 'fp32') return 1;
  return 2;
}

/** Dynamic INT8 first on the CPU (about twice the speed of fp32 in onnxruntime-web), then fp32. */
function wasmRank(v: Variant): number {
  return v.dtype === 'int8' ? 0 : v.dtype === 'fp32' ? 1 : 2;
}

/** wasm threads: all cores up to 4 when cross-origin isolated (SharedArrayBuffer), else 1, with why. */
export function wasmThreads(caps: Capabilities, prefs: Preferences): { threads: number; note: string | null } {
  const wanted = prefs.threads && prefs.threads > 0 ? prefs.threads : Math.max(1, Math.min(4, caps.hardwareConcurrency));
  if (!caps.crossOriginIsolated) {
    return {
      threads: 1,
      note: wanted > 1 || prefs.threads
        ? 'single-threaded: the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp; see docs/browser.md)'
        : null,
    };
  }
  return { threads: wanted, note: null };
}

function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(0)} MiB`;
}
