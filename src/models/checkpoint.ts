/**
 * Checkpoint import: official .npz (ZIP, stored or deflated, ZIP64; npy v1–v3; float32/float16;
 * pre-Linen or Linen numbering; optional `opt/target/` prefix; optional pre_logits; any class count)
 * and Hugging Face ViT safetensors. The configuration is inferred from the weights' shapes and, when
 * the user names one, checked against it. `resolution` resizes a ViT's position embedding (§3.5); for a
 * hybrid R+ViT on the token grid its ResNet stem produces at that resolution.
 */
import { promises as fs } from 'node:fs';
import { FileError, UserError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { loadNpz } from '../formats/npz.js';
import { gridSize, tokenStride } from './config.js';
import type { ModelIR } from './ir.js';
import { convertPreLinen } from './prelinen.js';
import { checkAgainstNamed, inferConfig, validateWeights } from './infer.js';
import { loadHuggingFaceVit } from './hf.js';
import { resizePosEmbedding } from './posemb.js';
import { referenceModel } from './reference.js';

export interface ImportOptions {
  /** Zoo name the checkpoint must match (e.g. 'ViT-B_16'). */
  config?: string;
  /** Run at this input side: resizes a ViT position embedding; a Mixer cannot change resolution. */
  resolution?: number;
}

const PREFIXES = ['opt/target/', 'params/'];

/** Official-layout arrays (as read from an .npz) -> canonical Linen-numbered weights. */
export function canonicalizeOfficial(raw: Map<string, Tensor>): Map<string, Tensor> {
  let arrays = raw;
  for (const p of PREFIXES) {
    if ([...arrays.keys()].every((k) => k.startsWith(p))) {
      arrays = new Map([...arrays].map(([k, v]) => [k.slice(p.length), v]));
    }
  }
  const rename = convertPreLinen(arrays.keys());
  return new Map([...arrays].map(([k, v]) => [rename.get(k)!, squeezeGroupNorm(k, v)]));
}

/**
 * Hybrid checkpoints written with Flax ≤ 0.3.5 store GroupNorm scale/bias as (1, 1, 1, C); the official
 * loader squeezes them (`_fix_groupnorm`, spec §6.2), and so do we.
 */
function squeezeGroupNorm(name: string, t: Tensor): Tensor {
  if (!/(^|\/)gn(\d+|_root|_proj)\/(scale|bias)$/.test(name) || t.dims.length < 2) return t;
  if (t.dims.slice(0, -1).some((d) => d !== 1)) return t; // a real shape error, reported by validation
  return { dims: [t.dims[t.dims.length - 1]!], data: t.data };
}

export function isCheckpointPath(p: string): boolean {
  return /\.(npz|safetensors)$/i.test(p);
}

export async function loadCheckpoint(spec: string, o: ImportOptions = {}): Promise<ModelIR> {
  const ref = referenceModel(spec);
  const file = ref ? ref.checkpoint : spec;
  let ir: ModelIR;
  if (/\.safetensors$/i.test(file)) {
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      throw new FileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`);
    }
    const hf = await loadHuggingFaceVit(file, bytes);
    ir = { ...hf, source: file };
  } else if (/\.npz$/i.test(file)) {
    const weights = canonicalizeOfficial(await loadNpz(file));
    const config = inferConfig(weights, file);
    ir = { config, weights, labels: ref?.labels ?? null, source: ref ? ref.name : file };
  } else {
    throw new FileError(file, 'unknown checkpoint format (expected .npz or .safetensors)');
  }
  if (ref) ir.config.name = ref.name;
  validateWeights(ir.config, ir.weights, file);
  if (o.config) checkAgainstNamed(ir.config, o.config, file);
  if (o.resolution && o.resolution !== ir.config.resolution) setResolution(ir, o.resolution);
  return ir;
}

/** Change the input resolution: resize the ViT position embedding exactly as the official loader. */
export function setResolution(ir: ModelIR, resolution: number): void {
  const c = ir.config;
  if (!Number.isInteger(resolution) || resolution < tokenStride(c)) {
    throw new UserError(`--resolution ${resolution} must be an integer of at least ${c.family === 'vit' && c.resnet
      ? `the ${tokenStride(c)} pixels of one token (patch ${c.patch} on the ResNet stem's 1/${tokenStride(c) / c.patch} map)`
      : `the patch size ${c.patch}`}`);
  }
  if (c.family === 'mixer') {
    if (gridSize({ ...c, resolution }) !== gridSize(c)) {
      throw new UserError(`--resolution ${resolution}: a Mixer's token-mixing weights are tied to its ${c.resolution}px grid; it cannot change resolution`);
    }
    c.resolution = resolution;
    return;
  }
  const gOut = gridSize({ ...c, resolution });
  const key = 'Transformer/posembed_input/pos_embedding';
  const pe = ir.weights.get(key)!;
  if (gOut !== gridSize(c)) ir.weights.set(key, resizePosEmbedding(pe, c.classifier === 'token', gOut));
  c.resolution = resolution;
}
