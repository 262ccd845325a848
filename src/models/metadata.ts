/**
 * What travels with a model: its configuration and its class names. vitopt stores both in the ONNX
 * file's metadata_props so that any later stage (eval, prune, analyze, serve) knows what the graph is.
 */
export const META_CONFIG = 'vitopt.config';
export const META_LABELS = 'vitopt.labels';
export const META_STYLE = 'vitopt.style';
export const META_SOURCE = 'vitopt.source';
/** Contrib-op fusions of an 'ort' graph, and why (src/export/fusions.ts). */
export const META_FUSIONS = 'vitopt.fusions';
