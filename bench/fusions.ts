/**
 * Graph-fusion benchmark (not a test): which of the 'ort' graph's contrib-op fusions pay off on this
 * CPU, in fp32 and in dynamic INT8. `node dist/bench/fusions.js [--models ViT-B_16:8,ViT-B_32:1]
 * [--rounds 7] [--seconds 1] [--threads 2] [--out docs/graph-fusions]`
 *
 * For each model (random weights, zoo name) and batch size, the graph is exported with every fusion
 * on, with each one switched off in turn, and with none; each variant also quantized (dynamic INT8,
 * src/compress/quantize). All variants of one precision are loaded together and timed in interleaved
 * rounds (src/bench/side-by-side.ts), so the ratios compare like with like. A fusion is worth keeping
 * when switching it off makes the graph slower. The per-op-type profile of the all-fused and the
 * no-fusion INT8 graphs shows where the difference goes. The table for src/export/fusions.ts comes
 * from this run; docs/graph-fusions.md holds the measured figures.
 *
 * Writes <out>/fusions-bench.{json,md}.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { exportModel } from '../src/export/index.js';
import { ALL_FUSIONS, type Fusions, NO_FUSIONS } from '../src/export/layers.js';
import { describeFusions } from '../src/export/fusions.js';
import { encodeModel } from '../src/formats/onnx.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import { quantize } from '../src/compress/quantize/index.js';
import { sideBySide } from '../src/bench/side-by-side.js';
import { profileModel, renderProfile, type OpProfile } from '../src/bench/profile.js';
import { machineInfo } from '../src/bench/machine.js';
import { detectCpu } from '../src/util/cpu.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { benchCommand, intArg, listArg, listOption, log, parseBench } from './lib/cli.js';

const { models, rounds, seconds, threads, out: outDir } = parseBench<{ models: { model: string; batch: number }[]; rounds: number; seconds: number; threads: number; out: string }>(
  benchCommand('fusions', "which of the 'ort' graph's contrib-op fusions pay off on this CPU, fp32 and dynamic INT8")
    .addOption(listOption('--models <list>', 'zoo models with their batch size (model:batch, batch 1 if left out)', modelBatches, 'ViT-B_16:8,ViT-B_32:1')),
  { rounds: 7, seconds: 1, threads: 2, out: 'docs/graph-fusions' });

/** ViT-B_16:8,ViT-B_32:1 → one (model, batch) pair each. */
function modelBatches(v: string): { model: string; batch: number }[] {
  const batch = intArg('--models (batch)', 1);
  return listArg('--models')(v).map((s) => {
    const [m, b] = s.split(':');
    return { model: m!, batch: b === undefined ? 1 : batch(b) };
  });
}

const VARIANTS: { name: string; fusions: Fusions }[] = [
  { name: 'all', fusions: ALL_FUSIONS },
  { name: 'no attention', fusions: { ...ALL_FUSIONS, attention: false } },
  { name: 'no skip-layernorm', fusions: { ...ALL_FUSIONS, skipLayerNorm: false } },
  { name: 'no gelu', fusions: { ...ALL_FUSIONS, gelu: false } },
  { name: 'attention only', fusions: { ...NO_FUSIONS, attention: true } },
  { name: 'none', fusions: NO_FUSIONS },
];

interface Row { variant: string; fusions: string; fp32: number; fp32Iqr: number; int8: number; int8Iqr: number }
interface ModelResult { model: string; batch: number; rows: Row[]; profiles: { title: string; profile: OpProfile }[] }

async function main(): Promise<void> {
  const cpu = detectCpu();
  const results: ModelResult[] = [];
  for (const { model, batch } of models) {
    const cfg = zooConfig(model);
    const ir = randomIR(cfg, 0);
    const graphs = VARIANTS.map((v) => exportModel(ir, 'ort', { fusions: v.fusions }));
    const fp32 = VARIANTS.map((v, i) => ({ name: v.name, bytes: encodeModel(graphs[i]!) }));
    log(`${model} b${batch}: quantizing ${VARIANTS.length} variants`);
    const int8: { name: string; bytes: Uint8Array }[] = [];
    // Each variant keeps its own fusions in INT8 (the default would apply this CPU's int8 choice to all).
    for (const [i, v] of VARIANTS.entries()) {
      const q = await quantize(graphs[i]!, { mode: 'dynamic', fusions: v.fusions });
      int8.push({ name: v.name, bytes: encodeModel(q.model) });
    }
    log(`${model} b${batch}: fp32 side by side`);
    const f = await sideBySide(fp32, cfg.resolution, { batch, rounds, secondsPerRound: seconds, engine: { threads } });
    log(`${model} b${batch}: int8 side by side`);
    const q = await sideBySide(int8, cfg.resolution, { batch, rounds, secondsPerRound: seconds, engine: { threads } });
    const rows = VARIANTS.map((v, i) => ({
      variant: v.name, fusions: describeFusions(v.fusions),
      fp32: f.results[i]!.imagesPerSecond, fp32Iqr: f.results[i]!.relIqr,
      int8: q.results[i]!.imagesPerSecond, int8Iqr: q.results[i]!.relIqr,
    }));
    log(`${model} b${batch}: profiles`);
    const dims = [3, cfg.resolution, cfg.resolution];
    const profiles = [];
    for (const [title, bytes] of [['INT8, all fusions', int8[0]!.bytes], ['INT8, no fusions', int8[VARIANTS.length - 1]!.bytes],
      ['fp32, all fusions', fp32[0]!.bytes], ['fp32, no fusions', fp32[VARIANTS.length - 1]!.bytes]] as const) {
      profiles.push({ title: `${model} batch ${batch}, ${title}`, profile: await profileModel(bytes, dims, { batch, runs: 5, warmup: 2, engine: { threads } }) });
    }
    results.push({ model, batch, rows, profiles });
    process.stdout.write(`${table({ model, batch, rows, profiles })}\n\n`);
  }
  const machine = machineInfo();
  const header = [
    '# Graph fusions measured on this host', '',
    `\`node dist/bench/fusions.js --models ${models.map((m) => `${m.model}:${m.batch}`).join(',')} --rounds ${rounds} --seconds ${seconds} --threads ${threads}\`, ${new Date().toISOString().slice(0, 10)}`,
    `${machine.cpu ?? ''} · ${cpu.evidence} · random weights · img/s medians over interleaved rounds (± relative IQR)`, '',
  ];
  const md = [...header, ...results.map(table), '', '## Where the time goes', '', ...results.flatMap((r) => r.profiles.map((p) => renderProfile(p.profile, p.title) + '\n'))].join('\n');
  await fs.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'fusions-bench.md'), md + '\n');
  await writeFileAtomic(path.join(outDir, 'fusions-bench.json'), JSON.stringify({ date: new Date().toISOString(), machine, cpu, threads, rounds, seconds, results }, null, 2) + '\n');
  log(`wrote ${outDir}/fusions-bench.{md,json}`);
}

function table(r: ModelResult): string {
  const base = r.rows[0]!;
  return [
    `## ${r.model}, batch ${r.batch}`, '',
    '| variant | fusions | fp32 img/s | vs all | INT8 img/s | vs all |', '|---|---|---:|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.variant} | ${x.fusions} | ${x.fp32.toFixed(2)} ± ${(100 * x.fp32Iqr).toFixed(0)}% | ${(x.fp32 / base.fp32).toFixed(2)}× | ${x.int8.toFixed(2)} ± ${(100 * x.int8Iqr).toFixed(0)}% | ${(x.int8 / base.int8).toFixed(2)}× |`),
  ].join('\n');
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
