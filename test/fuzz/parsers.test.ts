/**
 * Every parser a user's file reaches, fuzzed with fast-check: mutated and truncated valid files and
 * hostile headers (10^12 elements, negative and overflowing shapes, ZIP records whose sizes lie,
 * external data outside the model's folder, PNG headers declaring 4-gigapixel images). Each input must
 * be accepted or rejected with one clear UserError line; nothing may crash or hang. A few hundred
 * cases per parser here; `node dist/bench/fuzz.js` runs 100,000 per parser with a watchdog and
 * memory figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { TARGETS } from './targets.js';
import { runCase, type Outcome } from './harness.js';

const RUNS = Number(process.env.VITOPT_FUZZ_RUNS ?? 400);

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${RUNS} inputs, each accepted or rejected with one clear line`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `vitopt-fuzz-${target.name}-`));
    const counts: Record<Outcome, number> = { accepted: 0, rejected: 0, unclear: 0, crash: 0, hang: 0 };
    try {
      await fc.assert(fc.asyncProperty(await target.arbitrary(), async (c) => {
        const r = await runCase(target, c, dir, 10_000);
        counts[r.outcome]++;
        if (r.outcome !== 'accepted' && r.outcome !== 'rejected') throw new Error(`${r.outcome}: ${r.message}`);
      }), { numRuns: RUNS, seed: 20261202, endOnFailure: true });
    } catch (e) {
      // fast-check keeps the property's own error as `cause`: put it first, the counterexample after.
      const cause = (e as { cause?: Error }).cause;
      throw new Error(`${target.name}: ${cause?.message ?? ''}\n${(e as Error).message.slice(0, 3000)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The generator reaches both sides: some inputs parse, some are refused.
    assert.ok(counts.accepted > 0, `${target.name}: some inputs are accepted (${JSON.stringify(counts)})`);
    assert.ok(counts.rejected > 0, `${target.name}: some inputs are rejected (${JSON.stringify(counts)})`);
  });
}
