/** The machine a measurement was made on, recorded with every report and profile. */
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  totalMemBytes: number;
  platform: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return { cpu: cpus()[0]?.model?.trim() ?? 'unknown', cores: availableParallelism(), totalMemBytes: totalmem(),
    platform: `${process.platform}-${process.arch}`, node: process.version };
}
