/**
 * A model as a Transformers.js folder (@huggingface/transformers, `pipeline('image-classification', dir)`):
 *
 *   config.json                 model_type 'vit' (the class that feeds `pixel_values` and reads `logits`),
 *                               id2label / label2id, and the architecture numbers for people
 *   preprocessor_config.json    ViTImageProcessor: resize to R×R (bilinear), rescale 1/255, normalize
 *   onnx/model.onnx             float32, standard ONNX ops (loads in onnxruntime-web and -node)
 *   onnx/model_quantized.onnx   dynamic INT8 (Transformers.js dtype 'q8', its default on WebAssembly)
 *
 * Transformers.js feeds the image as `pixel_values`, so the input `pixels` is renamed in both graphs.
 * The official normalization (x − 127.5) / 127.5 is mean = std = 0.5 on the rescaled [0, 1] pixels.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';
import type { ModelProto } from '../formats/onnx.js';
import { encodeModel, initializerBytes } from '../formats/onnx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { exportModel } from './index.js';
import { quantize } from '../compress/quantize/index.js';
import { labelsFor } from '../data/labels.js';
import type { ModelIR } from '../models/ir.js';

export const TRANSFORMERS_JS_INPUT = 'pixel_values';

/** Rename a graph input everywhere it is read. */
export function renameInput(m: ModelProto, from: string, to: string): void {
  const g = m.graph!;
  const input = g.input?.find((i) => i.name === from);
  if (!input) throw new Error(`internal: the model has no input '${from}'`);
  input.name = to;
  for (const n of g.node ?? []) n.input = (n.input ?? []).map((x) => (x === from ? to : x));
}

export function transformersJsConfig(ir: ModelIR): Record<string, unknown> {
  const c = ir.config;
  const labels = labelsFor(c.classes, ir.labels);
  const common = {
    model_type: 'vit',
    architectures: ['ViTForImageClassification'],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    image_size: c.resolution,
    patch_size: c.patch,
    num_channels: 3,
    layer_norm_eps: c.layerNormEps,
    hidden_act: c.gelu === 'tanh' ? 'gelu_pytorch_tanh' : 'gelu',
  };
  const arch = c.family === 'vit'
    ? { hidden_size: c.hidden, num_hidden_layers: c.layers, num_attention_heads: c.heads, intermediate_size: c.mlp }
    : { hidden_size: c.hidden, num_hidden_layers: c.blocks };
  // What the model really is, for people and for vitopt (Transformers.js only needs model_type 'vit').
  return { ...common, ...arch, vitopt: { family: c.family, name: c.name ?? null, classifier: c.family === 'vit' ? c.classifier : 'gap' } };
}

export function transformersJsPreprocessor(ir: ModelIR): Record<string, unknown> {
  const n = ir.config.normalize ?? { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  return {
    image_processor_type: 'ViTImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: ir.config.resolution, width: ir.config.resolution },
    resample: 2, // PIL bilinear, as the official pipeline (in the browser Transformers.js resizes with canvas)
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...n.mean],
    image_std: [...n.std],
  };
}

/** Fails early when `dir` cannot become the export folder (new, or empty, or an earlier export). */
export async function assertExportDir(dir: string): Promise<void> {
  if (/\.onnx$/i.test(dir)) throw new FileError(dir, '--format transformers.js writes a folder: give a directory for -o');
  let entries: string[] = [];
  try {
    if (!(await fs.stat(dir)).isDirectory()) throw new FileError(dir, 'exists and is not a directory');
    entries = await fs.readdir(dir);
  } catch (e) {
    if (e instanceof FileError) throw e;
    const parent = path.dirname(path.resolve(dir));
    if (!(await fs.stat(parent).then((s) => s.isDirectory(), () => false))) throw new FileError(dir, `cannot write: directory ${parent} does not exist`);
  }
  if (entries.length > 0 && !entries.includes('config.json')) {
    throw new FileError(dir, 'is a non-empty folder that is not a Transformers.js export (no config.json)');
  }
}

export interface TransformersJsExport {
  output: string;
  files: string[];
  weightBytes: number;
  nodes: number;
}

export async function writeTransformersJs(ir: ModelIR, dir: string): Promise<TransformersJsExport> {
  const fp32 = exportModel(ir, 'portable');
  // u8s8-reduced: 7-bit weights never saturate, whatever CPU runs it (Transformers.js users' machines vary).
  const q8 = (await quantize(exportModel(ir, 'portable'), { mode: 'dynamic', format: 'u8s8-reduced' })).model;
  const inputName = fp32.graph!.input![0]!.name!;
  renameInput(fp32, inputName, TRANSFORMERS_JS_INPUT);
  renameInput(q8, inputName, TRANSFORMERS_JS_INPUT);
  await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
  const files = {
    'config.json': JSON.stringify(transformersJsConfig(ir), null, 2) + '\n',
    'preprocessor_config.json': JSON.stringify(transformersJsPreprocessor(ir), null, 2) + '\n',
    'onnx/model.onnx': encodeModel(fp32),
    'onnx/model_quantized.onnx': encodeModel(q8),
  };
  for (const [name, data] of Object.entries(files)) await writeFileAtomic(path.join(dir, name), data);
  return { output: dir, files: Object.keys(files).map((f) => path.join(dir, f)), weightBytes: initializerBytes(fp32), nodes: fp32.graph!.node!.length };
}
