/**
 * Where served models come from: names and paths given on the command line (`fashion-vit`, a
 * checkpoint, a .onnx file) or a Triton-layout model repository:
 *
 *   <repo>/<model>/config.json          optional: Triton ModelConfig fields (max_batch_size, dynamic_batching, instance_group)
 *   <repo>/<model>/labels.txt           optional: one class name per line (else the model's vitopt metadata)
 *   <repo>/<model>/<version>/model.onnx versions are integers; the highest is served (Triton's default policy: latest 1)
 *
 * Model names come from URLs: they are checked against a strict pattern and the resolved path must stay
 * inside the repository, so `..`, `/` or `%2e%2e` cannot reach other files.
 */
import { readDirOrFail } from '../util/dir.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError, UserError } from '../errors.js';
import { loadModel, encodeModel, type ModelProto } from '../formats/onnx.js';
import { onnxInfo, onnxInputSize, specKind } from '../models/resolve.js';
import { loadCheckpoint } from '../models/checkpoint.js';
import { exportModel } from '../export/index.js';
import type { Normalization } from '../data/preprocess.js';
import { batchingFromConfigJson, type BatchingConfig } from './config.js';

/** A model ready to be loaded into workers. */
export interface ModelSource {
  name: string;
  /** Version string served ('1' for models given by name or path). */
  version: string;
  /** A path ORT loads (external data resolved beside it) or the model's bytes (checkpoints converted in memory). */
  model: string | Uint8Array;
  /** Where it came from, for messages and metadata. */
  origin: string;
  resolution: number;
  /** Input statistics of a model trained with other than (x − 127.5) / 127.5. */
  normalize?: Normalization;
  labels: string[] | null;
  /** Output classes when the graph or configuration says so. */
  classes: number | null;
  /** A fixed batch dimension of the ONNX input (null = dynamic). */
  fixedBatch: number | null;
  /** Fields of the model's config.json (repository models only). */
  config: Partial<BatchingConfig>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** A model name safe to use as a folder name under the repository. */
export function checkModelName(name: string): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw new UserError(`model name '${name}' is not allowed (letters, digits, '_', '-', '.'; no path separators or '..')`);
  }
  return name;
}

/** `repo/name`, refusing anything that would resolve outside `repo`. */
export function insideRepository(repo: string, name: string): string {
  checkModelName(name);
  const root = path.resolve(repo);
  const dir = path.resolve(root, name);
  const rel = path.relative(root, dir);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel) || rel.includes(path.sep)) {
    throw new UserError(`model name '${name}' resolves outside the model repository`);
  }
  return dir;
}

function dimsOf(t: ModelProto['graph'] extends infer G ? G : never, which: 'input' | 'output'): (number | null)[] {
  const v = (t as { input?: unknown[]; output?: unknown[] } | null | undefined)?.[which]?.[0] as
    { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown }[] } } } } | undefined;
  return (v?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue ? Number(d.dimValue) : null));
}

/** Read what serving needs from an ONNX file (vitopt metadata when present, else the graph's shapes). */
async function fromOnnx(file: string, name: string, version: string, labels: string[] | null, config: Partial<BatchingConfig>): Promise<ModelSource> {
  const proto = await loadModel(file);
  const info = onnxInfo(proto, file);
  const resolution = info.config?.resolution ?? onnxInputSize(proto);
  if (!resolution) throw new FileError(file, 'its input is not an image batch [batch, 3, H, W] with a fixed H');
  const inDims = dimsOf(proto.graph, 'input');
  const outDims = dimsOf(proto.graph, 'output');
  return {
    name, version, model: file, origin: file, resolution, normalize: info.config?.normalize,
    labels: labels ?? info.labels, classes: info.config?.classes ?? outDims[1] ?? null, fixedBatch: inDims[0] ?? null, config,
  };
}

/** A model given on the command line: fashion-vit, a checkpoint (converted in memory), or a .onnx file. */
export async function sourceFromSpec(spec: string): Promise<ModelSource> {
  const kind = specKind(spec);
  if (kind === 'zoo') {
    throw new UserError(`'${spec}' is a configuration, not weights: convert it first (vitopt convert --config ${spec} --random-weights -o model.onnx)`);
  }
  const base = path.basename(spec).replace(/\.(onnx|npz|safetensors)$/i, '');
  const name = checkModelName(base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'model');
  if (kind === 'onnx') return fromOnnx(spec, name, '1', null, {});
  const ir = await loadCheckpoint(spec);
  const bytes = encodeModel(exportModel(ir, 'ort'));
  return {
    name, version: '1', model: bytes, origin: spec, resolution: ir.config.resolution, normalize: ir.config.normalize,
    labels: ir.labels, classes: ir.config.classes, fixedBatch: null, config: {},
  };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Model folders of a repository (sorted). */
export async function listRepository(repo: string): Promise<string[]> {
  const entries = await readDirOrFail(repo);
  return entries.filter((d) => d.isDirectory() && NAME.test(d.name) && !d.name.includes('..')).map((d) => d.name).sort();
}

/** Integer version folders holding model.onnx, highest last. */
async function versionsOf(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const d of entries) if (d.isDirectory() && /^\d{1,9}$/.test(d.name) && await exists(path.join(dir, d.name, 'model.onnx'))) found.push(d.name);
  return found.sort((a, b) => Number(a) - Number(b));
}

/** One model of a Triton-layout repository, its latest version. */
export async function sourceFromRepository(repo: string, name: string): Promise<ModelSource> {
  const dir = insideRepository(repo, name);
  if (!await exists(dir)) throw new FileError(dir, 'no such model in the repository');
  const versions = await versionsOf(dir);
  if (versions.length === 0) throw new FileError(dir, 'has no version folder with a model.onnx (expected <model>/<version>/model.onnx)');
  const version = versions[versions.length - 1]!;
  let config: Partial<BatchingConfig> = {};
  const configFile = path.join(dir, 'config.json');
  if (await exists(configFile)) {
    let j: unknown;
    try {
      j = JSON.parse(await fs.readFile(configFile, 'utf8'));
    } catch (e) {
      throw new FileError(configFile, `is not valid JSON: ${(e as Error).message}`);
    }
    config = batchingFromConfigJson(j, configFile);
  }
  let labels: string[] | null = null;
  const labelsFile = path.join(dir, 'labels.txt');
  if (await exists(labelsFile)) labels = (await fs.readFile(labelsFile, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  return fromOnnx(path.join(dir, version, 'model.onnx'), name, version, labels, config);
}
