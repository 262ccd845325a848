/**
 * Hugging Face `ViTForImageClassification` (model.safetensors + config.json [+ preprocessor_config.json])
 * mapped onto the official layout. HF stores torch Linear weights as [out, in] and the patch conv as
 * OIHW; the official layout is Dense [in, out], 3-D attention kernels (D, H, hd) and HWIO convs.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';
import { type Tensor, transpose2d, oihwToHwio } from '../tensor.js';
import { parseSafetensors } from '../formats/safetensors.js';
import type { VitConfig } from './config.js';
import { VIT, vitBlockNames } from './names.js';

interface HfConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act?: string;
  layer_norm_eps?: number;
  image_size?: number;
  patch_size: number;
  num_channels?: number;
  qkv_bias?: boolean;
  id2label?: Record<string, string>;
  architectures?: string[];
}



async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FileError(file, 'is not valid JSON');
  }
}

const GELU: Record<string, 'erf' | 'tanh'> = { gelu: 'erf', gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh', gelu_fast: 'tanh' };

export async function loadHuggingFaceVit(file: string, bytes: Uint8Array): Promise<{ config: VitConfig; weights: Map<string, Tensor>; labels: string[] | null }> {
  const dir = path.dirname(file);
  const cfgFile = path.join(dir, 'config.json');
  const hf = (await readJson(cfgFile)) as HfConfig | undefined;
  if (!hf) throw new FileError(file, `no config.json beside it (Hugging Face checkpoints need ${cfgFile})`);
  for (const k of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'patch_size'] as const) {
    if (typeof hf[k] !== 'number') throw new FileError(cfgFile, `missing or non-numeric '${k}'`);
  }
  const act = hf.hidden_act ?? 'gelu';
  const gelu = GELU[act];
  if (!gelu) throw new FileError(cfgFile, `unsupported hidden_act '${act}' (supported: ${Object.keys(GELU).join(', ')})`);
  if ((hf.num_channels ?? 3) !== 3) throw new FileError(cfgFile, 'only 3-channel models are supported');
  const pre = (await readJson(path.join(dir, 'preprocessor_config.json'))) as
    { image_mean?: number[]; image_std?: number[] } | undefined;

  const raw = parseSafetensors(bytes, file);
  // ViTForImageClassification prefixes the backbone with 'vit.'; a bare ViTModel has no prefix.
  const prefix = raw.has('vit.embeddings.cls_token') || raw.has('vit.embeddings.position_embeddings') ? 'vit.' : '';
  const used = new Set<string>();
  const get = (name: string): Tensor => {
    const t = raw.get(prefix + name) ?? raw.get(name);
    if (!t) throw new FileError(file, `missing tensor '${prefix + name}'`);
    used.add(raw.has(prefix + name) ? prefix + name : name);
    return t;
  };
  const D = hf.hidden_size, H = hf.num_attention_heads, hd = D / H, L = hf.num_hidden_layers;
  if (!Number.isInteger(hd)) throw new FileError(cfgFile, `hidden_size ${D} is not divisible by num_attention_heads ${H}`);
  const w = new Map<string, Tensor>();
  const hasCls = raw.has(prefix + 'embeddings.cls_token');
  const conv = get('embeddings.patch_embeddings.projection.weight');
  if (conv.dims.length !== 4 || conv.dims[0] !== D) throw new FileError(file, `patch projection has shape [${conv.dims}], expected [${D}, 3, P, P]`);
  w.set(VIT.embedding.kernel, oihwToHwio(conv));
  w.set(VIT.embedding.bias, get('embeddings.patch_embeddings.projection.bias'));
  if (hasCls) w.set(VIT.cls, get('embeddings.cls_token'));
  w.set(VIT.posEmbedding, get('embeddings.position_embeddings'));
  const dense = (name: string) => transpose2d(get(`${name}.weight`));
  for (let l = 0; l < L; l++) {
    const src = `encoder.layer.${l}`;
    const n = vitBlockNames(l), a = n.attn;
    w.set(n.ln1.scale, get(`${src}.layernorm_before.weight`));
    w.set(n.ln1.bias, get(`${src}.layernorm_before.bias`));
    for (const [p, d] of [['query', a.query], ['key', a.key], ['value', a.value]] as const) {
      const k = dense(`${src}.attention.attention.${p}`);
      w.set(d.kernel, { dims: [D, H, hd], data: k.data });
      const bias = raw.has(`${prefix}${src}.attention.attention.${p}.bias`) ? get(`${src}.attention.attention.${p}.bias`).data : new Float32Array(D);
      w.set(d.bias, { dims: [H, hd], data: bias });
    }
    w.set(a.out.kernel, { dims: [H, hd, D], data: dense(`${src}.attention.output.dense`).data });
    w.set(a.out.bias, get(`${src}.attention.output.dense.bias`));
    w.set(n.ln2.scale, get(`${src}.layernorm_after.weight`));
    w.set(n.ln2.bias, get(`${src}.layernorm_after.bias`));
    w.set(n.mlp.fc1.kernel, dense(`${src}.intermediate.dense`));
    w.set(n.mlp.fc1.bias, get(`${src}.intermediate.dense.bias`));
    w.set(n.mlp.fc2.kernel, dense(`${src}.output.dense`));
    w.set(n.mlp.fc2.bias, get(`${src}.output.dense.bias`));
  }
  w.set(VIT.encoderNorm.scale, get('layernorm.weight'));
  w.set(VIT.encoderNorm.bias, get('layernorm.bias'));
  if (!raw.has('classifier.weight')) throw new FileError(file, "no 'classifier.weight': only ViTForImageClassification checkpoints (with a head) are supported");
  w.set(VIT.head.kernel, transpose2d(raw.get('classifier.weight')!));
  w.set(VIT.head.bias, raw.get('classifier.bias') ?? { dims: [raw.get('classifier.weight')!.dims[0]!], data: new Float32Array(raw.get('classifier.weight')!.dims[0]!) });
  used.add('classifier.weight').add('classifier.bias');
  const extra = [...raw.keys()].filter((k) => !used.has(k) && !k.startsWith(`${prefix}pooler.`));
  if (extra.length) throw new FileError(file, `unexpected tensor '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`);

  const T = w.get(VIT.posEmbedding)!.dims[1]!;
  const g = Math.round(Math.sqrt(T - (hasCls ? 1 : 0)));
  const P = hf.patch_size;
  const classes = w.get(VIT.head.bias)!.dims[0]!;
  const config: VitConfig = {
    family: 'vit', patch: P, hidden: D, mlp: hf.intermediate_size, heads: H, layers: L,
    classifier: hasCls ? 'token' : 'gap', representation: null, classes, resolution: g * P,
    gelu, layerNormEps: hf.layer_norm_eps ?? 1e-12,
  };
  if (pre?.image_mean && pre.image_std && pre.image_mean.length === 3 && pre.image_std.length === 3) {
    const same = pre.image_mean.every((m) => m === 0.5) && pre.image_std.every((s) => s === 0.5);
    if (!same) config.normalize = { mean: pre.image_mean as [number, number, number], std: pre.image_std as [number, number, number] };
  }
  let labels: string[] | null = null;
  if (hf.id2label && Object.keys(hf.id2label).length === classes) {
    labels = Array.from({ length: classes }, (_, i) => hf.id2label![String(i)] ?? `class_${i}`);
  }
  return { config, weights: w, labels };
}
