/**
 * Quantization benchmark (not a test): `node dist/bench/quantize.js [--parts speed,accuracy]
 * [--models vit-b16,vit-b32,mixer-b16] [--modes dynamic,static,int4,fp16] [--batches 1,8]
 * [--reference-models fashion-vit,fashion-mixer] [--rounds 5] [--seconds 2] [--threads 2] [--eval-size 10000]
 * [--calibration-size 300] [--out DIR]`
 *
 *   speed     ViT-B/16, ViT-B/32, Mixer-B/16 with random weights: throughput of each mode against the
 *             fp32 export (ONNX Runtime fused graph), all sessions of one model loaded together and
 *             timed in interleaved rounds at each batch size; model size ratios.
 *   accuracy  the trained reference models (fashion-vit, fashion-mixer): top-1 on the full
 *             Fashion-MNIST test split of each mode against the float model (static calibrated on
 *             the training split).
 *
 * Prints a Markdown table and writes <out>/quantization-bench.{json,md}.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataSpec } from '../src/data/data-spec.js';
import { openModel } from '../src/engines/create.js';
import type { EngineSession } from '../src/engines/engine.js';
import { evaluate, type EvalModel } from '../src/eval/evaluate.js';
import { exportModel } from '../src/export/index.js';
import { encodeModel, type ModelProto } from '../src/formats/onnx.js';
import { loadCheckpoint } from '../src/models/checkpoint.js';
import { referenceModel } from '../src/models/reference.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import { sideBySide } from '../src/bench/side-by-side.js';
import { analyze, datasetSource, detectCpu, quantize, QUANTIZE_MODES, type QuantizeMode, type QuantizeResult } from '../src/compress/quantize/index.js';
import { argv, benchCommand, intArg, listArg, listOption, log, parseBench } from './lib/cli.js';

const zoo: Record<string, string> = { 'vit-b16': 'ViT-B_16', 'vit-b32': 'ViT-B_32', 'mixer-b16': 'Mixer-B_16' };
const o = parseBench<{ parts: string[]; models: string[]; referenceModels: string[]; modes: QuantizeMode[]; batches: number[]; rounds: number; seconds: number;
  threads: number; evalSize: number; calibrationSize: number; out: string }>(
  benchCommand('quantize', 'each quantization mode against fp32: speed (random-weight zoo models) and accuracy (the reference models on Fashion-MNIST)')
    .addOption(listOption('--parts <list>', 'what to measure', listArg('--parts', ['speed', 'accuracy']), 'speed,accuracy'))
    .addOption(listOption('--models <list>', `speed: models (${Object.keys(zoo).join(', ')} or zoo names)`, listArg('--models'), 'vit-b16,vit-b32,mixer-b16'))
    .addOption(listOption('--reference-models <list>', 'accuracy: trained reference models', listArg('--reference-models'), 'fashion-vit,fashion-mixer'))
    .addOption(listOption('--modes <list>', 'quantization modes', (v) => listArg('--modes', QUANTIZE_MODES)(v) as QuantizeMode[], 'dynamic,static,int4,fp16'))
    .option('--eval-size <n>', 'accuracy: test images', intArg('--eval-size', 1), 10_000)
    .option('--calibration-size <n>', 'accuracy: static calibration images (training split)', intArg('--calibration-size', 1), 300),
  { batches: [1, 8], rounds: 5, seconds: 2, threads: 2, out: 'docs' });
const parts = new Set(o.parts);
const { models, referenceModels, modes, batches, rounds, seconds, threads, evalSize, calibrationSize: calibSize, out: outDir } = o;
const engine = { threads };

interface SpeedRow { model: string; batch: number; mode: string; imagesPerSecond: number; ratio: number; relIqr: number; sizeRatio: number; layers: string }
interface AccuracyRow { model: string; mode: string; images: number; floatTop1: number; top1: number; drop: number; agreement: number }

async function quantizeAll(name: string, float: ModelProto, resolution: number, calibSpec: string, calibN: number): Promise<Map<string, QuantizeResult>> {
  const analysis = await analyze(float);
  const calibData = await openDataSpec(calibSpec);
  const out = new Map<string, QuantizeResult>();
  for (const mode of modes) {
    const t0 = performance.now();
    const r = await quantize(float, { mode, analysis, engine, calibration: datasetSource(calibData, calibN, resolution) });
    log(`${name}: ${mode} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${r.layers.filter((l) => l.quantized).length}/${r.layers.length} layers)`);
    out.set(mode, r);
  }
  return out;
}

async function speed(): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  for (const key of models) {
    const cfg = zooConfig(zoo[key] ?? key);
    const float = exportModel(randomIR(cfg, 0), 'ort');
    // Random weights: calibration images only need realistic input statistics.
    const q = await quantizeAll(key, float, cfg.resolution, 'fashion-mnist-subset', 64);
    const fb = encodeModel(float);
    const list = [{ name: 'fp32', bytes: fb }, ...[...q].map(([m, r]) => ({ name: m, bytes: encodeModel(r.model) }))];
    for (const batch of batches) {
      log(`${key}: batch ${batch}, ${list.length} sessions side by side, ${rounds} rounds of ${seconds} s`);
      const s = await sideBySide(list, cfg.resolution, { batch, rounds, secondsPerRound: seconds, engine });
      s.results.forEach((res, i) => rows.push({
        model: key, batch, mode: res.name, imagesPerSecond: res.imagesPerSecond, ratio: s.ratios[i]!, relIqr: res.relIqr,
        sizeRatio: list[i]!.bytes.length / fb.length,
        layers: i === 0 ? '' : (() => { const r = q.get(res.name)!; return `${r.layers.filter((l) => l.quantized).length}/${r.layers.length}`; })(),
      }));
    }
  }
  return rows;
}

async function accuracy(): Promise<AccuracyRow[]> {
  const rows: AccuracyRow[] = [];
  const test = await openDataSpec('fashion-mnist');
  for (const name of referenceModels) {
    if (!existsSync(referenceModel(name)!.checkpoint)) { log(`${name}: checkpoint missing, skipped`); continue; }
    const ir = await loadCheckpoint(name);
    const float = exportModel(ir, 'ort');
    const q = await quantizeAll(name, float, ir.config.resolution, 'fashion-mnist:train', calibSize);
    const fm = await openModel(encodeModel(float), engine, name);
    const meta = (m: EngineSession, n: string): EvalModel => ({ model: m, name: n, config: ir.config, labels: ir.labels });
    for (const [mode, r] of q) {
      const qm = await openModel(encodeModel(r.model), engine, `${name} ${mode}`);
      const rep = await evaluate(meta(qm, mode), test, { limit: evalSize, baseline: meta(fm, 'fp32') });
      await qm.release();
      const c = rep.comparison!;
      rows.push({ model: name, mode, images: rep.evaluated, floatTop1: c.baselineTop1, top1: rep.top1, drop: 100 * (c.baselineTop1 - rep.top1), agreement: c.agreement });
      log(`${name} ${mode}: top-1 ${(100 * rep.top1).toFixed(2)}% (float ${(100 * c.baselineTop1).toFixed(2)}%)`);
    }
    await fm.release();
  }
  return rows;
}

const speedRows = parts.has('speed') ? await speed() : [];
const accRows = parts.has('accuracy') ? await accuracy() : [];
const cpu = detectCpu();
const md: string[] = [`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${cpu.evidence}), ` +
  `${threads} threads, onnxruntime-node, \`node dist/bench/quantize.js ${argv.join(' ')}\``, ''];
if (speedRows.length) {
  md.push('| model | batch | mode | images/s | × fp32 | rel. IQR | size vs fp32 | int layers |', '|---|---|---|---|---|---|---|---|');
  for (const r of speedRows) md.push(`| ${r.model} | ${r.batch} | ${r.mode} | ${r.imagesPerSecond.toFixed(2)} | ${r.ratio.toFixed(2)} | ${(100 * r.relIqr).toFixed(0)}% | ${(100 * r.sizeRatio).toFixed(1)}% | ${r.layers} |`);
  md.push('');
}
if (accRows.length) {
  md.push('| model | mode | images | fp32 top-1 | top-1 | change (points) | agreement |', '|---|---|---|---|---|---|---|');
  for (const r of accRows) md.push(`| ${r.model} | ${r.mode} | ${r.images} | ${(100 * r.floatTop1).toFixed(2)}% | ${(100 * r.top1).toFixed(2)}% | ${(-r.drop).toFixed(2)} | ${(100 * r.agreement).toFixed(2)}% |`);
}
const text = md.join('\n') + '\n';
process.stdout.write(text);
await fs.mkdir(outDir, { recursive: true });
await fs.writeFile(path.join(outDir, 'quantization-bench.md'), text);
await fs.writeFile(path.join(outDir, 'quantization-bench.json'), JSON.stringify({ speed: speedRows, accuracy: accRows, cpu, threads }, null, 2) + '\n');
