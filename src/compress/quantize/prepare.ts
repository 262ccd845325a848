/**
 * Before any quantizer runs: name every node, learn tensor types and shapes (once per model; it loads
 * the model in ONNX Runtime), decide what to quantize, and rewrite the chosen layers into canonical
 * MatMul form. Each call to `prepare` works on a fresh copy, so the accuracy guard can try plans
 * one after another from the same analysis.
 */
import type { ModelProto, NodeProto } from '../../formats/onnx.js';
import { cloneModel, Graph } from '../../graph/graph.js';
import { unfuse } from '../../graph/unfuse.js';
import { defaultFusions } from '../../export/fusions.js';
import type { Fusions } from '../../export/layers.js';
import { tensorInfo, type TensorInfo } from '../../graph/outputs.js';
import { nameNodes } from './layers.js';
import { handlerFor, type RegistryContext, type WeightMode } from './registry.js';
import { discover, plan, type Plan, type Rules } from './select.js';
import type { StemDecision } from './stem.js';

export interface Analysis {
  /** The input model with every node named (a copy; for INT8, with the int8 fusion choice applied). */
  named: ModelProto;
  info: Map<string, TensorInfo>;
  /** INT8 modes: the contrib-op fusions kept, why, and the fused nodes rewritten into standard ops. */
  fusions?: { keep: Fusions; basis: string; unfused: Record<string, number> };
}

/**
 * `mode` dynamic / static: the graph first gets the fusions that measured fastest in INT8 on this CPU
 * (src/export/fusions.ts; `fusions` overrides): a fused kernel that wins in fp32 can lose in INT8.
 */
export async function analyze(model: ModelProto, o: { mode?: string; fusions?: Fusions } = {}): Promise<Analysis> {
  let fusions: Analysis['fusions'];
  let named: ModelProto;
  if (o.mode === 'dynamic' || o.mode === 'static') {
    const choice = o.fusions ? { fusions: o.fusions, basis: 'requested (--fusions)' } : defaultFusions('int8');
    const r = unfuse(model, choice.fusions);
    named = r.model;
    fusions = { keep: choice.fusions, basis: choice.basis, unfused: r.unfused };
  } else {
    named = cloneModel(model);
  }
  nameNodes(new Graph(named));
  return { named, info: await tensorInfo(named), ...(fusions ? { fusions } : {}) };
}

export interface Prepared {
  /** Over a fresh copy of the model; canonical layers rewritten, nothing quantized yet. */
  g: Graph;
  info: Map<string, TensorInfo>;
  plan: Plan;
  /** Layer id -> its canonical MatMul(activation, W [K, N]) node in `g`. */
  canonical: Map<string, NodeProto>;
}

/**
 * `stem`: a hybrid's stem convolutions (`convs`, by node name: the same in the copy) and whether they are
 * weight layers (quantized) or kept float, and why.
 */
export function prepare(a: Analysis, mode: WeightMode, rules: Rules, stem?: { decision: StemDecision; convs: Set<string> }): Prepared {
  const g = new Graph(cloneModel(a.named));
  const c: RegistryContext = { g, info: a.info };
  if (stem) {
    c.stem = { convs: stem.convs, quantize: mode === 'static' && stem.decision.convs === 'int8',
      floatReason: `ResNet stem kept float: ${stem.decision.basis}` };
  }
  const p = plan(c, discover(c), mode, rules);
  const canonical = new Map<string, NodeProto>();
  for (const d of p.layers) {
    if (!d.quantize) continue;
    const n = g.nodes.find((x) => x.name === d.layer.id)!;
    canonical.set(d.layer.id, handlerFor(n)!.canonical(c, n, d.layer));
  }
  return { g, info: a.info, plan: p, canonical };
}
