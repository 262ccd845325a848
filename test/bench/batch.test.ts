import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { findBatch, renderBatchMarkdown } from '../../src/bench/batch.js';
import { cli, tinyIR, tinyOnnx, tmp } from './fixtures.js';

const quick = { iterations: 3, warmup: 1, threads: [1] };

test('find-batch doubles up to --max-batch within a generous budget; no batch meets an impossible objective', async () => {
  const r = await findBatch({ ...quick, models: [{ name: 'tiny-vit', ir: tinyIR() }], memoryBudgetBytes: 8 * 2 ** 30, latencySloMs: 1e-6, maxBatch: 8 });
  const s = r.searches[0]!;
  assert.deepEqual(s.points.map((p) => p.batch), [1, 2, 4, 8]);
  assert.ok(s.points.every((p) => p.status === 'ok' && p.withinBudget && p.meetsSlo === false));
  assert.equal(s.largestWithinBudget!.batch, 8);
  assert.equal(s.bestThroughput, null);
  assert.match(s.stoppedBecause, /max-batch 8/);
  assert.match(renderBatchMarkdown(r), /Largest batch within the budget: \*\*8\*\*/);
});

test('find-batch: a budget below what batch 1 needs leaves no batch', async () => {
  const r = await findBatch({ ...quick, models: [{ name: 'tiny-vit', ir: tinyIR() }], memoryBudgetBytes: 20 * 2 ** 20, maxBatch: 64 });
  const s = r.searches[0]!;
  assert.equal(s.points.length, 1);
  assert.equal(s.points[0]!.status, 'over-budget');
  assert.equal(s.largestWithinBudget, null);
  assert.equal(s.bestThroughput, null);
  assert.match(s.stoppedBecause, /batch 1 is over the memory budget/);
});

test('find-batch bisects between the last batch within the budget and the first over it', async () => {
  const model = [{ name: 'tiny-vit', ir: tinyIR({ resolution: 64 }) }];
  // Batch 1's memory first; then a budget some 40 MiB above it (attention matrices: ~1 MiB per image here).
  const one = await findBatch({ ...quick, models: model, memoryBudgetBytes: 64 * 2 ** 30, maxBatch: 1 });
  const m1 = one.searches[0]!.points[0]!.peakRssBytes!;
  const r = await findBatch({ ...quick, models: model, memoryBudgetBytes: m1 + 40 * 2 ** 20, maxBatch: 1024, refineSteps: 2 });
  const s = r.searches[0]!;
  const over = s.points.filter((p) => p.status === 'over-budget').map((p) => p.batch);
  const within = s.points.filter((p) => p.withinBudget).map((p) => p.batch);
  assert.ok(over.length >= 1 && within.length >= 1, JSON.stringify(s.points));
  // Bisection steps sit between two powers of two.
  assert.ok(s.points.some((p) => (p.batch & (p.batch - 1)) !== 0), JSON.stringify(s.points.map((p) => p.batch)));
  assert.equal(s.largestWithinBudget!.batch, Math.max(...within));
  assert.ok(Math.max(...within) < Math.min(...over));
});

test('CLI --find-batch writes the curve chart and the report', async () => {
  const dir = tmp();
  const model = await tinyOnnx(dir);
  const chart = path.join(dir, 'batch.svg');
  const json = path.join(dir, 'batch.json');
  const r = cli(['bench', model, '--find-batch', '--memory-budget', '4GiB', '--latency-slo', '1s', '--max-batch', '4', '--iterations', '2',
    '--warmup', '1', '--threads', '1', '--chart', chart, '--json', json, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Best throughput meeting the objective: \*\*batch \d\*\*/);
  const svg = await fs.readFile(chart, 'utf8');
  assert.match(svg, /peak memory \(MiB/);
  assert.match(svg, /p95 latency \(ms\)/);
  const j = JSON.parse(await fs.readFile(json, 'utf8'));
  assert.deepEqual(j.searches[0].points.map((p: { batch: number }) => p.batch), [1, 2, 4]);
});
