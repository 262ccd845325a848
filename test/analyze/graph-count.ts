/**
 * Independent counts from an exported ONNX graph, for checking `analyze` on pruned models: parameters
 * from the float initializers' element counts, MACs from the MatMul / Attention / patch-embedding Conv
 * weight shapes and the token count the graph's own position embedding (or token-mixing kernel) gives.
 * Nothing here reads the model configuration. Not a test file itself.
 */
import { DataType, type ModelProto } from '../../src/formats/onnx.js';

const numel = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

/** Float initializers by name, with their dims. */
export function floatInitializers(m: ModelProto): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of m.graph?.initializer ?? []) {
    if (t.name && t.dataType === DataType.FLOAT) out.set(t.name, (t.dims ?? []).map(Number));
  }
  return out;
}

/**
 * Parameters stored in the graph: every float initializer of rank ≥ 1 (rank-0 ones are GELU constants
 * of the portable graph). The export folds the checkpoint's cls token and position-embedding row 0 into
 * one row `cls_plus_pos` (their sum is all the forward pass uses): that row stands for 2·D parameters.
 * `prefix` restricts the count to initializers whose name starts with it.
 */
export function graphParams(m: ModelProto, prefix = ''): number {
  let n = 0;
  for (const [name, dims] of floatInitializers(m)) {
    if (dims.length === 0 || !name.startsWith(prefix)) continue;
    n += numel(dims) * (name === 'cls_plus_pos' ? 2 : 1);
  }
  return n;
}

/** Elements of the Dense kernels (MatMul / fused Attention weights): what int8/int4 quantize. */
export function graphKernelParams(m: ModelProto): number {
  const init = floatInitializers(m);
  let n = 0;
  for (const node of m.graph?.node ?? []) {
    if (node.opType !== 'MatMul' && node.opType !== 'Attention') continue;
    for (const x of node.input ?? []) {
      const d = init.get(x);
      if (d && d.length === 2 && !x.endsWith('/bias')) n += numel(d);
    }
  }
  return n;
}

/**
 * MACs per image of the graph's matrix products. Tokens: ViT N = posembed_patches rows (T = N + 1 with
 * cls_plus_pos); Mixer S = the token-mixing kernels' S side, C = the stem's output channels. A weight on
 * the right of a MatMul is applied to every token (the head and pre_logits to one pooled vector); on
 * the left (Mixer token mixing, [D_S, S] · [S, C]) to every channel. A fused Attention with weight
 * [D, 3A] costs T·D·3A for q/k/v plus 2·T²·A for its two products; the portable graph's products are
 * MatMuls of two activations, T²·A each, A read from that block's query kernel. Only the patch
 * embedding's Conv is counted (one output per patch token): a hybrid's ResNet convs are left out.
 */
export function graphMacs(m: ModelProto): number {
  const init = floatInitializers(m);
  const stem = init.get('stem/kernel');
  const mixer = stem !== undefined;
  let tokens: number, channels = 0;
  if (mixer) {
    const tk = [...init].find(([n]) => /token_mixing\/Dense_0\/kernel_t$/.test(n));
    if (!tk) throw new Error('no token-mixing kernel');
    tokens = tk[1][1]!;
    channels = stem[0]!;
  } else {
    const pos = init.get('posembed_patches');
    if (!pos) throw new Error('no posembed_patches');
    tokens = pos[1]! + (init.has('cls_plus_pos') ? 1 : 0);
  }
  const patches = mixer ? tokens : init.get('posembed_patches')![1]!;
  let macs = 0;
  for (const node of m.graph?.node ?? []) {
    const [a, b] = [node.input?.[0] ?? '', node.input?.[1] ?? ''];
    switch (node.opType) {
      case 'Conv':
        if (b === 'embedding/kernel' || b === 'stem/kernel') macs += patches * numel(init.get(b)!);
        break;
      case 'Attention': {
        const [D, threeA] = init.get(b)! as [number, number];
        const A = threeA / 3;
        macs += tokens * D * threeA + 2 * tokens * tokens * A;
        break;
      }
      case 'MatMul': {
        const wa = init.get(a), wb = init.get(b);
        if (wb) macs += (/^(head|pre_logits)\//.test(b) ? 1 : tokens) * numel(wb);
        else if (wa) macs += numel(wa) * channels;
        else {
          const block = /^(Transformer\/encoderblock_\d+)\//.exec(a)?.[1];
          const q = init.get(`${block}/MultiHeadDotProductAttention_0/query/kernel`);
          if (!q) throw new Error(`MatMul ${node.name}: no weight and no query kernel`);
          macs += tokens * tokens * q[1]!;
        }
        break;
      }
      case 'Gemm':
        throw new Error('unexpected Gemm: count it');
      default:
    }
  }
  return macs;
}
