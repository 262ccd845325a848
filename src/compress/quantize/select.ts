/**
 * What gets quantized. ViT-aware defaults: only weight matrix multiplies (the projections, the MLPs,
 * Mixer's token and channel mixing); LayerNorm, Softmax, GELU, the residual additions and the
 * classifier head stay float. `--include` / `--exclude` override by op type, node name, weight name,
 * a name prefix ("Transformer/encoderblock_11") or a glob ("*Dense_1*"); exclusion wins.
 */
import { UserError } from '../../errors.js';
import type { NodeProto } from '../../formats/onnx.js';
import type { Layer } from './layers.js';
import { handlerFor, MODE_LIMITS, type RegistryContext, STATIC_ACTIVATION_OPS, type WeightMode } from './registry.js';

export interface Rules {
  include?: string[];
  exclude?: string[];
  /** Layers the accuracy guard returned to float (id -> why). */
  float?: Map<string, string>;
}

export interface LayerDecision {
  layer: Layer;
  quantize: boolean;
  /** Why it stays float (or how it came to be quantized when not by default). */
  reason: string;
}

export interface Plan {
  layers: LayerDecision[];
  /** Non-weight nodes to bracket with Q/DQ (static mode, only when included by the user). */
  activationNodes: NodeProto[];
  /** Nodes left float because the mode cannot handle them, or that do not fit a weight layer. */
  kept: { node: string; opType: string; reason: string }[];
}

function globRegex(p: string): RegExp {
  return new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Does a pattern name this node (or its layer)? */
export function matches(pattern: string, n: NodeProto, layer?: Layer): boolean {
  if (pattern === n.opType) return true;
  if (pattern === 'head') return layer?.head ?? false;
  const names = [n.name ?? '', layer?.label ?? '', layer?.weight ?? ''].filter(Boolean);
  if (pattern.includes('*')) {
    const re = globRegex(pattern);
    return names.some((x) => re.test(x));
  }
  return names.some((x) => x === pattern || x.startsWith(`${pattern}/`) || x.startsWith(`${pattern}.`));
}

export interface Discovery {
  layers: Layer[];
  /** Nodes a registered handler refused, with the reason. */
  refused: { node: NodeProto; reason: string }[];
}

export function discover(c: RegistryContext): Discovery {
  const layers: Layer[] = [];
  const refused: Discovery['refused'] = [];
  for (const n of c.g.nodes) {
    const h = handlerFor(n);
    if (!h) continue;
    const m = h.match(c, n);
    if (m === null) continue;
    if (typeof m === 'string') refused.push({ node: n, reason: m });
    else layers.push(m);
  }
  return { layers, refused };
}

export function plan(c: RegistryContext, d: Discovery, mode: WeightMode, rules: Rules): Plan {
  const include = rules.include ?? [], exclude = rules.exclude ?? [];
  const nodes = c.g.nodes;
  const byId = new Map(nodes.map((n) => [n.name!, n]));
  const layerOf = new Map(d.layers.map((l) => [l.id, l]));
  const limits = MODE_LIMITS[mode];

  for (const p of [...include, ...exclude]) {
    if (!nodes.some((n) => matches(p, n, layerOf.get(n.name!)))) {
      throw new UserError(`--${include.includes(p) ? 'include' : 'exclude'} ${p}: matches no node, op type or layer of this model`);
    }
  }
  for (const p of include) {
    const limit = limits[p];
    if (limit) throw new UserError(`--include ${p}: ${mode} mode cannot quantize ${p}: ${limit}`);
  }

  const layers = d.layers.map((layer): LayerDecision => {
    const n = byId.get(layer.id)!;
    const forced = rules.float?.get(layer.id);
    if (forced) return { layer, quantize: false, reason: forced };
    const ex = exclude.find((p) => matches(p, n, layer));
    if (ex) return { layer, quantize: false, reason: `excluded by --exclude ${ex}` };
    const inc = include.find((p) => matches(p, n, layer));
    if (layer.head) {
      return inc ? { layer, quantize: true, reason: `classifier head, included by --include ${inc}` }
        : { layer, quantize: false, reason: 'classifier head (kept float by default; --include head quantizes it)' };
    }
    return { layer, quantize: true, reason: '' };
  });

  // Non-weight nodes: only static mode, only when a user names them. A pattern that also names
  // weight layers (e.g. the op type MatMul) is not an error for the nodes it cannot apply to.
  const activationNodes: NodeProto[] = [];
  const isLayer = new Set(d.layers.map((l) => l.id));
  const namesLayers = (p: string) => d.layers.some((l) => matches(p, byId.get(l.id)!, l));
  for (const n of nodes) {
    if (isLayer.has(n.name!)) continue;
    const inc = include.find((p) => matches(p, n));
    if (!inc || exclude.some((p) => matches(p, n))) continue;
    if (limits[n.opType!]) throw new UserError(`--include ${inc}: ${mode} mode cannot quantize ${n.opType}: ${limits[n.opType!]}`);
    const usable = mode === 'static' && STATIC_ACTIVATION_OPS.has(n.opType!);
    if (usable) activationNodes.push(n);
    else if (!namesLayers(inc)) {
      throw new UserError(mode === 'static'
        ? `--include ${inc}: static mode cannot quantize op type ${n.opType} (it can: ${[...STATIC_ACTIVATION_OPS].join(', ')})`
        : `--include ${inc}: ${mode} mode quantizes only weight matrix multiplies (MatMul, Gemm, Attention); ${n.opType} ${n.name} is not one`);
    }
  }

  const kept: Plan['kept'] = d.refused.map((r) => ({ node: r.node.name!, opType: r.node.opType!, reason: r.reason }));
  const refused = new Set(d.refused.map((r) => r.node.name!));
  for (const n of nodes) {
    if (!limits[n.opType!] || isLayer.has(n.name!) || refused.has(n.name!)) continue;
    const stem = c.stem?.convs.has(n.name!) ? c.stem.floatReason : undefined;
    kept.push({ node: n.name!, opType: n.opType!, reason: stem ?? limits[n.opType!]! });
  }
  return { layers, activationNodes, kept };
}
