/** `vitopt loadtest` as a library: perf_analyzer-style load levels against an Open Inference Protocol server. */
export { runLoadtest, type LoadtestOptions, type LoadtestReport, type ExpectMode } from './loadtest.js';
export { stability, spread, type WindowFigures, type StabilityVerdict } from './stability.js';
export { renderText, renderCsv } from './report.js';
export { latencyChartSvg } from './chart.js';
export type { LevelResult, WindowResult } from './level.js';
export { recoveries, rollingRates, steadyRate, type Recovery, type Timeline } from './recovery.js';
