/**
 * `tune(options)`: from a model and constraints to the fastest model that still meets them.
 *
 *   1. baseline      the input exported as given (fp32, default graph): accuracy on the full split,
 *                    or the float reference for quality without labels
 *   2. artifacts     every recipe of the fixed pipeline (space.ts): prune -> graph style -> quantize
 *   3. speed probe   one short child-process measurement each, interleaved with the baseline; a
 *                    candidate that misses a constraint by a wide margin stops here
 *   4. accuracy      the survivors on a screen (the first images of the split), paired with the
 *                    baseline; clearly over budget stops here
 *   5. speed rounds  the rest of the interleaved rounds; with --find-batch, the batch curve of the best
 *   6. decision      constraints filter, the Pareto front, one choice by the stated rule; front points
 *                    measured only on the screen are evaluated on the full split and decided again
 *   7. outputs       model.onnx (with provenance), report.{md,html,json}, reproduce.sh, the run store
 *
 * Every stage checks the time budget; when it runs out the decision is made on what was measured and
 * the report says so. A candidate that fails (a crash, out of memory, an error) is recorded with the
 * reason and the search goes on.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { openDataSpec } from '../data/data-spec.js';
import { trainSplitSpec } from '../compress/quantize/calibration-data.js';
import { machineInfo } from '../bench/machine.js';
import { loadModel, saveModel } from '../formats/onnx.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageVersion, runtimeVersion } from './versions.js';
import { resolveTuneInput } from './input.js';
import { buildSpace, candidateLabel, DEFAULT_PRUNE_LEVELS, type ArtifactRecipe, recipeKey } from './space.js';
import { type Artifact, ArtifactBuilder, type StageCache } from './artifacts.js';
import { paired, predictions, type Predictions, QualityReference, qualityInputs } from './accuracy.js';
import { measureOnce, type SpeedJob, SpeedLog, speedFigures, type SpeedSettings } from './speed.js';
import type { Failure } from '../bench/runner.js';
import type { Sample } from '../bench/protocol.js';
import { decide } from './decide.js';
import { candidateId, DEFAULT_STORE, hardwareFingerprint, RunStore, simdFlags } from './store.js';
import { renderMarkdown, sig3, verdict } from './report.js';
import { renderHtml } from './html.js';
import { reproduceScript } from './reproduce.js';
import type { Candidate, Constraints, Objective, TuneEngine, TuneReport } from './types.js';

export interface TuneOptions {
  model: string;
  /** Labelled data: accuracy on it; calibration from its training split where it has one. */
  data?: string;
  /** Calibration images (pruning refit, static INT8 ranges); default: the training split of `data`, else `data`. */
  calibrationData?: string;
  /** Output directory. */
  output: string;
  constraints: Constraints;
  objective?: Objective;
  engine?: TuneEngine;
  /** Batch of the baseline and of every candidate (default 8; 1 for --objective latency). */
  batch?: number;
  /** Also search the batch size for the best candidates (up to maxBatch). */
  findBatch?: boolean;
  maxBatch?: number;
  /** Intra-op threads (default: the CPUs this process may use). */
  threads?: number;
  /** Seconds; the search stops with the best so far. */
  timeBudgetS?: number;
  store?: string;
  /** Reuse speed measurements of an interrupted run (artifacts and accuracy are always reused). */
  resume?: boolean;
  pruneLevels?: number[];
  /** Token Merging levels, tokens merged per block (default: none; e.g. [0, 4, 8]). */
  mergeLevels?: number[];
  calibrationSize?: number;
  /** Images of the accuracy screen (default 1000). */
  screenSize?: number;
  /** At most this many images of the evaluation split. */
  evalSize?: number;
  /** Interleaved speed rounds (default 3) and seconds per measurement (default 1.5). */
  rounds?: number;
  duration?: number;
  /** The command line, for the report. */
  command?: string;
  onEvent?: (e: TuneEvent) => void;
}

export type TuneEvent =
  | { kind: 'stage'; stage: string; detail?: string }
  | { kind: 'progress'; stage: string; what: string; done: number; total: number; etaS: number | null; best: string | null }
  | { kind: 'note'; text: string };

export interface TuneResult {
  report: TuneReport;
  /** True when a candidate met every constraint (the CLI exits 3 otherwise). */
  feasible: boolean;
}

export const DEFAULT_TUNE_CALIBRATION = 256;
export const DEFAULT_SCREEN = 1000;
export const META_TUNE = 'vitopt.tune';

/** Checks that need nothing but the options (the CLI calls it before loading anything). */
export function validateTuneOptions(o: TuneOptions): void {
  const c = o.constraints;
  const pos = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new UserError(`${flag} ${v}: must be a positive number`);
  };
  if (c.maxDrop !== undefined && !(Number.isFinite(c.maxDrop) && c.maxDrop >= 0)) throw new UserError(`--max-drop ${c.maxDrop}: must be >= 0 (top-1 percentage points)`);
  if (c.minAccuracy !== undefined && !(c.minAccuracy > 0 && c.minAccuracy <= 100)) throw new UserError(`--min-accuracy ${c.minAccuracy}: must be a percentage in (0, 100]`);
  pos('--latency-slo', c.latencySloMs);
  pos('--memory-budget', c.memoryBudgetBytes);
  pos('--min-throughput', c.minThroughput);
  pos('--time-budget', o.timeBudgetS);
  if (o.batch !== undefined && o.findBatch) throw new UserError('--batch and --find-batch exclude each other (--find-batch starts from batch 8 and searches)');
  for (const p of o.pruneLevels ?? []) if (!(p > 0 && p <= 1)) throw new UserError(`--prune ${p}: FLOPs kept must be in (0, 1]`);
  if ((c.maxDrop !== undefined || c.minAccuracy !== undefined) && !o.data) {
    throw new UserError(`${c.maxDrop !== undefined ? '--max-drop' : '--min-accuracy'} needs --data <spec>: accuracy is measured on labelled data`);
  }
  if (o.rounds !== undefined && !(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new UserError(`--rounds ${o.rounds}: must be an integer >= 1`);
}

class Clock {
  private readonly t0 = performance.now();
  private stageStart = performance.now();
  private current = '';
  readonly timeline: { stage: string; seconds: number }[] = [];
  constructor(private readonly budgetS: number | undefined) {}
  elapsed(): number { return (performance.now() - this.t0) / 1000; }
  over(): boolean { return this.budgetS !== undefined && this.elapsed() > this.budgetS; }
  stage(name: string): void {
    this.close();
    this.current = name;
    this.stageStart = performance.now();
  }
  close(): void {
    if (this.current) this.timeline.push({ stage: this.current, seconds: (performance.now() - this.stageStart) / 1000 });
    this.current = '';
  }
}

/** A candidate in the making: the artifact and the figures as they come in. */
interface Working {
  c: Candidate;
  /** The compression recipe behind the artifact (null for a candidate never built). */
  recipe: ArtifactRecipe | null;
  artifact: Artifact | null;
  job: SpeedJob | null;
  preds?: Predictions;
}

const fmtX = (x: number) => `${x.toFixed(2)}×`;

export async function tune(o: TuneOptions): Promise<TuneResult> {
  validateTuneOptions(o);
  const emit = o.onEvent ?? (() => {});
  const clock = new Clock(o.timeBudgetS);
  const objective = o.objective ?? 'throughput';
  const engine = o.engine ?? 'cpu';
  const threads = o.threads || availableParallelism();
  const batch = o.batch ?? (objective === 'latency' && !o.findBatch ? 1 : 8);
  const c = o.constraints;
  const notes: string[] = [];
  const stage = (name: string, detail?: string) => { clock.stage(name); emit({ kind: 'stage', stage: name, detail }); };

  clock.stage('load model and data');
  const input = await resolveTuneInput(o.model);
  if (input.randomWeights && (c.maxDrop !== undefined || c.minAccuracy !== undefined)) {
    throw new UserError(`${o.model} has random weights: there is no accuracy to hold --max-drop / --min-accuracy to; drop them (the tune then optimizes speed, with SQNR and agreement against fp32 as the quality signal)`);
  }
  const evalData: Dataset | null = o.data ? await openDataSpec(o.data) : null;
  const trainSplit = o.data ? trainSplitSpec(o.data) : null;
  const calibSpec = o.calibrationData ?? trainSplit ?? o.data ?? null;
  if (o.data && !o.calibrationData && !trainSplit) notes.push(`calibration images are drawn from --data ${o.data} itself (no training split known for it)`);
  const calibData = calibSpec ? (calibSpec === o.data ? evalData : await openDataSpec(calibSpec)) : null;
  const hasAccuracy = !input.randomWeights && evalData !== null;
  if (input.randomWeights) notes.push('random weights: no accuracy to measure; the tune optimizes speed only, with output SQNR and top-1 agreement against the fp32 model on the calibration inputs as the quality signal');
  else if (!evalData) notes.push('no --data: no accuracy measured; quality is output SQNR and agreement against the fp32 model on noise inputs, and pruning (which needs calibration images) is left out');
  const fp32Bytes = (await import('../formats/onnx.js')).encodedSize(input.fp32(input.baselineStyle));
  if (c.memoryBudgetBytes !== undefined && c.memoryBudgetBytes < 40 * 2 ** 20 + 0.1 * fp32Bytes) {
    throw new UserError(`--memory-budget ${(c.memoryBudgetBytes / 2 ** 20).toFixed(0)} MiB: smaller than any variant of this model can need ` +
      `(Node and ONNX Runtime alone take about 40 MiB; the model's fp32 weights are ${(fp32Bytes / 2 ** 20).toFixed(1)} MiB)`);
  }
  await fs.mkdir(o.output, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`-o ${o.output}: cannot create the output directory (${e.code})`);
  });
  const outStat = await fs.stat(o.output);
  if (!outStat.isDirectory()) throw new UserError(`-o ${o.output}: not a directory`);

  const runtime = runtimeVersion(engine);
  const hardware = hardwareFingerprint();
  const calibrationSize = o.calibrationSize ?? DEFAULT_TUNE_CALIBRATION;
  const space = buildSpace({
    engine, objective, pruneLevels: o.pruneLevels ?? DEFAULT_PRUNE_LEVELS,
    cannotPrune: input.cannotPrune ?? (calibData ? null : 'structured pruning refits on calibration images: give --data'),
    cannotQuantize: input.cannotQuantize, hasCalibration: calibData !== null, styles: input.styles,
    mergeLevels: o.mergeLevels, cannotMerge: input.config?.family !== 'vit' ? 'Token Merging needs a ViT: an MLP-Mixer\'s token-mixing weights are per position'
      : input.cannotPrune ? `Token Merging rebuilds the graph: ${input.cannotPrune}` : null,
  });
  if (input.config?.family === 'vit' && !input.cannotPrune) {
    const { checkMergeSchedule } = await import('../models/tome.js');
    for (const m of o.mergeLevels ?? []) if (m > 0) checkMergeSchedule(input.config, m);
  }

  const store = RunStore.open(o.store ?? DEFAULT_STORE);
  const expId = candidateId({ parent: input.id, stage: 'tune', hardware, runtime,
    settings: { data: o.data ?? null, constraints: c, objective, engine, batch, findBatch: !!o.findBatch, threads: o.threads ?? null, recipes: space.recipes.map(recipeKey),
      calibrationSize, screen: o.screenSize ?? DEFAULT_SCREEN, evalSize: o.evalSize ?? null } });
  store.startExperiment({ id: expId, name: `tune ${o.model}`, params: { model: o.model, data: o.data ?? '', objective, engine, batch, threads } });
  // Ctrl-C (or a kill): every store write is a transaction of its own, so marking the job and closing is all there is to do.
  const onSignal = (signal: NodeJS.Signals) => {
    try { store.finishExperiment(expId, 'interrupted'); store.close(); } catch { /* closing anyway */ }
    process.stderr.write(`\nvitopt tune: interrupted; the run store is consistent. Run the same command with --resume to continue.\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const scratch = await fs.mkdtemp(path.join(tmpdir(), 'vitopt-tune-'));
  try {
    const cache: StageCache = {
      get: (id) => {
        const r = store.finishedRun(id);
        const p = r?.status === 'done' && r.artifact ? store.artifactPath(r.artifact.sha256) : null;
        return p ? { bytes: new Uint8Array(readFileSync(p)), notes: r!.tags.notes ? JSON.parse(r!.tags.notes) as string[] : [] } : null;
      },
      put: (id, bytes, info) => {
        const a = store.putArtifact(bytes);
        const now = new Date().toISOString();
        store.saveRun({ id, experimentId: expId, label: info.label, stage: info.stage, status: 'done', params: info.settings,
          metrics: { seconds: info.seconds, bytes: bytes.length }, tags: info.notes.length ? { notes: JSON.stringify(info.notes) } : {},
          artifact: { sha256: a.sha256, bytes: a.bytes }, startedAt: now, endedAt: now });
      },
    };
    const builder = new ArtifactBuilder({
      input, scratch, engine: { threads }, runtime, cache,
      calibration: calibData ? { data: calibData, spec: calibSpec!, size: calibrationSize } : null,
      // The guard searches on the calibration split (not on the images the drop is then judged on).
      guard: hasAccuracy && c.maxDrop !== undefined && calibData
        ? { maxDrop: c.maxDrop, data: calibData, spec: calibSpec!, images: o.screenSize ?? DEFAULT_SCREEN } : undefined,
      onProgress: (stage, done, total) => emit({ kind: 'progress', stage: 'build', what: stage, done, total, etaS: null, best: null }),
    });
    const speed: SpeedSettings = { engine, resolution: input.resolution, duration: o.duration ?? 1.5,
      memoryLimitBytes: Math.floor(0.75 * totalmem()), timeoutS: 900 };

    // 1. Baseline.
    stage('baseline', `fp32 · ${input.baselineStyle} · b${batch} t${threads}${hasAccuracy ? `; accuracy on ${o.data}` : ''}`);
    const baseRecipe: ArtifactRecipe = { prune: 1, style: input.baselineStyle, quant: 'none' };
    const baseArtifact = await builder.build(baseRecipe);
    const baseline: Working = work(baseRecipe, baseArtifact, batch, threads, engine, runtime, hardware);
    const evalOpts = { limit: o.evalSize, resolution: input.resolution, normalize: input.normalize, labels: input.labels, engine: { threads } };
    let basePreds: Predictions | null = null;
    let quality: QualityReference | null = null;
    if (hasAccuracy) {
      basePreds = await cachedPredictions(store, expId, baseArtifact, evalData!, o.data!, evalOpts, (d, t) =>
        emit({ kind: 'progress', stage: 'baseline', what: 'accuracy', done: d, total: t, etaS: null, best: null }));
      baseline.preds = basePreds;
      baseline.c.accuracy = paired(basePreds, basePreds, 'full');
    } else {
      quality = await QualityReference.create(baseArtifact.file, await qualityInputs(calibData, 32, input.resolution, input.normalize), { threads });
      baseline.c.quality = await quality.compare(baseArtifact.file);
    }
    const screenSize = Math.min(o.screenSize ?? DEFAULT_SCREEN, basePreds?.pred.length ?? 0);
    // The naive path: the portable graph with ONNX Runtime's defaults, same batch (an ONNX input: the file as it is).
    const naiveArtifact = input.styles.includes('portable') ? await builder.build({ prune: 1, style: 'portable', quant: 'none' }) : baseArtifact;
    const naiveJob: SpeedJob = { key: 'naive', file: naiveArtifact.file, batch, threads: 0, runtimeDefaults: true };

    // 2. Artifacts.
    stage('build artifacts');
    const cands: Working[] = [];
    const recipes = space.recipes.filter((r) => recipeKey(r) !== recipeKey(baseRecipe));
    for (const [i, r] of recipes.entries()) {
      if (clock.over()) { cands.push(stopped(r, batch, threads, 'time budget reached before it was built')); continue; }
      emit({ kind: 'progress', stage: 'build', what: candidateLabel(r, batch, threads), done: i, total: recipes.length, etaS: null, best: null });
      try {
        const a = await builder.build(r);
        cands.push(work(r, a, batch, threads, engine, runtime, hardware));
      } catch (e) {
        const w = stopped(r, batch, threads, `failed to build: ${(e as Error).message.split('\n')[0]}`);
        w.c.status = 'failed';
        cands.push(w);
      }
    }
    emit({ kind: 'progress', stage: 'build', what: 'done', done: recipes.length, total: recipes.length, etaS: null, best: null });

    // 3. Speed probe: round 1 for everyone.
    stage('speed probe');
    const log = new SpeedLog();
    const rec = speedRecorder(store, expId, log, !!o.resume);
    const rounds = o.rounds ?? 3;
    const live = () => cands.filter((w) => w.c.status === 'ok' && w.job);
    await speedRound(1, [baseline, ...live()], naiveJob, log, speed, clock, emit, 'probe', rec);
    for (const w of [baseline, ...cands]) refreshSpeed(w, log, baseline);
    for (const w of live()) {
      const why = probeStop(w.c, c, objective);
      if (why) { w.c.status = 'stopped'; w.c.reason = why; }
    }

    // 4. Accuracy screen (or quality without labels).
    stage(hasAccuracy ? 'accuracy screen' : 'quality');
    for (const [i, w] of live().entries()) {
      if (clock.over()) { w.c.status = 'stopped'; w.c.reason = 'time budget reached before its accuracy was measured'; continue; }
      emit({ kind: 'progress', stage: hasAccuracy ? 'accuracy' : 'quality', what: w.c.label, done: i, total: live().length, etaS: null, best: null });
      try {
        if (hasAccuracy) {
          w.preds = await cachedPredictions(store, expId, w.artifact!, evalData!, o.data!, { ...evalOpts, limit: screenSize });
          w.c.accuracy = paired(basePreds!, w.preds, screenSize < basePreds!.pred.length ? 'screen' : 'full');
          const why = screenStop(w.c, c);
          if (why) { w.c.status = 'stopped'; w.c.reason = why; }
        } else {
          w.c.quality = await quality!.compare(w.artifact!.file);
        }
      } catch (e) {
        w.c.status = 'failed';
        w.c.reason = `accuracy run failed: ${(e as Error).message.split('\n')[0]}`;
      }
    }

    // 4b. INT8 over the drop budget on the screen: the accuracy guard returns its most sensitive layers to
    // float (NNCF's accuracy control). Only for unpruned models: a pruned model's drop is mostly the
    // pruning's, which no quantization fallback can give back.
    const maxDrop = c.maxDrop;
    if (hasAccuracy && maxDrop !== undefined && calibData) {
      const over = cands.filter((w): w is Working & { artifact: Artifact } => w.c.status !== 'failed' && w.artifact !== null && w.c.spec.prune === 1 && (w.c.spec.quant === 'dynamic' || w.c.spec.quant === 'static') &&
        (w.c.accuracy?.drop ?? 0) > maxDrop);
      if (over.length) stage('accuracy guard');
      for (const w of over) {
        if (clock.over()) break;
        const r: ArtifactRecipe = { prune: w.c.spec.prune, style: w.c.spec.style, quant: w.c.spec.quant, guard: true, ...(w.c.spec.merge ? { merge: w.c.spec.merge } : {}) };
        emit({ kind: 'progress', stage: 'accuracy guard', what: candidateLabel(r, batch, threads), done: 0, total: 1, etaS: null, best: null });
        try {
          const g = work(r, await builder.build(r), batch, threads, engine, runtime, hardware);
          if (g.artifact!.sha256 === w.artifact.sha256) {
            notes.push(`${g.c.label}: the accuracy guard reverted nothing (on its search images the drop against its own fp32 parent already fits)`);
            continue;
          }
          g.preds = await cachedPredictions(store, expId, g.artifact!, evalData!, o.data!, { ...evalOpts, limit: screenSize });
          g.c.accuracy = paired(basePreds!, g.preds, screenSize < basePreds!.pred.length ? 'screen' : 'full');
          notes.push(...g.artifact!.notes.map((n) => `${g.c.label}: ${n}`));
          await speedRound(1, [baseline, g], naiveJob, log, speed, clock, emit, 'probe (guard)', rec);
          cands.push(g);
        } catch (e) {
          notes.push(`${candidateLabel(r, batch, threads)}: the accuracy guard failed: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }

    // 5. The remaining speed rounds.
    stage('speed rounds');
    for (let r = 2; r <= rounds; r++) {
      if (clock.over()) break;
      await speedRound(r, [baseline, ...live()], naiveJob, log, speed, clock, emit, `round ${r}/${rounds}`, rec);
    }
    for (const w of [baseline, ...cands]) refreshSpeed(w, log, baseline);

    // 5b. Threads and batch for the best few (speed only: accuracy carries over).
    const all = () => [baseline, ...cands];
    const search = {
      threads: o.threads ? [o.threads] : [...new Set([threads, ...Array.from({ length: availableParallelism() }, (_, i) => i + 1)])],
      batches: o.findBatch ? Array.from({ length: Math.floor(Math.log2(o.maxBatch ?? 64)) + 1 }, (_, i) => 2 ** i) : [batch],
    };
    if ((search.threads.length > 1 || search.batches.length > 1) && !clock.over()) {
      stage(o.findBatch ? 'threads and batch search' : 'threads search');
      await settingsSearch(all, cands, baseline, c, objective, hasAccuracy, search, log, speed, clock, emit, rounds, engine, runtime, hardware);
    }

    // 6. Decision; front points measured only on the screen get the full split, then decide again.
    stage('decision');
    let decision = decide(baseline.c, all().map((w) => w.c), c, objective, { hasAccuracy });
    for (let pass = 0; hasAccuracy && pass < 3; pass++) {
      const toConfirm = all().filter((w) => (decision.front.includes(w.c.id) || w.c.id === decision.chosen) && w.c.accuracy?.fidelity === 'screen');
      if (!toConfirm.length || clock.over()) break;
      for (const w of toConfirm) {
        emit({ kind: 'progress', stage: 'accuracy', what: `full split: ${w.c.label}`, done: 0, total: 1, etaS: null, best: null });
        const preds = await cachedPredictions(store, expId, w.artifact!, evalData!, o.data!, evalOpts);
        for (const x of all()) if (x.artifact?.sha256 === w.artifact!.sha256) { x.preds = preds; x.c.accuracy = paired(basePreds!, preds, 'full'); }
      }
      decision = decide(baseline.c, all().map((w) => w.c), c, objective, { hasAccuracy });
    }
    if (clock.over()) notes.push('the time budget ran out: the decision is made on what was measured (see the stopped candidates)');

    const chosen = all().find((w) => w.c.id === decision.chosen) ?? null;
    const naive = speedFigures(log, 'naive', baseline.c.id);
    const sameSettings = chosen ? all().find((w) => w.artifact?.sha256 === chosen.artifact?.sha256 && w.c.spec.batch === batch && w.c.spec.threads === threads) : null;
    const report: TuneReport = {
      tool: 'vitopt tune', version: packageVersion(), date: new Date().toISOString(), machine: machineInfo(), cpuFlags: simdFlags(readCpuinfo()),
      runtime, command: o.command ?? `vitopt tune ${o.model}`, model: o.model, data: o.data ?? null, engine, objective, constraints: c,
      minTop1: hasAccuracy ? minTop1(c, baseline.c) : null, hasAccuracy,
      baseline: baseline.c, naive: naive ? { imagesPerSecond: naive.imagesPerSecond, ratioToBaseline: naive.ratio } : null,
      candidates: all().map((w) => w.c), dropped: space.dropped, decision,
      speedup: {
        sameSettings: sameSettings?.c.speed?.ratio ?? null,
        chosenSettings: chosen?.c.speed?.ratio ?? null,
        vsNaive: chosen?.c.speed && naive ? chosen.c.speed.ratio / naive.ratio : null,
      },
      timeline: [], stoppedEarly: clock.over() ? `--time-budget ${o.timeBudgetS} s reached after ${clock.elapsed().toFixed(0)} s` : null,
      notes, outputs: [],
    };

    // 7. Outputs: everything rendered first, then written, each file atomically.
    stage('write outputs');
    const files: { name: string; data: string }[] = [];
    if (chosen) {
      const model = await loadModel(chosen.artifact!.file);
      const props = (model.metadataProps ??= []).filter((p) => p.key !== META_TUNE);
      props.push({ key: META_TUNE, value: JSON.stringify({ tune: expId, candidate: chosen.c.id, label: chosen.c.label, spec: chosen.c.spec,
        input: o.model, commands: chosen.c.commands, date: report.date, vitopt: report.version, runtime }) });
      model.metadataProps = props;
      report.outputs.push('model.onnx');
      await saveModel(path.join(o.output, 'model.onnx'), model);
      files.push({ name: 'reproduce.sh', data: reproduceScript(report, chosen.c) });
    }
    report.outputs.push('report.md', 'report.html', 'report.json', ...(chosen ? ['reproduce.sh'] : []));
    clock.close();
    report.timeline = clock.timeline;
    files.push({ name: 'report.md', data: renderMarkdown(report) }, { name: 'report.html', data: renderHtml(report) },
      { name: 'report.json', data: JSON.stringify(report, null, 2) + '\n' });
    for (const f of files) await writeFileAtomic(path.join(o.output, f.name), f.data);
    if (chosen) await fs.chmod(path.join(o.output, 'reproduce.sh'), 0o755);
    for (const w of all()) saveCandidate(store, expId, w);
    store.finishExperiment(expId, 'done', { chosen: chosen ? { id: chosen.c.id, label: chosen.c.label } : null, verdict: verdict(report), output: path.resolve(o.output) });
    return { report, feasible: chosen !== null };
  } catch (e) {
    try { store.finishExperiment(expId, 'failed', { error: (e as Error).message }); } catch { /* keep the first error */ }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    store.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

// --- helpers -----------------------------------------------------------------------------------------

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

function work(r: ArtifactRecipe, a: Artifact, batch: number, threads: number, engine: TuneEngine, runtime: string, hardware: string): Working {
  const id = candidateId({ parent: a.sha256, stage: 'session', settings: { batch, threads, engine }, runtime, hardware });
  return {
    c: { id, label: candidateLabel(r, batch, threads), spec: { prune: r.prune, quant: r.quant, style: r.style, threads, batch, ...(r.merge ? { merge: r.merge } : {}),
      ...(r.quant === 'static' ? { calibration: 'percentile' } : {}) }, artifactId: a.sha256, sizeBytes: a.bytes, status: 'ok', commands: a.commands },
    artifact: a, job: { key: id, file: a.file, batch, threads }, recipe: r,
  };
}

function stopped(r: ArtifactRecipe, batch: number, threads: number, reason: string): Working {
  return {
    c: { id: `${recipeKey(r)}-b${batch}-t${threads}`, label: candidateLabel(r, batch, threads), spec: { prune: r.prune, quant: r.quant, style: r.style, threads, batch },
      artifactId: '', sizeBytes: 0, status: 'stopped', reason, commands: [] },
    artifact: null, job: null, recipe: null,
  };
}

/** Remembers every speed sample in the run store as it is made, so --resume can pick the rounds up. */
interface SpeedRecorder {
  record(key: string, round: number, r: { sample?: Sample; failure?: Failure }): void;
}

function speedRecorder(store: RunStore, expId: string, log: SpeedLog, resume: boolean): SpeedRecorder {
  const idOf = (key: string, round: number) => candidateId({ parent: expId, stage: 'speed', settings: { key, round }, runtime: '', hardware: '' });
  if (resume) {
    for (const run of store.runsOf(expId)) {
      if (run.stage !== 'speed' || typeof run.params.key !== 'string' || typeof run.params.round !== 'number') continue;
      if (run.status === 'failed') log.add(run.params.key, run.params.round, { failure: { stage: 'run', reason: run.reason ?? 'failed' } });
      else if (run.tags.sample) log.add(run.params.key, run.params.round, { sample: JSON.parse(run.tags.sample) as Sample });
    }
  }
  return {
    record(key, round, r) {
      const now = new Date().toISOString();
      store.saveRun({ id: idOf(key, round), experimentId: expId, label: `speed ${key} round ${round}`, stage: 'speed', status: r.sample ? 'done' : 'failed',
        reason: r.failure ? `${r.failure.stage}: ${r.failure.reason}` : null, params: { key, round },
        metrics: r.sample ? { imagesPerSecond: r.sample.imagesPerSecond, peakRssBytes: r.sample.peakRssBytes } : {},
        tags: r.sample ? { sample: JSON.stringify(r.sample) } : {}, startedAt: now, endedAt: now });
    },
  };
}

async function speedRound(round: number, ws: Working[], naive: SpeedJob, log: SpeedLog, s: SpeedSettings, clock: Clock,
  emit: (e: TuneEvent) => void, what: string, rec: SpeedRecorder): Promise<void> {
  const jobs: { w: Working | null; job: SpeedJob }[] = [{ w: ws[0]!, job: ws[0]!.job! }, { w: null, job: naive }, ...ws.slice(1).map((w) => ({ w, job: w.job! }))];
  const t0 = performance.now();
  let measured = 0;
  for (const [i, { w, job }] of jobs.entries()) {
    if (i > 1 && clock.over()) break;
    const failed = log.failures.get(job.key);
    if (failed) {
      if (w) { w.c.status = 'failed'; w.c.reason = `${failed.stage}: ${failed.reason}`; }
      continue;
    }
    if (log.has(job.key, round)) continue; // measured before an interruption (--resume)
    const elapsed = (performance.now() - t0) / 1000;
    emit({ kind: 'progress', stage: `speed ${what}`, what: w?.c.label ?? 'naive (portable, ORT defaults)', done: i, total: jobs.length,
      etaS: measured ? (elapsed / measured) * (jobs.length - i) : null, best: bestSoFar(log, ws) });
    const r = await measureOnce(job, s);
    measured++;
    log.add(job.key, round, r);
    rec.record(job.key, round, r);
    if (r.failure && w) { w.c.status = 'failed'; w.c.reason = `${r.failure.stage}: ${r.failure.reason}`; }
  }
}

function bestSoFar(log: SpeedLog, ws: Working[]): string | null {
  let best: { label: string; ips: number } | null = null;
  for (const w of ws.slice(1)) {
    const f = speedFigures(log, w.c.id, ws[0]!.c.id);
    if (f && w.c.status === 'ok' && (!best || f.imagesPerSecond > best.ips)) best = { label: w.c.label, ips: f.imagesPerSecond };
  }
  return best ? `${best.label} ${sig3(best.ips)} img/s` : null;
}

function refreshSpeed(w: Working, log: SpeedLog, baseline: Working): void {
  if (w.job) w.c.speed = speedFigures(log, w.c.id, baseline.c.id);
}

/** Misses a constraint by a wide margin on the probe: not worth more rounds. */
export function probeStop(c: Candidate, k: Constraints, objective: Objective): string | null {
  const s = c.speed;
  if (!s) return null;
  if (k.latencySloMs !== undefined && s.p95Ms > 2 * k.latencySloMs) return `probe: p95 ${s.p95Ms.toFixed(1)} ms is more than twice the ${k.latencySloMs} ms objective`;
  if (k.minThroughput !== undefined && s.imagesPerSecond < 0.5 * k.minThroughput) return `probe: ${sig3(s.imagesPerSecond)} img/s is less than half the ${k.minThroughput} img/s asked for`;
  if (k.memoryBudgetBytes !== undefined && s.peakRssBytes > 1.5 * k.memoryBudgetBytes) return `probe: peak memory ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB is over 1.5× the budget`;
  if (objective !== 'size' && s.ratio < 0.6) return `probe: ${fmtX(s.ratio)} the baseline's throughput — slower than the model it would replace`;
  return null;
}

/** Clearly over the accuracy budget on the screen (by more than two standard errors of the paired difference). */
export function screenStop(c: Candidate, k: Constraints): string | null {
  const a = c.accuracy;
  if (!a || a.fidelity !== 'screen') return null;
  const se = (100 * Math.sqrt(a.discordant[0] + a.discordant[1])) / a.images;
  if (k.maxDrop !== undefined && a.drop - 2 * se > k.maxDrop) {
    return `screen (${a.images} images): drop ${a.drop.toFixed(2)} pt is over the ${k.maxDrop} pt budget by more than two standard errors (${se.toFixed(2)} pt)`;
  }
  if (k.minAccuracy !== undefined && 100 * a.top1 + 2 * se < k.minAccuracy) {
    return `screen (${a.images} images): top-1 ${(100 * a.top1).toFixed(2)}% is below ${k.minAccuracy}% by more than two standard errors`;
  }
  return null;
}

function minTop1(k: Constraints, baseline: Candidate): number | null {
  const floors: number[] = [];
  if (k.minAccuracy !== undefined) floors.push(k.minAccuracy);
  if (k.maxDrop !== undefined && baseline.accuracy) floors.push(100 * baseline.accuracy.top1 - k.maxDrop);
  return floors.length ? Math.max(...floors) : null;
}

/** Predictions of an artifact on the first `limit` images, kept in the run store (they never change). */
async function cachedPredictions(store: RunStore, expId: string, a: Artifact, data: Dataset, spec: string,
  o: Parameters<typeof predictions>[2], onProgress?: (d: number, t: number) => void): Promise<Predictions> {
  const limit = Math.min(o.limit ?? data.size, data.size);
  const id = candidateId({ parent: a.sha256, stage: 'accuracy', settings: { data: spec, limit }, runtime: '', hardware: '' });
  // A longer run already made covers a shorter one: look for the full split first.
  for (const key of [id, candidateId({ parent: a.sha256, stage: 'accuracy', settings: { data: spec, limit: data.size }, runtime: '', hardware: '' })]) {
    const r = store.finishedRun(key);
    if (r?.status === 'done' && r.tags.pred && r.tags.correct) {
      const pred = new Int32Array(Buffer.from(r.tags.pred, 'base64').buffer.slice(0));
      const correct = new Uint8Array(Buffer.from(r.tags.correct, 'base64'));
      if (pred.length >= limit) return { pred: pred.subarray(0, limit), correct: correct.subarray(0, limit) };
    }
  }
  const t0 = performance.now();
  const p = await predictions(a.file, data, { ...o, limit, onProgress });
  const now = new Date().toISOString();
  store.saveRun({ id, experimentId: expId, label: `accuracy ${spec} (${limit})`, stage: 'accuracy', status: 'done', params: { data: spec, limit, artifact: a.sha256 },
    metrics: { top1: p.correct.reduce((s, x) => s + x, 0) / Math.max(1, p.correct.length), images: p.pred.length, seconds: (performance.now() - t0) / 1000 },
    tags: { pred: Buffer.from(p.pred.buffer, p.pred.byteOffset, p.pred.byteLength).toString('base64'), correct: Buffer.from(p.correct).toString('base64') },
    startedAt: now, endedAt: now });
  return p;
}

function saveCandidate(store: RunStore, expId: string, w: Working): void {
  const c = w.c, now = new Date().toISOString();
  const metrics: Record<string, number> = { sizeBytes: c.sizeBytes };
  if (c.speed) Object.assign(metrics, { imagesPerSecond: c.speed.imagesPerSecond, ratio: c.speed.ratio, p50Ms: c.speed.p50Ms, p95Ms: c.speed.p95Ms,
    peakRssBytes: c.speed.peakRssBytes, relSpread: c.speed.relSpread, rounds: c.speed.rounds });
  if (c.accuracy) Object.assign(metrics, { top1: c.accuracy.top1, drop: c.accuracy.drop, pValue: c.accuracy.pValue, images: c.accuracy.images });
  if (c.quality) Object.assign(metrics, { sqnrDb: c.quality.sqnrDb, agreement: c.quality.agreement });
  store.saveRun({ id: c.id, experimentId: expId, label: c.label, stage: 'candidate', status: c.status === 'failed' ? 'failed' : 'done', reason: c.reason ?? null,
    params: { prune: c.spec.prune, quant: c.spec.quant, style: c.spec.style, batch: c.spec.batch, threads: c.spec.threads, status: c.status },
    metrics, tags: { commands: c.commands.join('\n'), ...(c.accuracy ? { fidelity: c.accuracy.fidelity } : {}) },
    artifact: w.artifact ? { sha256: w.artifact.sha256, bytes: w.artifact.bytes } : null, startedAt: now, endedAt: now });
}

/**
 * Session and batch settings for the best few: they change speed only, so the artifacts' accuracy
 * carries over. For each of the top 2 feasible candidates (by the decision at the tune's own batch and
 * threads), every thread count up to the CPUs this process may use (unless --threads fixed it) and,
 * with --find-batch, the batch doubled from 1 up to maxBatch; each point measured in the same number
 * of rounds, interleaved with the baseline. A batch curve stops when the memory budget or latency
 * objective is passed, or when throughput gains less than 5% twice in a row.
 */
async function settingsSearch(all: () => Working[], cands: Working[], baseline: Working, k: Constraints, objective: Objective, hasAccuracy: boolean,
  search: { threads: number[]; batches: number[] }, log: SpeedLog, s: SpeedSettings, clock: Clock, emit: (e: TuneEvent) => void, rounds: number,
  engine: TuneEngine, runtime: string, hardware: string): Promise<void> {
  const d = decide(baseline.c, all().map((w) => w.c), k, objective, { hasAccuracy });
  const metric = (w: Working) => (objective === 'latency' ? -w.c.speed!.p95Ms : w.c.speed!.imagesPerSecond);
  const ranked = d.feasible.map((id) => all().find((w) => w.c.id === id)!).filter((w) => w.c.speed && w.artifact)
    .sort((a, b) => metric(b) - metric(a)).slice(0, 2);
  let extra = 0;
  for (const top of ranked) {
    for (const t of search.threads) {
      let best = -Infinity, flat = 0;
      for (const b of search.batches) {
        if (clock.over()) return;
        if (b === top.c.spec.batch && t === top.c.spec.threads) continue;
        const w = work(top.recipe!, top.artifact!, b, t, engine, runtime, hardware);
        if (all().some((x) => x.c.id === w.c.id)) continue;
        Object.assign(w, { preds: top.preds });
        w.c.accuracy = top.c.accuracy;
        w.c.quality = top.c.quality;
        cands.push(w);
        for (let round = 1; round <= rounds && !clock.over(); round++) {
          emit({ kind: 'progress', stage: 'settings search', what: w.c.label, done: round - 1, total: rounds, etaS: null, best: null });
          // Each point gets baseline rounds of its own, numbered apart from the main rounds.
          const id = 1000 + ++extra;
          log.add(baseline.c.id, id, await measureOnce(baseline.job!, s));
          const m = await measureOnce(w.job!, s);
          log.add(w.c.id, id, m);
          if (m.failure) { w.c.status = 'failed'; w.c.reason = `${m.failure.stage}: ${m.failure.reason}`; break; }
        }
        w.c.speed = speedFigures(log, w.c.id, baseline.c.id);
        const f = w.c.speed;
        if (!f || w.c.status !== 'ok') break;
        if ((k.memoryBudgetBytes !== undefined && f.peakRssBytes > k.memoryBudgetBytes) || (k.latencySloMs !== undefined && f.p95Ms > k.latencySloMs)) break;
        flat = f.imagesPerSecond < 1.05 * best ? flat + 1 : 0;
        best = Math.max(best, f.imagesPerSecond);
        if (flat >= 2) break;
      }
    }
  }
}
