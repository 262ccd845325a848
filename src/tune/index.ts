/**
 * The composition layer: everything that measures and decides on top of compress/, engines/, eval/
 * and bench/ — the accuracy guard, the assessments behind `vitopt quantize` / `vitopt prune`, and the
 * auto-tuner (`vitopt tune`).
 */
export { guardedQuantize, DEFAULT_RANKING_SIZE, type GuardOptions, type GuardReport } from './quantize-guard.js';
export { assess, type Assessment, type AssessOptions } from './quantize-assess.js';
export { buildReport, formatReport, type QuantizeReport } from './quantize-report.js';
export { assessPruned, type Assessment as PruneAssessment, type AssessOptions as PruneAssessOptions } from './prune-assess.js';
export { buildPruneReport, formatPruneReport, type PruneReport } from './prune-report.js';
