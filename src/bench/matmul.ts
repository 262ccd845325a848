/**
 * The fp32 ceiling that matters for us: what ONNX Runtime's own MatMul reaches on this machine, with
 * the same session settings as the models. A ViT cannot beat it, so model GFLOP/s is reported
 * against it.
 */
import * as ort from '../engines/runtime.js';
import { buildModel, encodeModel, GraphBuilder } from '../formats/onnx.js';
import { sessionOptions } from '../engines/ort-node.js';
import { createSession } from '../engines/model-source.js';
import type { EngineOptions } from '../engines/options.js';
import { gaussian, rng } from '../models/random.js';

export function matmulModel(k: number, n: number): Uint8Array {
  const g = new GraphBuilder();
  const r = gaussian(rng(7));
  const w = g.weight('w', { dims: [k, n], data: Float32Array.from({ length: k * n }, () => r()) });
  const y = g.op('MatMul', ['a', w]);
  g.renameOutput(y, 'y');
  return encodeModel(buildModel(g, { name: 'matmul', inputs: [{ name: 'a', shape: ['m', k] }], outputs: [{ name: 'y', shape: ['m', n] }] }));
}

/** A session computing [m, k] × [k, n] and a function that runs it once, returning seconds. */
export async function matmulRunner(m: number, k: number, n: number, options: EngineOptions) {
  const session = await createSession(matmulModel(k, n), sessionOptions(options));
  const r = gaussian(rng(3));
  const a = new ort.Tensor('float32', Float32Array.from({ length: m * k }, () => r()), [m, k]);
  const flops = 2 * m * k * n;
  return {
    flops,
    label: `MatMul ${m}x${k}x${n}`,
    async runOnce(): Promise<number> {
      const t0 = process.hrtime.bigint();
      await session.run({ a });
      return Number(process.hrtime.bigint() - t0) / 1e9;
    },
    release: () => session.release(),
  };
}
