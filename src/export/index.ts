/**
 * IR -> ONNX model. Every model vitopt writes has one input `pixels` float32 [batch, 3, H, W]
 * (NCHW, already normalized) and one output `logits` float32 [batch, classes]; its configuration
 * and class names travel in metadata_props.
 */
import { buildModel, GraphBuilder, type ModelProto } from '../formats/onnx.js';
import type { ModelIR } from '../models/ir.js';
import { META_CONFIG, META_FUSIONS, META_LABELS, META_SOURCE, META_STYLE } from '../models/metadata.js';
import { describe } from '../models/config.js';
import { type Ctx, type Fusions, type GraphStyle, NO_FUSIONS } from './layers.js';
import { defaultFusions, describeFusions } from './fusions.js';
import { buildVit } from './vit.js';
import { buildMixer } from './mixer.js';

export type { GraphStyle, Fusions } from './layers.js';

export interface ExportOptions {
  /** 'ort' graphs only: which contrib-op fusions to use (default: the measured choice for this CPU, ./fusions.ts). */
  fusions?: Fusions;
}

export function exportModel(ir: ModelIR, style: GraphStyle = 'ort', o: ExportOptions = {}): ModelProto {
  const g = new GraphBuilder();
  const fusions = style === 'portable' ? NO_FUSIONS : o.fusions ?? defaultFusions().fusions;
  const c: Ctx = { g, style, fusions, numerics: ir.config };
  const cfg = ir.config;
  const out = cfg.family === 'vit' ? buildVit(c, ir, 'pixels') : buildMixer(c, ir, 'pixels');
  g.renameOutput(out, 'logits');
  const metadata: Record<string, string> = {
    [META_CONFIG]: JSON.stringify(cfg),
    [META_STYLE]: style,
    [META_FUSIONS]: describeFusions(fusions),
    [META_SOURCE]: ir.source,
  };
  if (ir.labels) metadata[META_LABELS] = JSON.stringify(ir.labels);
  return buildModel(g, {
    name: cfg.name ?? cfg.family,
    inputs: [{ name: 'pixels', shape: ['batch', 3, cfg.resolution, cfg.resolution] }],
    outputs: [{ name: 'logits', shape: ['batch', cfg.classes] }],
    metadata,
    docString: `${describe(cfg)}; graph style ${style}; exported by vitopt`,
  });
}
