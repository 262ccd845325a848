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
import { emit, enumOption, intArg, oneOf } from './common.js';
import { addPortableAlias, graphOption, graphStyleFrom, jsonOption } from './options.js';
import { FileError } from '../errors.js';
import { loadModel, metadata } from '../formats/onnx.js';
import { META_CONFIG, META_STYLE } from '../models/metadata.js';
import { irFromOnnx } from '../compress/prune/from-onnx.js';
import { META_QUANTIZATION } from '../compress/quantize/quantize.js';
import { checkAgainstNamed } from '../models/infer.js';
import { assertExportDir, writeTransformersJs } from '../export/transformers-js.js';
import { describeMerging, hasMerging, MERGE_POOLS, type MergePool, parseMergeTokens, withMergeSchedule } from '../models/tome.js';

interface ConvertOptions {
  output: string;
  resolution?: number;
  graph?: string;
  fusions?: string;
  config?: string;
  randomWeights?: boolean;
  seed: number;
  classes?: number;
  externalData?: boolean;
  verify?: boolean;
  mergeTokens?: string;
  mergePool?: string;
  format?: string;
  json?: boolean | string;
}

/** A vitopt .onnx export read back to its IR (so a pruned model can be re-exported, e.g. with ToMe), and its graph style. */
async function loadExport(file: string): Promise<{ ir: ModelIR; style: GraphStyle }> {
  const m = await loadModel(file);
  const meta = metadata(m);
  if (!meta[META_CONFIG]) {
    throw new FileError(file, 'is not a vitopt export (no vitopt.config metadata); convert takes a checkpoint (.npz, .safetensors, ' +
      'fashion-vit, fashion-mixer) or an .onnx file written by vitopt');
  }
  if (meta[META_QUANTIZATION]) {
    throw new FileError(file, 'is quantized; convert the float32 model (e.g. add --merge-tokens), then quantize the result');
  }
  const ir = irFromOnnx(m, file);
  return { ir, style: meta[META_STYLE] === 'portable' ? 'portable' : 'ort' };
}

export async function convert(checkpoint: string | undefined, o: ConvertOptions) {
  const tjs = oneOf('--format', o.format ?? 'onnx', ['onnx', 'transformers.js'] as const) === 'transformers.js';
  const graph = graphStyleFrom(o);
  if (tjs && graph === 'ort') throw new UserError('--graph ort: --format transformers.js writes the portable graph (onnxruntime-web has no ORT contrib ops)');
  if (tjs) await assertExportDir(o.output);
  else await assertWritable(o.output);
  if (typeof o.json === 'string') await assertWritable(o.json);
  // Syntax of the ToMe options first: nothing is read before a bad flag is reported.
  const merge = o.mergeTokens === undefined ? undefined : parseMergeTokens(o.mergeTokens);
  const pool = o.mergePool === undefined ? undefined : oneOf<MergePool>('--merge-pool', o.mergePool, MERGE_POOLS);
  if (pool !== undefined && merge === undefined) throw new UserError('--merge-pool goes with --merge-tokens');
  let ir: ModelIR;
  let inputStyle: GraphStyle = 'ort';
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
    if (/\.onnx$/i.test(checkpoint)) {
      ({ ir, style: inputStyle } = await loadExport(checkpoint));
      if (o.config) checkAgainstNamed(ir.config, o.config, checkpoint);
      if (o.resolution && o.resolution !== ir.config.resolution) setResolution(ir, o.resolution);
    } else {
      ir = await loadCheckpoint(checkpoint, { config: o.config, resolution: o.resolution });
    }
  }
  if (merge !== undefined) ir = withMergeSchedule(ir, merge, { pool });
  // A vitopt .onnx input keeps its graph style unless --graph says otherwise.
  const style: GraphStyle = tjs ? 'portable' : graph ?? inputStyle;
  if (tjs) {
    const r = await writeTransformersJs(ir, o.output);
    return { ...r, style, source: ir.source, config: ir.config, params: countParams(ir.config), verification: null };
  }
  const { parseFusions } = await import('../export/fusions.js');
  const fusions = o.fusions === undefined ? undefined : parseFusions(o.fusions) ?? undefined;
  if (fusions && style === 'portable') throw new UserError('--fusions applies to the ONNX Runtime graph; a portable graph has none');
  const model = exportModel(ir, style, { fusions });
  const verification = o.verify ? await verifyExport(ir, model) : null;
  const { files } = await saveModel(o.output, model, { external: o.externalData });
  return {
    output: o.output, files, style, source: ir.source, config: ir.config, params: countParams(ir.config),
    weightBytes: initializerBytes(model), nodes: model.graph!.node!.length, verification,
  };
}

export function register(program: Command): void {
  const cmd = program.command('convert')
    .description('export a checkpoint (.npz, .safetensors, fashion-vit, fashion-mixer), a vitopt .onnx export, or a zoo config with random weights to ONNX')
    .argument('[checkpoint]', 'checkpoint path, reference model name, or an .onnx file written by vitopt (e.g. a pruned model)')
    .requiredOption('-o, --output <file>', 'output .onnx file (a folder with --format transformers.js)')
    .option('--resolution <px>', 'input side; resizes a ViT position embedding as the official loader does', intArg('--resolution'))
    .addOption(graphOption('default: an .onnx input\'s own style, else ort'))
    .option('--fusions <list>', 'ONNX Runtime graph: contrib-op fusions, auto (measured for this CPU, docs/graph-fusions.md), all, none, or attention,skip-layernorm,gelu')
    .option('--config <name>', 'zoo config: checked against the checkpoint, or built with --random-weights')
    .option('--random-weights', 'random weights for --config (for benchmarks)')
    .option('--seed <n>', 'seed for --random-weights', intArg('--seed', 0), 0)
    .option('--classes <k>', 'classes for --random-weights', intArg('--classes'))
    .option('--external-data', 'write weights to <output>.data (automatic above 1.8 GB)')
    .option('--verify', 'compare the exported graph with the float64 reference on random inputs (slow for big models)')
    .option('--merge-tokens <r>', 'Token Merging (ToMe, ViT only): merge r tokens in every block, or r0,r1,... one per layer (0 = none); docs/token-merging.md')
    .addOption(enumOption('--merge-pool <kind>', 'gap models with --merge-tokens: mean of the merged tokens (default weighted: by token size)', MERGE_POOLS))
    .addOption(enumOption('--format <f>', 'onnx (default), or transformers.js: a folder that @huggingface/transformers loads (fp32 + INT8); docs/browser.md', ['onnx', 'transformers.js']))
    .addOption(jsonOption('the report', { wasFlag: true }));
  addPortableAlias(cmd)
    .action(async (checkpoint: string | undefined, o: ConvertOptions) => {
      const r = await convert(checkpoint, o);
      const ref = checkpoint ? referenceModel(checkpoint) : undefined;
      const lines = [
        `wrote ${r.files.join(' + ')} (${r.style} graph, ${r.nodes} nodes, ${(r.weightBytes / 2 ** 20).toFixed(1)} MiB weights)`,
        `model: ${describe(r.config)}; ${r.params.toLocaleString('en-US')} parameters; source ${ref ? ref.checkpoint : r.source}`,
      ];
      if (hasMerging(r.config)) lines.push(`token merging: ${describeMerging(r.config)}`);
      if (r.verification) {
        lines.push(`verified against the float64 reference on ${r.verification.images} random images: ` +
          `relative error ${r.verification.relativeError.toExponential(2)} (bar ${r.verification.tolerance})`);
      }
      await emit(r, lines.join('\n'), o.json);
    });
}
