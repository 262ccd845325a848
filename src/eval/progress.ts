/**
 * A one-line progress bar on stderr, redrawn with \r, only when stderr is a terminal (a log file or
 * a pipe gets nothing, so --json output and CI logs stay clean). Hand-written: 30 lines do not
 * justify a dependency; the redrawn line itself is src/util/live-line.ts.
 */
import { liveLine } from '../util/live-line.js';

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

/** No progress at all (`--quiet`): fits both Progress and StagedProgress. */
export const NO_PROGRESS: Progress & StagedProgress = { update() {}, finish() {} };

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const line = liveLine(stream); // at most 10 redraws a second
  if (!line.tty) return NO_PROGRESS;
  const start = performance.now();
  return {
    update(done, total) {
      line.draw(() => {
        const frac = total > 0 ? Math.min(1, done / total) : 1;
        const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 40));
        const fill = Math.round(frac * width);
        const rate = done / Math.max(1e-9, (performance.now() - start) / 1000);
        const eta = rate > 0 ? (total - done) / rate : 0;
        return `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${rate.toFixed(0)} img/s eta ${eta.toFixed(0)}s`;
      }, done >= total);
    },
    finish() {
      line.clear();
    },
  };
}

/** Progress of work done in named stages: one bar a stage, labelled `prefix: stage`. */
export interface StagedProgress {
  update(stage: string, done: number, total: number): void;
  finish(): void;
}

export function stagedProgress(prefix: string, label: (stage: string) => string = (s) => s): StagedProgress {
  let current = '';
  let bar: Progress | null = null;
  return {
    update(stage, done, total) {
      const name = label(stage);
      if (name !== current) { bar?.finish(); bar = progressBar(`${prefix}: ${name}`); current = name; }
      bar!.update(done, total || done);
    },
    finish() { bar?.finish(); },
  };
}
