/**
 * The CPU the process runs on, as far as vitopt's defaults care: the architecture and the x86 vector
 * extensions that change which kernels ONNX Runtime runs (VNNI-class int8 dot products, AVX-512).
 * The flags come from /proc/cpuinfo on Linux; elsewhere x86 is assumed to lack them (the safe choice).
 */
import { readFileSync } from 'node:fs';

export interface CpuInfo {
  arch: string;
  /** VNNI-class int8 dot product instructions found. */
  vnni: boolean;
  /** AVX-512 (foundation) present: ORT's fp32 kernels take their AVX-512 paths. */
  avx512: boolean;
  /** The flags that decided it (for the report). */
  evidence: string;
}

const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni', 'amx_int8'];

/** Parse the `flags` line of /proc/cpuinfo text. */
export function cpuFromCpuinfo(text: string | null, arch: string = process.arch): CpuInfo {
  if (arch === 'arm64' || arch === 'arm') return { arch, vnni: false, avx512: false, evidence: `${arch}: dot-product int8 kernels` };
  const line = text?.split('\n').find((l) => /^flags\s*:/.test(l));
  if (!line) return { arch, vnni: false, avx512: false, evidence: 'CPU flags unknown (no /proc/cpuinfo)' };
  const flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  const found = VNNI_FLAGS.filter((f) => flags.has(f));
  const avx512 = flags.has('avx512f');
  const evidence = `CPU flags: ${found.length ? found.join(', ') : 'no avx512_vnni / avx_vnni'}${avx512 ? ', avx512f' : ', no avx512f'}`;
  return { arch, vnni: found.length > 0, avx512, evidence };
}

let cached: CpuInfo | undefined;

export function detectCpu(): CpuInfo {
  if (!cached) {
    let text: string | null = null;
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      text = null;
    }
    cached = cpuFromCpuinfo(text);
  }
  return cached;
}

