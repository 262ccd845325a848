/** The quantization report: the object `vitopt quantize --json` prints, and its Markdown form. */
import type { Assessment } from './quantize-assess.js';
import type { GuardReport } from './quantize-guard.js';
import type { LayerResult, QuantizeResult, QuantizeSettings } from '../compress/quantize/quantize.js';

export interface QuantizeReport {
  model: string;
  output: string | null;
  settings: QuantizeSettings;
  size: Assessment['size'];
  throughput: Assessment['throughput'];
  accuracy: Assessment['accuracy'];
  guard: GuardReport | null;
  /** SQNR (dB) of the logits against the float model, over `sqnrImages` images. */
  logitsSqnr: number;
  sqnrImages: number;
  layers: (LayerResult & { outputSqnr?: number })[];
  kept: QuantizeResult['kept'];
  activationNodes: string[];
  calibration: QuantizeResult['calibration'] | null;
  fp16: QuantizeResult['fp16'] | null;
  notes: string[];
}

export function buildReport(a: { model: string; output: string | null; result: QuantizeResult; assessment: Assessment;
  guard: GuardReport | null }): QuantizeReport {
  const r = a.result, s = a.assessment;
  return {
    model: a.model, output: a.output, settings: r.settings, size: s.size, throughput: s.throughput, accuracy: s.accuracy,
    guard: a.guard, logitsSqnr: s.sqnr.logits, sqnrImages: s.sqnr.images,
    layers: r.layers.map((l) => ({ ...l, outputSqnr: s.sqnr.layers.get(l.id) })),
    kept: r.kept, activationNodes: r.activationNodes, calibration: r.calibration ?? null, fp16: r.fp16 ?? null, notes: r.notes,
  };
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const db = (x: number | undefined) => (x === undefined ? '' : Number.isFinite(x) ? x.toFixed(1) : x > 0 ? '∞' : '-∞');

function settingsLine(s: QuantizeSettings): string {
  const parts: string[] = [`mode ${s.mode}`];
  if (s.format) parts.push(`int8 ${s.format} (${s.formatReason})`, s.perChannel ? 'per-channel weights' : 'per-tensor weights');
  if (s.stem) parts.push(`ResNet stem ${s.stem.convs} (${s.stem.quantized}/${s.stem.total} convs int8; ${s.stem.basis})`);
  if (s.method) parts.push(`calibration ${s.method}${s.percentile ? ` ${s.percentile}` : ''}`);
  if (s.int4) parts.push(`int4 block ${s.int4.blockSize}, ${s.int4.symmetric ? 'symmetric' : 'asymmetric'}${s.int4.accuracyLevel ? `, accuracy_level ${s.int4.accuracyLevel}` : ''}`);
  return parts.join('; ');
}

export function formatReport(r: QuantizeReport): string {
  const out: string[] = [`# Quantization of ${r.model}`, ''];
  if (r.output) out.push(`Output: ${r.output}`);
  out.push(`Settings: ${settingsLine(r.settings)}`);
  if (r.calibration) out.push(`Calibration: ${r.calibration.images} images from ${r.calibration.source}, ${r.calibration.tensors} tensors, ${r.calibration.passes} pass(es)`);
  out.push('', '| | float | quantized | ratio |', '|---|---|---|---|');
  out.push(`| model size | ${mb(r.size.floatBytes)} | ${mb(r.size.quantBytes)} | ${pct(r.size.ratio)} |`);
  if (r.throughput) {
    const t = r.throughput;
    out.push(`| images/s (batch ${t.batch}, side by side) | ${t.floatImagesPerSecond.toFixed(1)} | ${t.quantImagesPerSecond.toFixed(1)} | ${t.ratio.toFixed(2)}× |`);
  }
  if (r.accuracy) {
    const a = r.accuracy;
    out.push(`| top-1 on ${a.dataset} (${a.images} images) | ${pct(a.floatTop1)} | ${pct(a.top1)} | ${a.drop >= 0 ? '−' : '+'}${Math.abs(a.drop).toFixed(2)} points |`);
    out.push(`| agreement with float | | ${pct(a.agreement)} | mean KL ${a.meanKL.toExponential(2)} |`);
  }
  out.push(`| logits SQNR (${r.sqnrImages} images) | | ${db(r.logitsSqnr)} dB | |`);
  if (r.guard) {
    const g = r.guard;
    out.push('', `Accuracy guard: budget ${g.maxDrop} points, ${g.met ? 'met' : 'NOT met'}: drop ${g.drop.toFixed(2)} points after ` +
      `${g.reverted.length} layer(s) returned to float (started at ${g.steps[0]!.drop.toFixed(2)}).`);
    for (const s of g.reverted) out.push(`- ${s.label}: ${s.reason}`);
  }
  if (r.layers.length) {
    out.push('', '| layer | kind | K×N | int | weight SQNR dB | output SQNR dB | note |', '|---|---|---|---|---|---|---|');
    for (const l of r.layers) {
      out.push(`| ${l.label} | ${l.kind} | ${l.K}×${l.N} | ${l.quantized ? 'yes' : 'float'} | ${db(l.weightSqnr)} | ${db(l.outputSqnr)} | ${l.reason} |`);
    }
  }
  if (r.kept.length) {
    out.push('', 'Kept float:');
    const byReason = new Map<string, string[]>();
    for (const k of r.kept) byReason.set(`${k.opType}: ${k.reason}`, [...(byReason.get(`${k.opType}: ${k.reason}`) ?? []), k.node]);
    for (const [why, nodes] of byReason) out.push(`- ${why} (${nodes.length}: ${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? ', …' : ''})`);
  }
  if (r.activationNodes.length) out.push('', `Also quantized (Q/DQ on request): ${r.activationNodes.join(', ')}`);
  if (r.fp16) out.push('', `fp16: ${r.fp16.halfNodes} nodes in float16, ${r.fp16.casts} Cast nodes, ${r.fp16.clamped} constants clamped`);
  for (const n of r.notes) out.push(`Note: ${n}`);
  return out.join('\n') + '\n';
}
