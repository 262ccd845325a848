/**
 * quantize(model, options): one entry point for the four modes. It never changes the model it is
 * given; the result holds the new model and, per weight layer, whether it was quantized, why not,
 * and the SQNR of its weights.
 */
import { UserError } from '../../errors.js';
import { DataType, type ModelProto } from '../../formats/onnx.js';
import type { EngineOptions } from '../../engines/options.js';
import { Graph } from '../../graph/graph.js';
import { topoSort } from '../../graph/topo.js';
import { type CalibrationMethod, DEFAULT_PERCENTILE } from './calibrate.js';
import { type CalibrationSource, collectRanges } from './collect.js';
import { detectCpu, int8FormatFor } from './cpu.js';
import { quantizeDynamic, type WeightLayerResult } from './dynamic.js';
import { convertFp16 } from './fp16.js';
import { DEFAULT_INT4, type Int4Options, quantizeInt4 } from './int4.js';
import type { Int8Format } from './int8.js';
import type { Layer } from './layers.js';
import { analyze, type Analysis, prepare, type Prepared } from './prepare.js';
import type { WeightMode } from './registry.js';
import { matches, type Plan, type Rules } from './select.js';
import { convWeightsToHalf } from './storage.js';
import { ALL_FUSIONS, type Fusions } from '../../export/layers.js';
import { describeFusions, parseFusions } from '../../export/fusions.js';
import { META_FUSIONS } from '../../models/metadata.js';
import { QdqInserter, quantizeActivationNode, quantizeStatic, type Range, tensorsToCalibrate } from './static.js';
import { decideStem, quantizeConvStatic, stemConvs, type StemChoice } from './stem.js';

export type QuantizeMode = WeightMode | 'fp16';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['dynamic', 'static', 'fp16', 'int4'];

/** Percentile keeps transformer activation outliers from stretching the uint8 grid (measured: docs/quantization.md). */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'percentile';
export const META_QUANTIZATION = 'vitopt.quantization';

export interface QuantizeOptions {
  mode: QuantizeMode;
  /** INT8 weights per output channel (default) or per tensor. */
  perChannel?: boolean;
  /** INT8 storage format; 'auto' (default) picks it from the CPU (cpu.ts). */
  format?: Int8Format | 'auto';
  include?: string[];
  exclude?: string[];
  /** Static mode: calibration images. */
  calibration?: CalibrationSource;
  calibrationBatch?: number;
  method?: CalibrationMethod;
  percentile?: number;
  /** Static mode: ranges from an earlier calibration (the accuracy guard reuses them). */
  ranges?: Map<string, Range>;
  int4?: Partial<Int4Options>;
  /** FP16: smallest non-zero magnitude kept (default 1e-7). */
  minPositive?: number;
  engine?: EngineOptions;
  /** Layers forced to float (layer id -> reason); set by the accuracy guard. */
  float?: Map<string, string>;
  /** Reuse an analysis of the same model (the guard quantizes one model many times). */
  analysis?: Analysis;
  /** INT8: contrib-op fusions to keep (default: the measured int8 choice for this CPU, src/export/fusions.ts). */
  fusions?: Fusions;
  /** A hybrid's ResNet stem convolutions in static INT8: 'auto' (default) follows the measured default for this CPU (stem.ts). */
  stem?: StemChoice | 'auto';
  /** Return a model with nothing quantized instead of failing (the guard may revert every layer). */
  allowNothing?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface LayerResult {
  id: string;
  label: string;
  opType: string;
  kind: Layer['kind'];
  /** The float weight's name in the input model. */
  weight: string;
  K: number;
  N: number;
  head: boolean;
  quantized: boolean;
  /** Why it stayed float, or how it came to be quantized against the defaults. */
  reason: string;
  /** Tensor holding the layer's result in both graphs (per-layer error is measured there). */
  compare: string;
  weightSqnr?: number;
  floatBytes: number;
  quantBytes: number;
}

export interface QuantizeSettings {
  mode: QuantizeMode;
  format?: Int8Format;
  formatReason?: string;
  perChannel?: boolean;
  method?: CalibrationMethod;
  percentile?: number;
  int4?: Int4Options;
  /** INT8: the contrib-op fusions kept (as in vitopt.fusions), why, and the fused nodes rewritten. */
  fusions?: { kept: string; basis: string; unfused: Record<string, number> };
  /** Hybrids (INT8 modes): the ResNet stem's convolutions in int8 (QLinearConv) or float, why, and how many of them are int8. */
  stem?: { convs: StemChoice; basis: string; quantized: number; total: number };
}

export interface QuantizeResult {
  model: ModelProto;
  settings: QuantizeSettings;
  layers: LayerResult[];
  /** Nodes left float that the user may wonder about (the patch Conv, unsupported Attention, fp16 block list). */
  kept: Plan['kept'];
  /** Non-weight nodes bracketed with Q/DQ (static, on request). */
  activationNodes: string[];
  calibration?: { source: string; images: number; passes: number; tensors: number };
  /** Static: the calibrated ranges (reusable through options.ranges). */
  ranges?: Map<string, Range>;
  fp16?: { halfNodes: number; clamped: number; casts: number };
  notes: string[];
}

function resolveFormat(o: QuantizeOptions, notes: string[]): { format: Int8Format; reason: string } {
  if (o.format && o.format !== 'auto') return { format: o.format, reason: 'chosen with --int8-format' };
  const cpu = detectCpu();
  const format = int8FormatFor(cpu);
  const reason = `${cpu.evidence} -> ${format}`;
  if (format === 'u8s8-reduced') notes.push('this CPU has no VNNI: weights use 7 bits (u8s8-reduced) so the u8·s8 kernel cannot saturate; ' +
    'a model for a VNNI machine can be made with --int8-format u8s8');
  return { format, reason };
}

function withMetadata(m: ModelProto, settings: QuantizeSettings): void {
  const props = (m.metadataProps ??= []).filter((p) => p.key !== META_QUANTIZATION && !(settings.fusions && p.key === META_FUSIONS));
  props.push({ key: META_QUANTIZATION, value: JSON.stringify(settings) });
  if (settings.fusions) props.push({ key: META_FUSIONS, value: settings.fusions.kept });
  m.metadataProps = props;
}

/** The fusions an INT8 graph ends up with: those the fp32 graph had (its metadata) that the int8 choice keeps. */
function int8Fusions(a: Analysis, model: ModelProto): QuantizeSettings['fusions'] {
  if (!a.fusions) return undefined;
  const had = model.metadataProps?.find((p) => p.key === META_FUSIONS)?.value;
  const before = had ? parseFusions(had) ?? ALL_FUSIONS : ALL_FUSIONS;
  const keep = a.fusions.keep;
  const kept = describeFusions({ attention: before.attention && keep.attention, skipLayerNorm: before.skipLayerNorm && keep.skipLayerNorm, gelu: before.gelu && keep.gelu });
  return { kept, basis: a.fusions.basis, unfused: a.fusions.unfused };
}

function layerRow(d: Plan['layers'][number], r?: WeightLayerResult): LayerResult {
  const l = d.layer;
  return { id: l.id, label: l.label, opType: l.opType, kind: l.kind, weight: l.weight, K: l.K, N: l.N, head: l.head, quantized: d.quantize,
    reason: d.reason, compare: r?.compare ?? l.output, weightSqnr: r?.weightSqnr, floatBytes: l.K * l.N * 4,
    quantBytes: r?.quantBytes ?? l.K * l.N * 4 };
}

function noLayersError(p: Plan, mode: QuantizeMode): UserError {
  if (p.layers.length === 0) {
    const why = p.kept.length ? ` (${p.kept.map((k) => `${k.opType} ${k.node}: ${k.reason}`).slice(0, 3).join('; ')})` : '';
    return new UserError(`nothing to quantize: the model has no quantizable ops (no MatMul, Gemm or Attention with a constant float weight)${why}`);
  }
  return new UserError(`nothing to quantize in ${mode} mode: every weight layer is kept float (${p.layers[0]!.reason}${p.layers.length > 1 ? ', …' : ''})`);
}

export async function quantize(model: ModelProto, o: QuantizeOptions): Promise<QuantizeResult> {
  const notes: string[] = [];
  const a = o.analysis ?? await analyze(model, { mode: o.mode, fusions: o.fusions });
  if (o.mode === 'fp16') {
    const r = convertFp16(a, { include: o.include, exclude: o.exclude, minPositive: o.minPositive });
    topoSort(r.model);
    const settings: QuantizeSettings = { mode: 'fp16' };
    withMetadata(r.model, settings);
    if (r.clamped) notes.push(`${r.clamped} constant values were clamped to the fp16 range`);
    return { model: r.model, settings, layers: [], kept: r.blocked, activationNodes: [], notes,
      fp16: { halfNodes: r.halfNodes, clamped: r.clamped, casts: r.casts } };
  }
  if (o.mode === 'static' && new Graph(a.named).opsetVersion('') < 10) {
    throw new UserError(`static QDQ needs opset 10 or later (QuantizeLinear); this model has opset ${new Graph(a.named).opsetVersion('')}`);
  }
  const rules: Rules = { include: o.include, exclude: o.exclude, float: o.float };
  const stemNodes = stemConvs(new Graph(a.named));
  const stemTotal = stemNodes.size;
  const stem = decideStem(o.mode, o.stem, stemTotal > 0);
  const p = prepare(a, o.mode, rules, stem && { decision: stem, convs: stemNodes });
  const chosen = p.plan.layers.filter((d) => d.quantize);
  if (chosen.length === 0 && p.plan.activationNodes.length === 0 && !o.allowNothing) throw noLayersError(p.plan, o.mode);

  const settings: QuantizeSettings = { mode: o.mode };
  const fusions = int8Fusions(a, model);
  if (fusions) settings.fusions = fusions;
  if (stem && o.mode !== 'int4') {
    settings.stem = { ...stem, quantized: chosen.filter((d) => d.layer.kind === 'conv').length, total: stemTotal };
  }
  const results = new Map<string, WeightLayerResult>();
  let calibration: QuantizeResult['calibration'];
  let ranges: Map<string, Range> | undefined;
  if (o.mode === 'int4') {
    const int4: Int4Options = { ...DEFAULT_INT4, ...o.int4 };
    if (!(int4.blockSize >= 16 && (int4.blockSize & (int4.blockSize - 1)) === 0)) {
      throw new UserError(`--block-size ${int4.blockSize}: must be a power of two, at least 16`);
    }
    settings.int4 = int4;
    for (const d of chosen) results.set(d.layer.id, quantizeInt4(p.g, p.canonical.get(d.layer.id)!, { ...int4, compare: d.layer.output }));
  } else {
    const { format, reason } = resolveFormat(o, notes);
    let perChannel = o.perChannel ?? true;
    if (o.mode === 'static' && perChannel && p.g.opsetVersion('') < 13) {
      perChannel = false;
      notes.push(`per-channel QDQ needs opset 13 (DequantizeLinear axis); this model has opset ${p.g.opsetVersion('')}: weights are per-tensor`);
    }
    Object.assign(settings, { format, formatReason: reason, perChannel });
    const w = { format, perChannel };
    if (o.mode === 'dynamic') {
      for (const d of chosen) results.set(d.layer.id, quantizeDynamic(p.g, p.canonical.get(d.layer.id)!, { ...w, compare: d.layer.output }));
    } else {
      const r = await staticRanges(p, o, chosen.map((d) => p.canonical.get(d.layer.id)!));
      ranges = r.ranges;
      calibration = r.calibration;
      settings.method = o.method ?? DEFAULT_CALIBRATION_METHOD;
      if (settings.method === 'percentile') settings.percentile = o.percentile ?? DEFAULT_PERCENTILE;
      const qdq = new QdqInserter(p.g, ranges);
      const isFloat = (t: string) => p.info.get(t)?.elemType === DataType.FLOAT;
      // Requested activation nodes first, so a tensor quantized at its producer is not quantized twice.
      for (const n of p.plan.activationNodes) quantizeActivationNode(p.g, qdq, n, isFloat);
      for (const d of chosen) {
        const q = d.layer.kind === 'conv' ? quantizeConvStatic : quantizeStatic;
        results.set(d.layer.id, q(p.g, qdq, p.canonical.get(d.layer.id)!, { ...w, compare: d.layer.output }));
      }
    }
  }
  if (chosen.length) {
    const conv = convWeightsToHalf(p.g, (name) => (o.exclude ?? []).some((pat) => matches(pat, p.g.nodes.find((n) => n.name === name)!)));
    if (conv.length) notes.push(`Conv weights (${conv.join(', ')}) are stored as float16 and computed in float32 (ONNX Runtime folds the Cast at load); --exclude Conv keeps them float32`);
  }
  p.g.removeUnused();
  topoSort(p.g.model);
  withMetadata(p.g.model, settings);
  return {
    model: p.g.model, settings,
    layers: p.plan.layers.map((d) => layerRow(d, results.get(d.layer.id))),
    kept: p.plan.kept, activationNodes: p.plan.activationNodes.map((n) => n.name!), calibration, ranges, notes,
  };
}

async function staticRanges(p: Prepared, o: QuantizeOptions, canonical: import('../../formats/onnx.js').NodeProto[]):
  Promise<{ ranges: Map<string, Range>; calibration?: QuantizeResult['calibration'] }> {
  const isFloat = (t: string) => p.info.get(t)?.elemType === DataType.FLOAT || !p.info.has(t);
  const needed = tensorsToCalibrate(p.g, canonical, p.plan.activationNodes, isFloat);
  if (o.ranges && needed.every((t) => o.ranges!.has(t))) return { ranges: o.ranges };
  if (!o.calibration) throw new UserError('static quantization needs calibration data (--data <spec>)');
  const method = o.method ?? DEFAULT_CALIBRATION_METHOD;
  const c = await collectRanges(p.g.model, needed, p.info, o.calibration, {
    method, percentile: o.percentile, engine: o.engine, batchSize: o.calibrationBatch,
    onProgress: (images, pass, passes) => o.onProgress?.(passes > 1 ? `calibrate (pass ${pass + 1}/${passes})` : 'calibrate', images, 0),
  });
  return { ranges: c.ranges, calibration: { source: o.calibration.name, images: c.images, passes: c.passes, tensors: needed.length } };
}
