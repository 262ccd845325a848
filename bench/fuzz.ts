/**
 * Fuzz every parser a user's file reaches (test/fuzz/targets.ts) with N cases each and report what
 * happened to them:
 *
 *   accepted   parsed
 *   rejected   a UserError with one clear line (the CLI's exit 2)
 *   unclear    a UserError with an empty, multi-line or run-on message
 *   crash      any other exception (the CLI's exit 1)
 *   hang       no answer within --timeout-ms: the case's process is killed (a busy loop cannot time itself out)
 *   memory     the process passed --memory-limit-mb while on the case: killed
 *
 * Each parser runs in its own child process, so peak RSS is that parser's; after a hang or a memory
 * kill a fresh child resumes at the next case (cases are numbered: case i is the same input on every run
 * with the same --seed). Inputs that crashed, hung or ran out of memory are saved under --out.
 *
 *   node dist/bench/fuzz.js [--cases 100000] [--parsers npy,onnx] [--jobs 4] [--seed 1] [--json report.json]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from 'commander';
import fc from 'fast-check';
import { TARGETS as PARSERS, type FuzzCase, type FuzzTarget } from '../test/fuzz/targets.js';
import { runCase, type Outcome } from '../test/fuzz/harness.js';
import { benchCommand, intArg, listArg, parseBench } from './lib/cli.js';

const CHUNK = 500;
/** A child that is not ready this long after its start (imports, seeds) is reported as a crash of its first case. */
const STARTUP_MS = 120_000;

type Verdict = Outcome | 'memory';

/**
 * With VITOPT_FUZZ_SELFTEST=1, two targets that misbehave on purpose check the watchdog itself: a
 * busy loop (must be reported as hangs) and unbounded allocation (must be reported as memory).
 */
const SELFTEST: FuzzTarget[] = [
  { name: 'selftest-hang', arbitrary: async () => fc.constant({ bytes: new Uint8Array(1) }), write: async () => {},
    run: async () => { for (;;) { /* busy */ } } },
  { name: 'selftest-memory', arbitrary: async () => fc.constant({ bytes: new Uint8Array(1) }), write: async () => {},
    run: async () => { const held: Buffer[] = []; for (;;) held.push(Buffer.alloc(64 << 20, 1)); } },
];
const TARGETS: readonly FuzzTarget[] = process.env.VITOPT_FUZZ_SELFTEST ? [...PARSERS, ...SELFTEST] : PARSERS;

interface ChildReport { type: 'case'; i: number; outcome: Outcome; message?: string; input?: string }
interface ChildDone { type: 'done'; maxRssKb: number }

/** Case i of a target: the same input for the same seed, whichever process makes it. */
function caseGenerator(arb: fc.Arbitrary<FuzzCase>, seed: number): (i: number) => FuzzCase {
  let chunk = -1;
  let values: FuzzCase[] = [];
  return (i) => {
    const k = Math.floor(i / CHUNK);
    if (k !== chunk) {
      values = fc.sample(arb, { seed: seed + k * 1_000_003, numRuns: CHUNK });
      chunk = k;
    }
    return values[i % CHUNK]!;
  };
}

/** The child: run cases [start, end) of one target, reporting each. */
async function child(name: string, start: number, end: number, seed: number, timeoutMs: number): Promise<void> {
  const target = TARGETS.find((t) => t.name === name)!;
  const gen = caseGenerator(await target.arbitrary(), seed);
  const dir = mkdtempSync(path.join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), `vitopt-fuzz-${name}-`));
  const send = (m: ChildReport | ChildDone) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  // Ready: imports and seeds are done (seconds on a busy machine); the per-case clock starts now.
  await send({ type: 'ready' } as unknown as ChildReport);
  try {
    for (let i = start; i < end; i++) {
      const c = gen(i);
      // Announce the case first: if it hangs or blows up, the parent knows which one (and can remake it).
      process.send!({ type: 'start', i });
      const r = await runCase(target, c, dir, timeoutMs);
      process.send!({ type: 'case', i, outcome: r.outcome, message: r.outcome === 'accepted' ? undefined : r.message });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await send({ type: 'done', maxRssKb: process.resourceUsage().maxRSS });
  process.exit(0);
}

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface TargetReport {
  parser: string;
  cases: number;
  counts: Record<Verdict, number>;
  peakRssMb: number;
  seconds: number;
  /** The most frequent rejection messages (paths and numbers elided): what users see. */
  topRejections: { message: string; count: number }[];
  failures: { case: number; verdict: Verdict; message: string; saved?: string }[];
}

/** Runs one target to completion, restarting its child after a kill. */
async function runTarget(name: string, o: { cases: number; seed: number; timeoutMs: number; memoryLimitMb: number; out: string }): Promise<TargetReport> {
  const counts: Record<Verdict, number> = { accepted: 0, rejected: 0, unclear: 0, crash: 0, hang: 0, memory: 0 };
  const rejections = new Map<string, number>();
  const failures: TargetReport['failures'] = [];
  let peakKb = 0;
  const t0 = performance.now();
  let gen: ((i: number) => FuzzCase) | null = null;
  const save = async (i: number, verdict: Verdict, message: string) => {
    let saved: string | undefined;
    if (failures.length < 20) {
      // The failing input is remade here from its number (the child may be dead).
      const target = TARGETS.find((t) => t.name === name)!;
      gen ??= caseGenerator(await target.arbitrary(), o.seed);
      // The case's files exactly as the parser saw them: rerun with the target's run(dir).
      saved = path.join(o.out, `${name}-case${i}-${verdict}`);
      mkdirSync(saved, { recursive: true });
      await target.write(gen(i), saved);
    }
    failures.push({ case: i, verdict, message: message.slice(0, 500), saved });
  };
  const pending: { i: number; verdict: Verdict; message: string }[] = [];
  let next = 0;
  while (next < o.cases) {
    const proc: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', name, '--start', String(next), '--end', String(o.cases),
      '--seed', String(o.seed), '--timeout-ms', String(o.timeoutMs)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let current = next;
    let last = performance.now();
    let killed: Verdict | null = null;
    let ready = false;
    proc.stderr!.on('data', () => {}); // a crashing native decoder may print; the verdict comes from the IPC reports
    const done = new Promise<void>((resolve) => {
      proc.on('message', (m: ChildReport | ChildDone | { type: 'start'; i: number } | { type: 'ready' }) => {
        last = performance.now();
        if (m.type === 'ready') {
          ready = true;
        } else if (m.type === 'start') {
          current = m.i;
        } else if (m.type === 'case') {
          counts[m.outcome]++;
          if (m.outcome === 'rejected') {
            const key = (m.message ?? '').replace(/(^|\s)\/\S+?(?=[:\s\]]|$)/g, '$1<file>').replace(/\d+/g, 'N').slice(0, 120);
            rejections.set(key, (rejections.get(key) ?? 0) + 1);
          } else if (m.outcome !== 'accepted') {
            pending.push({ i: m.i, verdict: m.outcome, message: m.message ?? '' });
          }
          next = m.i + 1;
        } else {
          peakKb = Math.max(peakKb, m.maxRssKb);
        }
      });
      proc.on('exit', () => resolve());
    });
    const watchdog = setInterval(() => {
      const rss = rssKb(proc.pid!);
      peakKb = Math.max(peakKb, rss);
      if (rss > o.memoryLimitMb * 1024) killed = 'memory';
      else if (performance.now() - last > (ready ? o.timeoutMs + 2000 : STARTUP_MS)) killed = ready ? 'hang' : 'crash';
      if (killed) {
        clearInterval(watchdog);
        proc.kill('SIGKILL');
      }
    }, 100);
    await done;
    clearInterval(watchdog);
    if (killed) {
      counts[killed]++;
      pending.push({ i: current, verdict: killed, message: killed === 'hang' ? `no answer in ${o.timeoutMs} ms` : `passed ${o.memoryLimitMb} MB` });
      next = current + 1;
    } else if (next < o.cases) {
      // The child died on its own (a native crash): that case is a crash.
      counts.crash++;
      pending.push({ i: current, verdict: 'crash', message: 'the process died' });
      next = current + 1;
    }
  }
  for (const f of pending) await save(f.i, f.verdict, f.message);
  return {
    parser: name, cases: o.cases, counts, peakRssMb: Math.round(peakKb / 1024), seconds: Math.round((performance.now() - t0) / 100) / 10,
    topRejections: [...rejections.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([message, count]) => ({ message, count })),
    failures,
  };
}

function table(rows: TargetReport[]): string {
  const head = '| parser | cases | accepted | rejected (clean) | unclear | crash | hang | memory | peak RSS | s | cases/s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  return [head, ...rows.map((r) => `| ${r.parser} | ${r.cases} | ${r.counts.accepted} | ${r.counts.rejected} | ${r.counts.unclear} | ${r.counts.crash} | ` +
    `${r.counts.hang} | ${r.counts.memory} | ${r.peakRssMb} MB | ${r.seconds} | ${Math.round(r.cases / Math.max(r.seconds, 0.1))} |`)].join('\n');
}

const o = parseBench<{ cases: number; jobs: number; parsers?: string[]; seed: number; timeoutMs: number; memoryLimitMb: number; out: string; json?: string;
  child?: string; start?: number; end?: number }>(benchCommand('fuzz', 'fuzz every file parser; report accepted / rejected / unclear / crash / hang / memory per parser')
  .option('--cases <n>', 'cases per parser', intArg('--cases', 1), 100_000)
  .option('--parsers <list>', `comma-separated subset of ${TARGETS.map((t) => t.name).join(', ')} (default: all)`, listArg('--parsers', TARGETS.map((t) => t.name)))
  .option('--seed <n>', 'seed of the case generator', intArg('--seed', 0), 1)
  .option('--timeout-ms <ms>', 'per-case time limit', intArg('--timeout-ms', 1), 5000)
  .option('--memory-limit-mb <mb>', 'kill a case that takes the process past this', intArg('--memory-limit-mb', 64), 1024)
  .option('--jobs <n>', 'parsers fuzzed at the same time (one process each)', intArg('--jobs', 1), 1)
  .option('--out <dir>', 'where inputs that failed are saved', '.vitopt-cache/fuzz')
  .option('--json <file>', 'also write the report as JSON')
  .addOption(new Option('--child <parser>').hideHelp())
  .addOption(new Option('--start <i>').hideHelp().argParser(Number))
  .addOption(new Option('--end <i>').hideHelp().argParser(Number)));

if (o.child) {
  await child(o.child, o.start!, o.end!, o.seed, o.timeoutMs);
} else {
  const names = o.parsers ?? TARGETS.map((t) => t.name);
  const rows: TargetReport[] = new Array(names.length);
  let nextTarget = 0;
  await Promise.all(Array.from({ length: Math.min(o.jobs, names.length) }, async () => {
    while (nextTarget < names.length) {
      const k = nextTarget++;
      process.stderr.write(`fuzz ${names[k]}: ${o.cases} cases…\n`);
      const r = await runTarget(names[k]!, o);
      rows[k] = r;
      process.stderr.write(`fuzz ${r.parser}: ${JSON.stringify(r.counts)} peak RSS ${r.peakRssMb} MB, ${r.seconds} s\n`);
    }
  }));
  const report = { date: new Date().toISOString(), seed: o.seed, timeoutMs: o.timeoutMs, memoryLimitMb: o.memoryLimitMb, parsers: rows };
  process.stdout.write(`${table(rows)}\n`);
  for (const r of rows) {
    for (const f of r.failures) process.stdout.write(`${r.parser} case ${f.case}: ${f.verdict}: ${f.message}${f.saved ? ` (input: ${f.saved})` : ''}\n`);
  }
  if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
  const bad = rows.reduce((a, r) => a + r.counts.crash + r.counts.hang + r.counts.memory + r.counts.unclear, 0);
  process.exit(bad ? 1 : 0);
}
