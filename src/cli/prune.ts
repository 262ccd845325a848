/**
 * `vitopt prune <model> -o out.onnx --method heads|neurons|structured|magnitude|nm
 *   (--ratio R | --target-flops F) [--data <evaluation>] [--calibration-data <spec>] [--calibration-size N]`
 *
 * Structured methods remove whole heads / hidden units and refit the following layer by least
 * squares on calibration data; magnitude and N:M zero weights (smaller gzip, same speed). The pruned
 * model and reports are written only after everything succeeded, each atomically.
 */
import { type Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { openDataSpec } from '../data/data-spec.js';
import { NO_PROGRESS, stagedProgress } from '../eval/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { assertOutputs, emit, engineOptionsFrom, enumOption, floatArg, oneOf } from './common.js';
import { addCompressionReportOptions, addEngineOptions, addPortableAlias, calibrationDataOption, calibrationSizeOption, dataOption, deprecated, evalSizeOption, graphOption, graphStyleFrom, setOption } from './options.js';
import type { GraphStyle } from '../export/index.js';
import type { ModelIR } from '../models/ir.js';
import type { PruneMethod, PruneOptions } from '../compress/prune/index.js';
import type { PruneReport } from '../tune/prune-report.js';

interface PruneCliOptions {
  output: string;
  method: string;
  ratio?: number;
  targetFlops?: number;
  data?: string;
  calibrationData?: string;
  calibrationSize?: number;
  ranking: string;
  reconstruct: boolean;
  refitTarget: string;
  ridge?: number;
  scope: string;
  nm: string;
  evalSize?: number;
  bench: boolean;
  benchBatch: number;
  graph?: string;
  quiet?: boolean;
  report?: string;
  json?: boolean | string;
  [engine: string]: unknown;
}

/** Model spec -> IR: a checkpoint / reference model, or a vitopt ONNX export. Returns the export style too. */
async function loadIR(spec: string): Promise<{ ir: ModelIR; style: GraphStyle | null }> {
  const { weightsKind } = await import('../models/resolve.js');
  if (weightsKind(spec) === 'checkpoint') {
    const { loadCheckpoint } = await import('../models/checkpoint.js');
    return { ir: await loadCheckpoint(spec), style: null };
  }
  const { loadModel, metadata } = await import('../formats/onnx.js');
  const { irFromOnnx } = await import('../compress/prune/from-onnx.js');
  const { META_STYLE } = await import('../models/metadata.js');
  const proto = await loadModel(spec);
  const style = metadata(proto)[META_STYLE];
  return { ir: irFromOnnx(proto, spec), style: style === 'ort' || style === 'portable' ? style : null };
}

export async function runPrune(modelSpec: string, o: PruneCliOptions): Promise<PruneReport> {
  const lib = await import('../compress/prune/index.js');
  const method = oneOf<PruneMethod>('--method', o.method, lib.PRUNE_METHODS);
  const options: PruneOptions = {
    method,
    ratio: o.ratio,
    targetFlops: o.targetFlops,
    ranking: oneOf('--ranking', o.ranking, ['uniform', 'global'] as const),
    reconstruct: o.reconstruct,
    target: oneOf('--refit-target', o.refitTarget, ['corrective', 'local'] as const),
    ridge: o.ridge,
    scope: oneOf('--scope', o.scope, ['layer', 'global'] as const),
    nm: method === 'nm' ? lib.parseNM(o.nm) : undefined,
    engine: engineOptionsFrom(o),
  };
  if (!lib.isStructured(method)) { delete options.ranking; delete options.reconstruct; delete options.target; delete options.ridge; }
  if (method !== 'magnitude') delete options.scope;
  if (o.ridge !== undefined && !(o.ridge > 0)) throw new UserError(`--ridge ${o.ridge}: must be positive`);
  // Cheap checks first: flags, output paths, data specs; then the model; then the work.
  const calibrated = o.data !== undefined || o.calibrationData !== undefined;
  lib.validatePruneOptions(options, calibrated);
  if (!lib.isStructured(method) && o.calibrationData !== undefined) throw new UserError(`--calibration-data: --method ${method} is not calibrated`);
  const graph = graphStyleFrom(o);
  await assertOutputs(o);
  const { openCalibrationData } = await import('../compress/quantize/calibration-data.js');
  const calibData = lib.isStructured(method) ? await openCalibrationData(o.data, o.calibrationData, []) : null;
  const evalData = o.data ? await openDataSpec(o.data) : null;

  const { ir: loaded, style: inputStyle } = await loadIR(modelSpec);
  const style: GraphStyle = graph ?? inputStyle ?? 'ort';
  // Token Merging: structured pruning calibrates and refits the unmerged model (one token per patch in
  // every block); the merge schedule goes back on the result (docs/token-merging.md).
  const tome = await import('../models/tome.js');
  const merged = lib.isStructured(method) && tome.hasMerging(loaded.config) ? loaded.config : null;
  const ir = merged ? tome.withMergeSchedule(loaded, 0) : loaded;
  const remerge = (x: ModelIR) => (merged ? tome.withMergeSchedule(x, merged.mergeTokens, { pool: merged.mergePool }) : x);
  if (lib.isStructured(method)) {
    const { kindsFor } = await import('../compress/prune/structured.js');
    kindsFor(method, ir.config); // e.g. heads on a Mixer: fail before reading images
  }
  const progress = o.quiet ? NO_PROGRESS : stagedProgress('prune', (s) => (s.startsWith('refit') ? 'refit' : s));
  try {
    const calib = calibData
      ? await lib.loadCalibration(calibData, o.calibrationSize ?? lib.DEFAULT_CALIBRATION_SIZE, ir.config.resolution, { normalize: ir.config.normalize })
      : null;
    const pruned = await lib.prune(ir, { ...options, onProgress: (s, d, t) => progress.update(s, d, t) }, calib);
    const outcome = { ...pruned, ir: remerge(pruned.ir) };
    const { assessPruned } = await import('../tune/prune-assess.js');
    const assessment = await assessPruned(loaded, outcome, {
      style, evalData: evalData ?? undefined, evalSize: o.evalSize, engine: options.engine,
      bench: o.bench ? { batch: o.benchBatch } : false, onProgress: (s, d, t) => progress.update(s, d, t),
    });
    progress.finish();
    const { buildPruneReport, formatPruneReport } = await import('../tune/prune-report.js');
    const report = buildPruneReport({
      model: modelSpec, output: o.output, original: loaded, outcome, options,
      calibration: calib ? { dataset: calib.name, images: calib.images } : null, assessment,
    });
    // Everything succeeded: now write, each file atomically.
    const { exportModel } = await import('../export/index.js');
    const { saveModel } = await import('../formats/onnx.js');
    await saveModel(o.output, exportModel(outcome.ir, style));
    if (o.report) await writeFileAtomic(o.report, formatPruneReport(report));
    return report;
  } finally {
    progress.finish();
  }
}

/** = DEFAULT_CALIBRATION_SIZE of compress/prune/capture.ts (not imported: the pruning code loads only when prune runs). */
export const PRUNE_CALIBRATION_SIZE = 512;
/** Images of --data evaluated by default: the size of a usual test split (Fashion-MNIST's), as quantize. */
const DEFAULT_EVAL_SIZE = 10_000;

export function register(program: Command): void {
  const cmd = program.command('prune')
    .description('structured pruning (heads, MLP/mixing units) with least-squares reconstruction, or magnitude / N:M sparsity')
    .argument('<model>', 'a checkpoint (.npz, .safetensors, fashion-vit, fashion-mixer) or an .onnx file written by vitopt convert')
    .requiredOption('-o, --output <file>', 'pruned model (.onnx)')
    .addOption(enumOption('--method <m>', 'pruning method', ['heads', 'neurons', 'structured', 'magnitude', 'nm']).makeOptionMandatory())
    .option('--ratio <r>', 'fraction removed, in (0, 1): of the heads/units (structured) or of the weights (magnitude)', floatArg('--ratio'))
    .option('--target-flops <f>', 'fraction of the FLOPs to keep, in (0, 1) (structured methods)', floatArg('--target-flops'))
    .addOption(dataOption('evaluation data: top-1 and agreement with the unpruned model, before and after the refit'))
    .addOption(calibrationDataOption('structured methods: the images the refit is fitted on'))
    .addOption(calibrationSizeOption(PRUNE_CALIBRATION_SIZE, 'a least-squares refit of whole layers; 2,048 changed top-1 by < 0.05 pt, docs/pruning.md'))
    .addOption(enumOption('--ranking <r>', 'uniform (same fraction per layer) or global (one ranking across layers)', ['uniform', 'global'], 'global'))
    .option('--no-reconstruct', 'slice only; do not refit the layers after the cut')
    .addOption(enumOption('--refit-target <t>', 'corrective (match the unpruned residual stream) or local (match each unpruned layer on its own input)', ['corrective', 'local'], 'corrective'))
    .option('--ridge <x>', 'relative ridge of the refit (default 1e-3)', floatArg('--ridge'))
    .addOption(enumOption('--scope <s>', 'magnitude: layer (per-matrix threshold) or global (one threshold)', ['layer', 'global'], 'layer'))
    .option('--nm <N:M>', 'nm: the pattern', '2:4')
    .addOption(evalSizeOption(DEFAULT_EVAL_SIZE))
    .addOption(graphOption('default: the input\'s style, else ort'));
  addPortableAlias(cmd);
  // Old meaning: --data was the calibration set and --eval the evaluation set.
  deprecated(cmd, new Option('--eval <spec>', 'old spelling of --data (evaluation data)'), '--data <evaluation> --calibration-data <calibration>', (v, c) => {
    if (c.getOptionValueSource('data') === 'cli') setOption(c, 'calibrationData', '--calibration-data', c.getOptionValue('data'));
    c.setOptionValueWithSource('data', v, 'cli');
  });
  addEngineOptions(addCompressionReportOptions(cmd)).action(async (modelSpec: string, o: PruneCliOptions) => {
    const report = await runPrune(modelSpec, o);
    const { formatPruneReport } = await import('../tune/prune-report.js');
    await emit(report, formatPruneReport(report), o.json);
  });
}
