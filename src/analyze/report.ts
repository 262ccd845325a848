/**
 * The architecture analysis as one report object (what `vitopt analyze --json` prints) and its
 * Markdown rendering. Everything here is assembled from params/macs/memory/scaling/roofline.
 */
import { type ModelConfig, type VitConfig, describe, gridSize, isPruned, patchTokens, sequenceLength, tokenStride } from '../models/config.js';
import { UserError } from '../errors.js';
import { type ParamBreakdown, paramBreakdown } from './params.js';
import { type ElementwiseEstimate, type MacsReport, elementwiseFlops, macs, vitBlockMacs } from './macs.js';
import { checkMergeSchedule, describeMerging, hasMerging, unmerged } from '../models/tome.js';
import { type ActivationMemory, type WeightBytes, activationMemory, weightBytes } from './memory.js';
import { type Crossover, type ScalingRow, DEFAULT_RESOLUTIONS, crossover, scalingTable } from './scaling.js';
import { type HardwareProfile, type RooflineBound, DEFAULT_PROFILE, rooflineBound } from './roofline.js';
import { type LayerFigures, layerFigures } from './layers.js';

export interface AnalyzeOptions {
  /** Batch size for the memory and roofline figures (batch 1 is always reported too). */
  batch?: number;
  resolutions?: number[];
  profile?: HardwareProfile;
  /** Extra notes to carry into the report (e.g. from `withOverrides`). */
  notes?: string[];
}

export interface AnalysisReport {
  model: string;
  config: ModelConfig;
  description: string;
  resolution: number;
  grid: number;
  tokens: number;
  sequence: number;
  batch: number;
  params: ParamBreakdown;
  /** Structurally pruned models only: each block's widths, parameters and MACs. */
  layers?: LayerFigures[];
  macs: MacsReport;
  elementwise: ElementwiseEstimate;
  weights: WeightBytes;
  activations: { batch1: ActivationMemory; batch: ActivationMemory };
  scaling: ScalingRow[];
  crossover: Crossover | null;
  roofline: { batch1: RooflineBound; batch: RooflineBound };
  notes: string[];
}

/**
 * Apply --resolution / --classes to a configuration, with the notes a reader needs: a ViT at another
 * resolution needs an interpolated position embedding, a Mixer needs new token-mixing weights.
 */
export function withOverrides(base: ModelConfig, o: { resolution?: number; classes?: number }): { config: ModelConfig; notes: string[] } {
  const config: ModelConfig = structuredClone(base);
  const notes: string[] = [];
  if (o.classes !== undefined) {
    if (!Number.isInteger(o.classes) || o.classes < 0) throw new UserError(`--classes must be an integer >= 0, not ${o.classes}`);
    config.classes = o.classes;
  }
  const r = o.resolution;
  if (r !== undefined) {
    if (!Number.isInteger(r) || r < tokenStride(config)) {
      throw new UserError(`--resolution ${r} is smaller than the ${tokenStride(config)} pixels of one token (or not an integer)`);
    }
    config.resolution = r;
    if (r !== base.resolution) {
      const g0 = gridSize(base), g = gridSize(config);
      notes.push(config.family === 'vit'
        ? `resolution ${r} px (native ${base.resolution}): position embedding interpolated from ${g0}×${g0} to ${g}×${g} (spec §3.5); parameters count the new length`
        : `resolution ${r} px (native ${base.resolution}): the Mixer *architecture* at that resolution — its token-mixing weights are S×D_S (S=${patchTokens(config)} instead of ${patchTokens(base)}), so it needs new token-mixing weights; a ${base.resolution}-px checkpoint cannot run there`);
    }
    if (config.family === 'vit' && config.mergeTokens) {
      // A merge schedule belongs to a token count: it must still fit at the new resolution.
      checkMergeSchedule(config, config.mergeTokens, `--resolution ${r}: the model's merge schedule`);
    }
    if (r % tokenStride(config) !== 0) {
      notes.push(config.family === 'vit'
        ? (config.resnet
          ? `${r} is not a multiple of the ${tokenStride(config)} pixels per token: the ResNet's SAME convs pad, and the VALID patch conv may drop a row/column of its map`
          : `${r} is not a multiple of the patch ${config.patch}: the VALID patch conv drops the last ${r % config.patch} pixel rows/columns`)
        : `${r} is not a multiple of the patch ${config.patch}: the SAME stem zero-pads to a ${gridSize(config)}×${gridSize(config)} grid`);
    }
  }
  return { config, notes };
}

export function analyze(c: ModelConfig, opts: AnalyzeOptions = {}): AnalysisReport {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch must be an integer >= 1, not ${batch}`);
  if (c.resolution < tokenStride(c)) throw new UserError(`resolution ${c.resolution} is smaller than the ${tokenStride(c)} pixels of one token`);
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const notes = [...(opts.notes ?? [])];
  notes.push('MACs count matrix products only (FLOPs = 2·MACs); elementwise FLOPs are a separate estimate');
  if (c.family === 'mixer') {
    notes.push('Mixer token mixing is linear in S only for a fixed D_S; its S×D_S weights tie a checkpoint to one resolution');
  }
  if (isPruned(c)) {
    notes.push('structurally pruned: every figure (parameters, MACs, weight bytes, activations, scaling, roofline) is computed ' +
      'block by block with that block\'s own heads and hidden widths');
  }
  if (hasMerging(c)) {
    notes.push(`Token Merging: ${describeMerging(c)}; MACs and the roofline count each block at its own token count; ` +
      'elementwise FLOPs, activation memory (its peak is in the first block, before any merge) and the resolution scaling are for the unmerged sequence');
  }
  return {
    model: c.name ?? describe(c),
    config: c,
    description: describe(c),
    resolution: c.resolution,
    grid: gridSize(c),
    tokens: patchTokens(c),
    sequence: sequenceLength(c),
    batch,
    params: paramBreakdown(c),
    ...(isPruned(c) ? { layers: layerFigures(c) } : {}),
    macs: macs(c),
    elementwise: elementwiseFlops(c),
    weights: weightBytes(c),
    activations: { batch1: activationMemory(c, 1), batch: activationMemory(c, batch) },
    scaling: scalingTable(c, opts.resolutions ?? DEFAULT_RESOLUTIONS),
    crossover: crossover(c),
    roofline: { batch1: rooflineBound(c, 1, profile), batch: rooflineBound(c, batch, profile) },
    notes,
  };
}

// --- rendering --------------------------------------------------------------------------------------

/** One block's MACs without merging. */
function unmergedBlockMacs(c: ModelConfig, l: number): number {
  return vitBlockMacs(unmerged(c) as VitConfig)[l]!.total;
}

const int = (n: number) => n.toLocaleString('en-US');
const giga = (n: number) => (n / 1e9).toFixed(3);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function table(header: string[], rows: (string | number)[][], alignRight = new Set<number>()): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((s, i) => (alignRight.has(i) ? s.padStart(width[i]!) : s.padEnd(width[i]!))).join(' | ')} |`;
  const rule = `|${width.map((w, i) => (alignRight.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...cells.slice(1).map(line)].join('\n');
}

const right = (...i: number[]) => new Set(i);

export function renderText(r: AnalysisReport): string {
  const out: string[] = [];
  const isVit = r.config.family === 'vit';
  out.push(`# ${r.model} @ ${r.resolution} px`, '', r.description, '',
    `Tokens: ${r.grid}×${r.grid} = ${r.tokens} patches${r.sequence !== r.tokens ? `, sequence T = ${r.sequence} (with cls)` : ''}.`, '');

  out.push('## Parameters', '', table(['component', 'parameters', 'share'], [
    ...(r.params.resnet ? [['ResNet stem (StdConv + GroupNorm)', int(r.params.resnet), pct(r.params.resnet / r.params.total)]] : []),
    ['patch embedding / stem', int(r.params.embedding), pct(r.params.embedding / r.params.total)],
    ...(isVit ? [['cls + position embedding', int(r.params.tokens), pct(r.params.tokens / r.params.total)]] : []),
    ['blocks', int(r.params.blocks), pct(r.params.blocks / r.params.total)],
    ['final LayerNorm', int(r.params.finalNorm), pct(r.params.finalNorm / r.params.total)],
    ...(r.params.preLogits ? [['pre_logits', int(r.params.preLogits), pct(r.params.preLogits / r.params.total)]] : []),
    ['head', int(r.params.head), pct(r.params.head / r.params.total)],
    ['**total**', int(r.params.total), '100.0%'],
  ], right(1, 2)), '');

  if (r.layers) {
    out.push('## Blocks (structurally pruned)', '', isVit
      ? table(['block', 'heads', 'attention width', 'MLP width', 'parameters', 'GMACs'],
        r.layers.map((b) => [b.layer, b.heads!, b.attentionWidth!, b.mlp!, int(b.params), giga(b.macs)]), right(1, 2, 3, 4, 5))
      : table(['block', 'token-mixing width', 'channel-mixing width', 'parameters', 'GMACs'],
        r.layers.map((b) => [b.layer, b.tokensMlp!, b.channelsMlp!, int(b.params), giga(b.macs)]), right(1, 2, 3, 4)), '');
  }

  const m = r.macs;
  out.push('## MACs per image (exact)', '', table(['component', 'formula', 'GMACs', 'share', 'in tokens'], [
    ...m.components.filter((x) => x.macs > 0).map((x) => [x.label, x.formula, giga(x.macs), pct(x.macs / m.total), x.scaling]),
    ['**total**', '', giga(m.total), '100.0%', ''],
  ], right(2, 3)), '',
  `Linear in tokens ${giga(m.linear)} G (${pct(m.linear / m.total)}), quadratic ${giga(m.quadratic)} G ` +
    `(${pct(m.quadratic / m.total)}), constant ${giga(m.constant)} G. Matmul FLOPs = 2·MACs = ${giga(m.flops)} GFLOPs.`, '');

  if (m.blocks) {
    out.push('## Token merging (exact MACs per block)', '', table(['block', 'tokens in', 'merged', 'tokens out', 'attention GMACs', 'merge GMACs', 'MLP GMACs', 'total GMACs', 'vs unmerged block'],
      m.blocks.map((b) => [b.layer, b.tokens, b.merged, b.tokens - b.merged, giga(b.attention), giga(b.merge), giga(b.mlp), giga(b.total),
        pct(b.total / unmergedBlockMacs(r.config, b.layer))]), right(1, 2, 3, 4, 5, 6, 7, 8)), '',
    `Whole model: ${giga(m.total)} GMACs against ${giga(macs(unmerged(r.config)).total)} unmerged ` +
      `(${(macs(unmerged(r.config)).total / m.total).toFixed(2)}× fewer).`, '');
  }

  const e = r.elementwise;
  out.push(`Elementwise FLOPs (ESTIMATE: ${e.assumption}): LayerNorm ${giga(e.layerNorm)} G, ` +
    `${isVit ? `softmax ${giga(e.softmax)} G, ` : ''}GELU ${giga(e.gelu)} G, biases/misc ${giga(e.biasAndMisc)} G, ` +
    `residual ${giga(e.residual)} G; total ${giga(e.total)} G = ${pct(e.total / m.flops)} of the matmul FLOPs.`, '');

  const w = r.weights;
  out.push('## Weights', '', table(['format', 'bytes', 'MiB', 'vs fp32'], [
    ['fp32', int(w.fp32), mib(w.fp32), '1.00×'],
    ['fp16', int(w.fp16), mib(w.fp16), (w.fp16 / w.fp32).toFixed(2) + '×'],
    ['int8', int(w.int8), mib(w.int8), (w.int8 / w.fp32).toFixed(2) + '×'],
    ['int4', int(w.int4), mib(w.int4), (w.int4 / w.fp32).toFixed(2) + '×'],
  ], right(1, 2, 3)), '', `Assumption: ${w.assumption}. Dense kernels: ${int(w.matmulParams)} of ${int(w.params)} parameters.`, '');

  const a1 = r.activations.batch1, ab = r.activations.batch;
  // Which block is widest matters only when blocks differ (pruned); otherwise the first of equals.
  const widest = (a: typeof a1) => (r.layers && a.peakBlock !== null ? `${a.peakOp} (block ${a.peakBlock})` : a.peakOp);
  const actRows = [a1, ...(r.batch !== 1 ? [ab] : [])].map((a) => [String(a.batch), mib(a.peakBytes), widest(a),
    isVit ? mib(a.attentionMatrixBytes) : '—', mib(a.writtenBytes)]);
  out.push('## Activations (float32)', '', table(['batch', 'peak MiB', 'widest op', `attention matrix MiB${r.layers ? ' (most heads)' : ''}`, 'written MiB'], actRows, right(1, 3, 4)), '',
    `Live at the peak (per image, elements): ${a1.peakTensors.join(', ')}.`, `Model: ${a1.model}.`, '');

  out.push('## Scaling with resolution', '');
  if (isVit) {
    out.push(table(['px', 'grid', 'N', 'T', 'GMACs', 'N·D² terms G', 'N²·D terms G', 'quad/linear'],
      r.scaling.map((s) => [s.resolution, `${s.grid}×${s.grid}`, s.tokens, s.sequence, giga(s.totalMacs), giga(s.linearMacs), giga(s.quadraticMacs), s.quadraticToLinear.toFixed(3)]),
      right(2, 3, 4, 5, 6, 7)));
    const x = r.crossover!;
    const fixed = (n: number) => (Number.isInteger(n) ? int(n) : n.toFixed(1));
    const range = x.layerT ? ` (block by block from T > ${fixed(Math.min(...x.layerT))} to T > ${fixed(Math.max(...x.layerT))})` : '';
    out.push('', `Quadratic term overtakes: ${x.layerT ? 'all blocks together' : 'per block'} ${x.formula}, i.e. T > ${fixed(x.blockT)}${range}; against the attention ` +
      `projections alone at T > 2D = ${int(x.projectionsT)}. Whole model (patch embedding included): first at a ` +
      `${x.modelGrid}×${x.modelGrid} grid (T = ${int(x.modelT)}, ${x.modelResolution} px).`, '');
  } else {
    out.push(table(['px', 'grid', 'S', 'GMACs', 'token mixing G', 'channel mixing G', 'token-mixing weights'],
      r.scaling.map((s) => [s.resolution, `${s.grid}×${s.grid}`, s.tokens, giga(s.totalMacs), giga(s.tokenMixingMacs!), giga(s.channelMixingMacs!), int(s.tokenMixingParams!)]),
      right(2, 3, 4, 5, 6)));
    out.push('', 'Mixer has no quadratic term; every resolution other than the trained one is the same architecture with new S×D_S token-mixing weights.', '');
  }

  const rb = r.roofline;
  const rows: string[][] = [];
  for (const b of [rb.batch1, ...(r.batch !== 1 ? [rb.batch] : [])]) {
    for (const p of [b.fp32, ...(b.int8 ? [b.int8] : [])]) {
      rows.push([p.precision, String(p.batch), (p.computeSeconds * 1e3).toFixed(2),
        p.memorySeconds === null ? '—' : (p.memorySeconds * 1e3).toFixed(2), p.imagesPerSecond.toFixed(1), p.arithmeticIntensity.toFixed(1), p.limitedBy]);
    }
  }
  const pr = rb.batch1.profile;
  out.push('## Roofline bound', '', `Profile: fp32 ${pr.fp32GflopsPerS} GFLOP/s` +
    `${pr.int8GopsPerS ? `, int8 ${pr.int8GopsPerS} GOP/s` : ''}${pr.memBandwidthGBs ? `, ${pr.memBandwidthGBs} GB/s` : ', bandwidth not given'}` +
    `${pr.source ? ` (${pr.source})` : ''}.`, '',
  table(['precision', 'batch', 'compute ms ≥', 'memory ms ≥', 'img/s ≤', 'FLOP/byte', 'limited by'], rows, right(1, 2, 3, 4, 5)), '',
  'Bounds count matmul FLOPs only at the profile\'s peak; int8 runs Dense layers at the int8 rate and the conv' +
    `${isVit ? ' and attention products' : ''} at fp32. Memory bound: weights once per batch + input + logits.`, '');

  if (r.notes.length) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
