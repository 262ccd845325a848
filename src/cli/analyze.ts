/** `vitopt analyze <config>`: parameters, exact MACs, memory, resolution scaling and roofline bounds. */
import { type Command, InvalidArgumentError } from 'commander';
import type { ModelConfig } from '../models/config.js';
import { isZooName, zooConfig } from '../models/zoo.js';
import { analyze, renderText, withOverrides } from '../analyze/report.js';
import { DEFAULT_PROFILE, type HardwareProfile } from '../analyze/roofline.js';
import { emit, floatArg, intArg } from './common.js';
import { jsonOption } from './options.js';
import { assertWritable } from '../util/atomic.js';
import { parseMergeTokens, withMergeConfig } from '../models/tome.js';

/**
 * Zoo names are answered here; anything else (checkpoint, ONNX file, fashion-vit/-mixer) goes to
 * models/resolve.ts, imported lazily so that analysing a zoo name never loads ONNX Runtime.
 */
async function loadConfig(spec: string): Promise<ModelConfig> {
  if (isZooName(spec)) return zooConfig(spec);
  const { resolveConfig } = await import('../models/resolve.js');
  return resolveConfig(spec);
}

function positive(name: string) {
  const parse = floatArg(name);
  return (v: string): number => {
    const n = parse(v);
    if (n <= 0) throw new InvalidArgumentError(`${name} must be > 0`);
    return n;
  };
}

interface Opts {
  resolution?: number;
  batch: number;
  classes?: number;
  fp32Gflops?: number;
  int8Gops?: number;
  memGbs?: number;
  mergeTokens?: string;
  json?: boolean | string;
}

async function profileFrom(o: Opts): Promise<HardwareProfile> {
  if (o.fp32Gflops === undefined && o.int8Gops === undefined && o.memGbs === undefined) {
    // This machine's profile from `vitopt hw`, when cached (hw-cache loads no inference runtime).
    const { loadHwProfile, toHardwareProfile } = await import('../bench/hw-cache.js');
    const measured = await loadHwProfile();
    return measured ? toHardwareProfile(measured) : DEFAULT_PROFILE;
  }
  // Flags describe another machine: do not mix in this VM's defaults beyond the fp32 rate.
  return {
    fp32GflopsPerS: o.fp32Gflops ?? DEFAULT_PROFILE.fp32GflopsPerS,
    int8GopsPerS: o.int8Gops,
    memBandwidthGBs: o.memGbs,
    source: o.fp32Gflops === undefined ? 'fp32: default (project VM, cpu-ceilings.md); others from flags' : 'from flags',
  };
}

export function register(program: Command): void {
  program.command('analyze')
    .description('exact parameters, MACs by component, weight/activation memory, resolution scaling and roofline bounds')
    .argument('<config>', 'zoo name (e.g. ViT-B_16) or a checkpoint / ONNX file')
    .option('--resolution <px>', 'input side in pixels (default: the config\'s)', intArg('--resolution', 1))
    .option('--batch <n>', 'batch size for memory and roofline figures', intArg('--batch', 1), 1)
    .option('--classes <k>', 'number of classes of the head', intArg('--classes', 0))
    .option('--fp32-gflops <n>', 'fp32 matmul ceiling, GFLOP/s (default: the cached `vitopt hw` profile, else 300: ORT MatMul on the project VM)', positive('--fp32-gflops'))
    .option('--int8-gops <n>', 'int8 matmul ceiling, GOP/s', positive('--int8-gops'))
    .option('--mem-gbs <n>', 'memory bandwidth, GB/s', positive('--mem-gbs'))
    .option('--merge-tokens <r>', 'Token Merging: r tokens merged in every block, or r0,r1,... one per layer (ViT; exact MACs per block)')
    .addOption(jsonOption('the report', { wasFlag: true }))
    .action(async (spec: string, o: Opts) => {
      if (typeof o.json === 'string') await assertWritable(o.json);
      const merge = o.mergeTokens === undefined ? undefined : parseMergeTokens(o.mergeTokens);
      const base = await loadConfig(spec);
      const over = withOverrides(base, { resolution: o.resolution, classes: o.classes });
      const notes = over.notes;
      const config = merge === undefined ? over.config : withMergeConfig(over.config, merge);
      const report = analyze(config, { batch: o.batch, profile: await profileFrom(o), notes });
      await emit(report, renderText(report), o.json);
    });
}
