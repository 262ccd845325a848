/**
 * The residual stream of a pre-LN network, so that a block reads as the paper writes it,
 *
 *   x.add(attn(x.norm(ln1)))     x = x + attn(ln1(x))
 *   x.add(mlp(x.norm(ln2)))      x = x + mlp(ln2(x))
 *
 * while the graph can still fuse each residual add into the LayerNorm that reads its sum (ONNX
 * Runtime's SkipLayerNormalization: add + bias + LayerNorm in one node, which also returns the sum).
 * That fusion moves every LayerNorm but the first into the previous sublayer's add, across block
 * boundaries (block l's MLP add is fused with block l+1's ln1, the last one with encoder_norm). So
 * `add` does not emit the add: it keeps it pending, and the next `norm` emits add and LayerNorm
 * together (layers.ts `addAndNorm`: fused, or Add + LayerNormalization) and names the add after that
 * LayerNorm (`<ln>/residual`, its bias `<ln>/skip_bias`), whichever form the graph takes.
 */
import type { ModelIR } from '../models/ir.js';
import { weight } from '../models/ir.js';
import type { NormNames } from '../models/names.js';
import type { Tensor } from '../tensor.js';
import { addAndNorm, type Ctx, layerNorm, residualAdd } from './layers.js';

/** A sublayer's output before its last bias, which the residual add carries (the fused node's bias input). */
export interface Branch {
  out: string;
  bias: Tensor | null;
}

export class Residual {
  private pending: Branch | null = null;

  constructor(private readonly c: Ctx, private readonly ir: ModelIR, private x: string) {}

  /** x = x + branch (emitted by the next `norm` or `between`). */
  add(branch: Branch): void {
    if (this.pending) throw new Error('internal: two residual adds without a LayerNorm between them');
    this.pending = branch;
  }

  /** LayerNorm `n` of the stream (IR weights `n.scale`, `n.bias`); any pending add is emitted with it. */
  norm(n: NormNames): string {
    const scale = weight(this.ir, n.scale), bias = weight(this.ir, n.bias);
    const p = this.pending;
    if (!p) return layerNorm(this.c, this.x, scale, bias, n);
    let y: string;
    [y, this.x] = addAndNorm(this.c, p.out, this.x, p.bias, scale, bias, n);
    this.pending = null;
    return y;
  }

  /**
   * x = f(x) between the pending add and the LayerNorm `next` that follows (Token Merging acts there):
   * the add cannot fuse with that LayerNorm, so it is emitted on its own, still named after `next`.
   */
  between(next: NormNames, f: (x: string) => string): void {
    const p = this.pending;
    const sum = p ? residualAdd(this.c, p.out, this.x, p.bias, next) : this.x;
    this.pending = null;
    this.x = f(sum);
  }
}
