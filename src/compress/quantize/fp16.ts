/**
 * FP16 for GPU and WebGPU targets. Float weights and activations become float16; the model keeps its
 * float32 input and output (a Cast at each boundary), so callers do not change. Ops on the block list
 * run in float32 with Casts around them.
 *
 * Default block list, and why:
 * - LayerNormalization and its fused forms: the variance of a ViT residual stream with outlier
 *   features (|x| in the hundreds) overflows fp16 (65504) if a kernel accumulates squares in half
 *   precision. Blocking SkipLayerNormalization also keeps the residual stream itself in float32 in
 *   vitopt's ORT graphs (it flows from one SkipLayerNormalization to the next), the usual mixed-precision
 *   recipe; the matrix multiplies, attention and GELU, where the time goes, run in fp16.
 * - Index/shape-like and random ops (Range, TopK, CumSum, Resize…): onnxconverter-common's list.
 * Constants are clamped to the fp16 range: ±65504, and tiny non-zero values to ±1e-7 (an epsilon must
 * not round to 0). On CPU, ONNX Runtime inserts its own casts for ops without fp16 kernels: expect no
 * speed-up there.
 */
import { UserError } from '../../errors.js';
import { DataType, rawTensor, type NodeProto } from '../../formats/onnx.js';
import { cloneModel, Graph } from '../../graph/graph.js';
import { floatValues } from '../../graph/tensors.js';
import { toHalfArray } from './half.js';
import type { Analysis } from './prepare.js';
import { matches } from './select.js';

export const FP16_BLOCK_OPS: readonly string[] = [
  'LayerNormalization', 'SkipLayerNormalization', 'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization',
  'Range', 'TopK', 'CumSum', 'Resize', 'Upsample', 'NonMaxSuppression', 'RoiAlign', 'EyeLike', 'Multinomial',
  'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Bernoulli',
];

export interface Fp16Options {
  include?: string[];
  exclude?: string[];
  minPositive?: number;
}

export interface Fp16Result {
  model: import('../../formats/onnx.js').ModelProto;
  blocked: { node: string; opType: string; reason: string }[];
  halfNodes: number;
  clamped: number;
  casts: number;
}

const CAST_ATTR = (to: number) => [{ name: 'to', type: 2, i: to }];

export function convertFp16(a: Analysis, o: Fp16Options = {}): Fp16Result {
  const g = new Graph(cloneModel(a.named));
  const include = o.include ?? [], exclude = o.exclude ?? [];
  for (const p of [...include, ...exclude]) {
    if (!g.nodes.some((n) => matches(p, n))) {
      throw new UserError(`--${include.includes(p) ? 'include' : 'exclude'} ${p}: matches no node or op type of this model`);
    }
  }
  const sub = g.nodes.find((n) => (n.attribute ?? []).some((x) => x.g || (x.graphs?.length ?? 0) > 0));
  if (sub) throw new UserError(`fp16: ${sub.opType} '${sub.name}' has a subgraph; control flow is not supported`);

  const isFloat = (t: string) => a.info.get(t)?.elemType === DataType.FLOAT;
  const blockedWhy = (n: NodeProto): string | null => {
    if (include.some((p) => matches(p, n))) return null;
    const ex = exclude.find((p) => matches(p, n));
    if (ex) return `excluded by --exclude ${ex}`;
    return FP16_BLOCK_OPS.includes(n.opType!) ? 'default fp16 block list' : null;
  };
  const blocked = new Map<NodeProto, string>();
  for (const n of g.nodes) { const w = blockedWhy(n); if (w) blocked.set(n, w); }

  let clamped = 0, casts = 0;
  /** Current representation of each float tensor: true = float16. */
  const half = new Map<string, boolean>();

  // Float initializers: half for fp16 readers, the float32 original kept if a blocked reader needs it.
  const halfName = new Map<string, string>();
  for (const t of [...g.model.graph!.initializer!]) {
    if (t.dataType !== DataType.FLOAT || g.inputNames.includes(t.name!)) continue;
    const readers = g.consumers(t.name!);
    const wantHalf = readers.some((r) => !blocked.has(r));
    if (!wantHalf) continue;
    const keepFloat = readers.some((r) => blocked.has(r)) || g.isGraphOutput(t.name!);
    const v = floatValues(t);
    const h = toHalfArray(v.data, o.minPositive);
    clamped += h.clamped;
    const ht = rawTensor(t.name!, DataType.FLOAT16, v.dims, h.bits);
    if (keepFloat) {
      halfName.set(t.name!, g.addInitializer({ ...ht, name: `${t.name}/fp16` }));
    } else {
      // Replace, never edit: tensors are shared with the caller's model (cloneModel).
      const list = g.model.graph!.initializer!;
      list[list.indexOf(t)] = ht;
      half.set(t.name!, true);
    }
  }

  const toHalf = new Map<string, string>(), toFloat = new Map<string, string>();
  const castBefore = (reader: NodeProto, x: string, to: 'half' | 'float'): string => {
    const cache = to === 'half' ? toHalf : toFloat;
    const have = cache.get(x);
    if (have) return have;
    const c = g.makeNode('Cast', [x], { name: `${x}/to_${to === 'half' ? 'fp16' : 'fp32'}`,
      attribute: CAST_ATTR(to === 'half' ? DataType.FLOAT16 : DataType.FLOAT) });
    g.insertBefore(reader, [c]);
    casts++;
    cache.set(x, c.output![0]!);
    return c.output![0]!;
  };

  let halfNodes = 0;
  for (const n of [...g.nodes]) {
    const isBlocked = blocked.has(n);
    n.input = n.input!.map((x) => {
      if (!x || !isFloat(x)) return x;
      if (halfName.has(x)) return isBlocked ? x : halfName.get(x)!;
      const isHalf = half.get(x) ?? false;
      if (isBlocked && isHalf) return castBefore(n, x, 'float');
      if (!isBlocked && !isHalf) return castBefore(n, x, 'half');
      return x;
    });
    if (isBlocked) continue;
    halfNodes++;
    // Attributes are shared with the caller's model: replace them, never edit.
    if (n.opType === 'Cast' && !n.domain) {
      n.attribute = n.attribute!.map((at) => (at.name === 'to' && Number(at.i) === DataType.FLOAT ? { ...at, i: DataType.FLOAT16 } : at));
    }
    if ((n.opType === 'Constant' || n.opType === 'ConstantOfShape') && !n.domain) {
      n.attribute = (n.attribute ?? []).map((at) => {
        if (at.name !== 'value' || !at.t || at.t.dataType !== DataType.FLOAT) return at;
        const v = floatValues(at.t);
        const h = toHalfArray(v.data, o.minPositive);
        clamped += h.clamped;
        return { ...at, t: rawTensor(at.t.name ?? '', DataType.FLOAT16, v.dims, h.bits) };
      });
    }
    for (const out of n.output ?? []) if (out && isFloat(out)) half.set(out, true);
  }
  g.touch();

  // Float32 at the boundaries: graph outputs produced in fp16 get a final Cast under their own name.
  for (const v of g.model.graph!.output ?? []) {
    const name = v.name!;
    if (!half.get(name)) continue;
    const p = g.producer(name)!;
    const pre = g.uniqueName(`${name}/fp16`);
    p.output = p.output!.map((x) => (x === name ? pre : x));
    g.renameTensor(name, pre);
    const c = g.makeNode('Cast', [pre], { name: `${name}/to_fp32`, outputs: [name], attribute: CAST_ATTR(DataType.FLOAT) });
    g.nodes.push(c);
    g.touch();
    casts++;
  }
  g.model.graph!.valueInfo = []; // element types changed; ONNX Runtime re-infers them
  g.removeUnused();
  const list = [...blocked].map(([n, reason]) => ({ node: n.name!, opType: n.opType!, reason }));
  return { model: g.model, blocked: list, halfNodes, clamped, casts };
}
