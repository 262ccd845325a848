/**
 * Calibration images from `vitopt eval`'s data readers. Static quantization calibrates on the
 * training split where the dataset has one (ranges fitted on the images the accuracy is then measured
 * on would flatter the result); a few hundred images suffice for activation ranges.
 */
import type { Dataset } from '../../data/dataset.js';
import { openDataSpec } from '../../data/data-spec.js';
import { type Normalization, preprocessBatch } from '../../data/preprocess.js';
import { UserError } from '../../errors.js';
import type { CalibrationSource } from './collect.js';

export const DEFAULT_CALIBRATION_SIZE = 300;
export const CALIBRATION_BATCH = 8;

/** The training-split spec for a `--data` spec, when the dataset kind has splits. */
export function trainSplitSpec(spec: string): string | null {
  if (spec === 'fashion-mnist' || spec === 'fashion-mnist:test') return 'fashion-mnist:train';
  const m = /^((?:fashion-)?mnist):(.+?)(?::(train|test))?$/.exec(spec);
  if (m && m[2] !== 'train' && m[2] !== 'test') return `${m[1]}:${m[2]}:train`;
  return null;
}

/** Open the calibration set: an explicit spec, else the training split of `--data`, else `--data` itself. */
export async function openCalibrationData(dataSpec: string | undefined, explicit: string | undefined, notes: string[]): Promise<Dataset> {
  if (explicit) return openDataSpec(explicit);
  if (!dataSpec) throw new UserError('--mode static: needs calibration images (--data <spec> or --calibration-data <spec>)');
  const train = trainSplitSpec(dataSpec);
  if (train) {
    try {
      return await openDataSpec(train);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      notes.push(`no training split for ${dataSpec} (${e.message}); calibrating on --data itself`);
    }
  } else {
    notes.push(`calibration images are drawn from --data ${dataSpec} (no training split known for it); pass --calibration-data to keep them apart`);
  }
  return openDataSpec(dataSpec);
}

/** The first `size` images of a dataset, preprocessed for the model, in batches (re-readable per pass). */
export function datasetSource(d: Dataset, size: number, resolution: number,
  o: { normalize?: Normalization; batch?: number; /** drop a last partial batch (models with a fixed batch size) */ wholeBatches?: boolean } = {}): CalibrationSource {
  if (!Number.isInteger(size) || size < 1) throw new UserError(`--calibration-size must be a positive integer, got ${size}`);
  const batch = o.batch ?? CALIBRATION_BATCH;
  return {
    name: `${d.name} (${Math.min(size, d.size)} images)`,
    async *batches() {
      for await (const b of d.batches(batch, { limit: size })) {
        if (b.images.length && (!o.wholeBatches || b.images.length === batch)) yield preprocessBatch(b.images, resolution, resolution, o.normalize);
      }
    },
  };
}
