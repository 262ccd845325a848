/**
 * The hardware probe (`vitopt hw`): this machine's ceilings, measured with the engines themselves.
 *
 *   fp32 matmul   ONNX Runtime MatMul, [1576×768]·[768×3072] (ViT-B/16's MLP at batch 8) and 2048³;
 *                 the faster of the two medians
 *   int8 matmul   ONNX Runtime MatMulInteger, uint8 × int8 weights, same shapes
 *   bandwidth     ONNX Runtime Add of a large float32 tensor (256 MiB by default, an initializer) and a
 *                 scalar, then ReduceSum: bytes moved (read, write, read) / time. In-graph on purpose:
 *                 onnxruntime-node's own input/output copies run far below memory speed (~1.5 GB/s here)
 *   wasm fp32     onnxruntime-web's MatMul at 1576×768×3072 (the wasm engine's own ceiling; informative)
 *
 * Each figure is the median of repeated runs after a warm-up, with its quartiles and best run. The
 * profile is cached in $XDG_CACHE_HOME/vitopt/hw.json (default ~/.cache/vitopt/hw.json) with the date
 * and the machine; a cache from another CPU or core count is ignored.
 */
import { availableParallelism } from 'node:os';
import * as ort from '../engines/runtime.js';
import { buildModel, DataType, encodeModel, GraphBuilder, int, rawTensor } from '../formats/onnx.js';
import { sessionOptions, ortNodeVersion } from '../engines/ort-node.js';
import { createSession } from '../engines/model-source.js';
import type { EngineAvailability } from '../engines/detect.js';
import { matmulModel, matmulRunner } from './matmul.js';
import { machineInfo } from './machine.js';
import { summarize } from './stats.js';
import type { HwProfile, Measurement } from './hw-cache.js';

export * from './hw-cache.js';
import { rng } from '../models/random.js';

export interface ProbeOptions {
  /** Intra-op threads (default: available parallelism). */
  threads?: number;
  /** Seconds per measurement (default 2). */
  seconds?: number;
  /** Size of the tensor of the bandwidth test (default 256 MiB). */
  bandwidthBytes?: number;
  /** Also measure onnxruntime-web's wasm MatMul (default true). */
  wasm?: boolean;
  /** Matmul shapes [m, k, n] (default: ViT-B/16's MLP at batch 8, and 2048³). */
  matmulShapes?: [number, number, number][];
  /** Probe the engines' availability in a child process (default true). */
  engines?: boolean;
  onProgress?: (step: string) => void;
}

async function measureRate(what: string, unit: Measurement['unit'], work: number, runOnce: () => Promise<number>, seconds: number): Promise<Measurement> {
  await runOnce(); // warm-up
  await runOnce();
  const rates: number[] = [];
  const start = performance.now();
  while (rates.length < 5 || (performance.now() - start) / 1000 < seconds) {
    rates.push(work / (await runOnce()) / 1e9);
    if (rates.length >= 1000) break;
  }
  const s = summarize(rates);
  return { what, unit, value: s.median, p25: s.p25, p75: s.p75, best: s.max, runs: s.n, spread: s.relIqr };
}

function int8MatmulModel(k: number, n: number): Uint8Array {
  const g = new GraphBuilder();
  const r = rng(11);
  const w = g.initializer(rawTensor('w', DataType.INT8, [k, n], Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127)));
  const y = g.op('MatMulInteger', ['a', w]);
  g.renameOutput(y, 'y');
  return encodeModel(buildModel(g, { name: 'matmul_int8', inputs: [{ name: 'a', elemType: DataType.UINT8, shape: ['m', k] }],
    outputs: [{ name: 'y', elemType: DataType.INT32, shape: ['m', n] }] }));
}

/**
 * Bandwidth model: y = ReduceSum(A + s), A a float32 initializer of `len` elements, s a scalar input.
 * The big tensors never cross the JS binding (whose own copies run far below memory speed); bytes
 * moved per run: A read, A + s written, then read again = 3 × 4 × len.
 */
function bandwidthModel(len: number): Uint8Array {
  const g = new GraphBuilder();
  const a = g.weight('A', { dims: [len], data: new Float32Array(len).fill(1) });
  const t = g.op('Add', [a, 's']);
  const y = g.op('ReduceSum', [t], { keepdims: int(0) });
  g.renameOutput(y, 'y');
  return encodeModel(buildModel(g, { name: 'bandwidth', inputs: [{ name: 's', shape: [1] }], outputs: [{ name: 'y', shape: [] }] }));
}

const time = async (f: () => Promise<unknown>) => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

const SHAPES: [number, number, number][] = [[1576, 768, 3072], [2048, 2048, 2048]];

export async function probeHardware(o: ProbeOptions = {}): Promise<HwProfile> {
  const threads = o.threads ?? availableParallelism();
  const seconds = o.seconds ?? 2;
  const say = o.onProgress ?? (() => {});
  const opts = { threads };
  const notes: string[] = [];

  const fp32: Measurement[] = [];
  const shapes = o.matmulShapes ?? SHAPES;
  for (const [m, k, n] of shapes) {
    say(`fp32 MatMul ${m}×${k}×${n}`);
    const r = await matmulRunner(m, k, n, opts);
    fp32.push(await measureRate(`ORT MatMul fp32 ${m}×${k}×${n}`, 'GFLOP/s', r.flops, r.runOnce, seconds));
    await r.release();
  }

  const int8: Measurement[] = [];
  for (const [m, k, n] of shapes) {
    say(`int8 MatMulInteger ${m}×${k}×${n}`);
    const s = await createSession(int8MatmulModel(k, n), sessionOptions(opts));
    const r = rng(5);
    const a = new ort.Tensor('uint8', Uint8Array.from({ length: m * k }, () => Math.floor(r() * 256)), [m, k]);
    int8.push(await measureRate(`ORT MatMulInteger u8×s8 ${m}×${k}×${n}`, 'GOP/s', 2 * m * k * n, () => time(() => s.run({ a })), seconds));
    await s.release();
  }

  say('memory bandwidth (Add + ReduceSum)');
  const bytes = o.bandwidthBytes ?? 256 * 2 ** 20;
  const len = Math.floor(bytes / 4);
  let add: ort.InferenceSession | null = await createSession(bandwidthModel(len), sessionOptions(opts));
  const sv = new ort.Tensor('float32', new Float32Array([1]), [1]);
  const bandwidth = await measureRate(`ORT Add of a ${(bytes / 2 ** 20).toFixed(0)} MiB float32 tensor and a scalar, then ReduceSum ` +
    '(3 × size moved; in-graph)', 'GB/s', 3 * 4 * len, () => time(() => add!.run({ s: sv })), seconds);
  await add.release();
  add = null;

  let wasmFp32: Measurement | null = null;
  if (o.wasm ?? true) {
    say('wasm fp32 MatMul');
    try {
      const { createSession: createEngineSession } = await import('../engines/create.js');
      const [m, k, n] = shapes[0]!;
      const s = await createEngineSession('wasm', matmulModel(k, n), { threads }, 'wasm matmul');
      const r = rng(3);
      const x = { data: Float32Array.from({ length: m * k }, () => r() - 0.5), dims: [m, k] };
      wasmFp32 = await measureRate(`onnxruntime-web wasm MatMul fp32 ${m}×${k}×${n} (${s.settings.threads} threads)`, 'GFLOP/s', 2 * m * k * n,
        () => time(() => s.run(x)), seconds);
      await s.release();
    } catch (e) {
      notes.push(`wasm MatMul not measured: ${(e as Error).message}`);
    }
  }

  let engines: EngineAvailability[] = [];
  if (o.engines ?? true) {
    say('engines');
    const { probeEngines } = await import('./runner.js');
    const { ENGINE_NAMES } = await import('../engines/engine.js');
    engines = await probeEngines([...ENGINE_NAMES], threads);
  }

  const best = (xs: Measurement[]) => xs.reduce((p, q) => (q.value > p.value ? q : p));
  return {
    version: 1, date: new Date().toISOString(), machine: machineInfo(), runtime: ortNodeVersion(), threads,
    fp32: best(fp32), int8: best(int8), bandwidth, wasmFp32, engines, notes,
  };
}

