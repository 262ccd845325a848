/**
 * `vitopt serve` under load, against the in-process figure of `vitopt bench` for the same model in the
 * same run:
 *
 *  1. in process: runBench at batch 1 (latency) and at the server's max batch (throughput);
 *  2. the server (a child process: `vitopt serve`) driven by autocannon, closed loop, one image per
 *     request as a raw binary FP32 body (no JSON cost), at each concurrency of --concurrency;
 *  3. overload: 4× the server's capacity (instances × max batch + queue) of connections against a
 *     bounded queue: accepted requests' p99 against the queue timeout, rejections' status and speed;
 *  4. a worker instance killed mid-run (admin chaos endpoint, 2 instances): which requests failed,
 *     whether it was restarted and the run completed.
 *
 * Prints a Markdown table and writes <out>/serve-bench.{md,json,svg}.
 *
 *   npm run build && node dist/bench/serve.js [--model fashion-vit] [--max-batch 8] [--threads N]
 *     [--concurrency 1,4,16] [--duration 5] [--out docs]
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { runBench } from '../src/bench/runner.js';
import { machineInfo } from '../src/bench/machine.js';
import { percentile } from '../src/bench/stats.js';
import { esc, niceScale, writeChart } from '../src/util/svg.js';
import { benchInput } from '../src/bench/input.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { spawnServe } from '../src/serve/spawn.js';
import { argv, benchCommand, intArg, intListArg, listOption, parseBench } from './lib/cli.js';

interface AutocannonResult {
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = ((o: Record<string, unknown>) => Promise<AutocannonResult> & { on(e: 'response', f: (c: unknown, status: number, bytes: number, ms: number) => void): void }) &
  { track?: unknown };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const o = parseBench<{ model: string; maxBatch: number; threads: number; concurrency: number[]; duration: number; out: string; serveArgs: string }>(
  benchCommand('serve', '`vitopt serve` under load (autocannon), against the in-process figure for the same model; overload and a worker killed mid-run')
    .option('--model <name>', 'what `vitopt serve` serves (reference model, zoo name or .onnx file)', 'fashion-vit')
    .option('--max-batch <n>', "the server's --max-batch-size", intArg('--max-batch', 1), 8)
    .addOption(listOption('--concurrency <list>', 'client counts, one load level each', intListArg('--concurrency'), '1,4,16'))
    .option('--serve-args <flags>', 'extra `vitopt serve` flags for every server of the run, e.g. --serve-args=--spinning', ''),
  { threads: availableParallelism(), duration: 5, out: 'docs' });
const { model: MODEL, maxBatch: MAX_BATCH, threads: THREADS, concurrency: CONCURRENCY, duration: DURATION, out: OUT } = o;
const SERVE_ARGS = o.serveArgs.split(' ').filter(Boolean);
const TOKEN = 'bench-admin-token';

interface Server { child: ChildProcess; url: string; name: string; resolution: number; stop(): Promise<number | null> }

async function startServer(extra: string[]): Promise<Server> {
  const { child, url, exited } = await spawnServe([MODEL, '--port', '0', '--threads', String(THREADS), '--max-batch-size', String(MAX_BATCH),
    '--admin-token', TOKEN, ...SERVE_ARGS, ...extra], { inheritStderr: true });
  const models = await (await fetch(`${url}/v2/models`)).json() as { models: { name: string }[] };
  const name = models.models[0]!.name;
  const meta = await (await fetch(`${url}/v2/models/${name}`)).json() as { inputs: { shape: number[] }[] };
  return {
    child, url, name, resolution: meta.inputs[0]!.shape[2]!,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function stats(s: Server) {
  const j = await (await fetch(`${s.url}/v2/models/${s.name}/stats`)).json() as { model_stats: { inference_count: number; execution_count: number; inference_stats: { queue: { count: number; ns: number }; compute_infer: { count: number; ns: number } } }[] };
  return j.model_stats[0]!;
}

/** Drive the server; per-status latencies from autocannon's response events. */
async function load(s: Server, connections: number, seconds: number, during?: (elapsedMs: number) => void) {
  const body = Buffer.from(benchInput(1, [3, s.resolution, s.resolution]).buffer);
  const before = await stats(s);
  const byStatus = new Map<number, number[]>();
  const t0 = Date.now();
  const timer = during ? setInterval(() => during(Date.now() - t0), 100) : null;
  const run = autocannon({
    url: `${s.url}/v2/models/${s.name}/infer`, method: 'POST', connections, duration: seconds, body,
    headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' },
  });
  run.on('response', (_c, status, _b, ms) => {
    let a = byStatus.get(status);
    if (!a) byStatus.set(status, a = []);
    a.push(ms);
  });
  const r = await run;
  if (timer) clearInterval(timer);
  const after = await stats(s);
  const ok = (byStatus.get(200) ?? []).sort((a, b) => a - b);
  const execs = after.execution_count - before.execution_count;
  const images = after.inference_count - before.inference_count;
  const statuses = Object.fromEntries([...byStatus.entries()].map(([k, v]) => [k, v.length]));
  const rejected = [...byStatus.entries()].filter(([k]) => k !== 200).flatMap(([, v]) => v).sort((a, b) => a - b);
  return {
    connections, seconds: r.duration, statuses, errors: r.errors, timeouts: r.timeouts,
    okPerSecond: ok.length / r.duration,
    latencyMs: { p50: percentile(ok, 50), p90: percentile(ok, 90), p99: percentile(ok, 99), max: ok[ok.length - 1] ?? NaN },
    rejectedLatencyMs: rejected.length ? { p50: percentile(rejected, 50), p99: percentile(rejected, 99) } : null,
    avgBatch: execs ? images / execs : null,
    serverQueueMs: (after.inference_stats.queue.ns - before.inference_stats.queue.ns) / Math.max(1, after.inference_stats.queue.count - before.inference_stats.queue.count) / 1e6,
    serverComputeMs: (after.inference_stats.compute_infer.ns - before.inference_stats.compute_infer.ns) / Math.max(1, after.inference_stats.compute_infer.count - before.inference_stats.compute_infer.count) / 1e6,
  };
}

type Level = Awaited<ReturnType<typeof load>>;

/** Latency (p50, p99) and throughput against concurrency, with the in-process figures drawn in. */
function chartSvg(levels: Level[], inproc: { p50b1: number; ipsBatch: number }, title: string): string {
  const W = 900, H = 380, pw = 340, ph = 250, top = 60, left = 70, gap = 110;
  const parts: string[] = [`<text x="${W / 2}" y="24" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="15" font-weight="bold">${esc(title)}</text>`];
  const cs = levels.map((l) => l.connections);
  const lx = (c: number) => Math.log2(c);
  const cMax = Math.max(2, ...cs);
  const panels = [
    { label: 'latency of answered requests (ms)', series: [{ key: 'p50', label: 'p50', colour: '#1f77b4' }, { key: 'p99', label: 'p99', colour: '#d62728' }], ref: inproc.p50b1, refLabel: 'in-process p50, batch 1' },
    { label: 'images/s', series: [{ key: 'ips', label: 'answered images/s', colour: '#2ca02c' }], ref: inproc.ipsBatch, refLabel: `in-process, batch ${MAX_BATCH}` },
  ];
  const value = (l: Level, k: string) => (k === 'ips' ? l.okPerSecond : k === 'p50' ? l.latencyMs.p50 : l.latencyMs.p99);
  panels.forEach((p, i) => {
    const x0 = left + i * (pw + gap);
    const max = niceScale(Math.max(p.ref, ...levels.flatMap((l) => p.series.map((s) => value(l, s.key)))) * 1.05);
    const sx = (c: number) => x0 + (lx(c) / lx(cMax)) * pw;
    const sy = (v: number) => top + ph - (v / max.max) * ph;
    parts.push(`<rect x="${x0}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
    parts.push(`<text x="${x0 + pw / 2}" y="${top - 10}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13">${esc(p.label)}</text>`);
    for (let t = 0; t <= max.max + 1e-9; t += max.step) {
      parts.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${x0 - 6}" y="${sy(t) + 4}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="10" fill="#666">${+t.toFixed(2)}</text>`);
    }
    for (const c of cs) parts.push(`<text x="${sx(c)}" y="${top + ph + 15}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="10" fill="#666">${c}</text>`);
    parts.push(`<text x="${x0 + pw / 2}" y="${top + ph + 32}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="11">concurrent clients</text>`);
    parts.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${sy(p.ref)}" y2="${sy(p.ref)}" stroke="#555" stroke-dasharray="5,4"/><text x="${x0 + 4}" y="${sy(p.ref) - 4}" font-family="DejaVu Sans, sans-serif" font-size="10" fill="#555">${esc(p.refLabel)}</text>`);
    p.series.forEach((s, j) => {
      parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${levels.map((l) => `${sx(l.connections).toFixed(1)},${sy(value(l, s.key)).toFixed(1)}`).join(' ')}"/>`);
      for (const l of levels) parts.push(`<circle cx="${sx(l.connections).toFixed(1)}" cy="${sy(value(l, s.key)).toFixed(1)}" r="3" fill="${s.colour}"/>`);
      parts.push(`<rect x="${x0 + 10 + j * 70}" y="${top + ph + 42}" width="10" height="10" fill="${s.colour}"/><text x="${x0 + 24 + j * 70}" y="${top + ph + 51}" font-family="DejaVu Sans, sans-serif" font-size="11">${esc(s.label)}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

const f1 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1));

async function main() {
  const t0 = Date.now();
  process.stderr.write(`in-process reference: vitopt bench ${MODEL} --batch 1,${MAX_BATCH} --threads ${THREADS} …\n`);
  const bench = await runBench({ models: [MODEL], batches: [1, MAX_BATCH], threads: [THREADS], duration: DURATION, repeats: 1, baseline: false });
  const row = (b: number) => bench.results.find((r) => r.batch === b && r.status === 'ok');
  const inproc = { p50b1: row(1)?.latencyMs?.p50 ?? NaN, ipsBatch: row(MAX_BATCH)?.imagesPerSecond?.median ?? NaN, ipsB1: row(1)?.imagesPerSecond?.median ?? NaN };

  process.stderr.write('server: concurrency sweep …\n');
  let s = await startServer([]);
  const levels: Level[] = [];
  for (const c of CONCURRENCY) {
    await load(s, c, 1); // warm connections
    levels.push(await load(s, c, DURATION));
    process.stderr.write(`  c=${c}: ${f1(levels.at(-1)!.okPerSecond)} img/s, p50 ${f1(levels.at(-1)!.latencyMs.p50)} ms\n`);
  }
  await s.stop();

  process.stderr.write('server: 4× overload against a bounded queue …\n');
  const queue = MAX_BATCH, timeoutMs = 1000;
  s = await startServer(['--max-queue-size', String(queue), '--timeout-ms', String(timeoutMs)]);
  const capacity = MAX_BATCH + queue;
  const overload = { ...(await load(s, 4 * capacity, DURATION)), queue, timeoutMs };
  await s.stop();

  process.stderr.write('server: a worker killed mid-run (2 instances) …\n');
  s = await startServer(['--instances', '2']);
  let killed: unknown = null;
  const kill = await load(s, 16, DURATION, (ms) => {
    if (killed === null && ms > (DURATION * 1000) / 2) {
      killed = 'pending';
      void fetch(`${s.url}/v2/debug/models/${s.name}/instances/0/kill`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
        .then((r) => r.json()).then((j) => (killed = j));
    }
  });
  // The restart (new thread, model load, warm-up of every batch size) may outlast the run: wait for it.
  const restartsNow = async () => Number(/^vitopt_worker_restarts_total\{[^}]*\} (\S+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
  const waitStart = Date.now();
  let restarts = await restartsNow();
  while (restarts < 1 && Date.now() - waitStart < 30_000) {
    await new Promise((r) => setTimeout(r, 100));
    restarts = await restartsNow();
  }
  const readyAfter = (await fetch(`${s.url}/v2/health/ready`)).status;
  const exitCode = await s.stop();

  const report = {
    tool: 'bench/serve.ts', date: new Date().toISOString(), machine: machineInfo(), model: MODEL, maxBatch: MAX_BATCH, threads: THREADS, durationS: DURATION,
    note: 'closed loop (autocannon), one image per request as a raw binary FP32 body; the server and the load generator share this machine\'s cores',
    inProcess: inproc, levels, overload, workerKill: { ...kill, killed, restarts, readyAfter, exitCode },
  };
  const lines = [
    `# vitopt serve under load — ${MODEL}`, '',
    `${report.date}, ${report.machine.cpu} (${availableParallelism()} CPUs), threads ${THREADS}, max batch ${MAX_BATCH}, ${DURATION} s per level. ${report.note}.`, '',
    `In process (vitopt bench): batch 1 p50 ${f1(inproc.p50b1)} ms (${f1(inproc.ipsB1)} img/s); batch ${MAX_BATCH} ${f1(inproc.ipsBatch)} img/s.`, '',
    '| clients | img/s | vs in-process b' + MAX_BATCH + ' | p50 ms | p90 ms | p99 ms | avg batch | server queue ms | server compute ms | non-200 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...levels.map((l) => `| ${l.connections} | ${f1(l.okPerSecond)} | ${(100 * l.okPerSecond / inproc.ipsBatch).toFixed(0)}% | ${f1(l.latencyMs.p50)} | ${f1(l.latencyMs.p90)} | ${f1(l.latencyMs.p99)} | ${l.avgBatch?.toFixed(2) ?? '–'} | ${f1(l.serverQueueMs)} | ${f1(l.serverComputeMs)} | ${Object.entries(l.statuses).filter(([k]) => k !== '200').map(([k, v]) => `${k}×${v}`).join(' ') || 0} |`),
    '',
    `At 1 client the server's p50 is ${f1(levels[0]!.latencyMs.p50 - inproc.p50b1)} ms above the in-process batch-1 p50.`, '',
    `**Overload** (${overload.connections} clients = 4 × (max batch ${MAX_BATCH} + queue ${queue}), queue timeout ${timeoutMs} ms): ` +
    `${f1(overload.okPerSecond)} answered/s, accepted p99 ${f1(overload.latencyMs.p99)} ms (${(overload.latencyMs.p99 / timeoutMs).toFixed(2)}× the queue timeout); ` +
    `statuses ${JSON.stringify(overload.statuses)}; rejections answered in p50 ${f1(overload.rejectedLatencyMs?.p50)} ms, p99 ${f1(overload.rejectedLatencyMs?.p99)} ms.`, '',
    `**Worker killed mid-run** (2 instances, 16 clients): statuses ${JSON.stringify(kill.statuses)}, restarts ${restarts}, ready after the run: ${readyAfter}, server exit code after SIGTERM: ${exitCode}.`, '',
    `Command: \`node dist/bench/serve.js ${argv.join(' ')}\` (${((Date.now() - t0) / 1000).toFixed(0)} s).`, '',
  ];
  const md = lines.join('\n');
  await fs.mkdir(OUT, { recursive: true });
  await writeFileAtomic(path.join(OUT, 'serve-bench.md'), md);
  await writeFileAtomic(path.join(OUT, 'serve-bench.json'), JSON.stringify(report, null, 2) + '\n');
  await writeChart(path.join(OUT, 'serve-bench.svg'), chartSvg(levels, inproc, `vitopt serve — ${MODEL}, max batch ${MAX_BATCH}`));
  process.stdout.write(md);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
