/**
 * Test fixtures: tiny models written in the official checkpoint layouts (the tests build their own
 * checkpoints; nothing is downloaded), and a CLI runner.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { MixerConfig, VitConfig } from '../../src/models/config.js';
import type { ModelIR } from '../../src/models/ir.js';
import type { Tensor } from '../../src/tensor.js';
import { encodeNpz } from '../../src/formats/npz.js';
import { encodeSafetensors } from '../../src/formats/safetensors.js';
import { packagePath } from '../../src/util/paths.js';

export const tinyVit = (o: Partial<VitConfig> = {}): VitConfig => ({
  family: 'vit', patch: 4, hidden: 32, mlp: 64, heads: 4, layers: 2, classifier: 'token', representation: null,
  classes: 7, resolution: 16, gelu: 'tanh', layerNormEps: 1e-6, ...o,
});

export const tinyMixer = (o: Partial<MixerConfig> = {}): MixerConfig => ({
  family: 'mixer', patch: 4, hidden: 24, blocks: 2, tokensMlp: 8, channelsMlp: 48, classes: 5, resolution: 16,
  gelu: 'tanh', layerNormEps: 1e-6, ...o,
});

export function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'vitopt-test-'));
}

/** Linen names -> the pre-Linen names of the published ViT .npz files. */
export function toPreLinen(name: string): string {
  return name.replace('MultiHeadDotProductAttention_0', 'MultiHeadDotProductAttention_1')
    .replace(/(encoderblock_\d+)\/LayerNorm_1/, '$1/LayerNorm_2')
    .replace('MlpBlock_0', 'MlpBlock_3');
}

/** float32 -> IEEE half bits (round to nearest even), for float16 checkpoints. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  let m = x & 0x7fffff;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m = (m | 0x800000) >> (1 - e);
    return sign | ((m + 0x1000) >> 13);
  }
  const h = sign | (e << 10) | (m >> 13);
  const rest = m & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && (h & 1)) ? h + 1 : h;
}

export interface NpzLayoutOptions {
  preLinen?: boolean;
  prefix?: string;
  compress?: boolean;
  zip64?: boolean;
}

export async function writeOfficialNpz(ir: ModelIR, file: string, o: NpzLayoutOptions = {}): Promise<string> {
  const arrays = new Map<string, Tensor>();
  for (const [k, v] of ir.weights) {
    const name = (o.prefix ?? '') + (o.preLinen && ir.config.family === 'vit' ? toPreLinen(k) : k);
    arrays.set(name, v);
  }
  await fs.writeFile(file, await encodeNpz(arrays, { compress: o.compress, zip64: o.zip64 ?? true }));
  return file;
}

/** Round weights through float16 so a float16 checkpoint and the IR hold the same values. */
export function roundToHalf(ir: ModelIR): void {
  for (const t of ir.weights.values()) {
    for (let i = 0; i < t.data.length; i++) {
      const h = floatToHalf(t.data[i]!);
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      t.data[i] = e === 0 ? s * f * 2 ** -24 : s * (1 + f / 1024) * 2 ** (e - 15);
    }
  }
}

function transpose2d(t: Tensor, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = t.data[i * cols + j]!;
  return out;
}

/** A Hugging Face ViTForImageClassification checkpoint (safetensors + config.json) of a tiny ViT IR. */
export async function writeHfCheckpoint(ir: ModelIR, dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const c = ir.config as VitConfig;
  const D = c.hidden;
  const w = (n: string) => ir.weights.get(n)!;
  const t = new Map<string, Tensor>();
  const lin = (name: string, kernel: Tensor, bias: Tensor, din: number, dout: number) => {
    t.set(`${name}.weight`, { dims: [dout, din], data: transpose2d(kernel, din, dout) });
    t.set(`${name}.bias`, { dims: [dout], data: bias.data });
  };
  const k = w('embedding/kernel');
  const P = c.patch;
  const oihw = new Float32Array(k.data.length);
  for (let h = 0; h < P; h++) for (let x = 0; x < P; x++) for (let i = 0; i < 3; i++) for (let o = 0; o < D; o++) {
    oihw[((o * 3 + i) * P + h) * P + x] = k.data[((h * P + x) * 3 + i) * D + o]!;
  }
  t.set('vit.embeddings.cls_token', w('cls'));
  t.set('vit.embeddings.position_embeddings', w('Transformer/posembed_input/pos_embedding'));
  t.set('vit.embeddings.patch_embeddings.projection.weight', { dims: [D, 3, P, P], data: oihw });
  t.set('vit.embeddings.patch_embeddings.projection.bias', w('embedding/bias'));
  for (let l = 0; l < c.layers; l++) {
    const b = `Transformer/encoderblock_${l}`, a = `${b}/MultiHeadDotProductAttention_0`, s = `vit.encoder.layer.${l}`;
    t.set(`${s}.layernorm_before.weight`, w(`${b}/LayerNorm_0/scale`));
    t.set(`${s}.layernorm_before.bias`, w(`${b}/LayerNorm_0/bias`));
    for (const p of ['query', 'key', 'value']) lin(`${s}.attention.attention.${p}`, w(`${a}/${p}/kernel`), w(`${a}/${p}/bias`), D, D);
    lin(`${s}.attention.output.dense`, w(`${a}/out/kernel`), w(`${a}/out/bias`), D, D);
    t.set(`${s}.layernorm_after.weight`, w(`${b}/LayerNorm_1/scale`));
    t.set(`${s}.layernorm_after.bias`, w(`${b}/LayerNorm_1/bias`));
    lin(`${s}.intermediate.dense`, w(`${b}/MlpBlock_0/Dense_0/kernel`), w(`${b}/MlpBlock_0/Dense_0/bias`), D, c.mlp);
    lin(`${s}.output.dense`, w(`${b}/MlpBlock_0/Dense_1/kernel`), w(`${b}/MlpBlock_0/Dense_1/bias`), c.mlp, D);
  }
  t.set('vit.layernorm.weight', w('Transformer/encoder_norm/scale'));
  t.set('vit.layernorm.bias', w('Transformer/encoder_norm/bias'));
  lin('classifier', w('head/kernel'), w('head/bias'), D, c.classes);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'model.safetensors');
  await fs.writeFile(file, encodeSafetensors(t, { format: 'pt' }));
  const id2label = Object.fromEntries(Array.from({ length: c.classes }, (_, i) => [String(i), `thing ${i}`]));
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['ViTForImageClassification'], model_type: 'vit', hidden_size: D, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, intermediate_size: c.mlp, hidden_act: 'gelu', layer_norm_eps: c.layerNormEps,
    image_size: c.resolution, patch_size: P, num_channels: 3, qkv_bias: true, id2label, ...extra,
  }));
  return file;
}

export const CLI = packagePath('dist', 'src', 'cli', 'main.js');

export function runCli(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
