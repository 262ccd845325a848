import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { FileError, UserError } from '../errors.js';
import { loadRunnable } from '../models/resolve.js';
import { encodeNpy, npyToFloat32, parseNpy } from '../formats/npy.js';
import { nhwcToNchw, type Tensor } from '../tensor.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { labelsFor, topKBatch, formatPredictions } from '../data/labels.js';
import { addEngineOptions, emit, engineOptionsFrom, intArg } from './common.js';

interface PredictOptions {
  input: string;
  output?: string;
  layout: string;
  batch: number;
  topK?: number;
  resolution?: number;
  json?: boolean;
  [k: string]: unknown;
}

/** Read an image batch: float32 [n, H, W, 3] (nhwc) or [n, 3, H, W] (nchw); returned as NCHW. */
export async function readImageBatch(file: string, layout: 'nhwc' | 'nchw', side: number): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new FileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read');
  }
  const a = parseNpy(bytes, file);
  if (a.dtype !== 'f4') throw new FileError(file, `expected float32 images, found dtype '${a.dtype}'`);
  const expect = layout === 'nhwc' ? `[n, ${side}, ${side}, 3]` : `[n, 3, ${side}, ${side}]`;
  if (a.dims.length !== 4) throw new FileError(file, `expected a rank-4 ${layout.toUpperCase()} image batch ${expect}, found shape [${a.dims}]`);
  const [n, d1, d2, d3] = a.dims as [number, number, number, number];
  const ok = layout === 'nhwc' ? d1 === side && d2 === side && d3 === 3 : d1 === 3 && d2 === side && d3 === side;
  if (!ok) throw new FileError(file, `expected ${expect} for this model, found [${a.dims}]` +
    (layout === 'nhwc' && d1 === 3 ? ' (NCHW? pass --layout nchw)' : ''));
  if (n === 0) throw new FileError(file, 'holds no images');
  const t = { dims: a.dims, data: npyToFloat32(a, file) };
  return layout === 'nhwc' ? nhwcToNchw(t) : t;
}

export async function predict(spec: string, o: PredictOptions) {
  const layout = o.layout.toLowerCase();
  if (layout !== 'nhwc' && layout !== 'nchw') throw new UserError(`--layout must be nhwc or nchw, not '${o.layout}'`);
  if (!o.output && !o.topK && !o.json) throw new UserError('nothing to do: give -o logits.npy, --top-k K or --json');
  if (o.output) await assertWritable(o.output);
  const r = await loadRunnable(spec, engineOptionsFrom(o), { resolution: o.resolution });
  const x = await readImageBatch(o.input, layout, r.resolution);
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const per = c * h * w;
  let logits: Tensor | null = null;
  for (let i = 0; i < n; i += o.batch) {
    const m = Math.min(o.batch, n - i);
    const out = await r.model.run({ dims: [m, c, h, w], data: x.data.subarray(i * per, (i + m) * per) });
    if (!logits) logits = { dims: [n, out.dims[1]!], data: new Float32Array(n * out.dims[1]!) };
    logits.data.set(out.data, i * out.dims[1]!);
  }
  await r.model.release();
  if (o.output) await writeFileAtomic(o.output, encodeNpy(logits!));
  const labels = labelsFor(logits!.dims[1]!, r.labels);
  const top = topKBatch(logits!, o.topK ?? 5, labels);
  return { model: r.name, images: n, classes: logits!.dims[1]!, output: o.output ?? null, top, logits };
}

export function register(program: Command): void {
  addEngineOptions(program.command('predict')
    .description('run a model (.onnx, or a checkpoint converted in memory) on an .npy image batch')
    .argument('<model>', '.onnx file, checkpoint, fashion-vit or fashion-mixer')
    .requiredOption('--input <file>', '.npy float32 images, NHWC [n, H, W, 3] in the model input range ([-1, 1] officially)')
    .option('-o, --output <file>', 'write logits [n, classes] as float32 .npy')
    .option('--layout <layout>', 'input layout: nhwc or nchw', 'nhwc')
    .option('--batch <n>', 'images per session run', intArg('--batch'), 32)
    .option('--top-k <k>', 'print the k most likely classes of each image', intArg('--top-k'))
    .option('--resolution <px>', 'for a checkpoint: run at this resolution', intArg('--resolution'))
    .option('--json', 'print predictions as JSON'))
    .action(async (spec: string, o: PredictOptions) => {
      const r = await predict(spec, o);
      const lines = [`${r.model}: ${r.images} image(s), ${r.classes} classes${r.output ? ` -> ${r.output}` : ''}`];
      if (o.topK) r.top.forEach((p, i) => lines.push(`  [${i}] ${formatPredictions(p)}`));
      const { logits: _omit, ...report } = r;
      await emit(report, lines.join('\n'), o.json);
    });
}
