/**
 * Entry point of one benchmark configuration: forked by the runner (./runner.ts), receives one job
 * over IPC, measures, sends the result and exits. Its peak resident memory (VmHWM, see peakRssBytes)
 * is therefore the configuration's alone: Node, the runtime libraries, the session, its arena and
 * the input batch — nothing from other configurations.
 *
 * Protocol: ./protocol.ts. Progress messages at most every 200 ms. A failure is a 'failed' message
 * with the stage and reason; a crash, a hang or the memory limit is noticed by the parent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchInput } from './input.js';
import type { EngineSession } from '../engines/engine.js';
import type { ChildJob, ChildMessage, MeasureJob, Sample } from './protocol.js';

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(JSON.stringify(m) + '\n');
      resolve();
    } else {
      process.send(m, undefined, {}, () => resolve());
    }
  });
}

/**
 * Peak resident memory of this process. On Linux: VmHWM of /proc/self/status, the high-water mark of
 * this process's own address space. Not `resourceUsage().maxRSS`: Linux carries into it the RSS the
 * process had at exec time — a forked child's RSS right after fork() is the parent's resident
 * memory — so maxRSS would report the parent's footprint for a small configuration.
 */
/** Restart the high-water mark (Linux ≥ 4.0: "5" > /proc/self/clear_refs); false where unsupported. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function injectEarly(job: MeasureJob): void {
  if (job.fault === 'crash') process.abort();
  if (job.fault === 'hang') for (;;) { /* never returns: the parent's timeout ends it */ }
  if (job.fault === 'oom') {
    const hog: Buffer[] = [];
    for (;;) hog.push(Buffer.alloc(64 * 2 ** 20, 1)); // touched pages: RSS grows until the limit
  }
}

async function measure(job: MeasureJob): Promise<void> {
  const rssBeforeLoadBytes = process.memoryUsage().rss;
  const dims = [job.batch, ...job.imageDims];
  const input = benchInput(job.batch, job.imageDims);
  const pixels = { data: input, dims };
  await send({ type: 'progress', phase: 'load', done: 0, total: 1 });

  let sessions: EngineSession[];
  const t0 = now();
  try {
    if (job.workers <= 1) {
      const { createSession } = await import('../engines/create.js');
      sessions = [await createSession(job.engine, job.modelPath, job.options, job.label)];
    } else {
      const { WorkerSession } = await import('../engines/worker.js');
      sessions = await Promise.all(Array.from({ length: job.workers }, () => WorkerSession.create(job.engine, job.modelPath, job.options, job.label)));
    }
  } catch (e) {
    const unavailable = (e as Error).name === 'EngineUnavailableError';
    const reason = unavailable ? (e as { reason: string }).reason : (e as Error).message;
    await send({ type: 'failed', stage: unavailable ? 'start' : 'load', reason, engineUnavailable: unavailable });
    return;
  }
  const sessionCreateMs = now() - t0;
  const rssAfterLoadBytes = process.memoryUsage().rss;
  // Loading has its own transient peak (file bytes + initializers + pre-packing); the runs have theirs.
  const loadPeakBytes = peakRssBytes();
  const reset = resetPeakRss();
  injectEarly(job);

  let firstRunMs = NaN;
  let outputDims: number[] = [];
  let firstLogits: number[] = [];
  const latencies: number[] = [];
  let wall = 0;
  try {
    if (job.fault === 'throw') throw new Error('injected fault: the run failed');
    for (let i = 0; i < Math.max(1, job.warmup); i++) {
      const ts = now();
      const outs = await Promise.all(sessions.map((s) => s.run(pixels)));
      if (i === 0) {
        firstRunMs = now() - ts;
        outputDims = outs[0]!.dims;
        const row = outs[0]!.data.length / Math.max(1, outs[0]!.dims[0] ?? 1);
        firstLogits = Array.from(outs[0]!.data.subarray(0, Math.min(16, row)));
      }
      await send({ type: 'progress', phase: 'warmup', done: i + 1, total: Math.max(1, job.warmup) });
    }
    const deadline = job.duration !== undefined ? job.duration * 1000 : Infinity;
    const target = job.iterations ?? Infinity;
    let lastProgress = 0;
    const start = now();
    // One loop per session; all share the deadline. Workers = 1: the plain sequential loop.
    const loop = async (s: EngineSession) => {
      let runs = 0;
      for (;;) {
        const elapsed = now() - start;
        if (runs >= target) break;
        if (job.iterations === undefined && elapsed >= deadline && runs >= job.minIterations) break;
        const ts = now();
        await s.run(pixels);
        const te = now();
        latencies.push(te - ts);
        runs++;
        if (te - lastProgress > 200) {
          lastProgress = te;
          const done = job.iterations !== undefined ? latencies.length : Math.min(te - start, deadline) / 1000;
          const total = job.iterations !== undefined ? job.iterations * sessions.length : deadline / 1000;
          void send({ type: 'progress', phase: 'measure', done, total });
        }
      }
    };
    await Promise.all(sessions.map(loop));
    wall = now() - start;
  } catch (e) {
    await send({ type: 'failed', stage: 'run', reason: (e as Error).message.split('\n')[0]!, engineUnavailable: false });
    return;
  }
  const images = latencies.length * job.batch;
  const slices = Math.max(1, Math.min(job.slices, Math.floor(latencies.length / sessions.length)));
  const sliceImagesPerSecond: number[] = [];
  const per = latencies.length / slices;
  for (let i = 0; i < slices; i++) {
    const part = latencies.slice(Math.round(i * per), Math.round((i + 1) * per));
    const busy = part.reduce((a, b) => a + b, 0) / sessions.length;
    sliceImagesPerSecond.push((part.length * job.batch) / (busy / 1000));
  }
  const sample: Sample = {
    pid: process.pid, batch: job.batch, workers: sessions.length, runs: latencies.length, images, seconds: wall / 1000,
    imagesPerSecond: images / (wall / 1000), latenciesMs: latencies, sliceImagesPerSecond, sessionCreateMs, firstRunMs,
    peakRssBytes: Math.max(loadPeakBytes, peakRssBytes()), loadPeakRssBytes: loadPeakBytes, runPeakRssBytes: reset ? peakRssBytes() : null,
    rssBeforeLoadBytes, rssAfterLoadBytes,
    settings: sessions[0]!.settings, outputDims, firstLogits,
  };
  await send({ type: 'result', sample });
  await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
}

async function probe(job: Extract<ChildJob, { kind: 'probe' }>): Promise<void> {
  const { detectEngines } = await import('../engines/detect.js');
  await send({ type: 'probed', engines: await detectEngines(job.engines, { wasmThreads: job.wasmThreads }) });
}

process.on('uncaughtException', (e) => {
  void send({ type: 'failed', stage: 'run', reason: `uncaught: ${e.message.split('\n')[0]}`, engineUnavailable: false })
    .finally(() => process.exit(1));
});

process.once('message', (job: ChildJob) => {
  (job.kind === 'probe' ? probe(job) : measure(job))
    .catch((e) => send({ type: 'failed', stage: 'run', reason: `internal: ${(e as Error)?.stack ?? String(e)}`, engineUnavailable: false }))
    .finally(() => process.exit(0));
});
