/**
 * `npm start`: the end-to-end demonstration on the bundled reference models. Each step prints what it
 * measured: import an official-layout .npz, export both graph styles, verify them against the float64
 * reference, evaluate on the shipped Fashion-MNIST subset, and analyze the architecture.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadCheckpoint } from '../models/checkpoint.js';
import { exportModel } from '../export/index.js';
import { saveModel } from '../formats/onnx.js';
import { verifyExport } from '../export/verify.js';
import { describe } from '../models/config.js';
import { countParams } from '../analyze/params.js';
import { macs } from '../analyze/macs.js';
import { openModel } from '../engines/create.js';
import { openDataSpec } from '../data/data-spec.js';
import { evaluate } from '../eval/evaluate.js';
import { pct } from '../eval/report-text.js';
import { REFERENCE_MODELS } from '../models/reference.js';
import { dataOption, evalSizeOption } from './options.js';

const say = (s = '') => process.stdout.write(s + '\n');

export async function demo(o: { data: string; evalSize?: number }): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitopt-demo-'));
  try {
    for (const ref of REFERENCE_MODELS) {
      say(`== ${ref.name} (${path.relative(process.cwd(), ref.checkpoint)}) ==`);
      const ir = await loadCheckpoint(ref.name);
      say(`imported: ${describe(ir.config)}`);
      const m = macs(ir.config);
      say(`analysis: ${countParams(ir.config).toLocaleString('en-US')} parameters, ${(m.total / 1e6).toFixed(1)} M MACs/image` +
        (ir.config.family === 'vit' ? ` (${pct(m.quadratic / m.total, 1)} in the token-quadratic attention products)` : ''));
      for (const style of ['ort', 'portable'] as const) {
        const model = exportModel(ir, style);
        const file = path.join(dir, `${ref.name}.${style}.onnx`);
        await saveModel(file, model);
        const v = await verifyExport(ir, model, 4);
        say(`exported ${style} graph: ${model.graph!.node!.length} nodes, ${((await fs.stat(file)).size / 2 ** 20).toFixed(2)} MiB; ` +
          `max relative error vs the float64 reference ${v.relativeError.toExponential(1)}`);
      }
      const dataset = await openDataSpec(o.data);
      const model = await openModel(path.join(dir, `${ref.name}.ort.onnx`), { threads: 2 });
      const r = await evaluate({ model, name: ref.name, labels: ir.labels, resolution: ir.config.resolution }, dataset,
        { batchSize: 64, limit: o.evalSize });
      await model.release();
      say(`evaluated on ${o.data} (${r.evaluated} images): top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}, ` +
        `${r.imagesPerSecond.toFixed(0)} img/s`);
      say();
    }
    await demoTune(o.data);
    say('next: vitopt --help; vitopt tune fashion-vit --data fashion-mnist --max-drop 0.5 -o tuned; vitopt analyze ViT-B_16');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A short tune of fashion-vit (about a minute: two pruning levels, two speed rounds); the report stays in out/demo-tune. */
async function demoTune(data: string): Promise<void> {
  const { tune } = await import('../tune/tune.js');
  const { verdict } = await import('../tune/report.js');
  const output = path.join('out', 'demo-tune');
  say(`== vitopt tune fashion-vit --data ${data} --max-drop 0.5 (short: 2 pruning levels, 2 speed rounds) ==`);
  const { report } = await tune({
    model: 'fashion-vit', data, output, constraints: { maxDrop: 0.5 }, pruneLevels: [1, 0.85], rounds: 2, duration: 0.5,
    calibrationSize: 128, screenSize: 500, timeBudgetS: 100,
    command: `vitopt tune fashion-vit --data ${data} --max-drop 0.5 --prune 1,0.85 --rounds 2 --duration 0.5 --calibration-size 128 --screen-size 500 --time-budget 100 -o ${output}`,
    onEvent: (e) => { if (e.kind === 'stage') say(`  tune: ${e.stage}`); },
  });
  say(verdict(report));
  say(`report: ${path.join(output, 'report.html')} (and report.md, report.json, model.onnx, reproduce.sh); runs: vitopt runs list`);
  say();
}

export function register(program: Command): void {
  program.command('demo')
    .description('end-to-end demonstration on the bundled reference models (what npm start runs)')
    .addOption(dataOption('evaluation data').default('fashion-mnist-subset'))
    .addOption(evalSizeOption())
    .action(async (o: { data: string; evalSize?: number }) => demo(o));
}
