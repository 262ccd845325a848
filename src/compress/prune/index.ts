/**
 * `prune`: the library entry of vitopt's pruning (the CLI command is a thin layer over it).
 *
 *   heads | neurons | structured   remove whole attention heads / MLP (Mixer: token- and channel-
 *                                  mixing) hidden units, then refit the next layer by least squares
 *   magnitude                      zero the smallest weights (no speed-up on dense kernels)
 *   nm                             N:M (2:4) semi-structured zeros (no speed-up on CPU/wasm)
 *
 * See docs/pruning.md for the methods, the choices behind them and measured results.
 */
import { countParams } from '../../analyze/params.js';
import { totalMacs } from '../../analyze/macs.js';
import { UserError } from '../../errors.js';
import type { ModelIR } from '../../models/ir.js';
import type { Calibration } from './capture.js';
import { magnitudePrune } from './magnitude.js';
import { nmPrune } from './nm.js';
import { pruneStructured, type StructuredOptions, type StructuredResult } from './reconstruct-model.js';
import type { SparsityResult } from './magnitude.js';

export { irFromOnnx } from './from-onnx.js';
export { loadCalibration, DEFAULT_CALIBRATION_SIZE, type Calibration } from './capture.js';
export { pruneStructured, DEFAULT_RIDGE, DEFAULT_RANKING, DEFAULT_TARGET } from './reconstruct-model.js';
export { magnitudePrune } from './magnitude.js';
export { nmPrune, parseNM } from './nm.js';

export const PRUNE_METHODS = ['heads', 'neurons', 'structured', 'magnitude', 'nm'] as const;
export type PruneMethod = typeof PRUNE_METHODS[number];

export function isStructured(m: PruneMethod): m is 'heads' | 'neurons' | 'structured' {
  return m === 'heads' || m === 'neurons' || m === 'structured';
}

/** Structured methods take StructuredOptions' fields; magnitude and N:M take scope / nm. */
export interface PruneOptions extends Omit<StructuredOptions, 'method'> {
  method: PruneMethod;
  /** Magnitude: one threshold per matrix ('layer') or over all ('global'). */
  scope?: 'layer' | 'global';
  /** N:M pattern (default 2:4). */
  nm?: { n: number; m: number };
}

export interface PruneOutcome {
  method: PruneMethod;
  ir: ModelIR;
  structured?: StructuredResult;
  sparsity?: Omit<SparsityResult, 'ir'>;
}

/** Check a request without touching any data (the CLI calls this before loading anything heavy). */
export function validatePruneOptions(o: PruneOptions, hasCalibration: boolean): void {
  if (!(PRUNE_METHODS as readonly string[]).includes(o.method)) {
    throw new UserError(`--method ${o.method}: expected one of ${PRUNE_METHODS.join(', ')}`);
  }
  const bad = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && v < 1)) throw new UserError(`${flag} ${v}: must be strictly between 0 and 1`);
  };
  bad('--ratio', o.ratio);
  bad('--target-flops', o.targetFlops);
  if (isStructured(o.method)) {
    if ((o.ratio === undefined) === (o.targetFlops === undefined)) {
      throw new UserError(`--method ${o.method}: give exactly one of --ratio (fraction of units removed) or --target-flops (fraction of FLOPs kept)`);
    }
    if (!hasCalibration) throw new UserError(`--method ${o.method}: needs calibration images: --calibration-data <spec>, or --data <spec> (calibrates on its training split)`);
  } else if (o.method === 'magnitude') {
    if (o.targetFlops !== undefined) throw new UserError('--target-flops: magnitude pruning does not change FLOPs (zeros are still multiplied); use --ratio');
    if (o.ratio === undefined) throw new UserError('--method magnitude: needs --ratio (the fraction of weights zeroed)');
  } else {
    if (o.targetFlops !== undefined || o.ratio !== undefined) {
      throw new UserError('--method nm: the sparsity is fixed by the pattern (--nm N:M, default 2:4); --ratio and --target-flops do not apply');
    }
  }
}

export async function prune(ir: ModelIR, o: PruneOptions, calib: Calibration | null = null): Promise<PruneOutcome> {
  validatePruneOptions(o, calib !== null);
  if (isStructured(o.method)) {
    const r = await pruneStructured(ir, calib!, { ...o, method: o.method });
    return { method: o.method, ir: r.ir, structured: r };
  }
  const r = o.method === 'magnitude' ? magnitudePrune(ir, { ratio: o.ratio!, scope: o.scope }) : nmPrune(ir, o.nm);
  const { ir: out, ...sparsity } = r;
  return { method: o.method, ir: out, sparsity };
}

export function modelFigures(ir: ModelIR): { macs: number; flops: number; params: number } {
  const macs = totalMacs(ir.config);
  return { macs, flops: 2 * macs, params: countParams(ir.config) };
}
