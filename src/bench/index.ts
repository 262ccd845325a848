/**
 * The benchmark harness as a library: `runBench` (engines × settings, one process per
 * configuration), `findBatch` (batch size under a memory budget and a latency objective),
 * `probeHardware` (this machine's ceilings, cached for `analyze` and `bench`), and their renderers.
 */
export { runBench, planConfigurations, type BenchOptions, type BenchReport, type ConfigResult, type Configuration, type Failure,
  type ProgressEvent, type ModelSummary } from './runner.js';
export { findBatch, renderBatchMarkdown, chooseBatches, type FindBatchOptions, type FindBatchReport, type BatchSearch, type BatchPoint } from './batch.js';
export { probeHardware, type ProbeOptions } from './hw.js';
export { loadHwProfile, saveHwProfile, hwCachePath, toHardwareProfile, renderHw, type HwProfile, type Measurement } from './hw-cache.js';
export { renderMarkdown, markdownTable } from './report.js';
export { benchChartSvg, batchChartSvg } from './chart.js';
export { writeChart } from '../util/svg.js';
export { benchProgress } from './progress.js';
export { percentile, summarize, figure, type Summary, type Figure } from './stats.js';
export { machineInfo, type MachineInfo } from './machine.js';
export type { ModelSource } from './models.js';
