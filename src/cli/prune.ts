/**
 * `vitopt prune <model> -o out.onnx --method heads|neurons|structured|magnitude|nm
 *   (--ratio R | --target-flops F) --data <calibration> [--calibration-size N] [--eval <data>]`
 *
 * Structured methods remove whole heads / hidden units and refit the following layer by least
 * squares on calibration data; magnitude and N:M zero weights (smaller gzip, same speed). The pruned
 * model and reports are written only after everything succeeded, each atomically.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { DATA_SPEC_HELP, openDataSpec } from '../data/data-spec.js';
import { stagedProgress } from '../eval/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { addCompressionReportOptions, addEngineOptions, assertOutputs, emit, engineOptionsFrom, enumOption, floatArg, intArg, oneOf } from './common.js';
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
  calibrationSize?: number;
  ranking: string;
  reconstruct: boolean;
  refitTarget: string;
  ridge?: number;
  scope: string;
  nm: string;
  eval?: string;
  evalSize?: number;
  bench: boolean;
  benchBatch: number;
  portable?: boolean;
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
  lib.validatePruneOptions(options, o.data !== undefined || !lib.isStructured(method));
  if (lib.isStructured(method) && !o.data) throw new UserError(`--method ${method}: needs --data <calibration images>`);
  await assertOutputs(o);
  const calibData = o.data && lib.isStructured(method) ? await openDataSpec(o.data) : null;
  const evalData = o.eval ? await openDataSpec(o.eval) : null;

  const { ir: loaded, style: inputStyle } = await loadIR(modelSpec);
  const style: GraphStyle = o.portable ? 'portable' : inputStyle ?? 'ort';
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
  const progress = stagedProgress('prune', (s) => (s.startsWith('refit') ? 'refit' : s));
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

export function register(program: Command): void {
  const cmd = program.command('prune')
    .description('structured pruning (heads, MLP/mixing units) with least-squares reconstruction, or magnitude / N:M sparsity')
    .argument('<model>', 'a checkpoint (.npz, .safetensors, fashion-vit, fashion-mixer) or an .onnx file written by vitopt convert')
    .requiredOption('-o, --output <file>', 'pruned model (.onnx)')
    .addOption(enumOption('--method <m>', 'pruning method', ['heads', 'neurons', 'structured', 'magnitude', 'nm']).makeOptionMandatory())
    .option('--ratio <r>', 'fraction removed, in (0, 1): of the heads/units (structured) or of the weights (magnitude)', floatArg('--ratio'))
    .option('--target-flops <f>', 'fraction of the FLOPs to keep, in (0, 1) (structured methods)', floatArg('--target-flops'))
    .option('--data <spec>', `calibration images (structured methods): ${DATA_SPEC_HELP}`)
    .option('--calibration-size <n>', 'calibration images (default 512)', intArg('--calibration-size', 1))
    .addOption(enumOption('--ranking <r>', 'uniform (same fraction per layer) or global (one ranking across layers)', ['uniform', 'global'], 'global'))
    .option('--no-reconstruct', 'slice only; do not refit the layers after the cut')
    .addOption(enumOption('--refit-target <t>', 'corrective (match the unpruned residual stream) or local (match each unpruned layer on its own input)', ['corrective', 'local'], 'corrective'))
    .option('--ridge <x>', 'relative ridge of the refit (default 1e-3)', floatArg('--ridge'))
    .addOption(enumOption('--scope <s>', 'magnitude: layer (per-matrix threshold) or global (one threshold)', ['layer', 'global'], 'layer'))
    .option('--nm <N:M>', 'nm: the pattern', '2:4')
    .option('--eval <spec>', 'data to measure top-1 and agreement with the unpruned model (before and after reconstruction)')
    .option('--eval-size <n>', 'evaluate at most n images', intArg('--eval-size', 1))
    .option('--portable', 'write a standard-ONNX graph (default: the input\'s style, or the ONNX Runtime fused graph)')
;
  addEngineOptions(addCompressionReportOptions(cmd)).action(async (modelSpec: string, o: PruneCliOptions) => {
    const report = await runPrune(modelSpec, o);
    const { formatPruneReport } = await import('../tune/prune-report.js');
    await emit(report, formatPruneReport(report), o.json);
  });
}
