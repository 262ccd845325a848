/**
 * Batch-1 latency of ViT-B/32 (not a test): where the time goes at 50 tokens, and what bounds it.
 * `node dist/bench/latency.js [--model ViT-B_32] [--rounds 7] [--runs 20] [--out docs/speed-bench]`
 *
 * 1. Session settings, fp32 and dynamic INT8 (the fusion choice for this CPU), all sessions loaded
 *    together and timed in interleaved rounds (each round: --runs single-image runs per session):
 *    1 vs 2 intra-op threads, thread-pool spinning on vs off. p50/p95 per setting.
 * 2. ONNX Runtime's profile of each graph at batch 1, 2 threads: summed kernel time against the run's
 *    wall time (the gap is the executor's per-node overhead), per op type.
 * 3. The GEMMs alone: each of a block's four matmul shapes at M = 50 tokens as a one-MatMul fp32 model
 *    (src/bench/matmul.ts), against a large-M GEMM: how far small-M GEMMs are from the machine's rate.
 * Writes <out>/latency-bench.{md,json}.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from '../src/engines/runtime.js';
import { exportModel } from '../src/export/index.js';
import { encodeModel } from '../src/formats/onnx.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import { quantize } from '../src/compress/quantize/index.js';
import { sessionOptions } from '../src/engines/ort-node.js';
import { createSession } from '../src/engines/model-source.js';
import type { EngineOptions } from '../src/engines/options.js';
import { benchInput } from '../src/bench/input.js';
import { percentile } from '../src/bench/stats.js';
import { profileModel, renderProfile, type OpProfile } from '../src/bench/profile.js';
import { matmulRunner } from '../src/bench/matmul.js';
import { machineInfo } from '../src/bench/machine.js';
import { detectCpu } from '../src/util/cpu.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import type { VitConfig } from '../src/models/config.js';
import { benchCommand, intArg, log, parseBench } from './lib/cli.js';

const { model, rounds, runs, out: outDir } = parseBench<{ model: string; rounds: number; runs: number; out: string }>(
  benchCommand('latency', 'batch-1 latency of one model: session settings, kernel time against wall time, the GEMM floor')
    .option('--model <name>', 'zoo model (random weights)', 'ViT-B_32')
    .option('--runs <n>', 'single-image runs per session per round', intArg('--runs', 1), 20),
  { rounds: 7, out: 'docs/speed-bench' });

const SETTINGS: { name: string; engine: EngineOptions }[] = [
  { name: '2 threads, spinning', engine: { threads: 2, spinning: true } },
  { name: '2 threads, no spinning', engine: { threads: 2, spinning: false } },
  { name: '1 thread', engine: { threads: 1 } },
];

interface Row { graph: string; setting: string; p50: number; p95: number; n: number }

async function main(): Promise<void> {
  const cfg = zooConfig(model) as VitConfig;
  const ir = randomIR(cfg, 0);
  const fp32 = exportModel(ir, 'ort');
  const int8 = (await quantize(fp32, { mode: 'dynamic' })).model;
  const graphs = [{ name: 'fp32', bytes: encodeModel(fp32) }, { name: 'int8', bytes: encodeModel(int8) }];
  const dims = [1, 3, cfg.resolution, cfg.resolution];
  const x = benchInput(1, dims.slice(1));
  const sessions: { graph: string; setting: string; s: ort.InferenceSession; lat: number[] }[] = [];
  for (const g of graphs) for (const st of SETTINGS) {
    const s = await createSession(g.bytes, sessionOptions(st.engine));
    for (let i = 0; i < 3; i++) await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, dims) });
    sessions.push({ graph: g.name, setting: st.name, s, lat: [] });
  }
  log(`${model}: ${sessions.length} sessions, ${rounds} rounds × ${runs} runs`);
  for (let r = 0; r < rounds; r++) {
    for (const e of sessions) {
      const feeds = { [e.s.inputNames[0]!]: new ort.Tensor('float32', x, dims) };
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await e.s.run(feeds);
        e.lat.push(performance.now() - t0);
      }
    }
  }
  const rows: Row[] = sessions.map((e) => {
    const sorted = [...e.lat].sort((a, b) => a - b);
    return { graph: e.graph, setting: e.setting, p50: percentile(sorted, 50), p95: percentile(sorted, 95), n: sorted.length };
  });
  for (const e of sessions) await e.s.release();

  log('profiles');
  const profiles: { title: string; profile: OpProfile; nodes: number }[] = [];
  for (const g of graphs) {
    const p = await profileModel(g.bytes, dims.slice(1), { batch: 1, runs: 20, warmup: 3, engine: { threads: 2 } });
    profiles.push({ title: `${model} ${g.name}, batch 1, 2 threads`, profile: p, nodes: p.byOpType.reduce((s, t) => s + t.nodes, 0) });
  }

  log('GEMM floor');
  const T = (cfg.resolution / cfg.patch) ** 2 + 1, D = cfg.hidden, M = cfg.mlp;
  const shapes: [string, number, number, number][] = [['qkv', T, D, 3 * D], ['out', T, D, D], ['mlp1', T, D, M], ['mlp2', T, M, D], ['large', 512, D, M]];
  const gemms = [];
  for (const [name, m, k, n] of shapes) {
    const run = await matmulRunner(m, k, n, { threads: 2 });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) await run.runOnce();
    for (let i = 0; i < 50; i++) times.push(1000 * await run.runOnce());
    await run.release();
    const ms = percentile(times.sort((a, b) => a - b), 50);
    gemms.push({ name, m, k, n, ms, gflops: (2 * m * k * n) / ms / 1e6 });
  }
  const perBlock = gemms.filter((g) => g.name !== 'large').reduce((s, g) => s + g.ms, 0);

  const cpu = detectCpu();
  const md = [
    `# Batch-1 latency: ${model}`, '',
    `\`node dist/bench/latency.js --model ${model} --rounds ${rounds} --runs ${runs}\`, ${new Date().toISOString().slice(0, 10)} · ${machineInfo().cpu} · ${cpu.evidence} · random weights`, '',
    '| graph | session | p50 ms | p95 ms | runs |', '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.graph} | ${r.setting} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.n} |`), '',
    '## Kernel time against wall time', '',
    '| graph | nodes | run ms (median) | kernels ms | outside kernels, µs per node |', '|---|---:|---:|---:|---:|',
    ...profiles.map((p) => `| ${p.title} | ${p.nodes} | ${p.profile.runMs.toFixed(1)} | ${p.profile.kernelMs.toFixed(1)} | ${(1000 * (p.profile.runMs - p.profile.kernelMs) / p.nodes).toFixed(1)} |`), '',
    `## fp32 GEMMs at M = ${T} (one MatMul model per shape, 2 threads)`, '',
    '| GEMM | M × K × N | ms | GFLOP/s |', '|---|---|---:|---:|',
    ...gemms.map((g) => `| ${g.name} | ${g.m} × ${g.k} × ${g.n} | ${g.ms.toFixed(3)} | ${g.gflops.toFixed(0)} |`), '',
    `The four GEMMs of one block take ${perBlock.toFixed(2)} ms alone; × ${cfg.layers} blocks = ${(perBlock * cfg.layers).toFixed(1)} ms of fp32 GEMM floor per image.`, '',
    ...profiles.map((p) => renderProfile(p.profile, p.title) + '\n'),
  ].join('\n');
  process.stdout.write(md + '\n');
  await fs.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'latency-bench.md'), md + '\n');
  await writeFileAtomic(path.join(outDir, 'latency-bench.json'), JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), cpu, rows, profiles, gemms }, null, 2) + '\n');
  log(`wrote ${outDir}/latency-bench.{md,json}`);
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
