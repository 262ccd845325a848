/**
 * Progress of a benchmark on stderr: one line per finished measurement (always, so logs show it), and
 * on a terminal a live line for the measurement in progress (load, warm-up, measuring x/y s).
 */
import type { ProgressEvent } from './runner.js';
import { fmt } from './report.js';
import { percentile } from './stats.js';

export function benchProgress(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const tty = !!stream.isTTY;
  let live = false;
  let current = '';
  let last = 0;
  const clear = () => {
    if (live) stream.write('\r\x1b[K');
    live = false;
  };
  return (e) => {
    if (e.kind === 'prepare') {
      stream.write(`preparing ${e.model} …\n`);
    } else if (e.kind === 'engines') {
      for (const x of e.engines) if (!x.available) stream.write(`engine ${x.engine}: skipped — ${x.reason}\n`);
    } else if (e.kind === 'start') {
      current = `[${e.index}/${e.total}] ${e.label}${e.repeats > 1 ? ` (repeat ${e.repeat}/${e.repeats})` : ''}`;
      if (tty) {
        stream.write(`\r${current} …\x1b[K`);
        live = true;
      }
    } else if (e.kind === 'child') {
      const now = Date.now();
      if (!tty || now - last < 150) return;
      last = now;
      const what = e.phase === 'load' ? 'loading' : e.phase === 'warmup' ? `warm-up ${e.done}/${e.total}`
        : `measuring ${fmt(e.done)}/${fmt(e.total)}`;
      stream.write(`\r${current} · ${what}\x1b[K`);
      live = true;
    } else if (e.kind === 'done') {
      clear();
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
