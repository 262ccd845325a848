/** A one-node model (y = x + x, x float32 [n, 4]) for checking that an engine starts at all. */
import { buildModel, encodeModel, GraphBuilder } from '../formats/onnx.js';

let cached: Uint8Array | null = null;

export function probeModel(): Uint8Array {
  if (!cached) {
    const g = new GraphBuilder();
    const y = g.op('Add', ['x', 'x']);
    g.renameOutput(y, 'y');
    cached = encodeModel(buildModel(g, { name: 'probe', inputs: [{ name: 'x', shape: ['n', 4] }], outputs: [{ name: 'y', shape: ['n', 4] }] }));
  }
  return cached;
}
