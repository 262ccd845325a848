/**
 * `vitopt predict <model> <inputs...>`: the k most likely classes of each image. Inputs are image files
 * (JPEG, PNG, WebP), folders of them, or .npy tensors (float32 NHWC [n, H, W, 3] in model range);
 * images get the same preprocessing as `vitopt eval`.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { encodeNpy } from '../formats/npy.js';
import { formatPredictions } from '../data/labels.js';
import { predict, DEFAULT_PREDICT_BATCH, DEFAULT_TOP_K, type PredictResult } from '../predict/index.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { emit, engineOptionsFrom, enumOption, intArg, normalizationFrom } from './common.js';
import { addEngineOptions, addNormalizationOptions, jsonOption } from './options.js';

interface PredictCliOptions {
  input?: string[];
  output?: string;
  layout: 'nhwc' | 'nchw';
  batch: number;
  topK: number;
  resolution?: number;
  json?: boolean | string;
  mean?: string;
  std?: string;
  [k: string]: unknown;
}

export type PredictReport = Omit<PredictResult, 'logits'> & { output: string | null };

export async function runPredict(spec: string, paths: readonly string[], o: PredictCliOptions): Promise<PredictReport> {
  const inputs = [...paths, ...(o.input ?? [])];
  if (inputs.length === 0) throw new UserError('no inputs: give image files (JPEG, PNG, WebP), folders of them, or .npy tensors after the model');
  // Everything cheap is checked before the model is loaded (predict() checks the inputs).
  const normalize = normalizationFrom(o);
  const engine = engineOptionsFrom(o);
  if (o.output) {
    if (!/\.npy$/i.test(o.output)) throw new UserError(`--output ${o.output}: logits are written as .npy`);
    await assertWritable(o.output);
  }
  if (typeof o.json === 'string') await assertWritable(o.json);
  const { logits, ...result } = await predict(spec, inputs, { topK: o.topK, batch: o.batch, layout: o.layout, normalize, engine, resolution: o.resolution });
  if (o.output) await writeFileAtomic(o.output, encodeNpy(logits));
  return { ...result, output: o.output ?? null };
}

export function formatPredict(r: PredictReport): string {
  const lines = [`${r.model}: ${r.images} image(s), ${r.classes} classes${r.output ? `, logits -> ${r.output}` : ''}`];
  r.top.forEach((p, i) => lines.push(`${r.ids[i]}: ${formatPredictions(p)}`));
  return lines.join('\n');
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  const cmd = program.command('predict')
    .description('classify images: the top-k classes of each image file (JPEG, PNG, WebP), folder of images, or .npy tensor')
    .argument('<model>', '.onnx file, checkpoint (.npz / .safetensors), fashion-vit or fashion-mixer')
    .argument('[inputs...]', 'image files, folders of images, or .npy float32 tensors NHWC [n, H, W, 3] in model range ([-1, 1] officially)')
    .option('--input <file>', 'one more input (repeatable; the inputs may also follow the model)', collect, [])
    .option('--top-k <k>', 'classes listed per image', intArg('--top-k'), DEFAULT_TOP_K)
    .option('-o, --output <file>', 'also write the logits [n, classes] as float32 .npy')
    .addOption(enumOption('--layout <layout>', '.npy tensor layout: nhwc ([n,H,W,3]) or nchw ([n,3,H,W])', ['nhwc', 'nchw'], 'nhwc'))
    .option('--batch <n>', 'images per model call', intArg('--batch'), DEFAULT_PREDICT_BATCH)
    .option('--resolution <px>', 'for a checkpoint: run at this resolution', intArg('--resolution'))
    .addOption(jsonOption('the predictions', { wasFlag: true }));
  addEngineOptions(addNormalizationOptions(cmd)).action(async (spec: string, paths: string[], o: PredictCliOptions) => {
    const r = await runPredict(spec, paths, o);
    await emit(r, formatPredict(r), o.json);
  });
}
