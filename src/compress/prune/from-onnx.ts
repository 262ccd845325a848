/**
 * Inverse of vitopt's exporters: a vitopt ONNX export (either graph style) back to the model IR, so
 * that `prune` accepts what `convert` wrote. The configuration comes from the `vitopt.config`
 * metadata; every weight is read from the initializer the exporter gave it and the export's
 * transformations are undone:
 *   - 'ort' style: the packed QKV kernel [D, 3A] and bias [3A] are split into query/key/value;
 *   - 'portable' style: the query kernel and bias were pre-scaled by 1/sqrt(hd): scaled back;
 *   - patch-embedding conv OIHW -> HWIO;
 *   - the position embedding was split into the patch rows ('posembed_patches') and, with a cls
 *     token, the constant row cls + pos[0] ('cls_plus_pos'): that row becomes `cls` and pos[0] = 0,
 *     which computes exactly the same function (the forward pass only ever uses their sum);
 *   - the residual biases that SkipLayerNormalization carries (`<LN>/skip_bias`) go back to the
 *     out-projection / Dense_1 they belong to;
 *   - Mixer token-mixing kernels were stored transposed ([D_S, S], [S, D_S]) and their biases as
 *     columns ([D_S, 1], [S, 1]).
 * A graph that is not a recognizable vitopt ViT/Mixer (no metadata, a missing or misshapen weight,
 * quantized weights) is a UserError naming the file.
 */
import { FileError } from '../../errors.js';
import { DataType, initializerFloat, metadata, type ModelProto, type TensorProto } from '../../formats/onnx.js';
import { type MixerConfig, type ModelConfig, type VitConfig, gridSize, mixerLayer, vitLayer } from '../../models/config.js';
import type { ModelIR } from '../../models/ir.js';
import { expectedShapes, mixerBlock, vitBlock } from '../../models/layout.js';
import { META_CONFIG, META_LABELS, META_SOURCE } from '../../models/metadata.js';
import type { Tensor } from '../../tensor.js';
import { numel, oihwToHwio, transpose2d } from '../../tensor.js';
import { resnetWeightsFromExport } from '../../export/resnet.js';
import { stemChannels } from '../../models/resnet.js';

const NOT_VITOPT = 'is not a vitopt ViT/Mixer export; prune takes a checkpoint (.npz, .safetensors, fashion-vit, ' +
  'fashion-mixer) or an .onnx file written by `vitopt convert`';



/** Columns [c0, c0 + n) of a [rows, cols] matrix. */
function columns(t: Tensor, c0: number, n: number): Float32Array {
  const [rows, cols] = t.dims as [number, number];
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * cols + c0, r * cols + c0 + n), r * n);
  return out;
}

function isModelConfig(v: unknown): v is ModelConfig {
  const c = v as Record<string, unknown> | null;
  if (!c || typeof c !== 'object') return false;
  const nums = (ks: string[]) => ks.every((k) => Number.isInteger(c[k]) && (c[k] as number) > 0);
  if (c.family === 'vit') return nums(['patch', 'hidden', 'mlp', 'heads', 'layers', 'classes', 'resolution']);
  if (c.family === 'mixer') return nums(['patch', 'hidden', 'blocks', 'tokensMlp', 'channelsMlp', 'classes', 'resolution']);
  return false;
}

/** The IR of a vitopt export. `file` names the model in error messages. */
export function irFromOnnx(m: ModelProto, file: string): ModelIR {
  const meta = metadata(m);
  if (!meta[META_CONFIG]) throw new FileError(file, `${NOT_VITOPT} (it has no vitopt.config metadata)`);
  let config: ModelConfig;
  let labels: string[] | null = null;
  try {
    const parsed: unknown = JSON.parse(meta[META_CONFIG]);
    if (!isModelConfig(parsed)) throw new Error('bad config');
    config = parsed;
    if (meta[META_LABELS]) labels = JSON.parse(meta[META_LABELS]) as string[];
  } catch {
    throw new FileError(file, `${NOT_VITOPT} (its vitopt.config metadata is not a ViT or Mixer configuration)`);
  }
  const inits = new Map<string, TensorProto>();
  for (const t of m.graph?.initializer ?? []) if (t.name) inits.set(t.name, t);
  const get = (name: string, dims: number[]): Tensor => {
    const t = inits.get(name);
    if (!t) throw new FileError(file, `${NOT_VITOPT}: initializer '${name}' is missing`);
    if (t.dataType !== DataType.FLOAT) {
      throw new FileError(file, `initializer '${name}' is not float32 (a quantized or fp16 model cannot be pruned: ` +
        'prune the fp32 model, then quantize the result)');
    }
    const v = initializerFloat(t);
    if (numel(v.dims) !== numel(dims) || v.data.length !== numel(dims)) {
      throw new FileError(file, `${NOT_VITOPT}: initializer '${name}' has shape [${v.dims}], expected [${dims}] for its configuration`);
    }
    return { dims, data: v.data };
  };
  const weights = config.family === 'vit' ? vitWeights(config, get) : mixerWeights(config, get);
  // Whatever was read must be exactly the layout the configuration implies.
  for (const [name, dims] of expectedShapes(config)) {
    const w = weights.get(name);
    if (!w || w.dims.join() !== dims.join()) throw new FileError(file, `${NOT_VITOPT}: weight '${name}' could not be recovered`);
  }
  return { config, weights, labels, source: meta[META_SOURCE] || file };
}

type Getter = (name: string, dims: number[]) => Tensor;

function vitWeights(c: VitConfig, get: Getter): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  const D = c.hidden, P = c.patch, N = gridSize(c) ** 2;
  const hasCls = c.classifier === 'token';
  // A hybrid's ResNet stem (its kernels were exported weight-standardized: src/export/resnet.ts).
  if (c.resnet) for (const [name, t] of resnetWeightsFromExport(c.resnet, get)) w.set(name, t);
  const cin = c.resnet ? stemChannels(c.resnet) : 3;
  w.set('embedding/kernel', oihwToHwio(get('embedding/kernel', [D, cin, P, P])));
  w.set('embedding/bias', get('embedding/bias', [D]));
  const patches = get('posembed_patches', [1, N, D]);
  const pos = new Float32Array((N + (hasCls ? 1 : 0)) * D);
  pos.set(patches.data, hasCls ? D : 0);
  w.set('Transformer/posembed_input/pos_embedding', { dims: [1, N + (hasCls ? 1 : 0), D], data: pos });
  if (hasCls) w.set('cls', get('cls_plus_pos', [1, 1, D]));
  const portable = !hasPackedQkv(get, c);
  for (let l = 0; l < c.layers; l++) {
    const b = vitBlock(l);
    const p = `${b}/MultiHeadDotProductAttention_0`;
    const { heads: H, headDim: hd, mlp: M } = vitLayer(c, l);
    const A = H * hd;
    // LayerNorm_0 of block 0 is a plain LayerNormalization; later ones carry the previous MLP's bias.
    w.set(`${b}/LayerNorm_0/scale`, get(`${b}/LayerNorm_0/scale`, [D]));
    w.set(`${b}/LayerNorm_0/bias`, get(`${b}/LayerNorm_0/bias`, [D]));
    w.set(`${b}/LayerNorm_1/scale`, get(`${b}/LayerNorm_1/scale`, [D]));
    w.set(`${b}/LayerNorm_1/bias`, get(`${b}/LayerNorm_1/bias`, [D]));
    if (portable) {
      const s = Math.sqrt(hd);
      const q = get(`${p}/query/kernel`, [D, A]), qb = get(`${p}/query/bias`, [A]);
      w.set(`${p}/query/kernel`, { dims: [D, H, hd], data: q.data.map((v) => v * s) });
      w.set(`${p}/query/bias`, { dims: [H, hd], data: qb.data.map((v) => v * s) });
      for (const n of ['key', 'value']) {
        w.set(`${p}/${n}/kernel`, { dims: [D, H, hd], data: get(`${p}/${n}/kernel`, [D, A]).data });
        w.set(`${p}/${n}/bias`, { dims: [H, hd], data: get(`${p}/${n}/bias`, [A]).data });
      }
    } else {
      const k = get(`${p}/qkv/kernel`, [D, 3 * A]), kb = get(`${p}/qkv/bias`, [3 * A]);
      ['query', 'key', 'value'].forEach((n, i) => {
        w.set(`${p}/${n}/kernel`, { dims: [D, H, hd], data: columns(k, i * A, A) });
        w.set(`${p}/${n}/bias`, { dims: [H, hd], data: kb.data.slice(i * A, (i + 1) * A) });
      });
    }
    w.set(`${p}/out/kernel`, { dims: [H, hd, D], data: get(`${p}/out/kernel`, [A, D]).data });
    w.set(`${p}/out/bias`, get(`${b}/LayerNorm_1/skip_bias`, [D]));
    w.set(`${b}/MlpBlock_0/Dense_0/kernel`, get(`${b}/MlpBlock_0/Dense_0/kernel`, [D, M]));
    w.set(`${b}/MlpBlock_0/Dense_0/bias`, get(`${b}/MlpBlock_0/gelu/bias`, [M]));
    w.set(`${b}/MlpBlock_0/Dense_1/kernel`, get(`${b}/MlpBlock_0/Dense_1/kernel`, [M, D]));
    const next = l === c.layers - 1 ? 'Transformer/encoder_norm' : `${vitBlock(l + 1)}/LayerNorm_0`;
    w.set(`${b}/MlpBlock_0/Dense_1/bias`, get(`${next}/skip_bias`, [D]));
  }
  w.set('Transformer/encoder_norm/scale', get('Transformer/encoder_norm/scale', [D]));
  w.set('Transformer/encoder_norm/bias', get('Transformer/encoder_norm/bias', [D]));
  if (c.representation) {
    w.set('pre_logits/kernel', get('pre_logits/kernel', [D, c.representation]));
    w.set('pre_logits/bias', get('pre_logits/bias', [c.representation]));
  }
  w.set('head/kernel', get('head/kernel', [c.representation ?? D, c.classes]));
  w.set('head/bias', get('head/bias', [c.classes]));
  return w;
}

/** 'ort' graphs store the packed QKV kernel; 'portable' ones separate query/key/value kernels. */
function hasPackedQkv(get: Getter, c: VitConfig): boolean {
  const p = `${vitBlock(0)}/MultiHeadDotProductAttention_0`;
  const A = vitLayer(c, 0).heads * vitLayer(c, 0).headDim;
  try {
    get(`${p}/qkv/kernel`, [c.hidden, 3 * A]);
    return true;
  } catch (e) {
    if (e instanceof FileError && /is missing$/.test(e.message)) return false;
    throw e;
  }
}

function mixerWeights(c: MixerConfig, get: Getter): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  const C = c.hidden, P = c.patch, S = gridSize(c) ** 2;
  w.set('stem/kernel', oihwToHwio(get('stem/kernel', [C, 3, P, P])));
  w.set('stem/bias', get('stem/bias', [C]));
  for (let i = 0; i < c.blocks; i++) {
    const b = mixerBlock(i);
    const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
    for (const ln of ['LayerNorm_0', 'LayerNorm_1']) {
      w.set(`${b}/${ln}/scale`, get(`${b}/${ln}/scale`, [C]));
      w.set(`${b}/${ln}/bias`, get(`${b}/${ln}/bias`, [C]));
    }
    const tm = `${b}/token_mixing`;
    w.set(`${tm}/Dense_0/kernel`, transpose2d(get(`${tm}/Dense_0/kernel_t`, [DS, S])));
    w.set(`${tm}/Dense_0/bias`, { dims: [DS], data: get(`${tm}/Dense_0/bias`, [DS, 1]).data });
    w.set(`${tm}/Dense_1/kernel`, transpose2d(get(`${tm}/Dense_1/kernel_t`, [S, DS])));
    w.set(`${tm}/Dense_1/bias`, { dims: [S], data: get(`${tm}/Dense_1/bias`, [S, 1]).data });
    const cm = `${b}/channel_mixing`;
    w.set(`${cm}/Dense_0/kernel`, get(`${cm}/Dense_0/kernel`, [C, DC]));
    w.set(`${cm}/Dense_0/bias`, get(`${cm}/gelu/bias`, [DC]));
    w.set(`${cm}/Dense_1/kernel`, get(`${cm}/Dense_1/kernel`, [DC, C]));
    const next = i === c.blocks - 1 ? 'pre_head_layer_norm' : `${mixerBlock(i + 1)}/LayerNorm_0`;
    w.set(`${cm}/Dense_1/bias`, get(`${next}/skip_bias`, [C]));
  }
  w.set('pre_head_layer_norm/scale', get('pre_head_layer_norm/scale', [C]));
  w.set('pre_head_layer_norm/bias', get('pre_head_layer_norm/bias', [C]));
  w.set('head/kernel', get('head/kernel', [C, c.classes]));
  w.set('head/bias', get('head/bias', [c.classes]));
  return w;
}
