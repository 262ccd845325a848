/**
 * Progress of a benchmark on stderr: one line per finished measurement (always, so logs show it), and
 * on a terminal a live line for the measurement in progress (load, warm-up, measuring x/y s).
 */
import type { ProgressEvent } from './runner.js';
import { fmt } from './report.js';
import { percentile } from './stats.js';
import { liveLine } from '../util/live-line.js';

export function benchProgress(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const line = liveLine(stream, 150);
  let current = '';
  return (e) => {
    if (e.kind === 'prepare') {
      stream.write(`preparing ${e.model} …\n`);
    } else if (e.kind === 'engines') {
      for (const x of e.engines) if (!x.available) stream.write(`engine ${x.engine}: skipped — ${x.reason}\n`);
    } else if (e.kind === 'start') {
      current = `[${e.index}/${e.total}] ${e.label}${e.repeats > 1 ? ` (repeat ${e.repeat}/${e.repeats})` : ''}`;
      line.draw(`${current} …`, true);
    } else if (e.kind === 'child') {
      line.draw(() => `${current} · ${e.phase === 'load' ? 'loading' : e.phase === 'warmup' ? `warm-up ${e.done}/${e.total}`
        : `measuring ${fmt(e.done)}/${fmt(e.total)}`}`);
    } else if (e.kind === 'done') {
      line.clear();
      const s = e.sample;
      if (s) {
        const p95 = percentile([...s.latenciesMs].sort((a, b) => a - b), 95);
        stream.write(`${current || e.label}: ${fmt(s.imagesPerSecond)} img/s, p95 ${fmt(p95)} ms, peak ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ` +
          `load ${fmt(s.sessionCreateMs / 1000)} s\n`);
      } else {
        stream.write(`${current || e.label}: failed (${e.failure?.stage}) — ${e.failure?.reason}\n`);
      }
    }
  };
}
