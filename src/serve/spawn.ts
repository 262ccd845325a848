/**
 * Start `vitopt serve …` as a child process and wait until it prints its URL (it does once every model
 * is warm and ready). For tests, benchmarks and scripts that need a real server process — one that can
 * be signalled, killed and restarted — rather than the in-process `startServer`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Settles with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Everything written to stderr so far (empty when stderr is inherited). */
  stderr: () => string;
}

/** `args` follow `vitopt serve` (models and flags); `inheritStderr` passes the server's log through. */
export function spawnServe(args: string[], o: { inheritStderr?: boolean } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', o.inheritStderr ? 'inherit' : 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^(http:\/\/\S+)\n/.exec(out);
      if (m) resolve({ child, url: m[1]!, exited, stderr: () => err });
    });
    void exited.then((code) => reject(new Error(`vitopt serve exited (${code}) before it was ready${err ? `: ${err.trim()}` : ''}`)));
  });
}
