/**
 * The benchmark runner: the same models and the same input batch, on several engines and settings,
 * each configuration measured in a process of its own (./child.ts) so that its peak memory is its
 * own and a crash, a hang or an out-of-memory costs only that configuration.
 *
 * Repeats are interleaved (A B C, A B C, …) so that slow and fast phases of a shared machine hit
 * every configuration alike; each figure is the median over repeats, with its spread.
 * A configuration that fails is reported with the reason; the run goes on and is saved.
 */
import { fork } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import type { GraphStyle } from '../export/layers.js';
import type { ModelConfig } from '../models/config.js';
import { ENGINE_LABELS, type EngineName, defaultGraphStyle } from '../engines/engine.js';
import type { EngineAvailability } from '../engines/detect.js';
import type { EngineOptions } from '../engines/options.js';
import { type HardwareProfile, rooflineBound } from '../analyze/roofline.js';
import { totalMacs } from '../analyze/macs.js';
import { type ModelFile, type ModelSource, type PreparedModel, prepareModel } from './models.js';
import type { ChildJob, ChildMessage, Fault, MeasureJob, Sample } from './protocol.js';
import { type Figure, figure, summarize } from './stats.js';
import { type MachineInfo, machineInfo } from './machine.js';

export { type MachineInfo, machineInfo } from './machine.js';

export type GraphChoice = GraphStyle | 'auto';

/** Session settings that are the same for every configuration of a run. */
export type SessionChoice = Pick<EngineOptions, 'graphOptimization' | 'arena' | 'memPattern' | 'spinning' | 'executionMode' | 'interOpThreads'>;

export interface BenchOptions {
  models: ModelSource[];
  /** Default ['cpu']. */
  engines?: EngineName[];
  /** Default [1]. */
  batches?: number[];
  /** Intra-op threads (wasm: env.wasm.numThreads). Default [the machine's available parallelism]. */
  threads?: number[];
  /** Concurrent sessions in worker threads. Default [1] (the session runs on the child's main thread). */
  workers?: number[];
  /** Graph style: 'auto' picks per engine (ort for cpu/cuda, portable otherwise). Default ['auto']. */
  graphs?: GraphChoice[];
  session?: SessionChoice;
  /** Seconds of measurement per repeat (default 3), or a fixed number of runs. */
  duration?: number;
  iterations?: number;
  /** At least this many measured runs, even past the duration. Default 3. */
  minIterations?: number;
  /** Warm-up runs, excluded. Default 2. */
  warmup?: number;
  /** Processes per configuration. Default 3. */
  repeats?: number;
  /** Include the naive path (portable graph, runtime defaults, batch 1, onnxruntime-node CPU). Default true. */
  baseline?: boolean;
  /** Batch sizes of the naive path (default [1]: what a user gets); speed-ups are to its batch-1 row when there is one. */
  baselineBatches?: number[];
  /** A child whose resident memory passes this is killed and reported out of memory. Default 75% of RAM. */
  memoryLimitBytes?: number;
  /** Seconds per child process. Default 600. */
  timeoutS?: number;
  /** Ceilings for the roofline fraction; null/undefined: no fraction. */
  profile?: HardwareProfile | null;
  onProgress?: (e: ProgressEvent) => void;
  /** Deliberate faults by configuration label (tests of the harness). */
  faults?: Record<string, Fault>;
  /** Keep only the configurations this accepts (e.g. skip slow engine × batch pairs). */
  only?: (c: Configuration) => boolean;
  /** Where model files are written (default: a fresh directory under the OS temp dir, removed at the end). */
  scratchDir?: string;
}

export interface Configuration {
  label: string;
  model: string;
  engine: EngineName;
  graph: GraphStyle | 'foreign';
  batch: number;
  threads: number;
  workers: number;
  session: SessionChoice;
  /** The naive path a user gets without vitopt. */
  baseline: boolean;
}

export interface Failure {
  /** Where it failed: the engine did not start, the model did not load, a run failed, the process died. */
  stage: 'prepare' | 'start' | 'load' | 'run' | 'process' | 'memory' | 'timeout';
  reason: string;
}

/** A model that could not be prepared, under the name its rows show. */
export type ModelFailure = Failure & { name: string };

/** How a model source is named in reports before (or without) being loaded: files by their base name. */
export function displayName(spec: string): string {
  return /\.(onnx|npz|safetensors)$/i.test(spec) ? path.basename(spec) : spec;
}

export interface ConfigResult extends Configuration {
  status: 'ok' | 'failed' | 'skipped';
  failure?: Failure;
  engineLabel: string;
  modelBytes?: number;
  int8?: boolean;
  imagesPerSecond?: Figure;
  /** Where the throughput spread comes from: process repeats, or groups of runs within one process. */
  spreadOver?: 'repeats' | 'slices';
  latencyMs?: { p50: number; p90: number; p95: number; p99: number; max: number; mean: number; runs: number; p50Spread: number | null };
  sessionCreateMs?: Figure;
  firstRunMs?: Figure;
  peakRssBytes?: Figure;
  /** Peak during loading, and during the runs alone (see Sample). */
  loadPeakRssBytes?: Figure;
  runPeakRssBytes?: Figure | null;
  rssBeforeLoadBytes?: number;
  gflopsPerImage?: number;
  roofline?: { precision: 'fp32' | 'int8'; boundImagesPerSecond: number; fraction: number; limitedBy: 'compute' | 'memory' };
  /** Throughput over the naive path's, same model, same run. */
  speedupVsBaseline?: number;
  /** Largest |difference| of the first output values against the model's first successful configuration. */
  maxAbsDiff?: number;
  settings?: Sample['settings'];
  samples: Omit<Sample, 'latenciesMs'>[];
}

export interface ModelSummary {
  model: string;
  baseline: { label: string; imagesPerSecond: number } | null;
  best: { label: string; imagesPerSecond: number; speedupVsBaseline: number | null; rooflineFraction: number | null } | null;
}

export interface BenchReport {
  tool: 'vitopt bench';
  date: string;
  machine: MachineInfo;
  settings: { duration?: number; iterations?: number; warmup: number; repeats: number; minIterations: number; memoryLimitBytes: number; timeoutS: number };
  engines: EngineAvailability[];
  profile: HardwareProfile | null;
  results: ConfigResult[];
  summary: ModelSummary[];
  notes: string[];
}


export type ProgressEvent =
  | { kind: 'prepare'; model: string }
  | { kind: 'engines'; engines: EngineAvailability[] }
  | { kind: 'start'; index: number; total: number; label: string; repeat: number; repeats: number }
  | { kind: 'child'; label: string; phase: 'load' | 'warmup' | 'measure'; done: number; total: number }
  | { kind: 'done'; label: string; sample?: Sample; failure?: Failure };

// --- child processes --------------------------------------------------------------------------------

const CHILD = new URL('./child.js', import.meta.url);

export interface ChildOutcome {
  messages: ChildMessage[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  killedFor?: 'memory' | 'timeout';
  maxObservedRssBytes: number;
}

function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Run one job in a fresh child process, watching its memory and time. */
export function runChild(job: ChildJob, o: { timeoutS: number; memoryLimitBytes: number; onMessage?: (m: ChildMessage) => void }): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [], serialization: 'json' });
    const messages: ChildMessage[] = [];
    let stderr = '';
    let killedFor: ChildOutcome['killedFor'];
    let maxObservedRssBytes = 0;
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8192); });
    child.on('message', (m: ChildMessage) => {
      messages.push(m);
      o.onMessage?.(m);
    });
    const watch = setInterval(() => {
      const rss = child.pid ? rssOf(child.pid) : null;
      if (rss === null) return;
      maxObservedRssBytes = Math.max(maxObservedRssBytes, rss);
      if (rss > o.memoryLimitBytes && !killedFor) {
        killedFor = 'memory';
        child.kill('SIGKILL');
      }
    }, 25);
    const timer = setTimeout(() => {
      if (!killedFor) {
        killedFor = 'timeout';
        child.kill('SIGKILL');
      }
    }, o.timeoutS * 1000);
    child.on('error', (e) => { stderr += `\n${e.message}`; });
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve({ messages, code, signal, stderr, killedFor, maxObservedRssBytes });
    });
    child.send(job);
  });
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** The reason a child gave no result, from what it said and how it ended. */
export function failureOf(out: ChildOutcome, o: { timeoutS: number; memoryLimitBytes: number }): Failure {
  const failed = out.messages.find((m): m is Extract<ChildMessage, { type: 'failed' }> => m.type === 'failed');
  if (out.killedFor === 'memory') {
    return { stage: 'memory', reason: `out of memory: resident memory passed the limit of ${mib(o.memoryLimitBytes)} (killed at ${mib(out.maxObservedRssBytes)})` };
  }
  if (out.killedFor === 'timeout') return { stage: 'timeout', reason: `timed out after ${o.timeoutS} s` };
  if (failed) return { stage: failed.stage, reason: failed.reason };
  if (/heap out of memory/i.test(out.stderr)) return { stage: 'memory', reason: 'out of memory (JavaScript heap)' };
  if (/bad_alloc|Failed to allocate memory|out of memory/i.test(out.stderr)) {
    return { stage: 'memory', reason: `out of memory (native allocation failed: ${lastLine(out.stderr)})` };
  }
  if (out.signal === 'SIGKILL') {
    return { stage: 'memory', reason: `killed by SIGKILL (most likely the system's out-of-memory killer; peak seen ${mib(out.maxObservedRssBytes)})` };
  }
  const tail = lastLine(out.stderr);
  if (out.signal) return { stage: 'process', reason: `the process crashed (${out.signal})${tail ? `: ${tail}` : ''}` };
  return { stage: 'process', reason: `the process exited with code ${out.code} without a result${tail ? `: ${tail}` : ''}` };
}

/** Start each engine once, in a child (GPU providers print to stderr and can crash). */
export async function probeEngines(engines: EngineName[], wasmThreads: number, o: { timeoutS?: number } = {}): Promise<EngineAvailability[]> {
  const out = await runChild({ kind: 'probe', engines, wasmThreads }, { timeoutS: o.timeoutS ?? 120, memoryLimitBytes: totalmem() });
  const probed = out.messages.find((m): m is Extract<ChildMessage, { type: 'probed' }> => m.type === 'probed');
  if (probed) return probed.engines;
  const f = failureOf(out, { timeoutS: o.timeoutS ?? 120, memoryLimitBytes: totalmem() });
  return engines.map((engine) => ({ engine, label: ENGINE_LABELS[engine], available: false, reason: `the engine probe failed: ${f.reason}` }));
}

// --- the run ----------------------------------------------------------------------------------------

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function configLabel(c: Omit<Configuration, 'label'>): string {
  if (c.baseline) return `${c.model} naive (portable graph, runtime defaults, batch ${c.batch})`;
  const s = c.session;
  const extra = [
    c.workers > 1 ? `w${c.workers}` : '',
    s.graphOptimization && s.graphOptimization !== 'all' ? `opt=${s.graphOptimization}` : '',
    s.arena === false ? 'no-arena' : '', s.memPattern === false ? 'no-mempattern' : '', s.spinning === false ? 'no-spin' : '',
    s.executionMode === 'parallel' ? 'parallel' : '',
  ].filter(Boolean);
  return `${c.model} ${c.engine} ${c.graph} b${c.batch} t${c.threads}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** Everything a run needs besides the configurations: model files, engines, limits. */
export class BenchContext {
  readonly models = new Map<string, PreparedModel | ModelFailure>();
  readonly engines = new Map<EngineName, EngineAvailability>();
  readonly notes: string[] = [];
  private constructor(readonly dir: string, private readonly ownDir: boolean, readonly o: Required<Pick<BenchOptions,
    'warmup' | 'repeats' | 'minIterations' | 'memoryLimitBytes' | 'timeoutS'>> & BenchOptions) {}

  static async open(o: BenchOptions): Promise<BenchContext> {
    if (!o.models.length) throw new UserError('bench: no model given');
    if (o.duration !== undefined && o.iterations !== undefined) throw new UserError('--duration and --iterations exclude each other');
    const dir = o.scratchDir ?? await fs.mkdtemp(path.join(tmpdir(), 'vitopt-bench-'));
    return new BenchContext(dir, !o.scratchDir, {
      ...o, warmup: o.warmup ?? 2, repeats: o.repeats ?? 3, minIterations: o.minIterations ?? 3,
      memoryLimitBytes: o.memoryLimitBytes ?? Math.floor(0.75 * totalmem()), timeoutS: o.timeoutS ?? 600,
    });
  }

  /** Prepare every model; a model that cannot be prepared is remembered as a failure. */
  async prepareModels(): Promise<void> {
    for (const src of this.o.models) {
      const key = typeof src === 'string' ? src : src.name;
      this.o.onProgress?.({ kind: 'prepare', model: key });
      try {
        const m = await prepareModel(src, this.dir);
        this.models.set(key, m);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        this.models.set(key, { stage: 'prepare', reason: e.message, name: displayName(key) });
      }
    }
  }

  /** Nothing can run when no model could be prepared: that is bad input, not a report. */
  assertSomeModel(): void {
    const failed = [...this.models.values()].filter((m): m is ModelFailure => 'stage' in m);
    if (failed.length === this.models.size) throw new UserError(failed[0]!.reason);
  }

  /** Probe the engines (wasm with the largest thread count asked for; one thread if that fails). */
  async probeEngines(engines: EngineName[], threads: number[]): Promise<void> {
    const wasmThreads = Math.max(...threads, 0);
    const found = await probeEngines(engines, wasmThreads);
    for (const e of found) this.engines.set(e.engine, e);
    const w = this.engines.get('wasm');
    if (w && !w.available && wasmThreads !== 1) {
      const [single] = await probeEngines(['wasm'], 1);
      if (single!.available) {
        const note = `multi-threaded wasm did not start here (${w.reason}); wasm runs with 1 thread`;
        this.engines.set('wasm', { ...single!, notes: [...(single!.notes ?? []), note] });
        this.notes.push(note);
        this.wasmSingleThread = true;
      }
    }
    this.o.onProgress?.({ kind: 'engines', engines: [...this.engines.values()] });
  }
  wasmSingleThread = false;
  /** A tighter memory limit for the children (the batch search stops a child well past the budget). */
  memoryLimitOverride: number | null = null;

  modelKey(src: ModelSource): string {
    return typeof src === 'string' ? src : src.name;
  }

  /** One measurement of one configuration (one child process). */
  async measureOnce(c: Configuration, file: ModelFile, resolution: number): Promise<{ sample?: Sample; failure?: Failure }> {
    const job: MeasureJob = {
      kind: 'measure', engine: c.engine, modelPath: file.path, label: c.label, batch: c.batch, imageDims: [3, resolution, resolution],
      options: c.baseline ? { runtimeDefaults: true } : { ...c.session, threads: c.engine === 'wasm' && this.wasmSingleThread ? 1 : c.threads },
      workers: c.workers, warmup: this.o.warmup, minIterations: this.o.minIterations, slices: 5,
      ...(this.o.iterations !== undefined ? { iterations: this.o.iterations } : { duration: this.o.duration ?? 3 }),
      fault: this.o.faults?.[c.label],
    };
    const limits = { timeoutS: this.o.timeoutS, memoryLimitBytes: this.memoryLimitOverride ?? this.o.memoryLimitBytes };
    const out = await runChild(job, {
      ...limits,
      onMessage: (m) => { if (m.type === 'progress') this.o.onProgress?.({ kind: 'child', label: c.label, phase: m.phase, done: m.done, total: m.total }); },
    });
    const res = out.messages.find((m): m is Extract<ChildMessage, { type: 'result' }> => m.type === 'result');
    const r = res ? { sample: res.sample } : { failure: failureOf(out, limits) };
    this.o.onProgress?.({ kind: 'done', label: c.label, ...r });
    return r;
  }

  async close(): Promise<void> {
    if (this.ownDir) await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** The configurations of a run, in order: per model the baseline first, then the grid. */
export function planConfigurations(o: BenchOptions, ctx: { models: Map<string, PreparedModel | ModelFailure> }): Configuration[] {
  const engines = uniq<EngineName>(o.engines ?? ['cpu']);
  const batches = uniq(o.batches ?? [1]);
  const threads = uniq(o.threads ?? [availableParallelism()]);
  const workers = uniq(o.workers ?? [1]);
  const graphs = uniq<GraphChoice>(o.graphs ?? ['auto']);
  const session = o.session ?? {};
  const out: Configuration[] = [];
  const push = (c: Omit<Configuration, 'label'>) => {
    const label = configLabel(c);
    if (o.only && !o.only({ ...c, label })) return;
    if (!out.some((x) => x.label === label)) out.push({ ...c, label });
  };
  for (const src of o.models) {
    const key = typeof src === 'string' ? src : src.name;
    const m = ctx.models.get(key);
    const name = m ? m.name : key;
    const fixed = m && !('stage' in m) ? m.fixed : null;
    if (o.baseline ?? true) {
      for (const batch of uniq(o.baselineBatches ?? [1])) {
        push({ model: name, engine: 'cpu', graph: fixed ? fixed.style : 'portable', batch, threads: 0, workers: 1, session: {}, baseline: true });
      }
    }
    for (const engine of engines) {
      for (const g of graphs) {
        const graph = fixed ? fixed.style : g === 'auto' ? defaultGraphStyle(engine) : g;
        for (const batch of batches) for (const t of threads) for (const w of workers) {
          push({ model: name, engine, graph, batch, threads: t, workers: w, session, baseline: false });
        }
      }
    }
  }
  return out;
}

function resultOf(c: Configuration, samples: Sample[], failure: Failure | undefined, status: ConfigResult['status'],
  model: PreparedModel | null, file: ModelFile | null, profile: HardwareProfile | null): ConfigResult {
  const r: ConfigResult = { ...c, status, engineLabel: ENGINE_LABELS[c.engine], samples: samples.map(({ latenciesMs: _l, ...s }) => s) };
  if (failure) r.failure = failure;
  if (file) {
    r.modelBytes = file.bytes;
    r.int8 = file.int8;
  }
  const config: ModelConfig | null = model?.config ?? null;
  if (config) r.gflopsPerImage = (2 * totalMacs(config)) / 1e9;
  if (!samples.length) return r;
  r.settings = samples[0]!.settings;
  const ips = samples.map((s) => s.imagesPerSecond);
  r.imagesPerSecond = figure(ips);
  if (samples.length < 2) {
    const within = summarize(samples[0]!.sliceImagesPerSecond);
    r.imagesPerSecond.spread = within.n >= 2 ? (within.max - within.min) / within.median : null;
    r.spreadOver = 'slices';
  } else {
    r.spreadOver = 'repeats';
  }
  const lat = summarize(samples.flatMap((s) => s.latenciesMs));
  r.latencyMs = { p50: lat.median, p90: lat.p90, p95: lat.p95, p99: lat.p99, max: lat.max, mean: lat.mean, runs: lat.n,
    p50Spread: figure(samples.map((s) => summarize(s.latenciesMs).median)).spread };
  r.sessionCreateMs = figure(samples.map((s) => s.sessionCreateMs));
  r.firstRunMs = figure(samples.map((s) => s.firstRunMs));
  r.peakRssBytes = figure(samples.map((s) => s.peakRssBytes));
  r.loadPeakRssBytes = figure(samples.map((s) => s.loadPeakRssBytes));
  r.runPeakRssBytes = samples.every((s) => s.runPeakRssBytes !== null) ? figure(samples.map((s) => s.runPeakRssBytes!)) : null;
  r.rssBeforeLoadBytes = figure(samples.map((s) => s.rssBeforeLoadBytes)).median;
  if (config && profile) {
    const bound = rooflineBound(config, c.batch, profile);
    const point = file?.int8 && bound.int8 ? bound.int8 : bound.fp32;
    r.roofline = { precision: point.precision, boundImagesPerSecond: point.imagesPerSecond, fraction: r.imagesPerSecond.median / point.imagesPerSecond,
      limitedBy: point.limitedBy };
  }
  return r;
}

/** Speed-ups over the baseline, agreement of outputs, per-model summary. */
export function finishResults(results: ConfigResult[]): ModelSummary[] {
  const summary: ModelSummary[] = [];
  for (const model of uniq(results.map((r) => r.model))) {
    const rows = results.filter((r) => r.model === model);
    const base = rows.find((r) => r.baseline && r.status === 'ok' && r.batch === 1) ?? rows.find((r) => r.baseline && r.status === 'ok');
    const ref = rows.find((r) => r.status === 'ok' && r.samples[0]?.firstLogits.length);
    for (const r of rows) {
      if (r.status !== 'ok') continue;
      if (base) r.speedupVsBaseline = r.imagesPerSecond!.median / base.imagesPerSecond!.median;
      if (ref && r.samples[0]) {
        const a = ref.samples[0]!.firstLogits, b = r.samples[0].firstLogits;
        r.maxAbsDiff = a.length === b.length ? Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]!))) : undefined;
      }
    }
    const ok = rows.filter((r) => r.status === 'ok' && !r.baseline);
    const best = ok.sort((a, b) => b.imagesPerSecond!.median - a.imagesPerSecond!.median)[0];
    summary.push({
      model,
      baseline: base ? { label: base.label, imagesPerSecond: base.imagesPerSecond!.median } : null,
      best: best ? { label: best.label, imagesPerSecond: best.imagesPerSecond!.median, speedupVsBaseline: best.speedupVsBaseline ?? null,
        rooflineFraction: best.roofline?.fraction ?? null } : null,
    });
  }
  return summary;
}

/** Measure a list of configurations (interleaved repeats) in an open context. */
export async function measureConfigurations(ctx: BenchContext, configs: Configuration[], repeats: number): Promise<ConfigResult[]> {
  const samples = new Map<string, Sample[]>();
  const failures = new Map<string, Failure>();
  const skipped = new Map<string, Failure>();
  const files = new Map<string, ModelFile>();
  const profile = ctx.o.profile ?? null;
  // What cannot run at all: models that failed to prepare, engines that are not usable.
  for (const c of configs) {
    const m = ctx.models.get(modelKeyOf(ctx, c.model));
    if (!m) throw new Error(`internal: model ${c.model} not prepared`);
    if ('stage' in m) { failures.set(c.label, { stage: m.stage, reason: m.reason }); continue; }
    const e = ctx.engines.get(c.engine);
    if (e && !e.available) { skipped.set(c.label, { stage: 'start', reason: e.reason ?? 'not available' }); continue; }
    try {
      files.set(c.label, await m.file(c.graph === 'foreign' ? 'ort' : c.graph));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      failures.set(c.label, { stage: 'prepare', reason: err.message });
    }
  }
  const runnable = configs.filter((c) => files.has(c.label));
  let index = 0;
  const total = runnable.length * repeats;
  for (let rep = 0; rep < repeats; rep++) {
    for (const c of runnable) {
      index++;
      if (failures.has(c.label)) continue; // failed in an earlier repeat: do not retry
      ctx.o.onProgress?.({ kind: 'start', index, total, label: c.label, repeat: rep + 1, repeats });
      const m = ctx.models.get(modelKeyOf(ctx, c.model)) as PreparedModel;
      const r = await ctx.measureOnce(c, files.get(c.label)!, m.resolution);
      if (r.sample) samples.set(c.label, [...(samples.get(c.label) ?? []), r.sample]);
      else failures.set(c.label, r.failure!);
    }
  }
  return configs.map((c) => {
    const m = ctx.models.get(modelKeyOf(ctx, c.model));
    const model = m && !('stage' in m) ? m : null;
    const s = samples.get(c.label) ?? [];
    const f = failures.get(c.label) ?? skipped.get(c.label);
    const status = skipped.has(c.label) ? 'skipped' : failures.has(c.label) ? 'failed' : 'ok';
    return resultOf(c, s, f, status, model, files.get(c.label) ?? model?.fixed ?? null, profile);
  });
}

function modelKeyOf(ctx: BenchContext, name: string): string {
  for (const [k, m] of ctx.models) if (k === name || m.name === name) return k;
  return name;
}

export function benchSettings(ctx: BenchContext): BenchReport['settings'] {
  const o = ctx.o;
  return { ...(o.iterations !== undefined ? { iterations: o.iterations } : { duration: o.duration ?? 3 }), warmup: o.warmup,
    repeats: o.repeats, minIterations: o.minIterations, memoryLimitBytes: o.memoryLimitBytes, timeoutS: o.timeoutS };
}

/** Run a benchmark: prepare the models, probe the engines, measure every configuration, summarize. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  validateOptions(o);
  const ctx = await BenchContext.open(o);
  try {
    await ctx.prepareModels();
    ctx.assertSomeModel();
    const configs = planConfigurations(o, ctx);
    await ctx.probeEngines(uniq(configs.map((c) => c.engine)), o.threads ?? [availableParallelism()]);
    for (const m of ctx.models.values()) if (!('stage' in m)) await Promise.all(uniq(configs.filter((c) => c.model === m.name && c.graph !== 'foreign')
      .map((c) => c.graph as GraphStyle)).map((g) => m.file(g).catch(() => undefined)));
    for (const m of ctx.models.values()) if (!('stage' in m)) m.drop();
    const results = await measureConfigurations(ctx, configs, ctx.o.repeats);
    const notes = [...ctx.notes];
    for (const r of results) for (const n of r.settings?.notes ?? []) if (!notes.includes(n)) notes.push(n);
    return {
      tool: 'vitopt bench', date: new Date().toISOString(), machine: machineInfo(), settings: benchSettings(ctx),
      engines: [...ctx.engines.values()], profile: o.profile ?? null, results, summary: finishResults(results), notes,
    };
  } finally {
    await ctx.close();
  }
}

export function validateOptions(o: BenchOptions): void {
  const ints = (name: string, xs: number[] | undefined, min: number) => {
    for (const x of xs ?? []) if (!Number.isInteger(x) || x < min) throw new UserError(`${name} must be integers >= ${min}, not ${x}`);
  };
  ints('--batch', o.batches, 1);
  ints('--threads', o.threads, 0);
  ints('--workers', o.workers, 1);
  if (o.duration !== undefined && !(o.duration > 0)) throw new UserError('--duration must be > 0 seconds');
  if (o.iterations !== undefined && (!Number.isInteger(o.iterations) || o.iterations < 1)) throw new UserError('--iterations must be an integer >= 1');
  if (o.repeats !== undefined && (!Number.isInteger(o.repeats) || o.repeats < 1)) throw new UserError('--repeats must be an integer >= 1');
}
