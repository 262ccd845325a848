/**
 * The compression stages of the pipeline, run for one recipe at a time:
 *
 *   fp32(style) ──prune(FLOPs kept)──▶ pruned fp32 ──quantize(mode)──▶ artifact
 *
 * Each stage's output is content-addressed by (parent's hash, stage settings, vitopt + runtime
 * version): a stage already done — in this run (the pruned model serves every quantization mode) or
 * in an earlier one (the run store) — is not done again. Every artifact is written to a file at once
 * and dropped from memory (ViT-B/16 variants are 90–350 MB each), and carries the vitopt commands that
 * rebuild it (reproduce.sh).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { exportModel } from '../export/index.js';
import { encodeModel, loadModel, type ModelProto } from '../formats/onnx.js';
import type { EngineOptions } from '../engines/options.js';
import { detectCpu, int8FormatFor } from '../compress/quantize/cpu.js';
import type { GraphStyleChoice, QuantChoice } from './types.js';
import { type ArtifactRecipe, recipeKey } from './space.js';
import { contentHash, shellQuote as q, type TuneInput } from './input.js';
import { candidateId } from './store.js';

/** Where finished stages are remembered across runs (the run store implements it). */
export interface StageCache {
  /** The bytes (and notes) of a stage output made earlier under this id, or null. */
  get(id: string): { bytes: Uint8Array; notes: string[] } | null;
  put(id: string, bytes: Uint8Array, info: { stage: string; label: string; settings: Record<string, string | number | boolean>; seconds: number; notes: string[] }): void;
}

/** The accuracy guard's search set: it reverts layers until the drop on these images fits. */
export interface GuardSetting {
  maxDrop: number;
  data: Dataset;
  spec: string;
  images: number;
}

/** The output of one pipeline stage. */
interface Stage {
  /** Content-addressed: parent's hash, stage settings, versions. */
  id: string;
  /** Content hash of the model bytes. */
  sha256: string;
  /** The model file (scratch directory). */
  file: string;
  bytes: number;
  /** Shell commands, in order, that rebuild it from the input (run in an empty directory). */
  commands: string[];
  /** The file name the last command writes. */
  output: string;
  /** Seconds spent making it in this run (0 when reused). */
  seconds: number;
  reused: boolean;
  /** What a stage wants said about it (the guard: the layers it returned to float). */
  notes: string[];
}

/** A finished recipe: its last stage. */
export interface Artifact extends Omit<Stage, 'id'> {
  recipe: ArtifactRecipe;
}

export interface BuildOptions {
  input: TuneInput;
  scratch: string;
  /** Calibration images for pruning and static INT8, and the spec to name in commands. */
  calibration: { data: Dataset; spec: string; size: number } | null;
  engine: EngineOptions;
  runtime: string;
  cache: StageCache | null;
  /** Set when guarded INT8 recipes may be built. */
  guard?: GuardSetting;
  onProgress?: (stage: string, done: number, total: number) => void;
}

const pct = (p: number) => Math.round(p * 100);

/** Makes artifacts, sharing the stages recipes have in common. */
export class ArtifactBuilder {
  private stages = new Map<string, Promise<Stage>>();
  private calib: Promise<import('../compress/prune/capture.js').Calibration> | null = null;
  constructor(private readonly o: BuildOptions) {}

  async build(r: ArtifactRecipe): Promise<Artifact> {
    const { id: _id, ...s } = await this.quantized(r.prune, r.merge ?? 0, r.style, r.quant, !!r.guard);
    return { recipe: r, ...s };
  }

  private once(key: string, make: () => Promise<Stage>): Promise<Stage> {
    let p = this.stages.get(key);
    if (!p) {
      p = make();
      this.stages.set(key, p);
    }
    return p;
  }

  /** Run a stage unless the cache has its output; write the output to the scratch directory. */
  private async stage(id: string, name: string, label: string, settings: Record<string, string | number | boolean>,
    commands: string[], output: string, make: () => Promise<ModelProto | { model: ModelProto; notes: string[] }>): Promise<Stage> {
    const file = path.join(this.o.scratch, `${id}.onnx`);
    const cached = this.o.cache?.get(id) ?? null;
    let bytes = cached?.bytes ?? null, notes = cached?.notes ?? [];
    let seconds = 0;
    if (!bytes) {
      const t0 = performance.now();
      const made = await make();
      const model = 'model' in made ? made.model : made;
      notes = 'model' in made ? made.notes : [];
      bytes = encodeModel(model);
      seconds = (performance.now() - t0) / 1000;
      this.o.cache?.put(id, bytes, { stage: name, label, settings, seconds, notes });
    }
    await fs.writeFile(file, bytes);
    return { id, file, sha256: contentHash(bytes), bytes: bytes.length, commands, output, seconds, reused: cached !== null, notes };
  }

  /** A stage's id: the run store's content address (an artifact does not depend on the hardware). */
  private idOf(parent: string, stage: string, settings: Record<string, string | number | boolean>): string {
    return candidateId({ parent, stage, settings, runtime: this.o.runtime, hardware: '' });
  }

  /** fp32, pruned, then with `merge` tokens merged per block (Token Merging), in a graph style. */
  private merged(prune: number, merge: number, style: GraphStyleChoice): Promise<Stage> {
    if (!merge) return this.fp32(prune, style);
    return this.once(`p${prune}-m${merge}-${style}`, async () => {
      const parent = await this.fp32(prune, style);
      const settings = { mergeTokens: merge };
      const output = `${parent.output.replace(/\.onnx$/, '')}-tome${merge}.onnx`;
      // `vitopt convert <vitopt .onnx> --merge-tokens r` reads the graph back and keeps its style.
      const cmd = `vitopt convert ${parent.output} --merge-tokens ${merge} -o ${output}`;
      return this.stage(this.idOf(parent.sha256, 'merge', settings), 'merge', `ToMe r${merge} · ${style}${prune < 1 ? ` · prune ${pct(prune)}%` : ''}`,
        settings, [...parent.commands, cmd], output, async () => {
          const { irFromOnnx } = await import('../compress/prune/from-onnx.js');
          const { withMergeSchedule } = await import('../models/tome.js');
          return exportModel(withMergeSchedule(irFromOnnx(await loadModel(parent.file), parent.output), merge), style);
        });
    });
  }

  /** fp32 in a graph style, pruned to `prune` of the FLOPs (1 = the input as it is). */
  private fp32(prune: number, style: GraphStyleChoice): Promise<Stage> {
    return this.once(`p${prune}-${style}`, async () => {
      const input = this.o.input;
      if (prune === 1) {
        const output = `base-${style}.onnx`;
        const settings = { style };
        return this.stage(this.idOf(input.id, 'fp32', settings), 'fp32', `fp32 · ${style}`, settings, [input.fp32Command(output, style)], output,
          async () => input.fp32(style));
      }
      // Pruning runs once per level, on the baseline's graph; the other style is the same pruned IR
      // exported in it (`vitopt prune … --graph portable`), so the two styles differ only in their graph.
      const from = input.baselineStyle;
      const base = await this.fp32(1, from);
      const c = this.o.calibration!;
      const settings = { method: 'structured', targetFlops: prune, calibration: c.spec, calibrationSize: c.size, style };
      const output = `pruned-${pct(prune)}-${style}.onnx`;
      const cmd = `vitopt prune ${base.output} -o ${output} --method structured --target-flops ${prune} --calibration-data ${q(c.spec)} --calibration-size ${c.size}` +
        `${style !== from ? ` --graph ${style}` : ''} --no-bench`;
      return this.stage(this.idOf(base.sha256, 'prune', settings), 'prune', `prune ${pct(prune)}% · ${style}`, settings, [...base.commands, cmd], output, async () => {
        return exportModel(await this.prunedIR(prune, from), style);
      });
    });
  }

  private pruned = new Map<number, Promise<import('../models/ir.js').ModelIR>>();
  /** The IR pruned to `prune` of the FLOPs, from the IR of fp32(from), made once per level. */
  private prunedIR(prune: number, from: GraphStyleChoice): Promise<import('../models/ir.js').ModelIR> {
    let p = this.pruned.get(prune);
    if (!p) {
      p = (async () => {
        const { prune: pruneIR, loadCalibration } = await import('../compress/prune/index.js');
        const c = this.o.calibration!, input = this.o.input;
        const ir = input.ir(from);
        if (!ir) throw new Error(`internal: no IR for ${from}`);
        this.calib ??= loadCalibration(c.data, c.size, input.resolution, { normalize: input.normalize });
        const out = await pruneIR(ir, { method: 'structured', targetFlops: prune, engine: this.o.engine,
          onProgress: (s, d, t) => this.o.onProgress?.(`prune ${pct(prune)}%: ${s}`, d, t) }, await this.calib);
        return out.ir;
      })();
      this.pruned.set(prune, p);
    }
    return p;
  }

  private quantized(prune: number, merge: number, style: GraphStyleChoice, quant: QuantChoice, guard: boolean): Promise<Stage> {
    if (quant === 'none') return this.merged(prune, merge, style);
    return this.once(recipeKey({ prune, merge, style, quant, guard }), async () => {
      const parent = await this.merged(prune, merge, style);
      const c = this.o.calibration;
      const g = guard ? this.o.guard : undefined;
      if (guard && !g) throw new Error('internal: a guarded recipe without guard settings');
      // 'auto' INT8 storage follows the CPU: it is part of the stage's identity.
      const format = int8FormatFor(detectCpu());
      const settings: Record<string, string | number | boolean> = { mode: quant, format };
      if (quant === 'static') Object.assign(settings, { calibration: c!.spec, calibrationSize: c!.size });
      if (g) Object.assign(settings, { guardMaxDrop: g.maxDrop, guardData: g.spec, guardImages: g.images });
      const output = `${parent.output.replace(/\.onnx$/, '')}-${quant}${g ? '-guard' : ''}.onnx`;
      // The guard's data doubles as the static calibration set in `vitopt quantize`; here both are the calibration split.
      const cmd = `vitopt quantize ${parent.output} -o ${output} --mode ${quant}` +
        (g ? ` --max-drop ${g.maxDrop} --data ${q(g.spec)} --eval-size ${g.images}` + (quant === 'static' ? ` --calibration-size ${c!.size}` : '')
          : quant === 'static' ? ` --calibration-data ${q(c!.spec)} --calibration-size ${c!.size}` : '') + ' --no-bench';
      return this.stage(this.idOf(parent.sha256, 'quantize', settings), 'quantize', `${quant}${g ? ' + guard' : ''} · ${style}${prune < 1 ? ` · prune ${pct(prune)}%` : ''}`,
        settings, [...parent.commands, cmd], output, async () => {
          const lib = await import('../compress/quantize/index.js');
          const model = await loadModel(parent.file);
          const input = this.o.input;
          const options = {
            mode: quant as 'dynamic' | 'static' | 'int4', format: 'auto' as const, engine: this.o.engine,
            calibration: quant === 'static' ? lib.datasetSource(c!.data, c!.size, input.resolution, { normalize: input.normalize }) : undefined,
            onProgress: (s: string, d: number, t: number) => this.o.onProgress?.(`quantize ${quant}: ${s}`, d, t),
          };
          if (!g) return (await lib.quantize(model, options)).model;
          const { guardedQuantize, DEFAULT_RANKING_SIZE } = await import('./quantize-guard.js');
          // The same settings `vitopt quantize --max-drop` uses (reproduce.sh runs that command).
          const r = await guardedQuantize(model, { ...options, analysis: await lib.analyze(model, { mode: options.mode }) }, {
            maxDrop: g.maxDrop, data: g.data, limit: Math.min(g.images, g.data.size), rankingSize: DEFAULT_RANKING_SIZE, batchSize: 32,
            engine: this.o.engine, resolution: input.resolution, normalize: input.normalize, labels: input.labels,
            onProgress: (s, d, t) => this.o.onProgress?.(`guard ${quant}: ${s}`, d, t),
          });
          const reverted = r.guard.reverted.map((x) => x.label);
          return { model: r.result.model, notes: [`accuracy guard: ${reverted.length} layer(s) returned to float (${reverted.join(', ') || 'none'}); ` +
            `drop ${r.guard.drop.toFixed(2)} pt on ${r.guard.images} images of ${g.spec}${r.guard.met ? '' : ' — still over the budget'}`] };
        });
    });
  }
}
