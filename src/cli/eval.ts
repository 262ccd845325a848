/**
 * `vitopt eval <model> --data <spec>`: accuracy on real data (top-1, top-5, per class, confusion),
 * throughput, and with --compare agreement and KL divergence against a baseline model.
 */
import { type Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { openDataSpec } from '../data/data-spec.js';
import type { ImageLayout } from '../data/npy-dataset.js';
import { DEFAULT_EVAL_BATCH, evaluate } from '../eval/evaluate.js';
import { chartFormat, writeConfusionChart } from '../eval/confusion-chart.js';
import { NO_PROGRESS, progressBar } from '../eval/progress.js';
import { formatEvalReport } from '../eval/report-text.js';
import type { EvalReport } from '../eval/report.js';
import { assertWritable } from '../util/atomic.js';
import { emit, engineOptionsFrom, enumOption, intArg, normalizationFrom } from './common.js';
import { addEngineOptions, addNormalizationOptions, dataOption, deprecated, evalSizeOption, jsonOption, quietOption, setOption } from './options.js';

interface EvalCliOptions {
  data: string;
  evalSize?: number;
  /** Old name of evalSize (library callers). */
  quiet?: boolean;
  batch: number;
  compare?: string;
  json?: boolean | string;
  confusion?: string;
  skipBad?: boolean;
  layout: string;
  mean?: string;
  std?: string;
  [engine: string]: unknown;
}

export async function runEval(modelSpec: string, o: EvalCliOptions): Promise<EvalReport> {
  if (o.layout !== 'nhwc' && o.layout !== 'nchw') throw new UserError(`--layout must be nhwc or nchw, not '${o.layout}'`);
  // Everything that can be checked cheaply fails before a model is loaded or an image is read.
  if (o.confusion) {
    chartFormat(o.confusion);
    await assertWritable(o.confusion);
  }
  if (typeof o.json === 'string') await assertWritable(o.json);
  const normalize = normalizationFrom(o);
  const dataset = await openDataSpec(o.data, { layout: o.layout as ImageLayout });
  const engine = engineOptionsFrom(o);
  // Lazy: loading ONNX Runtime and the exporters only when a model is actually run.
  const { loadRunnable } = await import('../models/resolve.js');
  // --mean/--std describe the data the user's models expect: both the model and its baseline.
  const model = { ...await loadRunnable(modelSpec, engine), normalize };
  const baseline = o.compare ? { ...await loadRunnable(o.compare, engine), normalize } : undefined;
  const bar = o.quiet ? NO_PROGRESS : progressBar(`eval ${model.name}`);
  try {
    const report = await evaluate(model, dataset, {
      batchSize: o.batch, limit: o.evalSize, skipBad: o.skipBad, baseline,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.finish();
    if (o.confusion) await writeConfusionChart(o.confusion, report.confusion, `${report.model} on ${report.dataset.name}`);
    return report;
  } finally {
    bar.finish();
    await model.model.release();
    await baseline?.model.release();
  }
}

export function register(program: Command): void {
  const cmd = program.command('eval')
    .description('accuracy of a model on real data: top-1/top-5, per class, confusion matrix, images/s; --compare against a baseline')
    .argument('<model>', 'an .onnx file, a checkpoint (.npz / .safetensors), or fashion-vit / fashion-mixer')
    .addOption(dataOption('evaluation data').makeOptionMandatory())
    .addOption(evalSizeOption())
    .option('--batch <n>', 'images per model call', intArg('--batch', 1), DEFAULT_EVAL_BATCH)
    .option('--compare <baseline>', 'baseline model: report top-1 agreement and mean KL(baseline || model)')
    .addOption(jsonOption())
    .addOption(quietOption())
    .option('--confusion <file>', 'write the confusion matrix as a picture (.svg or .png)')
    .option('--skip-bad', 'skip undecodable images (they are listed in the report) instead of failing')
    .addOption(enumOption('--layout <layout>', '.npy image layout: nhwc ([n,H,W,3]) or nchw ([n,3,H,W])', ['nhwc', 'nchw'], 'nhwc'));
  deprecated(cmd, new Option('--limit <n>', 'old spelling of --eval-size').argParser(intArg('--limit', 1)), '--eval-size',
    (v, c) => setOption(c, 'evalSize', '--eval-size', v));
  addEngineOptions(addNormalizationOptions(cmd)).action(async (modelSpec: string, o: EvalCliOptions) => {
    const report = await runEval(modelSpec, o);
    const text = formatEvalReport(report) + (o.confusion ? `\nconfusion chart: ${o.confusion}\n` : '');
    await emit(report, text, o.json);
  });
}
