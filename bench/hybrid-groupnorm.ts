/**
 * GroupNorm benchmark (not a test): ONNX `GroupNormalization` (opset 21, per-channel scale) against the
 * decomposed form vitopt exports for the hybrids' stem (Reshape -> InstanceNormalization -> Reshape ->
 * Mul -> Add, opset 17; src/export/resnet.ts). Checks each against a float64 GroupNorm and times them
 * side by side. `node dist/bench/hybrid-groupnorm.js [--channels 256] [--side 56] [--batch 2]
 * [--rounds 5] [--seconds 1] [--threads 2]`
 */
import * as ort from '../src/engines/runtime.js';
import { createSession } from '../src/engines/model-source.js';
import { ortNodeVersion } from '../src/engines/ort-node.js';
import { buildModel, encodeModel, float, GraphBuilder, int } from '../src/formats/onnx.js';
import { relativeError } from '../src/reference/forward.js';
import { benchCommand, fail, intArg, parseBench } from './lib/cli.js';

const o = parseBench<{ channels: number; side: number; batch: number; rounds: number; seconds: number; threads: number }>(
  benchCommand('hybrid-groupnorm', 'ONNX GroupNormalization against the decomposed form vitopt exports: error against float64, and speed')
    .option('--channels <n>', 'channels (a multiple of the 32 groups)', intArg('--channels', 32), 256)
    .option('--side <n>', 'feature map side', intArg('--side', 1), 56)
    .option('--batch <n>', 'batch size', intArg('--batch', 1), 2),
  { rounds: 5, seconds: 1, threads: 2 });
const C = o.channels, S = o.side, B = o.batch, G = 32;
const { rounds, seconds, threads } = o;
if (C % G) fail(`--channels ${C}: must be a multiple of ${G}`);
const scale = Float32Array.from({ length: C }, (_, i) => 1 + 0.01 * i), bias = Float32Array.from({ length: C }, (_, i) => 0.02 * i - 1);

/** A graph taking `pixels` [B, C, S, S] (the name side-by-side feeds) to the normalized map. */
function model(kind: 'GroupNormalization' | 'decomposed'): Uint8Array {
  const g = new GraphBuilder();
  let y: string;
  if (kind === 'GroupNormalization') {
    y = g.op('GroupNormalization', ['pixels', g.weight('s', { dims: [C], data: scale }), g.weight('b', { dims: [C], data: bias })],
      { num_groups: int(G), epsilon: float(1e-6) });
  } else {
    const r = g.op('Reshape', ['pixels', g.int64('group_shape', [0, G, -1])]);
    const n = g.op('InstanceNormalization', [r, g.weight('ones', { dims: [G], data: new Float32Array(G).fill(1) }),
      g.weight('zeros', { dims: [G], data: new Float32Array(G) })], { epsilon: float(1e-6) });
    const back = g.op('Reshape', [n, g.int64('map_shape', [0, C, S, S])]);
    y = g.op('Add', [g.op('Mul', [back, g.weight('s', { dims: [C, 1, 1], data: scale })]), g.weight('b', { dims: [C, 1, 1], data: bias })]);
  }
  g.renameOutput(y, 'y');
  return encodeModel(buildModel(g, { name: kind, opset: kind === 'GroupNormalization' ? 21 : 17,
    inputs: [{ name: 'pixels', shape: ['batch', C, S, S] }], outputs: [{ name: 'y', shape: ['batch', C, S, S] }] }));
}

const x = Float32Array.from({ length: B * C * S * S }, (_, i) => Math.sin(i * 0.37) * 3 + (i % 7));
const ref = new Float64Array(x.length), cg = C / G, hw = S * S;
for (let n = 0; n < B; n++) for (let grp = 0; grp < G; grp++) {
  const o = (n * C + grp * cg) * hw, len = cg * hw;
  let s = 0, s2 = 0;
  for (let i = 0; i < len; i++) { s += x[o + i]!; s2 += x[o + i]! ** 2; }
  const m = s / len, inv = 1 / Math.sqrt(s2 / len - m * m + 1e-6);
  for (let i = 0; i < len; i++) { const c = grp * cg + Math.floor(i / hw); ref[o + i] = (x[o + i]! - m) * inv * scale[c]! + bias[c]!; }
}
console.log(`# GroupNorm on [${B}, ${C}, ${S}, ${S}], ${new Date().toISOString()}, ${ortNodeVersion()}\n`);
const kinds = ['decomposed', 'GroupNormalization'] as const;
for (const k of kinds) {
  const s = await createSession(model(k), { intraOpNumThreads: threads });
  const y = (await s.run({ pixels: new ort.Tensor('float32', x, [B, C, S, S]) })).y!.data as Float32Array;
  console.log(`${k}: relative error against float64 ${relativeError(y, ref).toExponential(2)}`);
  await s.release();
}
// Timing: both sessions loaded together, interleaved rounds (as src/bench/side-by-side.ts does for images).
const sessions = await Promise.all(kinds.map((k) => createSession(model(k), { intraOpNumThreads: threads })));
const feeds = { pixels: new ort.Tensor('float32', x, [B, C, S, S]) };
for (const s of sessions) for (let i = 0; i < 2; i++) await s.run(feeds);
const rates: number[][] = kinds.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < sessions.length; i++) {
    let n = 0;
    const t0 = performance.now();
    do { await sessions[i]!.run(feeds); n++; } while ((performance.now() - t0) / 1000 < seconds || n < 2);
    rates[i]!.push(n / ((performance.now() - t0) / 1000));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`\nruns/s (median of ${rounds} rounds, ${threads} threads): ${kinds.map((k, i) => `${k} ${median(rates[i]!).toFixed(1)}`).join(', ')}; ` +
  `GroupNormalization / decomposed = ${(median(rates[1]!) / median(rates[0]!)).toFixed(2)}×`);
