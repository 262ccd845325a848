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
 * Every name comes from src/models/names.ts, as the exporter's do.
 * A graph that is not a recognizable vitopt ViT/Mixer (no metadata, a missing or misshapen weight,
 * quantized weights) is a UserError naming the file.
 */
import { FileError } from '../../errors.js';
import { DataType, initializerFloat, metadata, type ModelProto, type TensorProto } from '../../formats/onnx.js';
import { type MixerConfig, type ModelConfig, type VitConfig, gridSize, mixerLayer, vitLayer } from '../../models/config.js';
import type { ModelIR } from '../../models/ir.js';
import { expectedShapes } from '../../models/layout.js';
import { MIXER, mixerBlockNames, mixerNormAfter, type NormNames, VIT, vitBlockNames, vitNormAfter } from '../../models/names.js';
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
  const norm = (n: NormNames) => { w.set(n.scale, get(n.scale, [D])); w.set(n.bias, get(n.bias, [D])); };
  // A hybrid's ResNet stem (its kernels were exported weight-standardized: src/export/resnet.ts).
  if (c.resnet) for (const [name, t] of resnetWeightsFromExport(c.resnet, get)) w.set(name, t);
  const cin = c.resnet ? stemChannels(c.resnet) : 3;
  w.set(VIT.embedding.kernel, oihwToHwio(get(VIT.embedding.kernel, [D, cin, P, P])));
  w.set(VIT.embedding.bias, get(VIT.embedding.bias, [D]));
  const patches = get(VIT.posembedPatches, [1, N, D]);
  const pos = new Float32Array((N + (hasCls ? 1 : 0)) * D);
  pos.set(patches.data, hasCls ? D : 0);
  w.set(VIT.posEmbedding, { dims: [1, N + (hasCls ? 1 : 0), D], data: pos });
  if (hasCls) w.set(VIT.cls, get(VIT.clsPlusPos, [1, 1, D]));
  const portable = !hasPackedQkv(get, c);
  for (let l = 0; l < c.layers; l++) {
    const n = vitBlockNames(l), a = n.attn;
    const { heads: H, headDim: hd, mlp: M } = vitLayer(c, l);
    const A = H * hd;
    // ln1 of block 0 is a plain LayerNormalization; later ones carry the previous MLP's bias.
    norm(n.ln1);
    norm(n.ln2);
    if (portable) {
      const s = Math.sqrt(hd);
      const q = get(a.query.kernel, [D, A]), qb = get(a.query.bias, [A]);
      w.set(a.query.kernel, { dims: [D, H, hd], data: q.data.map((v) => v * s) });
      w.set(a.query.bias, { dims: [H, hd], data: qb.data.map((v) => v * s) });
      for (const d of [a.key, a.value]) {
        w.set(d.kernel, { dims: [D, H, hd], data: get(d.kernel, [D, A]).data });
        w.set(d.bias, { dims: [H, hd], data: get(d.bias, [A]).data });
      }
    } else {
      const k = get(a.qkv.kernel, [D, 3 * A]), kb = get(a.qkv.bias, [3 * A]);
      [a.query, a.key, a.value].forEach((d, i) => {
        w.set(d.kernel, { dims: [D, H, hd], data: columns(k, i * A, A) });
        w.set(d.bias, { dims: [H, hd], data: kb.data.slice(i * A, (i + 1) * A) });
      });
    }
    w.set(a.out.kernel, { dims: [H, hd, D], data: get(a.out.kernel, [A, D]).data });
    w.set(a.out.bias, get(n.ln2.skipBias, [D]));
    w.set(n.mlp.fc1.kernel, get(n.mlp.fc1.kernel, [D, M]));
    w.set(n.mlp.fc1.bias, get(n.mlp.geluBias, [M]));
    w.set(n.mlp.fc2.kernel, get(n.mlp.fc2.kernel, [M, D]));
    w.set(n.mlp.fc2.bias, get(vitNormAfter(l, c.layers).skipBias, [D]));
  }
  norm(VIT.encoderNorm);
  if (c.representation) {
    w.set(VIT.preLogits.kernel, get(VIT.preLogits.kernel, [D, c.representation]));
    w.set(VIT.preLogits.bias, get(VIT.preLogits.bias, [c.representation]));
  }
  w.set(VIT.head.kernel, get(VIT.head.kernel, [c.representation ?? D, c.classes]));
  w.set(VIT.head.bias, get(VIT.head.bias, [c.classes]));
  return w;
}

/** 'ort' graphs store the packed QKV kernel; 'portable' ones separate query/key/value kernels. */
function hasPackedQkv(get: Getter, c: VitConfig): boolean {
  const A = vitLayer(c, 0).attention;
  try {
    get(vitBlockNames(0).attn.qkv.kernel, [c.hidden, 3 * A]);
    return true;
  } catch (e) {
    if (e instanceof FileError && /is missing$/.test(e.message)) return false;
    throw e;
  }
}

function mixerWeights(c: MixerConfig, get: Getter): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  const C = c.hidden, P = c.patch, S = gridSize(c) ** 2;
  const norm = (n: NormNames) => { w.set(n.scale, get(n.scale, [C])); w.set(n.bias, get(n.bias, [C])); };
  w.set(MIXER.stem.kernel, oihwToHwio(get(MIXER.stem.kernel, [C, 3, P, P])));
  w.set(MIXER.stem.bias, get(MIXER.stem.bias, [C]));
  for (let i = 0; i < c.blocks; i++) {
    const n = mixerBlockNames(i);
    const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
    norm(n.ln1);
    norm(n.ln2);
    const tm = n.tokenMixing;
    w.set(tm.fc1.kernel, transpose2d(get(tm.fc1.kernelT, [DS, S])));
    w.set(tm.fc1.bias, { dims: [DS], data: get(tm.fc1.bias, [DS, 1]).data });
    w.set(tm.fc2.kernel, transpose2d(get(tm.fc2.kernelT, [S, DS])));
    w.set(tm.fc2.bias, { dims: [S], data: get(tm.fc2.bias, [S, 1]).data });
    const cm = n.channelMixing;
    w.set(cm.fc1.kernel, get(cm.fc1.kernel, [C, DC]));
    w.set(cm.fc1.bias, get(cm.geluBias, [DC]));
    w.set(cm.fc2.kernel, get(cm.fc2.kernel, [DC, C]));
    w.set(cm.fc2.bias, get(mixerNormAfter(i, c.blocks).skipBias, [C]));
  }
  norm(MIXER.preHeadNorm);
  w.set(MIXER.head.kernel, get(MIXER.head.kernel, [C, c.classes]));
  w.set(MIXER.head.bias, get(MIXER.head.bias, [c.classes]));
  return w;
}
