/**
 * What the tuner starts from: anything the other commands take (a zoo name with random weights, a
 * checkpoint, a reference model, an ONNX file).
 *
 * Every artifact is derived the way reproduce.sh rebuilds it: the fp32 model is first written in a
 * graph style (`vitopt convert …`, or the ONNX file itself), and pruning starts from the IR read back
 * from that graph (`vitopt prune base.onnx …`). So the tuner's model and the reproduced one are the
 * same bytes, not merely the same up to rounding.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { FileError, UserError } from '../errors.js';
import type { Normalization } from '../data/preprocess.js';
import { exportModel } from '../export/index.js';
import { encodeModel, loadModel, metadata, type ModelProto } from '../formats/onnx.js';
import type { ModelConfig } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { META_SOURCE, META_STYLE } from '../models/metadata.js';
import { isCheckpointPath } from '../models/checkpoint.js';
import type { GraphStyleChoice } from './types.js';

export interface TuneInput {
  spec: string;
  kind: 'zoo' | 'checkpoint' | 'onnx';
  config: ModelConfig | null;
  labels: string[] | null;
  resolution: number;
  normalize?: Normalization;
  /** Random weights (a zoo name, or an export of one): no accuracy to measure. */
  randomWeights: boolean;
  /** Graph styles the input can be had in (an ONNX file: only its own). */
  styles: GraphStyleChoice[];
  /** The baseline's style: 'ort' (the default graph), or an ONNX file's own. */
  baselineStyle: GraphStyleChoice;
  /** The fp32 model in a graph style. */
  fp32(style: GraphStyleChoice): ModelProto;
  /** The IR read back from fp32(style), for pruning; null when vitopt cannot read the graph back. */
  ir(style: GraphStyleChoice): ModelIR | null;
  /** Why the input cannot be pruned (no IR), or null. */
  cannotPrune: string | null;
  /** Why the input cannot be quantized (already quantized), or null. */
  cannotQuantize: string | null;
  /** Identifies the input's content (hash of the baseline graph): the root of every candidate id. */
  id: string;
  /** The shell command that writes fp32(style) to `out` (reproduce.sh). */
  fp32Command(out: string, style: GraphStyleChoice): string;
}

const merging = (c: ModelConfig | null) => c?.family === 'vit' && (c.mergeTokens ?? []).some((r) => r > 0);

/** Quote a word for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
const q = shellQuote;

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function memo<K, V>(f: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    if (!cache.has(k)) cache.set(k, f(k));
    return cache.get(k)!;
  };
}

export async function resolveTuneInput(spec: string): Promise<TuneInput> {
  const { specKind, onnxInfo, onnxInputSize } = await import('../models/resolve.js');
  const { irFromOnnx } = await import('../compress/prune/from-onnx.js');
  const kind = specKind(spec);
  const readBack = (m: ModelProto): ModelIR | null => {
    try {
      return irFromOnnx(m, spec);
    } catch (e) {
      if (e instanceof UserError) return null;
      throw e;
    }
  };
  if (kind === 'zoo' || kind === 'checkpoint') {
    let source: ModelIR;
    if (kind === 'zoo') {
      const { zooConfig } = await import('../models/zoo.js');
      const { randomIR } = await import('../models/random.js');
      source = randomIR(zooConfig(spec), 0);
    } else {
      const { loadCheckpoint } = await import('../models/checkpoint.js');
      source = await loadCheckpoint(spec);
    }
    const fp32 = memo((style: GraphStyleChoice) => exportModel(source, style));
    const base = fp32('ort');
    return {
      spec, kind, config: source.config, labels: source.labels, resolution: source.config.resolution, normalize: source.config.normalize,
      randomWeights: source.source.startsWith('random:'), styles: ['ort', 'portable'], baselineStyle: 'ort',
      fp32, ir: memo((style: GraphStyleChoice) => readBack(fp32(style))), cannotPrune: null, cannotQuantize: null,
      id: contentHash(encodeModel(base)).slice(0, 16),
      fp32Command: (out, style) => (kind === 'zoo' ? `vitopt convert --config ${q(spec)} --random-weights --seed 0`
        : `vitopt convert ${q(isCheckpointPath(spec) ? path.resolve(spec) : spec)}`) +
        ` -o ${q(out)}${style === 'portable' ? ' --graph portable' : ''}`,
    };
  }
  const proto = await loadModel(spec);
  const info = onnxInfo(proto, spec);
  const resolution = info.config?.resolution ?? onnxInputSize(proto);
  if (!resolution) throw new FileError(spec, 'its input is not an image batch [batch, 3, H, W] with a fixed H');
  const { alreadyQuantized } = await import('../compress/quantize/check.js');
  const quantized = alreadyQuantized(proto);
  const ir = info.config && !quantized ? readBack(proto) : null;
  const style: GraphStyleChoice = metadata(proto)[META_STYLE] === 'portable' ? 'portable' : 'ort';
  return {
    spec, kind, config: info.config, labels: info.labels, resolution, normalize: info.config?.normalize,
    randomWeights: (metadata(proto)[META_SOURCE] ?? '').startsWith('random:'), styles: [style], baselineStyle: style,
    fp32: () => proto, ir: () => ir,
    cannotPrune: ir ? (merging(info.config) ? 'the input merges tokens; tune its unmerged model with --merge-tokens instead (pruning refits one token per patch)' : null)
      : quantized ? `the input is already quantized (${quantized})`
      : 'the input is not a vitopt export (no vitopt configuration to rebuild its layers from)',
    cannotQuantize: quantized ? `the input is already quantized (${quantized})` : null,
    id: contentHash(encodeModel(proto)).slice(0, 16),
    fp32Command: (out) => `cp ${q(path.resolve(spec))} ${q(out)}`,
  };
}
