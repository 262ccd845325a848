/**
 * What `vitopt web` and the Transformers.js export start from: a checkpoint (or reference model) and a
 * float vitopt export become a model IR (so every graph style and compression can be made from it); a
 * foreign or already-compressed .onnx file is taken as it is.
 */
import * as path from 'node:path';
import { FileError } from '../errors.js';
import { loadModel, metadata, type ModelProto } from '../formats/onnx.js';
import { weightsKind, onnxInfo, onnxInputSize } from '../models/resolve.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { irFromOnnx } from '../compress/prune/from-onnx.js';
import { META_CONFIG } from '../models/metadata.js';
import { META_QUANTIZATION } from '../compress/quantize/quantize.js';
import { describe, type ModelConfig } from '../models/config.js';
import { labelsFor } from '../data/labels.js';
import type { ModelIR } from '../models/ir.js';

export type ModelSource =
  | { kind: 'ir'; name: string; ir: ModelIR; labels: string[]; resolution: number; config: ModelConfig; description: string }
  | { kind: 'onnx'; name: string; model: ModelProto; labels: string[]; resolution: number; config: ModelConfig | null;
    description: string; quantization: string | null };

export async function openModelSource(spec: string): Promise<ModelSource> {
  const name = path.basename(spec).replace(/\.(onnx|npz|safetensors)$/i, '');
  if (weightsKind(spec) === 'checkpoint') {
    const ir = await loadCheckpoint(spec);
    return { kind: 'ir', name, ir, config: ir.config, resolution: ir.config.resolution, description: describe(ir.config),
      labels: labelsFor(ir.config.classes, ir.labels) };
  }
  const model = await loadModel(spec);
  const meta = metadata(model);
  const info = onnxInfo(model, spec);
  const quantization = meta[META_QUANTIZATION] ?? null;
  if (meta[META_CONFIG] && !quantization) {
    const ir = irFromOnnx(model, spec);
    return { kind: 'ir', name, ir, config: ir.config, resolution: ir.config.resolution, description: describe(ir.config),
      labels: labelsFor(ir.config.classes, info.labels, ir.labels) };
  }
  const resolution = info.config?.resolution ?? onnxInputSize(model);
  if (!resolution) throw new FileError(spec, 'its input is not an image batch [batch, 3, H, W] with a fixed H');
  const out = model.graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const classes = Number(out[1]?.dimValue ?? info.config?.classes ?? 0);
  if (!classes) throw new FileError(spec, 'its output is not logits [batch, classes] with a fixed class count');
  return {
    kind: 'onnx', name, model, config: info.config, resolution, quantization,
    description: info.config ? describe(info.config) : `ONNX model (${spec})`, labels: labelsFor(classes, info.labels),
  };
}
