/**
 * `vitopt profile <model>`: where a model's time goes on this machine, per op type, from ONNX
 * Runtime's own profiler (src/bench/profile.ts): kernel milliseconds per run, node counts, shares,
 * and the slowest nodes. Zoo names (random weights) and checkpoints are exported in the chosen graph
 * style first; .onnx files run as they are (quantized, pruned, foreign).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { emit, engineOptionsFrom, intArg } from './common.js';
import { addEngineOptions, graphOption, jsonOption } from './options.js';
import { assertWritable } from '../util/atomic.js';

interface Opts {
  batch: number;
  runs: number;
  warmup: number;
  top: number;
  graph: 'ort' | 'portable';
  json?: boolean | string;
  [k: string]: unknown;
}

export function register(program: Command): void {
  const cmd = program.command('profile')
    .description('per-op-type time of one model from ONNX Runtime\'s profiler (where the time goes)')
    .argument('<model>', 'zoo name (random weights), checkpoint, reference model or .onnx file')
    .option('--batch <n>', 'batch size', intArg('--batch', 1), 1)
    .option('--runs <n>', 'profiled runs (after the warm-up)', intArg('--runs', 1), 10)
    .option('--warmup <n>', 'untimed runs first', intArg('--warmup', 0), 3)
    .option('--top <n>', 'slowest nodes listed', intArg('--top', 0), 10)
    .addOption(graphOption('for zoo names and checkpoints; an .onnx file runs as it is', 'ort'))
    .addOption(jsonOption('the profile'));
  addEngineOptions(cmd).action(async (model: string, o: Opts) => {
    const engine = engineOptionsFrom(o);
    if (typeof o.json === 'string') await assertWritable(o.json);
    const { prepareModel } = await import('../bench/models.js');
    const { profileModel, renderProfile } = await import('../bench/profile.js');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitopt-profile-model-'));
    try {
      const m = await prepareModel(model, dir);
      const file = await m.file(o.graph);
      const p = await profileModel(file.path, [3, m.resolution, m.resolution], { batch: o.batch, runs: o.runs, warmup: o.warmup, top: o.top, engine });
      const top = p.topNodes.length
        ? ['', '| slowest nodes | op type | ms per run |', '|---|---|---:|', ...p.topNodes.map((n) => `| ${n.name} | ${n.opType} | ${n.ms.toFixed(2)} |`)]
        : [];
      const title = `${m.name} (${file.style} graph${file.int8 ? ', int8' : ''})`;
      await emit({ model: m.name, graph: file.style, int8: file.int8, ...p }, [renderProfile(p, title), ...top].join('\n'), o.json);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
