/**
 * Token Merging (ToMe; Bolya et al., "Token Merging: Your ViT But Faster", ICLR 2023) as a property of a
 * ViT configuration: how many tokens each block merges (`VitConfig.mergeTokens`, one entry per layer)
 * and, for `gap` models, how the final tokens are averaged (`VitConfig.mergePool`). The schedule is
 * fixed at export, so every shape in the graph is static. The graph itself is built in
 * src/export/tome.ts; the float64 reference is in src/reference/forward.ts (docs/token-merging.md).
 */
import { UserError } from '../errors.js';
import { type ModelConfig, type VitConfig, sequenceLength } from './config.js';
import type { ModelIR } from './ir.js';

/** `gap` pooling of merged tokens: 'weighted' = Σ size·x / Σ size (default), 'mean' = plain mean (the reference code's). */
export type MergePool = 'weighted' | 'mean';
export const MERGE_POOLS: readonly MergePool[] = ['weighted', 'mean'];
/**
 * Measured on the fashion-vit encoder read out by mean pooling (bench/tome.ts, docs/token-merging.md):
 * the size-weighted mean is the exact counterpart of the unmerged model's mean and was the more accurate.
 */
export const DEFAULT_MERGE_POOL: MergePool = 'weighted';

/** Tokens merged in each block (all zero when the model does not merge). */
export function mergeSchedule(c: VitConfig): number[] {
  return Array.from({ length: c.layers }, (_, l) => c.mergeTokens?.[l] ?? 0);
}

export function hasMerging(c: ModelConfig): c is VitConfig & { mergeTokens: number[] } {
  return c.family === 'vit' && Boolean(c.mergeTokens?.some((r) => r > 0));
}

/** The pooling of a merging gap model. */
export function mergePool(c: VitConfig): MergePool {
  return c.mergePool ?? DEFAULT_MERGE_POOL;
}

/**
 * The most tokens one block can merge out of `tokens` (the reference's bound, tome/merge.py: at most
 * half of the tokens that may merge): ⌊(T − 1)/2⌋ with a cls token (= the A-set tokens other than
 * cls), ⌊T/2⌋ without.
 */
export function maxMerge(tokens: number, hasCls: boolean): number {
  return Math.floor((tokens - (hasCls ? 1 : 0)) / 2);
}

/** Sequence length entering each block, and after the last (L + 1 entries). */
export function tokenCounts(c: VitConfig): number[] {
  const r = mergeSchedule(c);
  const t = [sequenceLength(c)];
  for (let l = 0; l < c.layers; l++) t.push(t[l]! - r[l]!);
  return t;
}

/**
 * The option's text: one integer (every block) or a comma-separated list with one entry per layer.
 * Syntax only; `checkMergeSchedule` checks it against a model.
 */
export function parseMergeTokens(text: string, flag = '--merge-tokens'): number | number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((s) => !/^\d+$/.test(s)) || values.some((v) => !Number.isSafeInteger(v))) {
    throw new UserError(`${flag} ${text}: expected a non-negative integer, or a comma-separated list of them (one per layer)`);
  }
  return values.length === 1 ? values[0]! : values;
}

/**
 * `r` validated against a configuration at its resolution; returns the per-layer schedule. A list
 * (one entry per layer) is taken literally: every entry must fit its block. One number means what it
 * means in the reference code (tome/merge.py lowers r to each block's bound): every block merges
 * min(r, its bound), e.g. ViT-B/16 with r = 16 merges 16 in blocks 0–10 and 10 in block 11; it is an
 * error only when the first block cannot merge r. Errors name `flag` and say what would fit.
 */
export function checkMergeSchedule(c: ModelConfig, r: number | readonly number[], flag = '--merge-tokens'): number[] {
  const text = typeof r === 'number' ? String(r) : r.join(',');
  if (c.family !== 'vit') {
    throw new UserError(`${flag} ${text}: an MLP-Mixer cannot merge tokens (its token-mixing weights are tied to each token position); Token Merging applies to ViTs`);
  }
  const values = typeof r === 'number' ? [r] : [...r];
  if (values.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new UserError(`${flag} ${text}: tokens to merge must be non-negative integers`);
  }
  if (typeof r !== 'number' && values.length !== c.layers) {
    throw new UserError(`${flag} ${text}: the schedule has ${values.length} entries, the model has ${c.layers} layers (give one per layer, or one number for all)`);
  }
  const hasCls = c.classifier === 'token';
  let t = sequenceLength(c);
  if (typeof r === 'number') {
    // One number: the reference code's meaning, each block merges min(r, its bound).
    if (r > maxMerge(t, hasCls)) {
      throw new UserError(`${flag} ${text}: too large for ${t} tokens${hasCls ? ' (cls included, never merged)' : ''}: ` +
        `at most ${maxMerge(t, hasCls)} can merge in a block (r ≤ ${hasCls ? '⌊(T − 1)/2⌋' : '⌊T/2⌋'})`);
    }
    return cappedSchedule(c, r);
  }
  const schedule = values;
  for (let l = 0; l < c.layers; l++) {
    const max = maxMerge(t, hasCls);
    if (schedule[l]! > max) {
      throw new UserError(`${flag} ${text}: block ${l} has ${t} tokens${hasCls ? ' (cls included, never merged)' : ''}; ` +
        `at most ${max} can merge there${l > 0 ? ` after ${sequenceLength(c) - t} merged in earlier blocks` : ''} ` +
        `(r ≤ ${hasCls ? '⌊(T − 1)/2⌋' : '⌊T/2⌋'}; capped per block as the reference code does: ${cappedSchedule(c, schedule).join(',')})`);
    }
    t -= schedule[l]!;
  }
  return schedule;
}

/**
 * What the reference code runs for `r` (tome/merge.py silently lowers r to the bound in each block):
 * min(r_l, bound at block l), one entry per layer. vitopt refuses an over-large r instead; this gives
 * the schedule to ask for. Checks nothing but the family.
 */
export function cappedSchedule(c: ModelConfig, r: number | readonly number[]): number[] {
  if (c.family !== 'vit') throw new UserError('an MLP-Mixer cannot merge tokens');
  const hasCls = c.classifier === 'token';
  let t = sequenceLength(c);
  return Array.from({ length: c.layers }, (_, l) => {
    const v = Math.max(0, Math.min(typeof r === 'number' ? r : r[l] ?? 0, maxMerge(t, hasCls)));
    t -= v;
    return v;
  });
}

/** A configuration carrying the schedule (or none, when every entry is 0) and the gap pooling. */
export function withMergeConfig(c: ModelConfig, r: number | readonly number[], o: { pool?: MergePool; flag?: string } = {}): VitConfig {
  const schedule = checkMergeSchedule(c, r, o.flag);
  const v = structuredClone(c) as VitConfig;
  const previousPool = v.mergePool;
  delete v.mergeTokens;
  delete v.mergePool;
  if (o.pool !== undefined) {
    if (!MERGE_POOLS.includes(o.pool)) throw new UserError(`--merge-pool ${o.pool}: expected one of ${MERGE_POOLS.join(', ')}`);
    if (v.classifier !== 'gap') throw new UserError(`--merge-pool ${o.pool}: applies to gap (mean-pooled) models; this one reads out its cls token`);
  }
  if (schedule.some((x) => x > 0)) {
    v.mergeTokens = schedule;
    if (v.classifier === 'gap') v.mergePool = o.pool ?? previousPool ?? DEFAULT_MERGE_POOL;
  }
  return v;
}

/**
 * The library entry point (for the tuner): a new IR whose configuration merges `r` tokens in every
 * block (a number) or `r[l]` in block l (a list with one entry per layer), validated against the
 * model at its resolution (UserError otherwise). Weights are shared with `ir`, not copied. r = 0
 * (or all zeros) gives the unmerged model.
 */
export function withMergeSchedule(ir: ModelIR, r: number | readonly number[], o: { pool?: MergePool } = {}): ModelIR {
  return { ...ir, config: withMergeConfig(ir.config, r, o) };
}

/** The same configuration without Token Merging. */
export function unmerged<C extends ModelConfig>(c: C): C {
  if (c.family !== 'vit' || (c.mergeTokens === undefined && c.mergePool === undefined)) return c;
  const { mergeTokens: _t, mergePool: _p, ...rest } = c as VitConfig;
  return rest as C;
}

/** Short text for reports: 'r = [8, 8, 8, 8] (50 → 18 tokens)'. */
export function describeMerging(c: VitConfig): string {
  const t = tokenCounts(c);
  return `ToMe r = [${mergeSchedule(c).join(', ')}] (${t[0]} → ${t[t.length - 1]} tokens)` +
    (c.classifier === 'gap' ? `, ${mergePool(c)} pooling` : '');
}
