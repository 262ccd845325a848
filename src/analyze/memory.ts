/**
 * Memory of a forward pass, from the configuration alone. Every block is read with its own widths
 * (`vitLayer`/`mixerLayer`): a structurally pruned model has per-layer heads and hidden units, and a
 * uniform model is the case where all blocks are the same.
 *
 * Weights, per storage format. Assumptions (they match what vitopt's compress/ stage writes and what
 * ONNX Runtime's quantized kernels read):
 *   fp32  every tensor 4 bytes.
 *   fp16  every tensor 2 bytes (LayerNorm and biases included, as a float16 graph stores them).
 *   int8  every Dense kernel (attention q/k/v/out, MLP, token/channel mixing, pre_logits, head) int8,
 *         symmetric, one fp32 scale per output column; everything else — the patch-embedding/stem conv,
 *         cls, position embedding, LayerNorm, all biases — stays fp32.
 *   int4  the same Dense kernels packed two per byte in blocks of 32 along the input axis (padded to a
 *         whole block, as MatMulNBits stores them), one fp32 scale per block, no zero points; the rest fp32.
 *
 * Activations: an explicit model, "peak live tensors at the widest point". The forward pass is written
 * as a list of ops in execution order; during an op its output and every tensor still needed later
 * (its inputs, the residual stream) are live; a tensor is freed right after its last use, nothing is
 * computed in place, and reshapes/transposes are views (fused attention kernels and a MatMul with the
 * token-mixing weight on the left need no materialised transpose). The peak is the largest live set,
 * in float32. Everything scales with the batch; weights do not. Not modelled: the runtime's arena
 * rounding, workspace of individual kernels, and the weights themselves.
 */
import { type ModelConfig, mixerLayer, patchTokens, sequenceLength, vitLayer } from '../models/config.js';
import { countParams } from './params.js';
import { type ConvSpec, type ResnetConfig, resnetConvs, resnetUnits, sameSide } from '../models/resnet.js';

export const INT4_BLOCK = 32;

/** One Dense kernel shape [in, out] occurring `count` times. */
export interface MatmulWeight {
  name: string;
  in: number;
  out: number;
  count: number;
}

/**
 * The Dense kernels of a model: the tensors int8/int4 quantization converts. Read per layer, so a
 * structurally pruned model (src/compress/prune/) gets its own shapes: block l's q/k/v are D×A_l and its
 * out-projection A_l×D (A_l = heads_l·hd), its MLP D×M_l and M_l×D. Layers of the same shape share a row.
 */
export function matmulWeights(c: ModelConfig): MatmulWeight[] {
  const w: MatmulWeight[] = [];
  const add = (name: string, inDim: number, out: number, count: number) => {
    const same = w.find((x) => x.name === name && x.in === inDim && x.out === out);
    if (same) same.count += count;
    else w.push({ name, in: inDim, out, count });
  };
  if (c.family === 'vit') {
    const D = c.hidden, R = c.representation ?? 0;
    for (let l = 0; l < c.layers; l++) {
      const { attention: A, mlp: M } = vitLayer(c, l);
      add('attention q/k/v', D, A, 3);
      add('attention out', A, D, 1);
      add('mlp fc1', D, M, 1);
      add('mlp fc2', M, D, 1);
    }
    if (R) add('pre_logits', D, R, 1);
    if (c.classes > 0) add('head', R || D, c.classes, 1);
  } else {
    const S = patchTokens(c), C = c.hidden;
    for (let i = 0; i < c.blocks; i++) {
      const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
      add('token mixing fc1', S, DS, 1);
      add('token mixing fc2', DS, S, 1);
      add('channel mixing fc1', C, DC, 1);
      add('channel mixing fc2', DC, C, 1);
    }
    if (c.classes > 0) add('head', C, c.classes, 1);
  }
  return w;
}

export interface WeightBytes {
  params: number;
  /** Parameters in Dense kernels (quantized by int8/int4). */
  matmulParams: number;
  fp32: number;
  fp16: number;
  int8: number;
  int4: number;
  assumption: string;
}

export function weightBytes(c: ModelConfig): WeightBytes {
  const params = countParams(c);
  const ws = matmulWeights(c);
  const matmulParams = ws.reduce((s, w) => s + w.in * w.out * w.count, 0);
  const rest = 4 * (params - matmulParams);
  const int8 = ws.reduce((s, w) => s + w.count * (w.in * w.out + 4 * w.out), 0) + rest;
  const int4 = ws.reduce((s, w) => {
    const blocks = Math.ceil(w.in / INT4_BLOCK) * w.out;
    return s + w.count * blocks * (INT4_BLOCK / 2 + 4);
  }, 0) + rest;
  return {
    params, matmulParams, fp32: 4 * params, fp16: 2 * params, int8, int4,
    assumption: 'int8/int4 quantize Dense kernels only (int8: fp32 scale per output column; int4: blocks of ' +
      `${INT4_BLOCK} along the input axis, fp32 scale per block, no zero point); convs (a hybrid's ResNet stem too), embeddings, ` +
      'LayerNorm and biases stay fp32; fp16 stores every tensor in 2 bytes',
  };
}

/** One op of the forward pass: the tensor it writes and the tensors live alongside it (elements per image). */
export interface LiveStep {
  op: string;
  output: [name: string, elements: number];
  alsoLive: [name: string, elements: number][];
}

/**
 * The forward pass as a liveness trace, one image: one list of steps per block, each with that block's
 * own widths (a pruned block has fewer heads or hidden units than its neighbours).
 */
export function forwardTrace(c: ModelConfig): { prologue: LiveStep[]; blocks: LiveStep[][]; epilogue: LiveStep[] } {
  const pixels: [string, number] = ['pixels', 3 * c.resolution * c.resolution];
  const st = (op: string, output: [string, number], ...alsoLive: [string, number][]): LiveStep => ({ op, output, alsoLive });
  if (c.family === 'vit') {
    const N = patchTokens(c), T = sequenceLength(c), D = c.hidden;
    const TD = T * D, R = c.representation ?? 0;
    const x: [string, number] = ['x', TD];
    const stem = c.resnet ? resnetTrace(c.resnet, c.resolution, pixels) : { steps: [], out: pixels };
    const prologue = [...stem.steps, st('patch embedding', ['patches', N * D], stem.out)];
    if (c.classifier === 'token') prologue.push(st('prepend cls', ['tokens', TD], ['patches', N * D]));
    prologue.push(st('+ position embedding', ['x', TD], [c.classifier === 'token' ? 'tokens' : 'patches', TD]));
    const blocks = Array.from({ length: c.layers }, (_, l) => {
      // TA: q, k, v and the merged heads are T×A (A = heads·hd: D unless heads were pruned).
      const { heads: H, headDim, mlp: M } = vitLayer(c, l);
      const TA = T * H * headDim;
      return [
        st('LayerNorm_0', ['y', TD], x),
        st('q, k, v', ['qkv', 3 * TA], x, ['y', TD]),
        st('scores q·kᵀ', ['scores', H * T * T], x, ['qkv', 3 * TA]),
        st('softmax', ['probs', H * T * T], x, ['scores', H * T * T], ['v', TA]),
        st('probs × v', ['o', TA], x, ['probs', H * T * T], ['v', TA]),
        st('out projection', ['a', TD], x, ['o', TA]),
        st('residual add', ['x1', TD], x, ['a', TD]),
        st('LayerNorm_1', ['y2', TD], ['x1', TD]),
        st('MLP fc1', ['h', T * M], ['x1', TD], ['y2', TD]),
        st('GELU', ['g', T * M], ['x1', TD], ['h', T * M]),
        st('MLP fc2', ['m', TD], ['x1', TD], ['g', T * M]),
        st('residual add', ['x', TD], ['x1', TD], ['m', TD]),
      ];
    });
    const epilogue = [st('encoder_norm', ['z', TD], x), st(c.classifier === 'token' ? 'take cls' : 'mean over tokens', ['pooled', D], ['z', TD])];
    if (R) epilogue.push(st('pre_logits', ['rep', R], ['pooled', D]));
    epilogue.push(st('head', ['logits', c.classes], [R ? 'rep' : 'pooled', R || D]));
    return { prologue, blocks, epilogue };
  }
  const S = patchTokens(c), C = c.hidden, SC = S * C;
  const x: [string, number] = ['x', SC];
  const blocks = Array.from({ length: c.blocks }, (_, i) => {
    const { tokensMlp: DS, channelsMlp: DC } = mixerLayer(c, i);
    return [
      st('LayerNorm_0', ['y', SC], x),
      st('token mixing fc1', ['h', C * DS], x, ['y', SC]),
      st('GELU', ['g', C * DS], x, ['h', C * DS]),
      st('token mixing fc2', ['u', SC], x, ['g', C * DS]),
      st('residual add', ['x1', SC], x, ['u', SC]),
      st('LayerNorm_1', ['y1', SC], ['x1', SC]),
      st('channel mixing fc1', ['h', S * DC], ['x1', SC], ['y1', SC]),
      st('GELU', ['g', S * DC], ['x1', SC], ['h', S * DC]),
      st('channel mixing fc2', ['m', SC], ['x1', SC], ['g', S * DC]),
      st('residual add', ['x', SC], ['x1', SC], ['m', SC]),
    ];
  });
  return {
    prologue: [st('stem', ['x', SC], pixels)],
    blocks,
    epilogue: [st('pre_head_layer_norm', ['z', SC], x), st('mean over tokens', ['pooled', C], ['z', SC]),
      st('head', ['logits', c.classes], ['pooled', C])],
  };
}

/**
 * A hybrid's ResNet stem as a liveness trace: each unit's input stays live until its shortcut is used
 * (the projection's output replaces it in unit1 of a stage); ReLU runs in place of its GroupNorm output.
 */
function resnetTrace(r: ResnetConfig, resolution: number, pixels: [string, number]): { steps: LiveStep[]; out: [string, number] } {
  const st = (op: string, output: [string, number], ...alsoLive: [string, number][]): LiveStep => ({ op, output, alsoLive });
  const convs = new Map(resnetConvs(r, resolution).map((s) => [s.name, s]));
  const el = (s: ConvSpec): number => s.cout * s.outSide ** 2;
  const root = convs.get('conv_root')!;
  const pooled: [string, number] = ['max_pool', root.cout * sameSide(root.outSide, 2) ** 2];
  const steps = [
    st('conv_root', ['conv_root', el(root)], pixels),
    st('gn_root + relu', ['gn_root', el(root)], ['conv_root', el(root)]),
    st('max_pool', pooled, ['gn_root', el(root)]),
  ];
  let x = pooled;
  for (const u of resnetUnits(r)) {
    const at = (n: string): ConvSpec => convs.get(`${u.name}/${n}`)!;
    let shortcut = x;
    if (u.projection) {
      steps.push(st(`${u.name}/conv_proj`, ['proj', el(at('conv_proj'))], x));
      shortcut = ['shortcut', el(at('conv_proj'))];
      steps.push(st(`${u.name}/gn_proj`, shortcut, x, ['proj', el(at('conv_proj'))]));
    }
    const c1: [string, number] = ['conv1', el(at('conv1'))], c2: [string, number] = ['conv2', el(at('conv2'))];
    const c3: [string, number] = ['conv3', el(at('conv3'))];
    steps.push(st(`${u.name}/conv1`, c1, x, ...(u.projection ? [shortcut] : [])),
      st(`${u.name}/gn1 + relu`, ['gn1', c1[1]], shortcut, c1),
      st(`${u.name}/conv2`, c2, shortcut, ['gn1', c1[1]]),
      st(`${u.name}/gn2 + relu`, ['gn2', c2[1]], shortcut, c2),
      st(`${u.name}/conv3`, c3, shortcut, ['gn2', c2[1]]),
      st(`${u.name}/gn3`, ['gn3', c3[1]], shortcut, c3),
      st(`${u.name}/add + relu`, [u.name, c3[1]], shortcut, ['gn3', c3[1]]));
    x = [u.name, c3[1]];
  }
  return { steps, out: x };
}

export const liveElements = (s: LiveStep): number => s.output[1] + s.alsoLive.reduce((a, t) => a + t[1], 0);

export interface ActivationMemory {
  batch: number;
  /** The op at the widest point and the tensors live there. */
  peakOp: string;
  /** The block of that op (the first of equally wide blocks); null in the stem/embedding or the head. */
  peakBlock: number | null;
  peakTensors: string[];
  /** float32 bytes live at the peak, whole batch. */
  peakBytes: number;
  /**
   * One copy of the attention probabilities of the block with the most heads, H_l·T² floats per image
   * (0 for Mixer); the trace holds two at softmax.
   */
  attentionMatrixBytes: number;
  /** Bytes every op writes, summed over the whole forward pass (traffic if nothing stays in cache). */
  writtenBytes: number;
  model: string;
}

export function activationMemory(c: ModelConfig, batch = 1): ActivationMemory {
  const t = forwardTrace(c);
  const steps: { step: LiveStep; block: number | null }[] = [
    ...t.prologue.map((step) => ({ step, block: null })),
    ...t.blocks.flatMap((b, l) => b.map((step) => ({ step, block: l }))),
    ...t.epilogue.map((step) => ({ step, block: null })),
  ];
  let peak = steps[0]!;
  for (const s of steps) if (liveElements(s.step) > liveElements(peak.step)) peak = s;
  const written = steps.reduce((a, s) => a + s.step.output[1], 0);
  const T = sequenceLength(c);
  const heads = c.family === 'vit' ? Math.max(...Array.from({ length: c.layers }, (_, l) => vitLayer(c, l).heads)) : 0;
  return {
    batch,
    peakOp: peak.step.op,
    peakBlock: peak.block,
    peakTensors: [peak.step.output, ...peak.step.alsoLive].map(([n, e]) => `${n}[${e}]`),
    peakBytes: 4 * batch * liveElements(peak.step),
    attentionMatrixBytes: 4 * batch * heads * T * T,
    writtenBytes: 4 * batch * written,
    model: 'peak live float32 tensors at the widest op: op output + tensors still needed, freed after last ' +
      'use, no in-place ops, reshapes/transposes as views; weights excluded',
  };
}
