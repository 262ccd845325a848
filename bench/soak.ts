/**
 * Soak and fault runs (issue 15): `vitopt loadtest` against `vitopt serve fashion-vit`, both as a user
 * runs them (child processes), with the shipped labelled Fashion-MNIST subset, every answer checked.
 *
 *  1. warm-up (--warmup-seconds, default 70: past the monitor's 60 s window), then RSS from /metrics
 *     (process_resident_memory_bytes);
 *  2. soak: --requests N (default 100,000) at a concurrency that keeps the queue busy;
 *     target: zero lost, duplicated or mismatched answers; RSS at the end within 10% of after warm-up;
 *  3. fault run: the same, with one worker instance killed every --kill-every seconds through the
 *     server's admin chaos endpoint (POST /v2/debug/models/{m}/instances/{i}/kill, bearer token),
 *     alternating instances; target: failures only for requests in flight on the killed worker, each a
 *     clean 503, and throughput back to steady within seconds of each kill (steady = the fault run's
 *     median one-second rate; recovery = when a one-second window at ≥ 90% of it begins, recovery.ts).
 *
 *   node dist/bench/soak.js [--requests 100000] [--concurrency 32] [--instances 2] [--kill-every 5]
 *                           [--warmup-seconds 70] [--pool-size 2000] [--out soak.json] [--skip-fault] [--skip-soak]
 */
import { spawnServe, type ServeProcess } from '../src/serve/spawn.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/atomic.js';
import type { LoadtestReport, LevelResult } from '../src/loadtest/index.js';
import { recoveries, steadyRate, type Recovery } from '../src/loadtest/recovery.js';
import { benchCommand, intArg, parseBench, positiveArg } from './lib/cli.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const MODEL = 'fashion-vit';

const a = parseBench<{ requests: number; concurrency: number; instances: number; threads?: number; maxBatchSize: number; killEvery: number;
  warmupSeconds: number; poolSize: number; out?: string; skipFault?: boolean; skipSoak?: boolean }>(
  benchCommand('soak', '`vitopt loadtest` against `vitopt serve fashion-vit`: a soak run and a fault run (workers killed), every answer checked')
    .option('--requests <n>', 'requests per run', intArg('--requests', 1), 100_000)
    .option('--concurrency <n>', 'concurrent requests', intArg('--concurrency', 1), 32)
    .option('--instances <n>', 'worker instances of the server', intArg('--instances', 1), 2)
    .option('--threads <n>', "the server's --threads (default: the server's own)", intArg('--threads', 1))
    .option('--max-batch-size <n>', "the server's --max-batch-size", intArg('--max-batch-size', 1), 8)
    .option('--kill-every <s>', 'fault run: seconds between worker kills', positiveArg('--kill-every'), 5)
    .option('--warmup-seconds <s>', "warm-up before RSS is read (past the monitor's 60 s window)", positiveArg('--warmup-seconds'), 70)
    .option('--pool-size <n>', 'distinct images in the request pool', intArg('--pool-size', 1), 2000)
    .option('--out <file>', 'also write the report (JSON) to this file')
    .option('--skip-fault', 'skip the fault run')
    .option('--skip-soak', 'skip the soak run'));
const N = a.requests, C = a.concurrency, K = a.killEvery, INSTANCES = a.instances;
// Longer than the server monitor's 60 s window, whose samples are part of the memory in steady state.
const WARMUP_S = a.warmupSeconds;
const token = randomBytes(16).toString('hex');
const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-soak-'));
const log = (s: string) => process.stderr.write(`soak: ${s}\n`);

/** `vitopt serve fashion-vit`, resolved with its URL once ready. */
function serve(): Promise<ServeProcess> {
  const args = [MODEL, '--port', '0', '--instances', String(INSTANCES), '--max-batch-size', String(a.maxBatchSize), '--admin-token', token];
  if (a.threads) args.push('--threads', String(a.threads));
  return spawnServe(args, { inheritStderr: true });
}

/** `vitopt loadtest … --json file`: its report, and a promise that settles when load starts (after the reference pass). */
function loadtest(url: string, size: { requests: number } | { seconds: number }, name: string): { report: Promise<LoadtestReport>; measuring: Promise<void> } {
  const file = path.join(dir, `${name}.json`);
  const args = [MAIN, 'loadtest', url, '--model', MODEL, '--images', 'fashion-mnist-subset', '--pool-size', String(a.poolSize), '--concurrency', String(C),
    ...('requests' in size ? ['--requests', String(size.requests)] : ['--duration', String(size.seconds)]), '--window-ms', '5000', '--json', file];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let started!: () => void;
  const measuring = new Promise<void>((r) => (started = r));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    err += d.toString();
    if (/: measuring\n/.test(err)) started();
  });
  const report = new Promise<LoadtestReport>((resolve, reject) => {
    child.on('exit', (code) => {
      started();
      if (code === 0) resolve(JSON.parse(readFileSync(file, 'utf8')) as LoadtestReport);
      else reject(new Error(`vitopt loadtest exited ${code}`));
    });
  });
  return { report, measuring };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

interface RunSummary {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  sent: number;
  succeeded: number;
  lost: number;
  mismatched: number;
  ties: number;
  misrouted: number;
  duplicated: number;
  malformed: number;
  unaccounted: number;
  failuresByStatus: Record<string, number>;
  unclean: number;
  errorMessages: Record<string, number>;
}

function summary(r: LoadtestReport): RunSummary {
  const l: LevelResult = r.levels[0]!;
  const o = l.outcomes;
  return {
    requests: r.settings.requests ?? 0, seconds: l.overall.durationMs / 1000, requestsPerSecond: l.overall.requestsPerSecond,
    p50Ms: l.overall.latency.p50Ms, p99Ms: l.overall.latency.p99Ms, sent: o.sent, succeeded: o.succeeded,
    lost: o.lost.network + o.lost.timeout, mismatched: o.check.mismatched, ties: o.check.ties, misrouted: o.check.misrouted,
    duplicated: o.check.duplicates, malformed: o.check.malformed, unaccounted: r.totals.unaccounted,
    failuresByStatus: o.errorsByStatus, unclean: o.unclean, errorMessages: o.errorMessages,
  };
}

async function main(): Promise<void> {
  log(`${cpus()[0]?.model}, ${cpus().length} cores; ${N} requests per run at concurrency ${C}, ${INSTANCES} instances, kill every ${K} s`);
  const server = await serve();
  const report: Record<string, unknown> = { date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length },
    settings: { requests: N, concurrency: C, instances: INSTANCES, maxBatchSize: a.maxBatchSize, killEverySeconds: K, warmupSeconds: WARMUP_S, distinctImages: a.poolSize } };
  try {
    log(`warm-up: ${WARMUP_S} s`);
    const warm = await loadtest(server.url, { seconds: WARMUP_S }, 'warmup').report;
    const rssWarm = await metric(server.url, 'process_resident_memory_bytes');
    report.warmup = summary(warm);
    let steady = steadyRate(warm.levels[0]!.timeline);
    if (!a.skipSoak) {
      log(`soak: ${N} requests`);
      const soak = await loadtest(server.url, { requests: N }, 'soak').report;
      const rssEnd = await metric(server.url, 'process_resident_memory_bytes');
      steady = steadyRate(soak.levels[0]!.timeline);
      report.soak = { ...summary(soak), steadyPerSecond: steady, rssAfterWarmupMiB: rssWarm / 2 ** 20, rssAtEndMiB: rssEnd / 2 ** 20,
        rssChange: Math.round(((rssEnd - rssWarm) / rssWarm) * 1000) / 1000, reference: soak.reference };
    }
    if (!a.skipFault) {
      log(`fault run: ${N} requests, a worker killed every ${K} s`);
      const restartsBefore = await metric(server.url, 'vitopt_worker_restarts_total');
      const kills: { atEpochMs: number; instance: number; status: number }[] = [];
      let stop = false;
      const run = loadtest(server.url, { requests: N }, 'fault');
      // Kills start with the load, not during the reference pass (whose answers must all succeed).
      await run.measuring;
      const killer = (async () => {
        for (let i = 0; !stop; i++) {
          await new Promise((r) => setTimeout(r, K * 1000));
          if (stop) break;
          const instance = i % INSTANCES;
          const at = Date.now();
          const r = await fetch(`${server.url}/v2/debug/models/${MODEL}/instances/${instance}/kill`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
          kills.push({ atEpochMs: at, instance, status: r.status });
          log(`killed instance ${instance} (${r.status})`);
        }
      })();
      const fault = await run.report.finally(() => { stop = true; });
      await killer;
      await new Promise((r) => setTimeout(r, 1500)); // let the last restart land before reading the counter
      const restarts = (await metric(server.url, 'vitopt_worker_restarts_total')) - (Number.isNaN(restartsBefore) ? 0 : restartsBefore);
      const s = summary(fault);
      // Kills that landed while the load ran (the last may come after the level ended, as the process exits).
      const lvl = fault.levels[0]!;
      const killed = kills.filter((k) => k.status === 200 && k.atEpochMs < lvl.timeline.startEpochMs + lvl.overall.durationMs);
      // Steady = the fault run's own median one-second rate (dips are short, so the median is the undisturbed
      // rate); on a shared machine the soak's rate, minutes earlier, is a weaker yardstick.
      const faultSteady = steadyRate(fault.levels[0]!.timeline);
      const rec: Recovery[] = recoveries(fault.levels[0]!.timeline, killed.map((k) => k.atEpochMs), faultSteady);
      const times = rec.map((x) => x.recoveredAfterMs).filter((x): x is number => x !== null).sort((x, y) => x - y);
      const failed = Object.values(s.failuresByStatus).reduce((x, y) => x + y, 0);
      // Requests that were running on the killed instance, versus requests refused while no instance was healthy
      // (both instances down at once: the kill interval was shorter than a restart, which warms every batch size).
      const byMessage = (re: RegExp) => Object.entries(s.errorMessages).filter(([m]) => re.test(m)).reduce((x, [, n]) => x + n, 0);
      const inFlight = byMessage(/crashed while running this batch/);
      report.fault = {
        ...s, kills: kills.length, killsDuringLoad: killed.length, restarts,
        failedPerKill: killed.length ? Math.round((failed / killed.length) * 100) / 100 : null,
        failedInFlightOnKilledWorker: inFlight, failedOther: failed - inFlight,
        // A kill fails at most the batch that instance was running.
        maxBatchSize: a.maxBatchSize,
        onlyClean503: Object.keys(s.failuresByStatus).every((k) => k === '503') && s.unclean === 0,
        steadyPerSecond: faultSteady, soakSteadyPerSecond: steady,
        recoveryMs: { median: times.length ? times[Math.floor(times.length / 2)] : null, max: times.length ? times[times.length - 1] : null,
          neverRecovered: rec.filter((x) => x.recoveredAfterMs === null && !x.censored).length, tooCloseToTheEnd: rec.filter((x) => x.censored).length },
        recoveries: rec,
      };
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  const text = JSON.stringify(report, null, 2) + '\n';
  if (a.out) await writeFileAtomic(a.out, text);
  process.stdout.write(text);
  const soak = report.soak as RunSummary | undefined, fault = report.fault as (RunSummary & { onlyClean503: boolean; recoveryMs: { max: number | null } }) | undefined;
  if (soak) log(`soak: ${soak.succeeded}/${soak.sent} ok, ${soak.lost} lost, ${soak.mismatched} mismatched, ${soak.duplicated} duplicated, ${soak.misrouted} misrouted, RSS ${(report.soak as { rssChange: number }).rssChange * 100}%`);
  if (fault) log(`fault: ${fault.succeeded}/${fault.sent} ok, failures ${JSON.stringify(fault.failuresByStatus)}, clean 503 only: ${fault.onlyClean503}, lost ${fault.lost}, mismatched ${fault.mismatched}, slowest recovery ${fault.recoveryMs.max} ms`);
}

await main();
