/**
 * Every answer is checked, so lost, duplicated, misrouted or wrong responses are counted instead of
 * assumed away:
 *  - the response must echo the request's id (OIP requires it); an id that belongs to another request
 *    is "misrouted", and one already answered is also a "duplicate";
 *  - each image's top-1 class must equal the expected one. Against a reference pass (the server's own
 *    answers at concurrency 1, before the load), a different top-1 whose logit is within `tieTolerance`
 *    of the expected class's is a "tie" (batched runs may round differently), not a mismatch; against
 *    dataset labels there is no such allowance.
 */
import { argmax } from './response.js';

export interface CheckCounts {
  /** Images whose answer was compared with an expected class. */
  checked: number;
  mismatched: number;
  ties: number;
  /** Responses whose id was not the request's. */
  misrouted: number;
  /** Responses carrying an id that had already been answered. */
  duplicates: number;
  /** 200 answers that could not be read as a response of the right shape. */
  malformed: number;
  /** A few examples, for the report. */
  examples: string[];
}

export function emptyCounts(): CheckCounts {
  return { checked: 0, mismatched: 0, ties: 0, misrouted: 0, duplicates: 0, malformed: 0, examples: [] };
}

export function addCounts(a: CheckCounts, b: CheckCounts): CheckCounts {
  return {
    checked: a.checked + b.checked, mismatched: a.mismatched + b.mismatched, ties: a.ties + b.ties, misrouted: a.misrouted + b.misrouted,
    duplicates: a.duplicates + b.duplicates, malformed: a.malformed + b.malformed, examples: [...a.examples, ...b.examples].slice(0, 5),
  };
}

export class ResponseChecker {
  readonly counts = emptyCounts();
  private readonly answered = new Set<string>();

  constructor(private readonly classes: number, private readonly tieTolerance: number | null) {}

  private example(s: string): void {
    if (this.counts.examples.length < 5) this.counts.examples.push(s);
  }

  malformed(what: string): void {
    this.counts.malformed++;
    this.example(what);
  }

  /** Check one successful answer to request `id` carrying `images` images with these expectations. */
  check(id: string, gotId: string | undefined, logits: Float32Array, expected: Int32Array, name: string): void {
    if (gotId !== id) {
      this.counts.misrouted++;
      if (gotId !== undefined && this.answered.has(gotId)) this.counts.duplicates++;
      this.example(`request ${id} answered with id ${gotId}`);
    }
    this.answered.add(id);
    const k = this.classes;
    for (let i = 0; i < expected.length; i++) {
      const want = expected[i]!;
      if (want < 0) continue;
      this.counts.checked++;
      const got = argmax(logits, i * k, k);
      if (got === want) continue;
      if (this.tieTolerance !== null && logits[i * k + want]! >= logits[i * k + got]! - this.tieTolerance) {
        this.counts.ties++;
        continue;
      }
      this.counts.mismatched++;
      this.example(`${name}${expected.length > 1 ? `[${i}]` : ''}: expected class ${want}, got ${got}`);
    }
  }
}
