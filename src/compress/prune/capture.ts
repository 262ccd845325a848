/**
 * Activations for importance and reconstruction, computed by ONNX Runtime rather than a JS forward:
 * the IR is exported in the 'portable' style (standard ops, nodes named by their official paths,
 * e.g. `Transformer/encoderblock_3/MultiHeadDotProductAttention_0/merge_heads`), the outputs of the
 * named nodes are appended as graph outputs, and every node that no requested output depends on is
 * dropped (a capture at block 2 of 12 costs 3/12 of a forward pass).
 */
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelProto, type NodeProto, onnx } from '../../formats/onnx.js';
import { exportModel } from '../../export/index.js';
import type { ModelIR } from '../../models/ir.js';
import { sessionOptions } from '../../engines/ort-node.js';
import type { EngineOptions } from '../../engines/options.js';
import type { Dataset } from '../../data/dataset.js';
import { type Normalization, preprocessBatch } from '../../data/preprocess.js';
import { UserError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';

/**
 * Make the first outputs of the nodes named `nodes` graph outputs (in that order, named as the nodes)
 * and keep only what they need. Returns a new ModelProto sharing the initializers' bytes.
 */
export function withCaptures(m: ModelProto, nodes: readonly string[]): ModelProto {
  const graph = m.graph!;
  const byName = new Map((graph.node ?? []).map((n) => [n.name ?? '', n]));
  const wanted = nodes.map((name) => {
    const n = byName.get(name);
    if (!n) throw new Error(`internal: node '${name}' not found in the capture graph`);
    return n.output![0]!;
  });
  // Producers of every value; walk back from the wanted values.
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const keep = new Set<NodeProto>();
  const stack = [...wanted];
  while (stack.length) {
    const v = stack.pop()!;
    const n = producer.get(v);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    for (const i of n.input ?? []) if (i) stack.push(i);
  }
  const nodeList = (graph.node ?? []).filter((n) => keep.has(n));
  const used = new Set(nodeList.flatMap((n) => n.input ?? []));
  // Rename each wanted value to its node's name with an Identity, so callers fetch by node name.
  const identities = nodes.map((name, i) => ({ opType: 'Identity', name: `capture:${name}`, input: [wanted[i]!], output: [name], domain: '' }));
  return onnx.ModelProto.create({
    ...m,
    graph: {
      ...graph,
      node: [...nodeList, ...identities],
      initializer: (graph.initializer ?? []).filter((t) => used.has(t.name ?? '')),
      output: nodes.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })),
      valueInfo: [],
    },
  });
}

/** A session that returns the named nodes' outputs of `ir` for a pixel batch. */
export class Capture {
  private constructor(private readonly session: ort.InferenceSession, readonly nodes: readonly string[]) {}

  static async create(ir: ModelIR, nodes: readonly string[], engine: EngineOptions = {}): Promise<Capture> {
    const bytes = encodeModel(withCaptures(exportModel(ir, 'portable'), nodes));
    const session = await ort.InferenceSession.create(bytes, sessionOptions(engine));
    return new Capture(session, nodes);
  }

  async run(pixels: Tensor): Promise<Map<string, Tensor>> {
    const feeds = { pixels: new ort.Tensor('float32', pixels.data, pixels.dims) };
    const out = await this.session.run(feeds);
    const r = new Map<string, Tensor>();
    for (const n of this.nodes) {
      const t = out[n]!;
      r.set(n, { dims: [...t.dims], data: t.data as Float32Array });
    }
    return r;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Calibration images, preprocessed once and kept as NCHW batches. */
export interface Calibration {
  batches: Tensor[];
  images: number;
  name: string;
}

export const DEFAULT_CALIBRATION_SIZE = 512;
export const CALIBRATION_BATCH = 32;

/**
 * Read the first `size` images of `dataset` (labels are not needed) at the model's resolution, with
 * the model's own input normalization when it has one (`config.normalize`).
 * A dataset smaller than `size` is a UserError: silently calibrating on fewer images than asked
 * would make results irreproducible from the command line.
 */
export async function loadCalibration(dataset: Dataset, size: number, resolution: number,
  o: { batch?: number; normalize?: Normalization } = {}): Promise<Calibration> {
  const batch = o.batch ?? CALIBRATION_BATCH;
  if (!Number.isInteger(size) || size < 1) throw new UserError(`--calibration-size must be a positive integer, got ${size}`);
  if (dataset.size < size) {
    throw new UserError(`--data ${dataset.name}: has ${dataset.size} images, fewer than --calibration-size ${size}`);
  }
  const batches: Tensor[] = [];
  let images = 0;
  for await (const b of dataset.batches(batch, { limit: size })) {
    if (b.images.length === 0) continue;
    batches.push(preprocessBatch(b.images, resolution, resolution, o.normalize));
    images += b.images.length;
  }
  if (images === 0) throw new UserError(`--data ${dataset.name}: no images could be read for calibration`);
  return { batches, images, name: dataset.name };
}
