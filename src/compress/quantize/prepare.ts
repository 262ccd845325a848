/**
 * Before any quantizer runs: name every node, learn tensor types and shapes (once per model; it loads
 * the model in ONNX Runtime), decide what to quantize, and rewrite the chosen layers into canonical
 * MatMul form. Each call to `prepare` works on a fresh copy, so the accuracy guard can try plans
 * one after another from the same analysis.
 */
import type { ModelProto, NodeProto } from '../../formats/onnx.js';
import { cloneModel, Graph } from '../../graph/graph.js';
import { tensorInfo, type TensorInfo } from '../../graph/outputs.js';
import { nameNodes } from './layers.js';
import { handlerFor, type RegistryContext, type WeightMode } from './registry.js';
import { discover, plan, type Plan, type Rules } from './select.js';

export interface Analysis {
  /** The input model with every node named (a copy). */
  named: ModelProto;
  info: Map<string, TensorInfo>;
}

export async function analyze(model: ModelProto): Promise<Analysis> {
  const named = cloneModel(model);
  nameNodes(new Graph(named));
  return { named, info: await tensorInfo(named) };
}

export interface Prepared {
  /** Over a fresh copy of the model; canonical layers rewritten, nothing quantized yet. */
  g: Graph;
  info: Map<string, TensorInfo>;
  plan: Plan;
  /** Layer id -> its canonical MatMul(activation, W [K, N]) node in `g`. */
  canonical: Map<string, NodeProto>;
}

export function prepare(a: Analysis, mode: WeightMode, rules: Rules): Prepared {
  const g = new Graph(cloneModel(a.named));
  const c: RegistryContext = { g, info: a.info };
  const p = plan(c, discover(c), mode, rules);
  const canonical = new Map<string, NodeProto>();
  for (const d of p.layers) {
    if (!d.quantize) continue;
    const n = g.nodes.find((x) => x.name === d.layer.id)!;
    canonical.set(d.layer.id, handlerFor(n)!.canonical(c, n, d.layer));
  }
  return { g, info: a.info, plan: p, canonical };
}
