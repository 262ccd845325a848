/**
 * One place that turns what a user typed (a zoo name, a reference-model name, a checkpoint path or an
 * ONNX path) into a configuration, an IR or a runnable model.
 */
import * as path from 'node:path';
import { FileError, UserError } from '../errors.js';
import type { ModelConfig } from './config.js';
import type { ModelIR } from './ir.js';
import { isZooName, zooConfig } from './zoo.js';
import { referenceModel } from './reference.js';
import { type ImportOptions, isCheckpointPath, loadCheckpoint } from './checkpoint.js';
import { loadModel, metadata, type ModelProto } from '../formats/onnx.js';
import { META_CONFIG, META_LABELS } from './metadata.js';
import { openModel } from '../engines/create.js';
import type { EngineSession } from '../engines/engine.js';
import type { EngineOptions } from '../engines/options.js';
import { exportModel } from '../export/index.js';

export type ModelSpecKind = 'zoo' | 'checkpoint' | 'onnx';

export function specKind(spec: string): ModelSpecKind {
  if (referenceModel(spec) || isCheckpointPath(spec)) return 'checkpoint';
  if (/\.onnx$/i.test(spec)) return 'onnx';
  if (isZooName(spec)) return 'zoo';
  throw new UserError(`'${spec}' is not a model: expected a zoo name (see 'vitopt models'), fashion-vit, fashion-mixer, ` +
    'or a .npz / .safetensors / .onnx file');
}

/** The kind of a spec that must carry weights: a zoo name is refused with the way to get weights. */
export function weightsKind(spec: string): 'checkpoint' | 'onnx' {
  const kind = specKind(spec);
  if (kind === 'zoo') throw new UserError(`'${spec}' is a configuration, not weights: convert it first (vitopt convert --config ${spec} --random-weights -o model.onnx)`);
  return kind;
}

/** vitopt's metadata of an ONNX model (config and labels), null for models from elsewhere. */
export function onnxInfo(m: ModelProto, file: string): { config: ModelConfig | null; labels: string[] | null } {
  const meta = metadata(m);
  try {
    return {
      config: meta[META_CONFIG] ? JSON.parse(meta[META_CONFIG]) as ModelConfig : null,
      labels: meta[META_LABELS] ? JSON.parse(meta[META_LABELS]) as string[] : null,
    };
  } catch {
    throw new FileError(file, 'corrupt vitopt metadata');
  }
}

/** Input side of an ONNX model's first input [batch, 3, H, W], when static. */
export function onnxInputSize(m: ModelProto): number | null {
  const dims = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const h = dims[2]?.dimValue;
  return dims.length === 4 && h ? Number(h) : null;
}

export async function resolveConfig(spec: string, o: ImportOptions = {}): Promise<ModelConfig> {
  const kind = specKind(spec);
  if (kind === 'zoo') return zooConfig(spec);
  if (kind === 'checkpoint') return (await loadCheckpoint(spec, o)).config;
  const m = await loadModel(spec);
  const info = onnxInfo(m, spec);
  if (!info.config) throw new FileError(spec, 'has no vitopt configuration metadata (it was not exported by vitopt)');
  return info.config;
}

export async function resolveIR(spec: string, o: ImportOptions = {}): Promise<ModelIR> {
  const kind = specKind(spec);
  if (kind !== 'checkpoint') throw new UserError(`'${spec}' is not a checkpoint (.npz, .safetensors, fashion-vit or fashion-mixer)`);
  return loadCheckpoint(spec, o);
}

/** A model ready to run, with what is known about it. */
export interface Runnable {
  model: EngineSession;
  /** The configuration, when vitopt made the model (null for a foreign ONNX file). */
  config: ModelConfig | null;
  /** Input side in pixels. */
  resolution: number;
  labels: string[] | null;
  name: string;
}

export async function loadRunnable(spec: string, options: EngineOptions = {}, o: ImportOptions = {}): Promise<Runnable> {
  if (weightsKind(spec) === 'checkpoint') {
    const ir = await loadCheckpoint(spec, o);
    const model = await openModel(exportModel(ir, 'ort'), options, spec);
    return { model, config: ir.config, resolution: ir.config.resolution, labels: ir.labels, name: ir.config.name ?? path.basename(spec) };
  }
  const proto = await loadModel(spec);
  const info = onnxInfo(proto, spec);
  const resolution = info.config?.resolution ?? onnxInputSize(proto);
  if (!resolution) throw new FileError(spec, 'its input is not an image batch [batch, 3, H, W] with a fixed H');
  const model = await openModel(spec, options);
  return { model, config: info.config, resolution, labels: info.labels, name: path.basename(spec) };
}
