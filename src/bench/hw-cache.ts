/**
 * The hardware profile's type and its cache: $XDG_CACHE_HOME/vitopt/hw.json (default
 * ~/.cache/vitopt/hw.json), with the date and the machine. A cache from another CPU or core count is
 * ignored. This module loads no inference runtime (analyze imports it).
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { HardwareProfile } from '../analyze/roofline.js';
import type { EngineAvailability } from '../engines/detect.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type MachineInfo, machineInfo } from './machine.js';

export interface Measurement {
  what: string;
  unit: 'GFLOP/s' | 'GOP/s' | 'GB/s';
  /** The median: the figure used as the ceiling. */
  value: number;
  p25: number;
  p75: number;
  best: number;
  runs: number;
  /** (p75 − p25) / median. */
  spread: number;
}

export interface HwProfile {
  version: 1;
  date: string;
  machine: MachineInfo;
  runtime: string;
  threads: number;
  fp32: Measurement;
  int8: Measurement;
  bandwidth: Measurement;
  wasmFp32: Measurement | null;
  engines: EngineAvailability[];
  notes: string[];
}

export function hwCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(base, 'vitopt', 'hw.json');
}

export async function saveHwProfile(p: HwProfile, file = hwCachePath()): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(p, null, 2) + '\n');
  return file;
}

/** The cached profile, or null when there is none, it is unreadable, or it was measured on another machine. */
export async function loadHwProfile(file = hwCachePath()): Promise<HwProfile | null> {
  let p: HwProfile;
  try {
    p = JSON.parse(await fs.readFile(file, 'utf8')) as HwProfile;
  } catch {
    return null;
  }
  if (p?.version !== 1 || !(p.fp32?.value > 0)) return null;
  const here = machineInfo();
  if (p.machine?.cpu !== here.cpu || p.machine?.cores !== here.cores) return null;
  return p;
}

/** The analysis's HardwareProfile from a probe. */
export function toHardwareProfile(p: HwProfile): HardwareProfile {
  return {
    fp32GflopsPerS: p.fp32.value,
    int8GopsPerS: p.int8.value,
    memBandwidthGBs: p.bandwidth.value,
    source: `measured by vitopt hw on ${p.date.slice(0, 10)} (${p.machine.cpu}, ${p.machine.cores} cores, ${p.threads} threads, ${p.runtime})`,
  };
}

export function renderHw(p: HwProfile, file?: string): string {
  const f = (m: Measurement) => `${m.value.toFixed(m.value >= 100 ? 0 : 1)} ${m.unit} (quartiles ${m.p25.toFixed(0)}–${m.p75.toFixed(0)}, best ${m.best.toFixed(0)}, ${m.runs} runs)`;
  const out = [
    `# Hardware profile — ${p.date.slice(0, 10)}`, '',
    `${p.machine.cpu}, ${p.machine.cores} cores, ${(p.machine.totalMemBytes / 2 ** 30).toFixed(0)} GiB, ${p.machine.platform}; ${p.runtime}, ${p.threads} threads`, '',
    '| ceiling | measured | how |', '|---|---|---|',
    `| fp32 matmul | ${f(p.fp32)} | ${p.fp32.what} |`,
    `| int8 matmul | ${f(p.int8)} | ${p.int8.what} |`,
    `| memory bandwidth | ${f(p.bandwidth)} | ${p.bandwidth.what} |`,
    ...(p.wasmFp32 ? [`| wasm fp32 matmul | ${f(p.wasmFp32)} | ${p.wasmFp32.what} |`] : []),
  ];
  if (p.engines.length) {
    out.push('', 'Engines:', ...p.engines.map((e) => `- ${e.engine} (${e.label}): ${e.available ? `usable${e.threads ? `, ${e.threads} threads` : ''}` : `not usable — ${e.reason}`}`));
  }
  if (p.notes.length) out.push('', ...p.notes.map((n) => `Note: ${n}`));
  if (file) out.push('', `Cached in ${file}; \`vitopt analyze\` and \`vitopt bench\` use it for roofline bounds.`);
  return out.join('\n') + '\n';
}
