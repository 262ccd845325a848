import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { loadCheckpoint, setResolution } from '../models/checkpoint.js';
import { randomIR } from '../models/random.js';
import { zooConfig } from '../models/zoo.js';
import { referenceModel } from '../models/reference.js';
import { exportModel, type GraphStyle } from '../export/index.js';
import { initializerBytes, saveModel } from '../formats/onnx.js';
import { describe } from '../models/config.js';
import { countParams } from '../analyze/params.js';
import { assertWritable } from '../util/atomic.js';
import { verifyExport } from '../export/verify.js';
import type { ModelIR } from '../models/ir.js';
import { emit, intArg } from './common.js';

interface ConvertOptions {
  output: string;
  resolution?: number;
  portable?: boolean;
  config?: string;
  randomWeights?: boolean;
  seed: number;
  classes?: number;
  externalData?: boolean;
  verify?: boolean;
  json?: boolean;
}

export async function convert(checkpoint: string | undefined, o: ConvertOptions) {
  await assertWritable(o.output);
  let ir: ModelIR;
  if (o.randomWeights) {
    if (checkpoint) throw new UserError('give either a checkpoint or --random-weights, not both');
    if (!o.config) throw new UserError('--random-weights needs --config NAME (see vitopt models)');
    const config = zooConfig(o.config);
    if (o.classes) config.classes = o.classes;
    ir = randomIR(config, o.seed);
    if (o.resolution) setResolution(ir, o.resolution);
  } else {
    if (!checkpoint) throw new UserError('missing <checkpoint> (or use --config NAME --random-weights)');
    if (o.classes) throw new UserError('--classes applies to --random-weights only (a checkpoint has its own head)');
    ir = await loadCheckpoint(checkpoint, { config: o.config, resolution: o.resolution });
  }
  const style: GraphStyle = o.portable ? 'portable' : 'ort';
  const model = exportModel(ir, style);
  const verification = o.verify ? await verifyExport(ir, model) : null;
  const { files } = await saveModel(o.output, model, { external: o.externalData });
  return {
    output: o.output, files, style, source: ir.source, config: ir.config, params: countParams(ir.config),
    weightBytes: initializerBytes(model), nodes: model.graph!.node!.length, verification,
  };
}

export function register(program: Command): void {
  program.command('convert')
    .description('export a checkpoint (.npz, .safetensors, fashion-vit, fashion-mixer) or a zoo config with random weights to ONNX')
    .argument('[checkpoint]', 'checkpoint path or reference model name')
    .requiredOption('-o, --output <file>', 'output .onnx file')
    .option('--resolution <px>', 'input side; resizes a ViT position embedding as the official loader does', intArg('--resolution'))
    .option('--portable', 'standard ONNX ops only (loads in onnxruntime-web); default is the ONNX Runtime fused graph')
    .option('--config <name>', 'zoo config: checked against the checkpoint, or built with --random-weights')
    .option('--random-weights', 'random weights for --config (for benchmarks)')
    .option('--seed <n>', 'seed for --random-weights', intArg('--seed', 0), 0)
    .option('--classes <k>', 'classes for --random-weights', intArg('--classes'))
    .option('--external-data', 'write weights to <output>.data (automatic above 1.8 GB)')
    .option('--verify', 'compare the exported graph with the float64 reference on random inputs (slow for big models)')
    .option('--json', 'print the report as JSON')
    .action(async (checkpoint: string | undefined, o: ConvertOptions) => {
      const r = await convert(checkpoint, o);
      const ref = checkpoint ? referenceModel(checkpoint) : undefined;
      const lines = [
        `wrote ${r.files.join(' + ')} (${r.style} graph, ${r.nodes} nodes, ${(r.weightBytes / 2 ** 20).toFixed(1)} MiB weights)`,
        `model: ${describe(r.config)}; ${r.params.toLocaleString('en-US')} parameters; source ${ref ? ref.checkpoint : r.source}`,
      ];
      if (r.verification) {
        lines.push(`verified against the float64 reference on ${r.verification.images} random images: ` +
          `relative error ${r.verification.relativeError.toExponential(2)} (bar ${r.verification.tolerance})`);
      }
      await emit(r, lines.join('\n'), o.json);
    });
}
