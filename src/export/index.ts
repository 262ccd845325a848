/**
 * IR -> ONNX model. Every model vitopt writes has one input `pixels` float32 [batch, 3, H, W]
 * (NCHW, already normalized) and one output `logits` float32 [batch, classes]; its configuration
 * and class names travel in metadata_props.
 */
import { buildModel, GraphBuilder, type ModelProto } from '../formats/onnx.js';
import type { ModelIR } from '../models/ir.js';
import { META_CONFIG, META_LABELS, META_SOURCE, META_STYLE } from '../models/metadata.js';
import { describe } from '../models/config.js';
import type { Ctx, GraphStyle } from './layers.js';
import { buildVit } from './vit.js';
import { buildMixer } from './mixer.js';

export type { GraphStyle } from './layers.js';

export function exportModel(ir: ModelIR, style: GraphStyle = 'ort'): ModelProto {
  const g = new GraphBuilder();
  const c: Ctx = { g, style, numerics: ir.config };
  const cfg = ir.config;
  const out = cfg.family === 'vit' ? buildVit(c, ir, 'pixels') : buildMixer(c, ir, 'pixels');
  g.renameOutput(out, 'logits');
  const metadata: Record<string, string> = {
    [META_CONFIG]: JSON.stringify(cfg),
    [META_STYLE]: style,
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
