/**
 * `vitopt models`: the shipped reference models (trained, usable by name, with their measured accuracy)
 * and the zoo configurations (architectures of the published checkpoints, with exact parameter counts).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ZOO } from '../models/zoo.js';
import { REFERENCE_MODELS } from '../models/reference.js';
import { countParams } from '../analyze/params.js';
import { emit } from './common.js';
import { jsonOption } from './options.js';

/** Accuracy as its training record states it (models/<name>.json, written by tools/train_fashion.py). */
export interface RecordedAccuracy {
  dataset: string;
  images: number;
  top1: number;
  top5: number;
}

export interface ReferenceRow {
  kind: 'reference';
  name: string;
  family: string;
  params: number;
  /** Fashion-MNIST test split (10,000 images) and the shipped 2,000-image subset. */
  accuracy: RecordedAccuracy[];
  checkpoint: string;
  card: string;
}

export interface ZooRow {
  kind: 'zoo';
  name: string;
  family: string;
  source: string;
  params: number;
  config: (typeof ZOO)[number]['config'];
}

interface TrainingRecord {
  model: string;
  params: number;
  test: { n: number; top1: number; top5: number };
  subset: { n: number; top1: number; top5: number };
}

export function referenceRows(): ReferenceRow[] {
  return REFERENCE_MODELS.map((m) => {
    const recordFile = m.checkpoint.replace(/\.npz$/, '.json');
    const r = JSON.parse(readFileSync(recordFile, 'utf8')) as TrainingRecord;
    return {
      kind: 'reference', name: m.name, family: r.model, params: r.params,
      accuracy: [
        { dataset: 'fashion-mnist:test', images: r.test.n, top1: r.test.top1, top5: r.test.top5 },
        { dataset: 'fashion-mnist-subset', images: r.subset.n, top1: r.subset.top1, top5: r.subset.top5 },
      ],
      checkpoint: m.checkpoint, card: m.card,
    };
  });
}

export function listModels(): (ReferenceRow | ZooRow)[] {
  return [
    ...referenceRows(),
    ...ZOO.map((e) => ({ kind: 'zoo' as const, name: e.config.name!, family: e.config.family, source: e.source,
      params: countParams(e.config), config: e.config })),
  ];
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatModels(rows: readonly (ReferenceRow | ZooRow)[]): string {
  const ref = rows.filter((r): r is ReferenceRow => r.kind === 'reference');
  const zoo = rows.filter((r): r is ZooRow => r.kind === 'zoo');
  return [
    'Reference models: trained on Fashion-MNIST (28 px, 10 classes), shipped, usable by name',
    'name                   family  params        top-1 test (10,000)  top-1 subset (2,000)',
    ...ref.map((r) => `${r.name.padEnd(22)} ${r.family.padEnd(7)} ${r.params.toLocaleString('en-US').padStart(12)}  ` +
      `${pct(r.accuracy[0]!.top1).padStart(19)}  ${pct(r.accuracy[1]!.top1).padStart(20)}`),
    '',
    'Zoo configurations (224 px, 1000 classes; weights: the published checkpoints, not shipped)',
    'name                   family  params        defined in',
    ...zoo.map((r) => `${r.name.padEnd(22)} ${r.family.padEnd(7)} ${r.params.toLocaleString('en-US').padStart(12)}  ${r.source}`),
  ].join('\n');
}

export function register(program: Command): void {
  program.command('models')
    .description('list the reference models (with their accuracy) and the zoo configurations (with exact parameter counts)')
    .addOption(jsonOption('one row per model, kind "reference" or "zoo",', { wasFlag: true }))
    .action(async (o: { json?: boolean | string }) => {
      const rows = listModels();
      await emit(rows, formatModels(rows), o.json);
    });
}
