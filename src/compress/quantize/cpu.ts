/**
 * Which INT8 format suits the CPU the model will run on. ONNX Runtime's u8s8 kernels saturate on x86
 * without VNNI (see int8.ts), so the choice depends on the instruction set:
 *   x86 with AVX512-VNNI, AVX-VNNI or AMX  -> u8s8 (full-range int8 weights)
 *   x86 without                            -> u8s8-reduced (7-bit weights; ORT's reduce_range)
 *   ARM (arm64)                            -> u8s8 (dot-product kernels do not saturate)
 * The flags come from /proc/cpuinfo on Linux; elsewhere x86 is assumed to lack VNNI (the safe choice).
 */
import type { Int8Format } from './int8.js';
import type { CpuInfo } from '../../util/cpu.js';

export { type CpuInfo, cpuFromCpuinfo, detectCpu } from '../../util/cpu.js';

/** The default INT8 format for a CPU. */
export function int8FormatFor(cpu: CpuInfo): Int8Format {
  if (cpu.arch === 'arm64' || cpu.arch === 'arm') return 'u8s8';
  return cpu.vnni ? 'u8s8' : 'u8s8-reduced';
}
