/**
 * Hybrid stem benchmark (not a test): do int8 convolutions speed up the ResNet stem of the hybrids?
 * `node dist/bench/hybrid-stem-int8.js [--model R50+ViT-B_16] [--resolution 224] [--batches 1,8]
 * [--rounds 5] [--seconds 1] [--threads 2] [--parts stem,model] [--calibration 8]`
 *
 * Part `stem`: the stem alone (src/export/resnet.ts, random weights) in two forms, loaded together and
 * timed in interleaved rounds (src/bench/side-by-side.ts):
 *   fp32  as vitopt exports it (Conv on standardized float kernels);
 *   int8  every Conv in the QDQ form ONNX Runtime turns into QLinearConv (uint8 activations, int8
 *         per-channel weights): Q/DQ on its input and output, DQ on an int8 kernel. The scales are fixed
 *         (0.05, zero point 128): this measures speed only; the values it computes are not used.
 * Part `model`: the whole hybrid ('ort' graph, random weights) through vitopt's static INT8 quantizer,
 * calibrated on random images, side by side:
 *   stem float       --stem float (the transformer's MatMuls int8, the stem's convolutions fp32);
 *   stem int8        --stem int8 (the stem's convolutions QLinearConv; GroupNorm, ReLU, max-pool and the
 *                    residual adds float between Q/DQ pairs);
 *   + int8 residual  stem int8 and the stem's residual Adds in QDQ too (--include 'block*\/unit*\/residual';
 *                    ORT runs them as QLinearAdd): is keeping them float the right call?
 * ConvInteger (dynamic mode) is not measured: ONNX Runtime's CPU kernel takes uint8 weights only.
 * Prints Markdown tables with the ratios against the first column per batch size.
 */
import { buildModel, DataType, encodeModel, GraphBuilder, initializerFloat, rawTensor, type ModelProto, type NodeProto, type TensorProto } from '../src/formats/onnx.js';
import { randomIR } from '../src/models/random.js';
import { zooConfig } from '../src/models/zoo.js';
import { resnetStem } from '../src/export/resnet.js';
import type { VitConfig } from '../src/models/config.js';
import { NO_FUSIONS } from '../src/export/layers.js';
import { sideBySide } from '../src/bench/side-by-side.js';
import { detectCpu } from '../src/util/cpu.js';
import { exportModel } from '../src/export/index.js';
import { analyze, arraySource, quantize } from '../src/compress/quantize/index.js';
import { randomBatches } from '../src/data/random-images.js';
import { benchCommand, fail, intArg, listArg, listOption, parseBench } from './lib/cli.js';

const PARTS = ['stem', 'model'] as const;
const o = parseBench<{ model: string; resolution: number; batches: number[]; rounds: number; seconds: number; threads: number; parts: string[]; calibration: number }>(
  benchCommand('hybrid-stem-int8', "a hybrid's ResNet stem: fp32 Conv against int8 QLinearConv (QDQ), alone and in the whole static-INT8 model, side by side")
    .option('--model <name>', 'hybrid zoo model (random weights)', 'R50+ViT-B_16')
    .option('--resolution <px>', 'input side', intArg('--resolution', 16), 224)
    .addOption(listOption('--parts <list>', `what to time: ${PARTS.join(', ')}`, listArg('--parts', PARTS), 'stem,model'))
    .option('--calibration <n>', 'random calibration images for the whole-model part', intArg('--calibration', 1), 8),
  { batches: [1, 8], rounds: 5, seconds: 1, threads: 2 });
const config = { ...zooConfig(o.model), resolution: o.resolution } as VitConfig;
const { batches, rounds, seconds, threads, parts } = o;
const calibrationImages = o.calibration;
if (!config.resnet) fail(`--model ${config.name}: not a hybrid`);

/** The stem as its own graph: pixels -> feature map. */
function stemGraph(): ModelProto {
  const ir = randomIR({ ...config, layers: 1, classes: 1 }, 0);
  const g = new GraphBuilder();
  const out = resnetStem({ g, style: 'portable', fusions: NO_FUSIONS, numerics: config }, ir, config.resnet!, 'pixels', config.resolution);
  g.renameOutput(out, 'features');
  return buildModel(g, { name: 'stem', inputs: [{ name: 'pixels', shape: ['batch', 3, config.resolution, config.resolution] }],
    outputs: [{ name: 'features', shape: ['batch', 'c', 'h', 'w'] }] });
}

/** Every Conv in QDQ form: Q->DQ on the input, int8 per-channel kernel through DQ, Q->DQ on the output. */
function qdqConvs(m: ModelProto): ModelProto {
  const graph = m.graph!;
  const inits = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const extra: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const scalar = (name: string, v: number, type: number) => {
    extra.push(type === DataType.FLOAT ? rawTensor(name, type, [], Float32Array.of(v)) : rawTensor(name, type, [], Uint8Array.of(v)));
    return name;
  };
  const aScale = scalar('q/a_scale', 0.05, DataType.FLOAT), aZero = scalar('q/a_zero', 128, DataType.UINT8);
  let k = 0;
  for (const n of graph.node!) {
    if (n.opType !== 'Conv') { nodes.push(n); continue; }
    const id = `q${k++}`;
    const w = initializerFloat(inits.get(n.input![1]!)!);
    const cout = w.dims[0]!, per = w.data.length / cout;
    const q = new Int8Array(w.data.length), scales = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      let mx = 0;
      for (let i = 0; i < per; i++) mx = Math.max(mx, Math.abs(w.data[o * per + i]!));
      scales[o] = mx / 127 || 1;
      for (let i = 0; i < per; i++) q[o * per + i] = Math.round(w.data[o * per + i]! / scales[o]!);
    }
    extra.push(rawTensor(`${id}/w`, DataType.INT8, w.dims, q), rawTensor(`${id}/w_scale`, DataType.FLOAT, [cout], scales),
      rawTensor(`${id}/w_zero`, DataType.INT8, [cout], new Int8Array(cout)));
    const mk = (op: string, inputs: string[], output: string, attrs: NodeProto['attribute'] = []): NodeProto =>
      ({ opType: op, name: `${id}/${op}/${output}`, input: inputs, output: [output], domain: '', attribute: attrs });
    nodes.push(mk('QuantizeLinear', [n.input![0]!, aScale, aZero], `${id}/xq`), mk('DequantizeLinear', [`${id}/xq`, aScale, aZero], `${id}/xdq`),
      mk('DequantizeLinear', [`${id}/w`, `${id}/w_scale`, `${id}/w_zero`], `${id}/wdq`, [{ name: 'axis', type: 2, i: 0 }]),
      { ...n, input: [`${id}/xdq`, `${id}/wdq`], output: [`${id}/y`] },
      mk('QuantizeLinear', [`${id}/y`, aScale, aZero], `${id}/yq`), mk('DequantizeLinear', [`${id}/yq`, aScale, aZero], n.output![0]!));
  }
  // In place: the fp32 graph is encoded before this runs.
  const kernels = new Set(graph.node!.filter((n) => n.opType === 'Conv').map((n) => n.input![1]!));
  graph.node = nodes;
  graph.initializer = [...graph.initializer!.filter((t) => !kernels.has(t.name!)), ...extra];
  return m;
}

const cpu = detectCpu();
console.log(`${new Date().toISOString()}; CPU: ${cpu.evidence} (VNNI ${cpu.vnni ? 'yes' : 'no'}); ${threads} threads; ${rounds} rounds of ${seconds} s\n`);

if (parts.includes('stem')) {
  const fp32 = encodeModel(stemGraph());
  const int8 = encodeModel(qdqConvs(stemGraph()));
  console.log(`## ${config.name} stem alone at ${config.resolution} px: fp32 Conv vs int8 QLinearConv (QDQ)\n`);
  console.log('| batch | fp32 images/s | int8 images/s | int8 / fp32 |');
  console.log('|---:|---:|---:|---:|');
  for (const batch of batches) {
    const r = await sideBySide([{ name: 'fp32', bytes: fp32 }, { name: 'int8', bytes: int8 }], config.resolution,
      { batch, rounds, secondsPerRound: seconds, engine: { threads } });
    console.log(`| ${batch} | ${r.results[0]!.imagesPerSecond.toFixed(1)} | ${r.results[1]!.imagesPerSecond.toFixed(1)} | ${r.ratios[1]!.toFixed(2)}× |`);
  }
  console.log();
}

if (parts.includes('model')) {
  const t0 = performance.now();
  const model = exportModel(randomIR(config, 0), 'ort');
  const side = config.resolution;
  const images = randomBatches(2 * Math.ceil(calibrationImages / 2), 2, side, { seed: 3 });
  const analysis = await analyze(model, { mode: 'static' });
  const first = await quantize(model, { mode: 'static', analysis, calibration: arraySource('random', images), stem: 'int8',
    include: ['block*/unit*/residual'] });
  const base = { mode: 'static' as const, analysis, ranges: first.ranges };
  const variants = [
    { name: 'stem float', q: await quantize(model, { ...base, stem: 'float' }) },
    { name: 'stem int8', q: await quantize(model, { ...base, stem: 'int8' }) },
    { name: '+ int8 residual', q: first }, // calibrated with exactly these settings
  ];
  const residuals = variants[2]!.q.activationNodes.length;
  const convs = variants[1]!.q.settings.stem!;
  console.log(`## ${config.name} at ${side} px, whole model, static INT8 (random weights, ${first.calibration!.images} random calibration images)\n`);
  console.log(`stem int8: ${convs.quantized}/${convs.total} stem convs QLinearConv; + int8 residual: ${residuals} residual Adds in QDQ; ` +
    `prepared in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(`| batch | ${variants.map((v) => `${v.name} images/s`).join(' | ')} | ${variants.slice(1).map((v) => `${v.name} / stem float`).join(' | ')} |`);
  console.log(`|---:|${variants.map(() => '---:').join('|')}|${variants.slice(1).map(() => '---:').join('|')}|`);
  const bytes = variants.map((v) => ({ name: v.name, bytes: encodeModel(v.q.model) }));
  for (const batch of batches) {
    const r = await sideBySide(bytes, side, { batch, rounds, secondsPerRound: seconds, engine: { threads } });
    console.log(`| ${batch} | ${r.results.map((x) => `${x.imagesPerSecond.toFixed(2)} ±${(100 * x.relIqr).toFixed(0)}%`).join(' | ')} | ` +
      `${r.ratios.slice(1).map((x) => `${x.toFixed(2)}×`).join(' | ')} |`);
  }
}
