/**
 * The models a benchmark runs, made into files before any measurement: every configuration's child
 * process loads a file from disk, as a user's program would, so building a model (random weights,
 * checkpoint import, export) never counts in a configuration's time or memory.
 *
 * Sources: a zoo name (random weights, seed 0), a checkpoint or reference-model name (exported per
 * graph style), an .onnx file (run as it is), or an in-memory IR (library use, tests).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import type { GraphStyle } from '../export/layers.js';
import type { ModelConfig } from '../models/config.js';
import type { ModelIR } from '../models/ir.js';
import { META_STYLE } from '../models/metadata.js';

export type ModelSource = string | { name: string; ir: ModelIR };

export interface ModelFile {
  path: string;
  /** Bytes on disk, external data included. */
  bytes: number;
  /** The graph style the file has ('ort', 'portable'; 'foreign' for files vitopt did not export). */
  style: GraphStyle | 'foreign';
  /** Weight matmuls run in int8 (quantized graph): the roofline uses the int8 ceiling. */
  int8: boolean;
}

/** Ops whose presence marks a graph as int8 (dynamic or static quantization). */
const INT8_OPS = new Set(['MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul', 'QAttention',
  'ConvInteger', 'QLinearConv', 'QGemm']);

export function graphIsInt8(opTypes: Iterable<string>): boolean {
  for (const t of opTypes) if (INT8_OPS.has(t)) return true;
  return false;
}

/** A model made ready for a run; `file(style)` exports it on first use. */
export class PreparedModel {
  private files = new Map<string, Promise<ModelFile>>();
  constructor(
    readonly name: string,
    readonly kind: 'zoo' | 'checkpoint' | 'onnx' | 'ir',
    readonly config: ModelConfig | null,
    readonly resolution: number,
    private readonly make: (style: GraphStyle) => Promise<ModelFile>,
    /** For an .onnx file: the one file there is (its style is fixed). */
    readonly fixed: ModelFile | null,
  ) {}

  /** The model file for a graph style (an .onnx source ignores the style: it is run as it is). */
  file(style: GraphStyle): Promise<ModelFile> {
    if (this.fixed) return Promise.resolve(this.fixed);
    let f = this.files.get(style);
    if (!f) {
      f = this.make(style);
      this.files.set(style, f);
    }
    return f;
  }

  /** Forget the in-memory weights once every file that will be needed exists. */
  drop(): void {
    this.dropWeights?.();
  }
  dropWeights?: () => void;
}

async function fileBytes(p: string): Promise<number> {
  const base = (await fs.stat(p)).size;
  const data = await fs.stat(`${p}.data`).catch(() => null);
  return base + (data?.size ?? 0);
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

/**
 * Prepare one model source under `dir` (a scratch directory owned by the run). Throws UserError /
 * FileError for a source that is not a model; the runner reports that model's configurations as failed.
 */
export async function prepareModel(source: ModelSource, dir: string): Promise<PreparedModel> {
  const { exportModel } = await import('../export/index.js');
  const { saveModel } = await import('../formats/onnx.js');
  const fromIR = (name: string, kind: 'zoo' | 'checkpoint' | 'ir', load: () => Promise<ModelIR>, config: ModelConfig) => {
    let ir: Promise<ModelIR> | null = null;
    const m = new PreparedModel(name, kind, config, config.resolution, async (style) => {
      ir ??= load();
      const model = exportModel(await ir, style);
      const file = path.join(dir, `${safeName(name)}.${style}.onnx`);
      await saveModel(file, model);
      return { path: file, bytes: await fileBytes(file), style, int8: false };
    }, null);
    m.dropWeights = () => { ir = null; };
    return m;
  };
  if (typeof source !== 'string') return fromIR(source.name, 'ir', async () => source.ir, source.ir.config);

  const { specKind, onnxInfo, onnxInputSize } = await import('../models/resolve.js');
  const kind = specKind(source);
  if (kind === 'zoo') {
    const { zooConfig } = await import('../models/zoo.js');
    const { randomIR } = await import('../models/random.js');
    const config = zooConfig(source);
    return fromIR(config.name ?? source, 'zoo', async () => randomIR(config, 0), config);
  }
  if (kind === 'checkpoint') {
    const { loadCheckpoint } = await import('../models/checkpoint.js');
    let first: ModelIR | null = await loadCheckpoint(source);
    const config = first.config;
    return fromIR(config.name ?? path.basename(source), 'checkpoint', async () => {
      const ir = first ?? await loadCheckpoint(source);
      first = null;
      return ir;
    }, config);
  }
  const { loadModel, metadata } = await import('../formats/onnx.js');
  const proto = await loadModel(source);
  const info = onnxInfo(proto, source);
  const resolution = info.config?.resolution ?? onnxInputSize(proto);
  if (!resolution) throw new UserError(`${source}: its input is not an image batch [batch, 3, H, W] with a fixed H`);
  const style = metadata(proto)[META_STYLE];
  const file: ModelFile = {
    path: path.resolve(source), bytes: await fileBytes(source),
    style: style === 'ort' || style === 'portable' ? style : 'foreign',
    int8: graphIsInt8((proto.graph?.node ?? []).map((n) => n.opType ?? '')),
  };
  return new PreparedModel(path.basename(source), 'onnx', info.config, resolution, async () => file, file);
}
