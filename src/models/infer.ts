/**
 * Configuration inferred from weight shapes (spec §2.6), and the check of a weight set against a
 * configuration: missing, unexpected and mis-shaped weights are named one by one.
 */
import { FLAX_NUMERICS, type ModelConfig, type Numerics } from './config.js';
import { type ResnetConfig, GROUPNORM_GROUPS, RESNET_LAYOUTS, describeResnet, stemChannels, stemStride } from './resnet.js';
import { expectedShapes } from './layout.js';
import { MIXER, mixerBlockNames, parseBlockName, VIT, vitBlockNames } from './names.js';
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

/** Blocks of `family` the weights have (names.ts `parseBlockName`), or -1 when their numbering has gaps. */
function countBlocks(w: Map<string, Tensor>, family: 'vit' | 'mixer'): number {
  const idx = new Set<number>();
  for (const k of w.keys()) {
    const b = parseBlockName(k);
    if (b?.family === family && b.part) idx.add(b.block);
  }
  for (let i = 0; i < idx.size; i++) if (!idx.has(i)) return -1; // gaps make no sense
  return idx.size;
}

const tuple = (a: readonly number[]) => `(${a.join(', ')}${a.length === 1 ? ',' : ''})`;

/**
 * A hybrid's ResNet stem from its weight names (spec §2.6): the width from conv_root/kernel, the units
 * per stage from the block{s}/unit{u} names. The layout must be one of the official hybrids'; a missing
 * or extra unit is named by its key.
 */
function inferResnet(w: Map<string, Tensor>, file: string): ResnetConfig | undefined {
  const stageKeys = [...w.keys()].filter((k) => /^(block\d+|conv_root|gn_root)\//.test(k));
  if (!w.has('conv_root/kernel')) {
    if (stageKeys.length) throw new FileError(file, `missing weight 'conv_root/kernel' (found ResNet weight '${stageKeys[0]}')`);
    return undefined;
  }
  const [k, k2, cin, width] = dimsOf(w, 'conv_root/kernel', 4, file) as [number, number, number, number];
  if (k !== 7 || k2 !== 7 || cin !== 3) {
    throw new FileError(file, `weight 'conv_root/kernel' has shape ${tuple([k, k2, cin, width])}, expected (7, 7, 3, width)`);
  }
  if (width % GROUPNORM_GROUPS !== 0) {
    throw new FileError(file, `weight 'conv_root/kernel' has ${width} output channels, not a multiple of GroupNorm's ${GROUPNORM_GROUPS} groups`);
  }
  const units = new Map<number, number[]>();
  for (const key of stageKeys) {
    const m = /^block(\d+)\/unit(\d+)\//.exec(key);
    if (!m) {
      if (key.startsWith('block')) throw new FileError(file, `unexpected weight '${key}' (expected block<s>/unit<u>/…)`);
      continue;
    }
    const s = Number(m[1]), u = Number(m[2]);
    if (!units.has(s)) units.set(s, []);
    if (!units.get(s)!.includes(u)) units.get(s)!.push(u);
  }
  const layers: number[] = [];
  for (let s = 1; s <= units.size; s++) {
    const us = units.get(s);
    if (!us) throw new FileError(file, `ResNet stage 'block${s}' is missing (the checkpoint has block${Math.max(...units.keys())})`);
    for (let u = 1; u <= us.length; u++) {
      if (!us.includes(u)) throw new FileError(file, `ResNet unit 'block${s}/unit${u}' is missing (block${s} has unit${Math.max(...us)})`);
    }
    layers.push(us.length);
  }
  if (!RESNET_LAYOUTS.some((l) => l.layers.join() === layers.join())) {
    // Name the unit that differs from the nearest official layout with as many stages.
    const near = RESNET_LAYOUTS.filter((l) => l.layers.length === layers.length)
      .map((l) => ({ l, d: l.layers.reduce((a, n, i) => a + Math.abs(n - layers[i]!), 0) }))
      .sort((a, b) => a.d - b.d)[0]?.l;
    let why = `no official hybrid has ${layers.length} stages`;
    if (near) {
      const s = near.layers.findIndex((n, i) => n !== layers[i]);
      why = layers[s]! > near.layers[s]!
        ? `extra unit 'block${s + 1}/unit${near.layers[s]! + 1}' against ${near.label} ${tuple(near.layers)}`
        : `unit 'block${s + 1}/unit${layers[s]! + 1}' missing against ${near.label} ${tuple(near.layers)}`;
    }
    throw new FileError(file, `ResNet units per stage ${tuple(layers)} match no hybrid configuration: ${why}`);
  }
  return { layers, width };
}

export function inferConfig(w: Map<string, Tensor>, file: string, numerics: Numerics = FLAX_NUMERICS): ModelConfig {
  if (w.has(MIXER.stem.kernel)) {
    const [P, P2, cin, C] = dimsOf(w, MIXER.stem.kernel, 4, file) as [number, number, number, number];
    if (P !== P2 || cin !== 3) throw new FileError(file, `stem/kernel has shape ${shapeString([P, P2, cin, C])}, expected (P, P, 3, C)`);
    const blocks = countBlocks(w, 'mixer');
    if (blocks <= 0) throw new FileError(file, 'no MixerBlock_<i> weights (or their numbering has gaps)');
    const S = dimsOf(w, mixerBlockNames(0).tokenMixing.fc1.kernel, 2, file)[0]!;
    const dss: number[] = [], dcs: number[] = [];
    for (let i = 0; i < blocks; i++) {
      const n = mixerBlockNames(i);
      dss.push(dimsOf(w, n.tokenMixing.fc1.kernel, 2, file)[1]!);
      dcs.push(dimsOf(w, n.channelMixing.fc1.kernel, 2, file)[1]!);
    }
    const pruned = dss.some((d) => d !== dss[0]) || dcs.some((d) => d !== dcs[0]);
    const DS = Math.max(...dss), DC = Math.max(...dcs);
    const g = Math.round(Math.sqrt(S));
    if (g * g !== S) throw new FileError(file, `token-mixing width ${S} is not a square number of patches`);
    const classes = dimsOf(w, MIXER.head.bias, 1, file)[0]!;
    return { family: 'mixer', patch: P, hidden: C, blocks, tokensMlp: DS, channelsMlp: DC, classes,
      resolution: g * P, ...numerics, ...(pruned ? { layerTokensMlp: dss, layerChannelsMlp: dcs } : {}) };
  }
  const resnet = inferResnet(w, file);
  if (w.has(VIT.embedding.kernel)) {
    const [P, P2, cin, D] = dimsOf(w, VIT.embedding.kernel, 4, file) as [number, number, number, number];
    const want = resnet ? stemChannels(resnet) : 3;
    if (P !== P2 || cin !== want) {
      throw new FileError(file, `weight 'embedding/kernel' has shape ${shapeString([P, P2, cin, D])}, expected (P, P, ${want}, D)` +
        (resnet ? ` (the ${describeResnet(resnet)})` : cin !== 3 ? ' (a hybrid ResNet+ViT checkpoint needs its ResNet weights, conv_root/kernel …)' : ''));
    }
    const layers = countBlocks(w, 'vit');
    if (layers <= 0) throw new FileError(file, 'no Transformer/encoderblock_<l> weights (or their numbering has gaps)');
    // Per-layer heads and MLP widths: uniform in published checkpoints, different after structured pruning.
    const heads: number[] = [], mlps: number[] = [];
    let hd = 0;
    for (let l = 0; l < layers; l++) {
      const n = vitBlockNames(l);
      const [, H, hdl] = dimsOf(w, n.attn.query.kernel, 3, file) as [number, number, number];
      if (l > 0 && hdl !== hd) throw new FileError(file, `encoderblock_${l} has head size ${hdl}, encoderblock_0 has ${hd}`);
      hd = hdl;
      heads.push(H);
      mlps.push(dimsOf(w, n.mlp.fc1.kernel, 2, file)[1]!);
    }
    const pruned = heads.some((h) => h !== heads[0]) || mlps.some((m) => m !== mlps[0]) || heads[0]! * hd !== D;
    if (!pruned && heads[0]! * hd !== D) throw new FileError(file, `query/kernel heads × head_dim = ${heads[0]}×${hd} does not equal hidden size ${D}`);
    const H = pruned ? (Number.isInteger(D / hd) ? D / hd : Math.max(...heads)) : heads[0]!;
    const mlp = Math.max(...mlps);
    const classifier = w.has(VIT.cls) ? 'token' : 'gap';
    const T = dimsOf(w, VIT.posEmbedding, 3, file)[1]!;
    const N = T - (classifier === 'token' ? 1 : 0);
    const g = Math.round(Math.sqrt(N));
    if (g * g !== N) throw new FileError(file, `position embedding has ${N} patch rows, not a square grid`);
    const representation = w.has(VIT.preLogits.kernel) ? dimsOf(w, VIT.preLogits.kernel, 2, file)[1]! : null;
    const classes = dimsOf(w, VIT.head.bias, 1, file)[0]!;
    // Native resolution: the token grid times the pixels per token (patch × the stem's stride for a hybrid).
    return { family: 'vit', ...(resnet ? { resnet } : {}), patch: P, hidden: D, mlp, heads: H, layers, classifier, representation, classes,
      resolution: g * P * (resnet ? stemStride(resnet) : 1), ...numerics, ...(pruned ? { layerHeads: heads, layerMlp: mlps, headDim: hd } : {}) };
  }
  if (resnet) throw new FileError(file, "missing weight 'embedding/kernel' (a hybrid's patch embedding after the ResNet stem)");
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
  const stem = (x: ModelConfig) => (x.family === 'vit' && x.resnet ? describeResnet(x.resnet) : 'no ResNet stem');
  if (stem(c) !== stem(z)) throw new FileError(file, `does not match config ${z.name}: ${stem(c)} in the checkpoint, ${stem(z)} in ${z.name}`);
  c.name = z.name;
}
