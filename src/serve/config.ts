/**
 * Per-model serving configuration, in Triton's names and semantics (model_config.proto), so a
 * Triton user reads it without a glossary. `config.json` in a repository model folder holds the same
 * fields as Triton's JSON ModelConfig; anything else in it is ignored.
 *
 * Precedence: built-in defaults < server flags (--max-batch-size …) < the model's own config.json.
 */
import { FileError } from '../errors.js';

export interface BatchingConfig {
  /** Largest batch one run takes (Triton max_batch_size). 1 = no batching across requests. */
  max_batch_size: number;
  /** Batch sizes dispatched at once when the queue can form them (largest first). Empty = max_batch_size only. */
  preferred_batch_size: number[];
  /** How long the oldest request may wait for a fuller batch (µs; 0 = dispatch whatever is queued). */
  max_queue_delay_microseconds: number;
  /** Requests that may wait in the queue (0 = unbounded); past it, requests are rejected at once. */
  max_queue_size: number;
  /** Queue-wait timeout per request (µs; 0 = none): a request not started by then gets 503. */
  default_timeout_microseconds: number;
  /** Worker instances, each one ONNX Runtime session in its own thread. */
  instance_count: number;
}

/** max_batch_size 8 for ViTs (the anchors' advice; Triton auto-completes 4), no delay (Triton's default). */
export const DEFAULT_MAX_BATCH = 8;
export const DEFAULT_TIMEOUT_MS = 10_000;

export function defaultBatching(o: Partial<BatchingConfig> = {}): BatchingConfig {
  const max = o.max_batch_size ?? DEFAULT_MAX_BATCH;
  const instances = o.instance_count ?? 1;
  return {
    max_batch_size: max,
    preferred_batch_size: o.preferred_batch_size ?? [],
    max_queue_delay_microseconds: o.max_queue_delay_microseconds ?? 0,
    // Enough for every instance to have a full batch running and three more waiting.
    max_queue_size: o.max_queue_size ?? 4 * max * instances,
    default_timeout_microseconds: o.default_timeout_microseconds ?? DEFAULT_TIMEOUT_MS * 1000,
    instance_count: instances,
  };
}

function nonNegInt(v: unknown, field: string, file: string, min = 0): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new FileError(file, `${field} must be an integer >= ${min}`);
  return v as number;
}

/** The batching fields of a Triton-style JSON ModelConfig (config.json). */
export function batchingFromConfigJson(j: unknown, file: string): Partial<BatchingConfig> {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new FileError(file, 'must hold a JSON object');
  const c = j as Record<string, unknown>;
  const out: Partial<BatchingConfig> = {};
  if (c.max_batch_size !== undefined) out.max_batch_size = Math.max(1, nonNegInt(c.max_batch_size, 'max_batch_size', file));
  const db = c.dynamic_batching as Record<string, unknown> | undefined;
  if (db !== undefined) {
    if (typeof db !== 'object' || db === null) throw new FileError(file, 'dynamic_batching must be an object');
    if (db.preferred_batch_size !== undefined) {
      if (!Array.isArray(db.preferred_batch_size)) throw new FileError(file, 'dynamic_batching.preferred_batch_size must be a list');
      out.preferred_batch_size = db.preferred_batch_size.map((v) => nonNegInt(v, 'dynamic_batching.preferred_batch_size[]', file, 1));
    }
    if (db.max_queue_delay_microseconds !== undefined) {
      out.max_queue_delay_microseconds = nonNegInt(Number(db.max_queue_delay_microseconds), 'dynamic_batching.max_queue_delay_microseconds', file);
    }
    const qp = db.default_queue_policy as Record<string, unknown> | undefined;
    if (qp !== undefined) {
      if (qp.max_queue_size !== undefined) out.max_queue_size = nonNegInt(qp.max_queue_size, 'default_queue_policy.max_queue_size', file);
      if (qp.default_timeout_microseconds !== undefined) {
        out.default_timeout_microseconds = nonNegInt(Number(qp.default_timeout_microseconds), 'default_queue_policy.default_timeout_microseconds', file);
      }
    }
  }
  const ig = c.instance_group as { count?: unknown }[] | undefined;
  if (ig !== undefined) {
    if (!Array.isArray(ig) || ig.length === 0) throw new FileError(file, 'instance_group must be a non-empty list');
    out.instance_count = ig.reduce((s, g, i) => s + nonNegInt(g.count ?? 1, `instance_group[${i}].count`, file, 1), 0);
  }
  return out;
}

/** Merge layers (later wins) and check the result makes sense. */
export function resolveBatching(where: string, ...layers: Partial<BatchingConfig>[]): BatchingConfig {
  const merged: Partial<BatchingConfig> = {};
  for (const l of layers) for (const [k, v] of Object.entries(l)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  const c = defaultBatching(merged);
  const bad = c.preferred_batch_size.find((p) => p > c.max_batch_size);
  if (bad !== undefined) throw new FileError(where, `preferred_batch_size ${bad} is larger than max_batch_size ${c.max_batch_size}`);
  c.preferred_batch_size = [...new Set(c.preferred_batch_size)].sort((a, b) => a - b);
  return c;
}
