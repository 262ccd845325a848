/**
 * Configuration inferred from weight shapes (spec §2.6), and the check of a weight set against a
 * configuration: missing, unexpected and mis-shaped weights are named one by one.
 */
import { FLAX_NUMERICS, type ModelConfig, type Numerics } from './config.js';
import { expectedShapes } from './layout.js';
import { zooConfig } from './zoo.js';
import { FileError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { shapeString } from '../tensor.js';

function dimsOf(w: Map<string, Tensor>, name: string, rank: number, file: string): number[] {
  const t = w.get(name);
  if (!t) throw new FileError(file, `missing weight '${name}'`);
  if (t.dims.length !== rank) {
    throw new FileError(file, `weight '${name}' has shape ${shapeString(t.dims)}, expected rank ${rank}`);
  }
  return t.dims;
}

function countIndexed(w: Map<string, Tensor>, re: RegExp): number {
  const idx = new Set<number>();
  for (const k of w.keys()) {
    const m = re.exec(k);
    if (m) idx.add(Number(m[1]));
  }
  for (let i = 0; i < idx.size; i++) if (!idx.has(i)) return -1; // gaps make no sense
  return idx.size;
}

export function inferConfig(w: Map<string, Tensor>, file: string, numerics: Numerics = FLAX_NUMERICS): ModelConfig {
  if (w.has('stem/kernel')) {
    const [P, P2, cin, C] = dimsOf(w, 'stem/kernel', 4, file) as [number, number, number, number];
    if (P !== P2 || cin !== 3) throw new FileError(file, `stem/kernel has shape ${shapeString([P, P2, cin, C])}, expected (P, P, 3, C)`);
    const blocks = countIndexed(w, /^MixerBlock_(\d+)\//);
    if (blocks <= 0) throw new FileError(file, 'no MixerBlock_<i> weights (or their numbering has gaps)');
    const S = dimsOf(w, 'MixerBlock_0/token_mixing/Dense_0/kernel', 2, file)[0]!;
    const dss: number[] = [], dcs: number[] = [];
    for (let i = 0; i < blocks; i++) {
      dss.push(dimsOf(w, `MixerBlock_${i}/token_mixing/Dense_0/kernel`, 2, file)[1]!);
      dcs.push(dimsOf(w, `MixerBlock_${i}/channel_mixing/Dense_0/kernel`, 2, file)[1]!);
    }
    const pruned = dss.some((d) => d !== dss[0]) || dcs.some((d) => d !== dcs[0]);
    const DS = Math.max(...dss), DC = Math.max(...dcs);
    const g = Math.round(Math.sqrt(S));
    if (g * g !== S) throw new FileError(file, `token-mixing width ${S} is not a square number of patches`);
    const classes = dimsOf(w, 'head/bias', 1, file)[0]!;
    return { family: 'mixer', patch: P, hidden: C, blocks, tokensMlp: DS, channelsMlp: DC, classes,
      resolution: g * P, ...numerics, ...(pruned ? { layerTokensMlp: dss, layerChannelsMlp: dcs } : {}) };
  }
  if (w.has('embedding/kernel')) {
    const [P, P2, cin, D] = dimsOf(w, 'embedding/kernel', 4, file) as [number, number, number, number];
    if (P !== P2 || cin !== 3) {
      throw new FileError(file, `embedding/kernel has shape ${shapeString([P, P2, cin, D])}, expected (P, P, 3, D)` +
        (cin !== 3 ? ' (hybrid ResNet+ViT checkpoints are not supported)' : ''));
    }
    const layers = countIndexed(w, /^Transformer\/encoderblock_(\d+)\//);
    if (layers <= 0) throw new FileError(file, 'no Transformer/encoderblock_<l> weights (or their numbering has gaps)');
    // Per-layer heads and MLP widths: uniform in published checkpoints, different after structured pruning.
    const heads: number[] = [], mlps: number[] = [];
    let hd = 0;
    for (let l = 0; l < layers; l++) {
      const [, H, hdl] = dimsOf(w, `Transformer/encoderblock_${l}/MultiHeadDotProductAttention_0/query/kernel`, 3, file) as [number, number, number];
      if (l > 0 && hdl !== hd) throw new FileError(file, `encoderblock_${l} has head size ${hdl}, encoderblock_0 has ${hd}`);
      hd = hdl;
      heads.push(H);
      mlps.push(dimsOf(w, `Transformer/encoderblock_${l}/MlpBlock_0/Dense_0/kernel`, 2, file)[1]!);
    }
    const pruned = heads.some((h) => h !== heads[0]) || mlps.some((m) => m !== mlps[0]) || heads[0]! * hd !== D;
    if (!pruned && heads[0]! * hd !== D) throw new FileError(file, `query/kernel heads × head_dim = ${heads[0]}×${hd} does not equal hidden size ${D}`);
    const H = pruned ? (Number.isInteger(D / hd) ? D / hd : Math.max(...heads)) : heads[0]!;
    const mlp = Math.max(...mlps);
    const classifier = w.has('cls') ? 'token' : 'gap';
    const T = dimsOf(w, 'Transformer/posembed_input/pos_embedding', 3, file)[1]!;
    const N = T - (classifier === 'token' ? 1 : 0);
    const g = Math.round(Math.sqrt(N));
    if (g * g !== N) throw new FileError(file, `position embedding has ${N} patch rows, not a square grid`);
    const representation = w.has('pre_logits/kernel') ? dimsOf(w, 'pre_logits/kernel', 2, file)[1]! : null;
    const classes = dimsOf(w, 'head/bias', 1, file)[0]!;
    return { family: 'vit', patch: P, hidden: D, mlp, heads: H, layers, classifier, representation, classes,
      resolution: g * P, ...numerics, ...(pruned ? { layerHeads: heads, layerMlp: mlps, headDim: hd } : {}) };
  }
  if (w.has('conv_root/kernel')) throw new FileError(file, 'hybrid ResNet+ViT checkpoints are not supported');
  throw new FileError(file, "not a ViT or Mixer checkpoint: neither 'embedding/kernel' nor 'stem/kernel' found");
}

/** Every weight present with the right shape, nothing unexpected. */
export function validateWeights(c: ModelConfig, w: Map<string, Tensor>, file: string): void {
  const expected = expectedShapes(c);
  for (const [name, dims] of expected) {
    const t = w.get(name);
    if (!t) throw new FileError(file, `missing weight '${name}'`);
    if (t.dims.join(',') !== dims.join(',')) {
      throw new FileError(file, `weight '${name}' has shape ${shapeString(t.dims)}, expected ${shapeString(dims)}`);
    }
  }
  for (const name of w.keys()) {
    if (!expected.has(name)) throw new FileError(file, `unexpected weight '${name}'`);
  }
}

/** When the user names a config, the checkpoint must be that architecture. */
export function checkAgainstNamed(c: ModelConfig, name: string, file: string): void {
  const z = zooConfig(name);
  const fields = z.family === 'vit'
    ? ['family', 'patch', 'hidden', 'mlp', 'heads', 'layers', 'classifier'] as const
    : ['family', 'patch', 'hidden', 'blocks', 'tokensMlp', 'channelsMlp'] as const;
  for (const f of fields) {
    const a = (c as unknown as Record<string, unknown>)[f], b = (z as unknown as Record<string, unknown>)[f];
    if (a !== b) throw new FileError(file, `does not match config ${z.name}: ${f} is ${String(a)} in the checkpoint, ${String(b)} in ${z.name}`);
  }
  c.name = z.name;
}
