/**
 * Activations for importance and reconstruction, computed by ONNX Runtime rather than a JS forward:
 * the IR is exported in the 'portable' style (standard ops, nodes named by their official paths,
 * e.g. `Transformer/encoderblock_3/MultiHeadDotProductAttention_0/merge_heads`), the outputs of the
 * named nodes are appended as graph outputs, and every node that no requested output depends on is
 * dropped (a capture at block 2 of 12 costs 3/12 of a forward pass).
 */
import * as ort from '../../engines/runtime.js';
import { type ModelProto, type NodeProto, onnx } from '../../formats/onnx.js';
import { exportModel } from '../../export/index.js';
import type { ModelIR } from '../../models/ir.js';
import { sessionOptions } from '../../engines/ort-node.js';
import { createSession } from '../../engines/model-source.js';
import type { EngineOptions } from '../../engines/options.js';
import type { Dataset } from '../../data/dataset.js';
import { type Normalization, preprocessBatch } from '../../data/preprocess.js';
import { UserError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';

/**
 * Make the first outputs of the nodes named `nodes` graph outputs (in that order, named as the nodes)
 * and keep only what they need. Returns a new ModelProto sharing the initializers' bytes.
 *
 * With `from` (a node name), the graph starts at that node's output instead of the pixels: it becomes
 * the graph's only input (named as the node) and nothing before it is kept. The sequential refit
 * feeds it the residual stream it kept from the previous step, so each step runs one sublayer
 * instead of the whole model up to it (reconstruct-model.ts).
 */
export function withCaptures(m: ModelProto, nodes: readonly string[], from?: string): ModelProto {
  const graph = m.graph!;
  const byName = new Map((graph.node ?? []).map((n) => [n.name ?? '', n]));
  const outputOf = (name: string) => {
    const n = byName.get(name);
    if (!n) throw new Error(`internal: node '${name}' not found in the capture graph`);
    return n.output![0]!;
  };
  const wanted = nodes.map(outputOf);
  const start = from === undefined ? undefined : outputOf(from);
  // Producers of every value; walk back from the wanted values (and stop at the start value).
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const keep = new Set<NodeProto>();
  const stack = [...wanted];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === start) continue;
    const n = producer.get(v);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    for (const i of n.input ?? []) if (i) stack.push(i);
  }
  const nodeList = (graph.node ?? []).filter((n) => keep.has(n));
  const used = new Set(nodeList.flatMap((n) => n.input ?? []));
  const initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? ''));
  let input = graph.input ?? [];
  if (start !== undefined) {
    // Everything kept must be computable from the start value and the weights alone.
    const known = new Set([start, ...initializer.map((t) => t.name ?? ''), ...nodeList.flatMap((n) => n.output ?? [])]);
    const missing = [...used].filter((v) => v && !known.has(v));
    if (missing.length) throw new Error(`internal: capturing from '${from}' also needs ${missing.join(', ')}`);
    input = [{ name: start, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }];
  }
  // Rename each wanted value to its node's name with an Identity, so callers fetch by node name.
  const identities = nodes.map((name, i) => ({ opType: 'Identity', name: `capture:${name}`, input: [wanted[i]!], output: [name], domain: '' }));
  return onnx.ModelProto.create({
    ...m,
    graph: {
      ...graph,
      input,
      node: [...nodeList, ...identities],
      initializer,
      output: nodes.map((name) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })),
      valueInfo: [],
    },
  });
}

/**
 * A session that returns the named nodes' outputs of `ir` for a pixel batch, or, created with
 * `from`, for a batch of that node's output.
 */
export class Capture {
  private constructor(private readonly session: ort.InferenceSession, readonly nodes: readonly string[],
    private readonly input: string) {}

  static async create(ir: ModelIR, nodes: readonly string[], engine: EngineOptions = {}, from?: string): Promise<Capture> {
    const m = withCaptures(exportModel(ir, 'portable'), nodes, from);
    // Through the engine layer's model source: a model above 2 GB (ViT-H) goes through a temporary file.
    const session = await createSession(m, sessionOptions(engine));
    return new Capture(session, nodes, m.graph!.input![0]!.name!);
  }

  async run(input: Tensor): Promise<Map<string, Tensor>> {
    const feeds = { [this.input]: new ort.Tensor('float32', input.data, input.dims) };
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
