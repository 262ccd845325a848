/**
 * Issue 2's benchmark: img/s at batch 1 and 8 for ViT-B/16, ViT-B/32 and Mixer-B/16 (random weights),
 * the default ('ort', fused) graph against the portable graph, on 2 threads, plus the default graph's
 * achieved GFLOP/s against ONNX Runtime's own fp32 MatMul on the same machine.
 *
 * Everything runs in this one process, interleaved round by round (ABAB…), so slow and fast phases
 * of a shared machine hit every configuration alike; ratios are of medians. Run: `npm run bench`
 * (or `node dist/bench/core.js [--rounds N] [--models ViT-B_32,...]`).
 */
import * as ort from '../src/engines/runtime.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import { exportModel, type GraphStyle } from '../src/export/index.js';
import { encodeModel } from '../src/formats/onnx.js';
import { ortNodeVersion, sessionOptions } from '../src/engines/ort-node.js';
import { createSession } from '../src/engines/model-source.js';
import { totalMacs } from '../src/analyze/macs.js';
import { summarize } from '../src/bench/stats.js';
import { matmulRunner } from '../src/bench/matmul.js';
import { randomImages } from '../src/data/random-images.js';
import { benchCommand, listArg, listOption, parseBench, positiveArg } from './lib/cli.js';

const o = parseBench<{ rounds: number; models: string[]; batches: number[]; threads: number; slice: number; json?: boolean }>(
  benchCommand('core', "img/s of the default ('ort') graph against the portable one, and GFLOP/s against ONNX Runtime's own MatMul")
    .addOption(listOption('--models <list>', 'zoo models (random weights)', listArg('--models'), 'ViT-B_16,ViT-B_32,Mixer-B_16'))
    .option('--slice <s>', 'seconds per configuration per round (at least one run)', positiveArg('--slice'), 1.5)
    .option('--json', 'also print the rows as JSON'),
  { rounds: 7, batches: [1, 8], threads: 2 });
const { rounds: ROUNDS, models: MODELS, batches: BATCHES, threads: THREADS, slice: SLICE_S } = o;

interface Runner { label: string; images: number; flops: number; times: number[]; runOnce(): Promise<number> }

async function modelRunners(name: string): Promise<Runner[]> {
  const config = zooConfig(name);
  const ir = randomIR(config, 0);
  const flopsPerImage = 2 * totalMacs(config);
  const out: Runner[] = [];
  for (const style of ['ort', 'portable'] as GraphStyle[]) {
    const session = await createSession(encodeModel(exportModel(ir, style)), sessionOptions({ threads: THREADS }));
    for (const b of BATCHES) {
      const img = randomImages(b, config.resolution, { seed: b });
      const x = new ort.Tensor('float32', img.data, img.dims);
      out.push({
        label: `${name} ${style} b${b}`, images: b, flops: flopsPerImage * b, times: [],
        async runOnce() {
          const t0 = process.hrtime.bigint();
          await session.run({ pixels: x });
          return Number(process.hrtime.bigint() - t0) / 1e9;
        },
      });
    }
  }
  return out;
}

async function main() {
  const t0 = Date.now();
  process.stderr.write(`building ${MODELS.join(', ')} (random weights) …\n`);
  const runners: Runner[] = [];
  for (const m of MODELS) runners.push(...(await modelRunners(m)));
  for (const [m, k, n] of [[1576, 768, 3072], [2048, 2048, 2048]] as const) {
    const r = await matmulRunner(m, k, n, { threads: THREADS });
    runners.push({ label: r.label, images: 0, flops: r.flops, times: [], runOnce: r.runOnce });
  }
  for (const r of runners) await r.runOnce(); // warm-up, excluded
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runners) {
      const start = Date.now();
      do r.times.push(await r.runOnce()); while ((Date.now() - start) / 1000 < SLICE_S);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const s = new Map(runners.map((r) => [r.label, summarize(r.times)]));
  const ceiling = Math.max(...runners.filter((r) => r.images === 0).map((r) => r.flops / s.get(r.label)!.median / 1e9));
  const lines: string[] = [];
  lines.push(`vitopt bench/core — ${new Date().toISOString().slice(0, 10)}, ${THREADS} threads, ${ortNodeVersion()}, ${ROUNDS} rounds`);
  lines.push('');
  lines.push('| model | batch | default (ort) img/s | portable img/s | default / portable | default GFLOP/s | % of MatMul ceiling | spread (IQR/median) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  const result: Record<string, unknown>[] = [];
  for (const m of MODELS) for (const b of BATCHES) {
    const d = s.get(`${m} ort b${b}`)!, p = s.get(`${m} portable b${b}`)!;
    const flops = runners.find((r) => r.label === `${m} ort b${b}`)!.flops;
    const gf = flops / d.median / 1e9;
    const row = { model: m, batch: b, defaultImgS: b / d.median, portableImgS: b / p.median, ratio: p.median / d.median,
      gflops: gf, ceilingFraction: gf / ceiling, spreadDefault: d.relIqr, spreadPortable: p.relIqr };
    result.push(row);
    lines.push(`| ${m} | ${b} | ${row.defaultImgS.toFixed(2)} | ${row.portableImgS.toFixed(2)} | ${row.ratio.toFixed(2)}× | ` +
      `${gf.toFixed(0)} | ${(100 * row.ceilingFraction).toFixed(0)}% | ${(100 * d.relIqr).toFixed(1)}% / ${(100 * p.relIqr).toFixed(1)}% |`);
  }
  lines.push('');
  for (const r of runners.filter((x) => x.images === 0)) {
    const st = s.get(r.label)!;
    lines.push(`${r.label}: ${(r.flops / st.median / 1e9).toFixed(0)} GFLOP/s (median of ${st.n}, spread ${(100 * st.relIqr).toFixed(1)}%)`);
  }
  lines.push(`fp32 ceiling used: ${ceiling.toFixed(0)} GFLOP/s (the faster of the two MatMuls)`);
  process.stdout.write(lines.join('\n') + '\n');
  if (o.json) process.stdout.write(JSON.stringify({ ceilingGflops: ceiling, rows: result }, null, 2) + '\n');
}

await main();
