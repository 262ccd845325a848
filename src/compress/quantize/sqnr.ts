/**
 * Where the error comes from: each quantized layer's output in the quantized model against the same
 * tensor in the float model, as SQNR (dB) over a few images. The figure is cumulative (it includes
 * the error arriving from earlier layers); with the per-layer weight SQNR next to it a user can tell
 * a layer that is itself hard to quantize from one that inherits noise.
 */
import * as ort from '../../engines/runtime.js';
import type { ModelProto } from '../../formats/onnx.js';
import { createSession } from '../../engines/model-source.js';
import { sessionOptions } from '../../engines/ort-node.js';
import type { EngineOptions } from '../../engines/options.js';
import { withOutputs } from '../../graph/outputs.js';
import type { Tensor } from '../../tensor.js';

export interface OutputSqnr {
  /** Layer id -> SQNR (dB) of its output. */
  layers: Map<string, number>;
  /** SQNR of the model output (logits). */
  logits: number;
  images: number;
}

export async function outputSqnr(float: ModelProto, quant: ModelProto, layers: { id: string; compare: string }[],
  inputs: Tensor[], engine: EngineOptions = {}): Promise<OutputSqnr> {
  const tensors = [...new Set(layers.map((l) => l.compare))];
  const opts = { ...sessionOptions(engine), logSeverityLevel: 3 as const };
  const fs = await createSession(withOutputs(float, tensors), opts);
  const qs = await createSession(withOutputs(quant, tensors), opts);
  try {
    const logits = fs.outputNames[0]!;
    const names = [logits, ...tensors];
    const signal = new Map(names.map((n) => [n, 0])), noise = new Map(names.map((n) => [n, 0]));
    let images = 0;
    for (const x of inputs) {
      const feeds = (s: ort.InferenceSession) => ({ [s.inputNames[0]!]: new ort.Tensor('float32', x.data, x.dims) });
      const a = await fs.run(feeds(fs), names);
      const b = await qs.run(feeds(qs), names);
      for (const n of names) {
        const r = a[n]!.data as Float32Array, q = b[n]!.data as Float32Array;
        let s = 0, e = 0;
        for (let i = 0; i < r.length; i++) { s += r[i]! * r[i]!; const d = r[i]! - q[i]!; e += d * d; }
        signal.set(n, signal.get(n)! + s);
        noise.set(n, noise.get(n)! + e);
      }
      images += x.dims[0]!;
    }
    const db = (n: string) => {
      const e = noise.get(n)!;
      return e === 0 ? Infinity : 10 * Math.log10(signal.get(n)! / e);
    };
    return { layers: new Map(layers.map((l) => [l.id, db(l.compare)])), logits: db(logits), images };
  } finally {
    await fs.release();
    await qs.release();
  }
}
