/**
 * Structured pruning: which units can go (attention heads, MLP hidden units, Mixer token- and
 * channel-mixing hidden units), how many of each layer go (uniform per layer, or one global ranking;
 * by ratio or to meet a FLOPs target), and the physical slicing of the weights.
 *
 * Every prunable block is a "sublayer": hidden = f(LayerNorm(residual)) of `units × group` columns
 * (group = head size for heads, 1 for neurons), followed by one linear map `out` (attention
 * out-projection, Dense_1) whose result is added to the residual stream. Removing a unit removes its
 * columns of the hidden activation (its q/k/v or Dense_0 columns) and its rows of `out`; the other
 * units' hidden values are unchanged (heads and neurons are computed independently), which is what
 * makes both the importance measure and the refit in reconstruct.ts exact.
 */
import { UserError } from '../../errors.js';
import { totalMacs } from '../../analyze/macs.js';
import { type MixerConfig, type ModelConfig, type VitConfig, mixerLayer, patchTokens, sequenceLength, vitLayer } from '../../models/config.js';
import type { ModelIR } from '../../models/ir.js';
import { type DenseNames, MIXER, mixerBlockNames, mixerNormAfter, type MlpNames, VIT, vitBlockNames, vitNormAfter } from '../../models/names.js';
import type { Tensor } from '../../tensor.js';

export type UnitKind = 'head' | 'mlp' | 'token' | 'channel';

export const UNIT_LABEL: Record<UnitKind, string> = {
  head: 'attention heads', mlp: 'MLP hidden units', token: 'token-mixing hidden units', channel: 'channel-mixing hidden units',
};

export interface Sublayer {
  /** Stable id, e.g. 'head@3'. */
  id: string;
  kind: UnitKind;
  layer: number;
  /** Units now (heads, or hidden units). */
  units: number;
  /** Hidden columns per unit (head size, or 1). */
  group: number;
  /** Width of `out`'s output (D, or S for token mixing). */
  outDim: number;
  /** Graph node (portable export) whose output is the hidden activation entering `out`. */
  hiddenNode: string;
  /** Token mixing: activations are [B, units, C] and [B, S, C]; rows of the regression are (b, c). */
  transposed: boolean;
  /** Graph nodes holding the residual stream before and after this sublayer. */
  residualIn: string;
  residualOut: string;
  /** IR weights of `out`: kernel [units·group, outDim] (stored with its own dims), bias [outDim]. */
  outKernel: string;
  outBias: string;
  /** IR weights whose `axis` indexes the units (sliced with them), besides `out`'s kernel (axis 0). */
  inputs: { name: string; axis: number }[];
  /** Hidden floats per image and residual floats per image (for sizing captures). */
  hiddenPerImage: number;
  residualPerImage: number;
  /** Rows of the regression per image. */
  rowsPerImage: number;
}

/** The prunable sublayers of a configuration, in forward order. */
export function sublayers(c: ModelConfig): Sublayer[] {
  return c.family === 'vit' ? vitSublayers(c) : mixerSublayers(c);
}

/** The weights sliced with a sublayer's units: its input projections' columns (q/k/v or Dense_0: kernel axis 1, bias axis 0). */
const unitInputs = (ds: DenseNames[]) => ds.flatMap((d) => [{ name: d.kernel, axis: 1 }, { name: d.bias, axis: 0 }]);

/**
 * Graph nodes (portable export, src/models/names.ts): the stream entering a block is the output of the
 * residual add named after the LayerNorm it feeds (or the embedding's last node for block 0); an MLP's
 * hidden activation is its GELU's output, the attention's is `merge_heads`.
 */
function vitSublayers(c: VitConfig): Sublayer[] {
  const out: Sublayer[] = [];
  const T = sequenceLength(c), D = c.hidden;
  for (let l = 0; l < c.layers; l++) {
    const n = vitBlockNames(l), a = n.attn;
    const { heads, headDim, mlp } = vitLayer(c, l);
    const rIn = l === 0 ? (c.classifier === 'token' ? VIT.tokens : VIT.posembedAdd) : n.ln1.residual;
    const mid = n.ln2.residual;
    const rOut = vitNormAfter(l, c.layers).residual;
    out.push({
      id: `head@${l}`, kind: 'head', layer: l, units: heads, group: headDim, outDim: D,
      hiddenNode: a.mergeHeads, transposed: false, residualIn: rIn, residualOut: mid,
      outKernel: a.out.kernel, outBias: a.out.bias,
      inputs: unitInputs([a.query, a.key, a.value]),
      hiddenPerImage: T * heads * headDim, residualPerImage: T * D, rowsPerImage: T,
    });
    out.push({
      id: `mlp@${l}`, kind: 'mlp', layer: l, units: mlp, group: 1, outDim: D,
      ...mlpUnits(n.mlp), transposed: false, residualIn: mid, residualOut: rOut,
      hiddenPerImage: T * mlp, residualPerImage: T * D, rowsPerImage: T,
    });
  }
  return out;
}

/** An MLP's hidden node, its `out` (Dense_1) and the inputs sliced with its units (Dense_0). */
function mlpUnits(m: MlpNames): Pick<Sublayer, 'hiddenNode' | 'outKernel' | 'outBias' | 'inputs'> {
  return { hiddenNode: m.gelu, outKernel: m.fc2.kernel, outBias: m.fc2.bias, inputs: unitInputs([m.fc1]) };
}

function mixerSublayers(c: MixerConfig): Sublayer[] {
  const out: Sublayer[] = [];
  const S = patchTokens(c), C = c.hidden;
  for (let i = 0; i < c.blocks; i++) {
    const n = mixerBlockNames(i);
    const { tokensMlp, channelsMlp } = mixerLayer(c, i);
    const rIn = i === 0 ? MIXER.stem.tokens : n.ln1.residual;
    const mid = n.ln2.residual;
    const rOut = mixerNormAfter(i, c.blocks).residual;
    out.push({
      id: `token@${i}`, kind: 'token', layer: i, units: tokensMlp, group: 1, outDim: S,
      ...mlpUnits(n.tokenMixing), transposed: true, residualIn: rIn, residualOut: mid,
      hiddenPerImage: tokensMlp * C, residualPerImage: S * C, rowsPerImage: C,
    });
    out.push({
      id: `channel@${i}`, kind: 'channel', layer: i, units: channelsMlp, group: 1, outDim: C,
      ...mlpUnits(n.channelMixing), transposed: false, residualIn: mid, residualOut: rOut,
      hiddenPerImage: S * channelsMlp, residualPerImage: S * C, rowsPerImage: S,
    });
  }
  return out;
}

export type StructuredMethod = 'heads' | 'neurons' | 'structured';

/** Unit kinds a method prunes on a family. */
export function kindsFor(method: StructuredMethod, c: ModelConfig): UnitKind[] {
  if (c.family === 'vit') return method === 'heads' ? ['head'] : method === 'neurons' ? ['mlp'] : ['head', 'mlp'];
  if (method === 'heads') throw new UserError('--method heads: an MLP-Mixer has no attention heads; use --method neurons or structured (token- and channel-mixing hidden units)');
  return ['token', 'channel'];
}

// ---------------------------------------------------------------------------------------------------
// Slicing

/** Keep indices `keep` (ascending) along `axis`. */
export function sliceAxis(t: Tensor, axis: number, keep: readonly number[]): Tensor {
  const dims = t.dims;
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const k of keep) {
      const src = (a * n + k) * inner;
      out.set(t.data.subarray(src, src + inner), o);
      o += inner;
    }
  }
  return { dims: dims.map((d, i) => (i === axis ? keep.length : d)), data: out };
}

/** A copy of the IR sharing the (never mutated) tensors, with a deep-copied config. */
export function cloneIR(ir: ModelIR): ModelIR {
  return { config: structuredClone(ir.config), weights: new Map(ir.weights), labels: ir.labels, source: ir.source };
}

function setUnits(c: ModelConfig, kind: UnitKind, layer: number, units: number): void {
  if (c.family === 'vit') {
    const L = c.layers;
    c.headDim = vitLayer(c, 0).headDim;
    if (kind === 'head') { c.layerHeads = Array.from({ length: L }, (_, l) => vitLayer(c, l).heads); c.layerHeads[layer] = units; }
    else { c.layerMlp = Array.from({ length: L }, (_, l) => vitLayer(c, l).mlp); c.layerMlp[layer] = units; }
  } else {
    const L = c.blocks;
    if (kind === 'token') { c.layerTokensMlp = Array.from({ length: L }, (_, i) => mixerLayer(c, i).tokensMlp); c.layerTokensMlp[layer] = units; }
    else { c.layerChannelsMlp = Array.from({ length: L }, (_, i) => mixerLayer(c, i).channelsMlp); c.layerChannelsMlp[layer] = units; }
  }
}

/**
 * Remove all units of `sub` not in `keep` (ascending indices), in place on `ir` (a clone). With
 * `out`, the out-projection's kernel (kept rows, [kept·group, outDim] values) and bias are replaced
 * by it (the refit).
 */
export function sliceSublayer(ir: ModelIR, sub: Sublayer, keep: readonly number[], out?: { kernel: Float32Array; bias: Float32Array }): void {
  if (keep.length < 1) throw new Error(`internal: ${sub.id} would keep no units`);
  for (const { name, axis } of sub.inputs) ir.weights.set(name, sliceAxis(ir.weights.get(name)!, axis, keep));
  const k = ir.weights.get(sub.outKernel)!;
  const sliced = sliceAxis(k, 0, keep);
  if (out) {
    if (out.kernel.length !== sliced.data.length) throw new Error(`internal: refit kernel size for ${sub.id}`);
    ir.weights.set(sub.outKernel, { dims: sliced.dims, data: out.kernel });
    ir.weights.set(sub.outBias, { dims: ir.weights.get(sub.outBias)!.dims, data: out.bias });
  } else {
    ir.weights.set(sub.outKernel, sliced);
  }
  setUnits(ir.config, sub.kind, sub.layer, keep.length);
}

// ---------------------------------------------------------------------------------------------------
// Planning

/** Kept unit indices (ascending) per sublayer id; sublayers not listed are untouched. */
export type Plan = Map<string, number[]>;

export interface PlanOptions {
  /** Fraction of units removed, (0, 1). */
  ratio?: number;
  /** Fraction of the model's MACs to keep, (0, 1). */
  targetFlops?: number;
  /** 'uniform': the same fraction in every layer; 'global': one ranking across layers. */
  ranking: 'uniform' | 'global';
}

/** MACs per image of one unit of a sublayer (exact: the MAC count is linear in the units). */
export function unitCost(c: ModelConfig, sub: Sublayer): number {
  const fewer = structuredClone(c);
  setUnits(fewer, sub.kind, sub.layer, sub.units - 1);
  return totalMacs(c) - totalMacs(fewer);
}

/** The configuration a plan produces. */
export function plannedConfig(c: ModelConfig, subs: readonly Sublayer[], plan: Plan): ModelConfig {
  const out = structuredClone(c);
  for (const s of subs) { const k = plan.get(s.id); if (k) setUnits(out, s.kind, s.layer, k.length); }
  return out;
}

/** Indices of the `remove` lowest scores (ties: lower index removed first), the rest ascending. */
function keepHighest(scores: ArrayLike<number>, remove: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  return order.slice(remove).sort((a, b) => a - b);
}

/** Remove the fraction f(kind) of every sublayer's units (lowest scores first, at least one kept). */
function uniformPlan(subs: readonly Sublayer[], sc: (s: Sublayer) => ArrayLike<number>, f: (k: UnitKind) => number): Plan {
  const plan: Plan = new Map();
  for (const s of subs) plan.set(s.id, keepHighest(sc(s), Math.min(s.units - 1, Math.round(f(s.kind) * s.units))));
  return plan;
}

/**
 * Uniform ranking to a FLOPs budget: every layer loses the same fraction of each unit kind. With one
 * kind that is the smallest fraction meeting the budget. With two (heads and MLP units; token and
 * channel units) the split between them is a choice: for each possible fraction of the first kind,
 * the smallest fraction of the second that meets the budget is found, and the pair whose removed
 * units carry the least total importance wins.
 */
function uniformToBudget(c: ModelConfig, subs: readonly Sublayer[], sc: (s: Sublayer) => ArrayLike<number>, budget: number,
  macsOf: (p: Plan) => number): Plan {
  const kinds = [...new Set(subs.map((s) => s.kind))];
  const smallest = (f: (k: UnitKind) => number, free: UnitKind): Plan | null => {
    if (macsOf(uniformPlan(subs, sc, (k) => (k === free ? 1 : f(k)))) > budget) return null;
    let lo = 0, hi = 1;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (macsOf(uniformPlan(subs, sc, (k) => (k === free ? mid : f(k)))) <= budget) hi = mid; else lo = mid;
    }
    return uniformPlan(subs, sc, (k) => (k === free ? hi : f(k)));
  };
  if (kinds.length === 1) return smallest(() => 0, kinds[0]!)!;
  const [first, second] = kinds as [UnitKind, UnitKind];
  const removedScore = (p: Plan) => subs.reduce((acc, s) => {
    const keep = new Set(p.get(s.id)!);
    const v = sc(s);
    for (let u = 0; u < s.units; u++) if (!keep.has(u)) acc += v[u]!;
    return acc;
  }, 0);
  const maxUnits = Math.max(...subs.filter((s) => s.kind === first).map((s) => s.units));
  let best: { plan: Plan; score: number } | null = null;
  for (let i = 0; i < maxUnits; i++) {
    const f1 = i / maxUnits;
    const plan = smallest((k) => (k === first ? f1 : 0), second);
    if (!plan) continue;
    const score = removedScore(plan);
    if (!best || score < best.score) best = { plan, score };
  }
  if (!best) throw new Error(`internal: no uniform plan meets the budget of ${c.family} model`);
  return best.plan;
}

/**
 * Decide which units go. `scores` (per sublayer id, one per unit, comparable across layers: see
 * importance.ts) rank the units; `subs` are the sublayers the method may prune.
 */
export function planStructured(c: ModelConfig, subs: readonly Sublayer[], scores: ReadonlyMap<string, ArrayLike<number>>, o: PlanOptions): Plan {
  const hasRatio = o.ratio !== undefined, hasTarget = o.targetFlops !== undefined;
  if (hasRatio === hasTarget) throw new UserError('give exactly one of --ratio (fraction of units removed) or --target-flops (fraction of FLOPs kept)');
  const frac = (hasRatio ? o.ratio : o.targetFlops)!;
  const flag = hasRatio ? '--ratio' : '--target-flops';
  if (!(frac > 0 && frac < 1)) throw new UserError(`${flag} ${frac}: must be strictly between 0 and 1`);
  const sc = (s: Sublayer) => scores.get(s.id)!;

  const uniform = (f: number): Plan => uniformPlan(subs, sc, () => f);

  if (hasRatio && o.ranking === 'uniform') return uniform(frac);

  if (hasRatio) {
    // Global ranking within each unit kind: remove ratio × (units of that kind) with the lowest scores.
    const plan: Plan = new Map();
    const kinds = [...new Set(subs.map((s) => s.kind))];
    for (const kind of kinds) {
      const ofKind = subs.filter((s) => s.kind === kind);
      const all = ofKind.flatMap((s) => Array.from(sc(s), (v, i) => ({ s, i, v })));
      const removed = new Map(ofKind.map((s) => [s.id, new Set<number>()]));
      let toRemove = Math.round(frac * all.length);
      for (const u of all.sort((a, b) => a.v - b.v || a.s.layer - b.s.layer || a.i - b.i)) {
        if (toRemove === 0) break;
        const r = removed.get(u.s.id)!;
        if (r.size >= u.s.units - 1) continue; // keep at least one unit per layer
        r.add(u.i);
        toRemove--;
      }
      for (const s of ofKind) plan.set(s.id, Array.from({ length: s.units }, (_, i) => i).filter((i) => !removed.get(s.id)!.has(i)));
    }
    return plan;
  }

  // FLOPs target.
  const base = totalMacs(c);
  const budget = frac * base;
  const macsOf = (plan: Plan) => totalMacs(plannedConfig(c, subs, plan));
  const most = uniform(1);
  const floor = macsOf(most);
  if (floor > budget) {
    throw new UserError(`--target-flops ${frac}: cannot be met by removing ${[...new Set(subs.map((s) => UNIT_LABEL[s.kind]))].join(' and ')}: ` +
      `keeping one unit per layer still leaves ${(100 * floor / base).toFixed(1)}% of the FLOPs`);
  }
  if (o.ranking === 'uniform') return uniformToBudget(c, subs, sc, budget, macsOf);
  // Global: remove the units with the least importance per MAC saved until the budget is met.
  const cand = subs.flatMap((s) => {
    const cost = unitCost(c, s);
    return Array.from(sc(s), (v, i) => ({ s, i, key: v / cost, cost }));
  }).sort((a, b) => a.key - b.key || a.s.layer - b.s.layer || a.i - b.i);
  const removed = new Map(subs.map((s) => [s.id, new Set<number>()]));
  let macs = base;
  for (const u of cand) {
    if (macs <= budget) break;
    const r = removed.get(u.s.id)!;
    if (r.size >= u.s.units - 1) continue;
    r.add(u.i);
    macs -= u.cost;
  }
  const plan: Plan = new Map();
  for (const s of subs) plan.set(s.id, Array.from({ length: s.units }, (_, i) => i).filter((i) => !removed.get(s.id)!.has(i)));
  if (macsOf(plan) > budget * (1 + 1e-12)) throw new Error('internal: global plan misses the FLOPs budget');
  return plan;
}
