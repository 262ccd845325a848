import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { markdownTable, renderMarkdown } from '../../src/bench/report.js';
import { benchChartSvg, batchChartSvg } from '../../src/bench/chart.js';
import { niceScale, writeChart } from '../../src/util/svg.js';
import { type BatchPoint, type BatchSearch, bisect, chooseBatches } from '../../src/bench/batch.js';
import { type BenchReport, type ConfigResult, finishResults } from '../../src/bench/runner.js';
import { parseBytes, parseMs } from '../../src/cli/bench.js';
import { figure } from '../../src/bench/stats.js';
import { tmp } from './fixtures.js';

function ok(label: string, ips: number[], o: Partial<ConfigResult> = {}): ConfigResult {
  return {
    label, model: 'M', engine: 'cpu', graph: 'ort', batch: 1, threads: 2, workers: 1, session: {}, baseline: false, status: 'ok',
    engineLabel: 'onnxruntime-node CPU', modelBytes: 2 ** 20, imagesPerSecond: figure(ips), spreadOver: 'repeats',
    latencyMs: { p50: 10, p90: 11, p95: 12, p99: 13, max: 14, mean: 10.5, runs: 30, p50Spread: 0.1 },
    sessionCreateMs: figure([1000]), firstRunMs: figure([20]), peakRssBytes: figure([300 * 2 ** 20]),
    samples: [{ pid: 1, batch: 1, workers: 1, runs: 10, images: 10, seconds: 1, imagesPerSecond: ips[0]!, sliceImagesPerSecond: [], sessionCreateMs: 1000,
      firstRunMs: 20, peakRssBytes: 1, loadPeakRssBytes: 1, runPeakRssBytes: 1, rssBeforeLoadBytes: 1, rssAfterLoadBytes: 1, outputDims: [1, 7], firstLogits: [1, 2, 3],
      settings: { engine: 'cpu', runtime: 'x', provider: 'cpu', runtimeDefaults: false, threads: 2, interOpThreads: 1, graphOptimization: 'all', arena: true,
        memPattern: true, spinning: true, executionMode: 'sequential', notes: [] } }],
    ...o,
  };
}

function report(results: ConfigResult[]): BenchReport {
  return { tool: 'vitopt bench', date: '2026-11-29T00:00:00.000Z', machine: { cpu: 'CPU', cores: 2, totalMemBytes: 2 ** 34, platform: 'linux-x64', node: 'v20' },
    settings: { duration: 3, warmup: 2, repeats: 3, minIterations: 3, memoryLimitBytes: 2 ** 33, timeoutS: 600 }, engines: [], profile: null,
    results, summary: finishResults(results), notes: [] };
}

test('speed-up over the naive path, best configuration and output agreement are computed per model', () => {
  const base = ok('M naive', [10, 11, 9], { baseline: true, graph: 'portable' });
  const fast = ok('M fast', [25, 24, 26], { batch: 8 });
  const failed: ConfigResult = { ...ok('M wasm', [1]), engine: 'wasm', engineLabel: 'onnxruntime-web wasm', status: 'failed',
    failure: { stage: 'load', reason: 'cannot be loaded' }, imagesPerSecond: undefined, samples: [] };
  const rep = report([base, fast, failed]);
  assert.equal(fast.speedupVsBaseline, 2.5);
  assert.equal(base.speedupVsBaseline, 1);
  assert.equal(fast.maxAbsDiff, 0);
  assert.equal(rep.summary[0]!.best!.label, 'M fast');
  assert.equal(rep.summary[0]!.best!.speedupVsBaseline, 2.5);
  const md = markdownTable(rep);
  assert.match(md, /\| M \| onnxruntime-node CPU — naive \| portable \| 1 \| default \| 10.0 ±10% \|/);
  assert.match(md, /\| 25.0 ±4.0% \| 10.0 \| 12.0 \| 13.0 \| 300 \| 1.00 \| 1.0 \| — \| 2.50× \|/);
  assert.match(md, /failed \[1\]/);
  assert.match(md, /\[1\] M wasm: failed \(load\) — cannot be loaded/);
  const full = renderMarkdown(rep);
  assert.match(full, /M: best M fast — 25.0 img\/s, 2.50× the naive path \(10.0 img\/s, measured in the same run\)/);
});

test('skipped engines appear once per model; the reason once, under the table', () => {
  const skip = (label: string, batch: number): ConfigResult => ({ ...ok(label, [1]), engine: 'cuda', engineLabel: 'onnxruntime-node CUDA', batch, status: 'skipped',
    failure: { stage: 'start', reason: 'no CUDA here' }, imagesPerSecond: undefined, samples: [] });
  const rep = report([ok('M a', [5]), skip('M cuda b1', 1), skip('M cuda b8', 8)]);
  rep.engines = [{ engine: 'cuda', label: 'onnxruntime-node CUDA', available: false, reason: 'no CUDA here' }];
  const md = renderMarkdown(rep);
  assert.equal(md.match(/not usable here \|/g)!.length, 1);
  assert.equal(md.match(/no CUDA here/g)!.length, 1);
  assert.match(md, /- onnxruntime-node CUDA: no CUDA here/);
});

test('batch choice: largest within the budget, fastest meeting the objective', () => {
  const p = (batch: number, ips: number, p95: number, mib: number, budget = 1000): BatchPoint => ({
    batch, status: mib <= budget ? 'ok' : 'over-budget', imagesPerSecond: ips, p95Ms: p95, peakRssBytes: mib * 2 ** 20,
    withinBudget: mib <= budget, meetsSlo: null });
  const points = [p(1, 20, 50, 300), p(2, 30, 70, 350), p(4, 36, 120, 450), p(8, 38, 220, 700), p(16, 39, 430, 1200)];
  const noSlo = chooseBatches(points, null);
  assert.equal(noSlo.largestWithinBudget!.batch, 8);
  assert.equal(noSlo.bestThroughput!.batch, 8);
  const slo = chooseBatches(points, 100);
  assert.equal(slo.largestWithinBudget!.batch, 8);
  assert.equal(slo.bestThroughput!.batch, 2);
  assert.equal(chooseBatches(points, 10).bestThroughput, null);
  assert.equal(chooseBatches([p(1, 20, 50, 2000)], null).largestWithinBudget, null);
  assert.equal(bisect(8, 16), 12);
  assert.equal(bisect(8, 9), null);
  assert.equal(bisect(12, 14), 13);
});

test('sizes and times on the command line', () => {
  assert.equal(parseBytes('--x')('1.5GB'), 1.5e9);
  assert.equal(parseBytes('--x')('800MiB'), 800 * 2 ** 20);
  assert.equal(parseBytes('--x')('2G'), 2 * 2 ** 30);
  assert.equal(parseBytes('--x')('512'), 512);
  assert.throws(() => parseBytes('--memory-budget')('lots'), /--memory-budget/);
  assert.equal(parseMs('--x')('100ms'), 100);
  assert.equal(parseMs('--x')('0.25s'), 250);
  assert.equal(parseMs('--x')('40'), 40);
  assert.throws(() => parseMs('--latency-slo')('soon'), /--latency-slo/);
});

test('charts: SVG with every model and configuration; PNG through sharp', async () => {
  const rep = report([ok('M naive', [10], { baseline: true }), ok('M fast', [25, 24, 26], { batch: 8 })]);
  const svg = benchChartSvg(rep);
  assert.match(svg, /^<svg /);
  assert.match(svg, /naive: portable, ORT defaults, b1/);
  assert.match(svg, /cpu · ort · b8 · t2/);
  assert.match(svg, /2.50× naive/);
  const search: BatchSearch = {
    label: 'M cpu ort t2', model: 'M', engine: 'cpu', graph: 'ort', threads: 2, workers: 1, memoryBudgetBytes: 500 * 2 ** 20, latencySloMs: 100,
    points: [1, 2, 4].map((b) => ({ batch: b, status: 'ok' as const, imagesPerSecond: 10 * b, p95Ms: 30 * b, peakRssBytes: 100 * b * 2 ** 20, withinBudget: true, meetsSlo: 30 * b <= 100 })),
    largestWithinBudget: { batch: 4, peakRssBytes: 400 * 2 ** 20, imagesPerSecond: 40 }, bestThroughput: { batch: 2, imagesPerSecond: 20, p95Ms: 60, peakRssBytes: 200 * 2 ** 20 },
    stoppedBecause: 'x', results: [],
  };
  const bsvg = batchChartSvg([search]);
  assert.match(bsvg, /largest within budget: 4/);
  assert.match(bsvg, /objective/);
  const dir = tmp();
  const png = path.join(dir, 'chart.png');
  await writeChart(png, svg);
  const head = (await fs.readFile(png)).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.deepEqual(niceScale(87), { max: 100, step: 20 });
});
