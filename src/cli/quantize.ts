/**
 * `vitopt quantize <model> -o out.onnx --mode dynamic|static|fp16|int4 [--data <spec>] [--max-drop P]`
 *
 * Works on vitopt's exports, checkpoints (exported first) and foreign ONNX ViTs. Everything cheap is
 * checked before the model is loaded; the model and report are written only after everything
 * succeeded, each atomically.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { openDataSpec } from '../data/data-spec.js';
import type { Dataset } from '../data/dataset.js';
import { NO_PROGRESS, stagedProgress } from '../eval/progress.js';
import type { ModelProto } from '../formats/onnx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { assertOutputs, emit, engineOptionsFrom, enumOption, floatArg, intArg, normalizationFrom, oneOf } from './common.js';
import { addCompressionReportOptions, addEngineOptions, addNormalizationOptions, addPortableAlias, calibrationDataOption, calibrationSizeOption, dataOption, evalSizeOption, graphOption, graphStyleFrom } from './options.js';
import type { QuantizeReport } from '../tune/quantize-report.js';
import type { CalibrationMethod, Int8Format, QuantizeMode, QuantizeOptions } from '../compress/quantize/index.js';
import type { ModelConfig } from '../models/config.js';

interface QuantizeCliOptions {
  output: string;
  mode: string;
  fusions?: string;
  stem: string;
  perTensor?: boolean;
  int8Format: string;
  include: string[];
  exclude: string[];
  data?: string;
  calibrationData?: string;
  calibrationSize?: number;
  calibrationMethod?: string;
  percentile?: number;
  blockSize: number;
  symmetric?: boolean;
  accuracyLevel: number;
  maxDrop?: number;
  evalSize: number;
  rankingSize?: number;
  bench: boolean;
  benchBatch: number;
  graph?: string;
  quiet?: boolean;
  report?: string;
  json?: boolean | string;
  mean?: string;
  std?: string;
  [engine: string]: unknown;
}

const list = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** The model to quantize: an ONNX file as it is, or a checkpoint exported first. */
async function loadInput(spec: string, graph: 'ort' | 'portable' | undefined):
  Promise<{ model: ModelProto; config: ModelConfig | null; labels: string[] | null; resolution: number }> {
  const { weightsKind, onnxInfo, onnxInputSize } = await import('../models/resolve.js');
  if (weightsKind(spec) === 'checkpoint') {
    const { loadCheckpoint } = await import('../models/checkpoint.js');
    const { exportModel } = await import('../export/index.js');
    const ir = await loadCheckpoint(spec);
    return { model: exportModel(ir, graph ?? 'ort'), config: ir.config, labels: ir.labels, resolution: ir.config.resolution };
  }
  if (graph) throw new UserError(`--graph ${graph}: applies to checkpoints; an .onnx model is quantized in its own graph style`);
  const { loadModel } = await import('../formats/onnx.js');
  const model = await loadModel(spec);
  const info = onnxInfo(model, spec);
  const resolution = info.config?.resolution ?? onnxInputSize(model);
  if (!resolution) throw new UserError(`${spec}: its input is not an image batch [batch, 3, H, W] with a fixed H`);
  return { model, config: info.config, labels: info.labels, resolution };
}

export async function runQuantize(modelSpec: string, o: QuantizeCliOptions): Promise<{ report: QuantizeReport; model: ModelProto }> {
  const lib = await import('../compress/quantize/index.js');
  const measure = await import('../tune/index.js');
  const mode = oneOf<QuantizeMode>('--mode', o.mode, lib.QUANTIZE_MODES);
  const format = oneOf<Int8Format | 'auto'>('--int8-format', o.int8Format, ['auto', ...lib.INT8_FORMATS]);
  const { parseFusions } = await import('../export/fusions.js');
  const fusions = o.fusions === undefined ? undefined : parseFusions(o.fusions) ?? undefined;
  const stem = oneOf('--stem', o.stem ?? 'auto', lib.STEM_CHOICES);
  const method = o.calibrationMethod ? oneOf<CalibrationMethod>('--calibration-method', o.calibrationMethod, lib.CALIBRATION_METHODS) : undefined;
  if (o.percentile !== undefined && !(o.percentile > 50 && o.percentile <= 100)) throw new UserError(`--percentile ${o.percentile}: must be in (50, 100]`);
  if (o.maxDrop !== undefined && !(o.maxDrop >= 0)) throw new UserError(`--max-drop ${o.maxDrop}: must be >= 0 (top-1 percentage points)`);
  if (o.maxDrop !== undefined && !o.data) throw new UserError('--max-drop needs --data <spec> to measure the drop on');
  if (o.maxDrop !== undefined && mode === 'fp16') throw new UserError('--max-drop: the accuracy guard returns weight layers to float; fp16 has none (use --exclude to keep ops in float32)');
  if (mode !== 'static' && (o.calibrationData || method || o.percentile !== undefined)) {
    throw new UserError(`--calibration-*: only static mode is calibrated (this is --mode ${mode})`);
  }
  const graph = graphStyleFrom(o);
  await assertOutputs(o);
  const userNormalize = normalizationFrom(o);
  const notes: string[] = [];
  const evalData: Dataset | null = o.data ? await openDataSpec(o.data) : null;
  const calibData = mode === 'static' ? await lib.openCalibrationData(o.data, o.calibrationData, notes) : null;

  const input = await loadInput(modelSpec, graph);
  lib.assertQuantizable(input.model, modelSpec);
  const engine = engineOptionsFrom(o);
  const normalize = userNormalize ?? input.config?.normalize;
  const dims = input.model.graph!.input![0]!.type?.tensorType?.shape?.dim ?? [];
  const fixedBatch = dims[0]?.dimValue ? Number(dims[0].dimValue) : undefined;
  const progress = o.quiet ? NO_PROGRESS : stagedProgress('quantize');
  try {
    const analysis = await lib.analyze(input.model, { mode, fusions });
    const options: QuantizeOptions = {
      mode, format, fusions, stem, perChannel: !o.perTensor, include: o.include, exclude: o.exclude, method, percentile: o.percentile,
      calibration: calibData ? lib.datasetSource(calibData, o.calibrationSize ?? lib.DEFAULT_CALIBRATION_SIZE, input.resolution,
        { normalize, batch: fixedBatch, wholeBatches: fixedBatch !== undefined }) : undefined,
      calibrationBatch: fixedBatch,
      int4: { blockSize: o.blockSize, symmetric: !!o.symmetric, accuracyLevel: o.accuracyLevel },
      engine, analysis, onProgress: (s, d, t) => progress.update(s, d, t),
    };
    const evalBatch = fixedBatch ?? 32;
    // A model with a fixed batch dimension is evaluated in full batches only.
    const whole = (n: number) => (fixedBatch ? Math.max(fixedBatch, Math.floor(n / fixedBatch) * fixedBatch) : n);
    const evalSize = evalData ? whole(Math.min(o.evalSize, evalData.size)) : o.evalSize;
    if (evalData && evalSize !== Math.min(o.evalSize, evalData.size)) notes.push(`evaluated on ${evalSize} images (whole batches of the model's fixed batch size ${fixedBatch})`);
    let result, guard = null, evaluated;
    if (o.maxDrop !== undefined) {
      const g = await measure.guardedQuantize(input.model, options, {
        maxDrop: o.maxDrop, data: evalData!, limit: evalSize, rankingSize: whole(o.rankingSize ?? measure.DEFAULT_RANKING_SIZE), batchSize: evalBatch, engine,
        resolution: input.resolution, normalize, labels: input.labels, onProgress: (s, d, t) => progress.update(s, d, t),
      });
      ({ result, guard } = g);
      evaluated = g.evalReport;
    } else {
      result = await lib.quantize(input.model, options);
    }
    const assessment = await measure.assess(input.model, result, {
      data: evalData ?? undefined, limit: evalSize, evaluated, resolution: input.resolution, normalize, labels: input.labels, engine,
      batch: fixedBatch,
      bench: o.bench && !fixedBatch ? { batch: o.benchBatch } : false, onProgress: (s, d, t) => progress.update(s, d, t),
    });
    if (o.bench && fixedBatch) notes.push('throughput not measured: the model has a fixed batch size');
    progress.finish();
    result.notes.push(...notes);
    const report = measure.buildReport({ model: modelSpec, output: o.output, result, assessment, guard });
    // Everything succeeded: now write, each file atomically.
    const { saveModel } = await import('../formats/onnx.js');
    await saveModel(o.output, result.model);
    if (o.report) await writeFileAtomic(o.report, measure.formatReport(report));
    return { report, model: result.model };
  } finally {
    progress.finish();
  }
}

/** = DEFAULT_CALIBRATION_SIZE of compress/quantize (not imported: the quantizer loads only when quantize runs). */
export const QUANTIZE_CALIBRATION_SIZE = 300;

export function register(program: Command): void {
  const cmd = program.command('quantize')
    .description('INT8 (dynamic, or static QDQ with calibration), FP16 or INT4 weight-only; ViT-aware defaults, accuracy guard, per-layer report')
    .argument('<model>', 'an .onnx file (vitopt export or a foreign ViT), a checkpoint (.npz / .safetensors), or fashion-vit / fashion-mixer')
    .requiredOption('-o, --output <file>', 'quantized model (.onnx)')
    .addOption(enumOption('--mode <mode>', 'quantization mode', ['dynamic', 'static', 'fp16', 'int4']).makeOptionMandatory())
    .option('--fusions <list>', 'INT8: contrib-op fusions to keep: auto (measured for this CPU), all, none, or attention,skip-layernorm,gelu', 'auto')
    .addOption(enumOption('--stem <choice>', 'hybrids, static INT8: the ResNet stem\'s convolutions in int8 (QLinearConv) or float; auto: measured for this CPU', ['auto', 'float', 'int8'], 'auto'))
    .option('--per-tensor', 'one int8 scale per weight matrix (default: one per output channel)')
    .addOption(enumOption('--int8-format <f>', 'int8 storage; auto: from the CPU (u8s8 with VNNI, u8s8-reduced without)', ['auto', 'u8s8', 'u8s8-reduced', 'u8u8'], 'auto'))
    .option('--include <list>', 'also quantize these (op types, node or weight names, name prefixes, globs, or "head"); repeatable', list, [])
    .option('--exclude <list>', 'keep these float (fp16: keep these in float32); same patterns; repeatable', list, [])
    .addOption(dataOption('evaluation data (top-1, agreement, --max-drop)'))
    .addOption(calibrationDataOption('static: the images activation ranges are fitted on'))
    .addOption(calibrationSizeOption(QUANTIZE_CALIBRATION_SIZE, 'static; activation ranges settle within a few hundred images, docs/quantization.md'))
    .addOption(enumOption('--calibration-method <m>', 'static: range calibration (default percentile)', ['minmax', 'percentile', 'entropy', 'mse']))
    .option('--percentile <p>', 'static, percentile method: the percentile kept (default 99.999)', floatArg('--percentile'))
    .option('--block-size <n>', 'int4: weights per scale along K (power of two, >= 16)', intArg('--block-size', 16), 32)
    .option('--symmetric', 'int4: symmetric blocks (no zero points)')
    .option('--accuracy-level <n>', 'int4: MatMulNBits accuracy_level (0 = float compute, 4 = int8 compute)', intArg('--accuracy-level', 0), 0)
    .option('--max-drop <points>', 'accuracy guard: largest top-1 drop in percentage points; return sensitive layers to float until it fits', floatArg('--max-drop'))
    .addOption(evalSizeOption(10_000))
    .option('--ranking-size <n>', 'accuracy guard: images for the layer-sensitivity ranking (default 256)', intArg('--ranking-size', 1))
    .addOption(graphOption('a checkpoint is exported in this style first (default ort); an .onnx model keeps its own'));
  addPortableAlias(cmd);
  addEngineOptions(addNormalizationOptions(addCompressionReportOptions(cmd))).action(async (modelSpec: string, o: QuantizeCliOptions) => {
    const { report } = await runQuantize(modelSpec, o);
    const { formatReport } = await import('../tune/quantize-report.js');
    await emit(report, formatReport(report), o.json);
  });
}
