/**
 * One status line redrawn in place (`\r` … `\x1b[K`) on a terminal, at most every `minIntervalMs`;
 * nothing at all when the stream is not a terminal (a log file or a pipe stays clean). What every
 * progress display (eval's bar, the staged prune/quantize bars, bench's live measurement line) draws on.
 */
export interface LiveLine {
  /** Whether the stream is a terminal (else every call does nothing). */
  readonly tty: boolean;
  /**
   * Redraw the line; skipped if the last redraw was under the interval ago, unless `force`. Pass a
   * function to build the text only when it is drawn (callers that update per batch).
   */
  draw(text: string | (() => string), force?: boolean): void;
  /** Erase the line if one is drawn (before printing a normal line, or at the end). */
  clear(): void;
}

export function liveLine(stream: NodeJS.WriteStream = process.stderr, minIntervalMs = 100): LiveLine {
  const tty = !!stream.isTTY;
  let last = -Infinity;
  let drawn = false;
  return {
    tty,
    draw(text, force = false) {
      if (!tty) return;
      const now = performance.now();
      if (!force && now - last < minIntervalMs) return;
      last = now;
      stream.write(`\r${typeof text === 'function' ? text() : text}\x1b[K`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
