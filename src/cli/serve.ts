/**
 * `vitopt serve [models...]`: an Open Inference Protocol (KServe v2 / Triton) HTTP server with dynamic
 * batching, Prometheus metrics and a live monitor. Prints the URL on stdout once every model is
 * loaded and warmed; SIGTERM/SIGINT make ready answer 503, drain in-flight work (--drain-timeout-ms)
 * and exit 0.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { durationArg, enumOption, intArg, intListArg, parseBytes } from './common.js';
import { graphOptOption } from './options.js';
import type { ServeOptions } from '../serve/state.js';

/** The flags as commander parses them: the library's options where they are the same, else their raw form. */
type ServeFlags = Pick<ServeOptions, 'modelRepository' | 'instances' | 'threads' | 'maxBatchSize' | 'preferredBatchSize'
  | 'maxQueueDelayUs' | 'maxQueueSize' | 'timeoutMs' | 'adminToken'> & {
  host: string;
  port: number;
  overloadStatus: string;
  drainTimeoutMs: number;
  bodyLimit?: number;
  graphOpt?: 'disabled' | 'basic' | 'extended' | 'all';
  spinning?: boolean;
  log?: boolean;
};

export function register(program: Command): void {
  program.command('serve')
    .description('serve models over HTTP (KServe Open Inference Protocol v2, Triton-compatible): dynamic batching, /metrics, /v2/monitor')
    .argument('[models...]', 'fashion-vit, fashion-mixer, checkpoints or .onnx files')
    .option('--model-repository <dir>', 'Triton-layout repository: <dir>/<model>/<version>/model.onnx [+ config.json, labels.txt]')
    .option('--host <host>', 'interface to bind (0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('--port <port>', 'HTTP port (0 = any free port)', intArg('--port', 0), 8000)
    .option('--instances <n>', 'worker instances per model, each one session in its own thread (default 1)', intArg('--instances'))
    .option('--threads <n>', 'intra-op thread budget per model, split across its instances (default: all cores)', intArg('--threads'))
    .option('--max-batch-size <n>', 'largest batch one run takes (default 8; Triton\'s name, --batch elsewhere)', intArg('--max-batch-size'))
    .option('--preferred-batch-size <list>', 'batch sizes dispatched at once when formed, e.g. 4,8', intListArg('--preferred-batch-size'))
    .option('--max-queue-delay-us <time>', 'longest wait of the oldest request for a fuller batch (default 0; a bare number is µs, Triton\'s unit)', durationArg('--max-queue-delay-us', 'us', { allowZero: true }))
    .option('--max-queue-size <n>', 'requests that may wait; more are rejected at once (default 4 × max batch × instances; 0 = unbounded)', intArg('--max-queue-size', 0))
    .option('--timeout-ms <time>', 'queue-wait timeout per request: 503 past it (default 10000; 0 = none; a bare number is ms)', durationArg('--timeout-ms', 'ms', { allowZero: true }))
    .addOption(enumOption('--overload-status <code>', 'HTTP status of a request refused because the queue is full (503: Triton\'s)', ['429', '503'], '429'))
    .option('--admin-token <token>', 'bearer token of the admin endpoints (or VITOPT_ADMIN_TOKEN); without one they are disabled')
    .option('--drain-timeout-ms <time>', 'on SIGTERM, how long in-flight requests may take to finish (a bare number is ms)', durationArg('--drain-timeout-ms', 'ms', { allowZero: true }), 30_000)
    .option('--body-limit <size>', 'largest request body, e.g. 64MiB (default 64MiB)', parseBytes('--body-limit'))
    .addOption(graphOptOption())
    .option('--spinning', 'let idle ONNX Runtime threads spin-wait (off by default: spinning threads take the cores the HTTP loop needs)')
    .option('--log', 'log every request (JSON lines on stdout)')
    .action(async (models: string[], o: ServeFlags) => {
      if (o.overloadStatus !== '429' && o.overloadStatus !== '503') throw new UserError(`--overload-status ${o.overloadStatus}: expected 429 or 503`);
      if (models.length === 0 && !o.modelRepository) throw new UserError('nothing to serve: give models (e.g. vitopt serve fashion-vit) or --model-repository DIR');
      const { startServer } = await import('../serve/server.js');
      const server = await startServer({
        models, modelRepository: o.modelRepository, host: o.host, port: o.port, instances: o.instances, threads: o.threads,
        maxBatchSize: o.maxBatchSize, preferredBatchSize: o.preferredBatchSize, maxQueueDelayUs: o.maxQueueDelayUs === undefined ? undefined : Math.round(o.maxQueueDelayUs),
        maxQueueSize: o.maxQueueSize, timeoutMs: o.timeoutMs, overloadStatus: Number(o.overloadStatus) as 429 | 503,
        adminToken: o.adminToken ?? (process.env.VITOPT_ADMIN_TOKEN || undefined), drainTimeoutMs: o.drainTimeoutMs,
        bodyLimitBytes: o.bodyLimit, session: { ...(o.graphOpt ? { graphOptimization: o.graphOpt } : {}), ...(o.spinning ? { spinning: true } : {}) }, logger: !!o.log,
      });
      const names = [...server.state.models.values()].map((m) => `${m.name} (v${m.version}, max batch ${m.batching.max_batch_size}, ` +
        `${m.batching.instance_count} instance${m.batching.instance_count > 1 ? 's' : ''} × ${m.threadsPerInstance} threads)`);
      process.stderr.write(`vitopt serve: ${names.join(', ')}\n`);
      process.stdout.write(`${server.url}\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`vitopt serve: ${signal}: draining (up to ${o.drainTimeoutMs} ms)\n`);
        server.close().then(() => process.exit(0), (e: Error) => {
          process.stderr.write(`vitopt serve: error while shutting down: ${e.message}\n`);
          process.exit(1);
        });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Keep the command's promise pending: the server runs until a signal.
      await new Promise<never>(() => {});
    });
}
