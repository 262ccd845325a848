/**
 * Which INT8 format suits the CPU the model will run on. ONNX Runtime's u8s8 kernels saturate on x86
 * without VNNI (see int8.ts), so the choice depends on the instruction set:
 *   x86 with AVX512-VNNI, AVX-VNNI or AMX  -> u8s8 (full-range int8 weights)
 *   x86 without                            -> u8s8-reduced (7-bit weights; ORT's reduce_range)
 *   ARM (arm64)                            -> u8s8 (dot-product kernels do not saturate)
 * The flags come from /proc/cpuinfo on Linux; elsewhere x86 is assumed to lack VNNI (the safe choice).
 */
import { readFileSync } from 'node:fs';
import type { Int8Format } from './int8.js';

export interface CpuInfo {
  arch: string;
  /** VNNI-class int8 dot product instructions found. */
  vnni: boolean;
  /** The flags that decided it (for the report). */
  evidence: string;
}

const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni', 'amx_int8'];

/** Parse the `flags` line of /proc/cpuinfo text. */
export function cpuFromCpuinfo(text: string | null, arch: string = process.arch): CpuInfo {
  if (arch === 'arm64' || arch === 'arm') return { arch, vnni: false, evidence: `${arch}: dot-product int8 kernels` };
  const line = text?.split('\n').find((l) => /^flags\s*:/.test(l));
  if (!line) return { arch, vnni: false, evidence: 'CPU flags unknown (no /proc/cpuinfo)' };
  const flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  const found = VNNI_FLAGS.filter((f) => flags.has(f));
  return { arch, vnni: found.length > 0, evidence: found.length ? `CPU flags: ${found.join(', ')}` : 'CPU flags: no avx512_vnni / avx_vnni' };
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

/** The default INT8 format for a CPU. */
export function int8FormatFor(cpu: CpuInfo): Int8Format {
  if (cpu.arch === 'arm64' || cpu.arch === 'arm') return 'u8s8';
  return cpu.vnni ? 'u8s8' : 'u8s8-reduced';
}
