/** Tiny models for the benchmark and engine tests (built here; nothing is downloaded). */
import { mkdtempSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { VitConfig } from '../../src/models/config.js';
import { randomIR } from '../../src/models/random.js';
import { exportModel, type GraphStyle } from '../../src/export/index.js';
import { buildModel, encodeModel, GraphBuilder, saveModel } from '../../src/formats/onnx.js';
import type { ModelIR } from '../../src/models/ir.js';

export const tinyConfig = (o: Partial<VitConfig> = {}): VitConfig => ({
  family: 'vit', name: 'tiny-vit', patch: 4, hidden: 32, mlp: 64, heads: 4, layers: 2, classifier: 'token', representation: null,
  classes: 7, resolution: 16, gelu: 'tanh', layerNormEps: 1e-6, ...o,
});

export function tinyIR(o: Partial<VitConfig> = {}): ModelIR {
  return randomIR(tinyConfig(o), 0);
}

export function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'vitopt-bench-test-'));
}

export async function tinyOnnx(dir: string, style: GraphStyle = 'ort', name = 'tiny.onnx', o: Partial<VitConfig> = {}): Promise<string> {
  const file = path.join(dir, name);
  await saveModel(file, exportModel(tinyIR(o), style));
  return file;
}

export function tinyOnnxBytes(style: GraphStyle = 'ort'): Uint8Array {
  return encodeModel(exportModel(tinyIR(), style));
}

/** Bytes that are not an ONNX model. */
export async function corruptOnnx(dir: string, name = 'corrupt.onnx'): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, Buffer.from('this is not a protobuf \x00\x01\x02\xff\xfe'.repeat(10), 'latin1'));
  return file;
}

/** A valid ONNX file with an image input whose op no runtime knows: it decodes, but no engine loads it. */
export async function unknownOpOnnx(dir: string, name = 'unknown-op.onnx'): Promise<string> {
  const g = new GraphBuilder();
  const y = g.op('NoSuchOperator', ['pixels'], {}, { domain: 'org.example.vitopt' });
  g.renameOutput(y, 'logits');
  const file = path.join(dir, name);
  await fs.writeFile(file, encodeModel(buildModel(g, { name: 'bad', inputs: [{ name: 'pixels', shape: ['batch', 3, 16, 16] }],
    outputs: [{ name: 'logits', shape: ['batch', 7] }] })));
  return file;
}

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
}
