/**
 * One fuzz case: write the input, run the parser, and sort the result into
 *   accepted   the parser returned
 *   rejected   a UserError / FileError with one clear line (what the CLI prints, exit 2)
 *   unclear    a UserError whose message is empty, holds line breaks or control characters, or runs on (> 400 characters)
 *   crash      any other exception (TypeError, RangeError, an internal error: exit 1)
 *   hang       no answer within the time limit (async work only; a busy loop is caught by bench/fuzz.ts's watchdog)
 */
import { isUserError } from '../../src/errors.js';
import type { FuzzCase, FuzzTarget } from './targets.js';

export type Outcome = 'accepted' | 'rejected' | 'unclear' | 'crash' | 'hang';

export interface CaseResult {
  outcome: Outcome;
  /** The error's message (or name and stack head for a crash). */
  message?: string;
}

export function classifyError(e: unknown): CaseResult {
  if (isUserError(e)) {
    const m = e.message;
    // Control characters (a line break, a terminal escape) taken from the file make the line unclear too.
    const clear = m.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(m) && m.length <= 400;
    return { outcome: clear ? 'rejected' : 'unclear', message: m };
  }
  const err = e as Error;
  return { outcome: 'crash', message: `${err?.name ?? typeof e}: ${err?.message ?? String(e)} ${err?.stack?.split('\n').slice(1, 4).map((s) => s.trim()).join(' | ') ?? ''}` };
}

export async function runCase(target: FuzzTarget, c: FuzzCase, dir: string, timeoutMs: number): Promise<CaseResult> {
  await target.write(c, dir);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CaseResult>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'hang', message: `no answer in ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([target.run(dir).then((): CaseResult => ({ outcome: 'accepted' }), classifyError), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
