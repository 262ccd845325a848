/**
 * `startServer(options)`: the inference server as a composition of small Fastify plugins — health,
 * model reads, inference, monitoring, admin — over one ServeState. Models are loaded and warmed
 * before the port opens, so the first answer of /v2/health/ready is already true.
 *
 * Errors are answered as {"error": "..."} with the protocol's status codes; `/` is left free (the
 * dashboard's place).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { UserError } from '../errors.js';
import { ServeError } from './errors.js';
import { adminRoutes } from './routes/admin.js';
import { dashboardRoutes } from './dashboard/plugin.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { modelRoutes } from './routes/models.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { ServeState, type ServeOptions } from './state.js';

export type { ServeOptions } from './state.js';

export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT = 64 * 2 ** 20;
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  state: ServeState;
  /** Stop taking work (ready → 503), let queued and running requests finish (up to the drain timeout), then close. */
  close(): Promise<void>;
}

/** Build the Fastify app over a state (no listening, no model loading). */
export async function buildApp(state: ServeState): Promise<FastifyInstance> {
  const o = state.o;
  const bodyLimit = o.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({ logger: o.logger ?? false, bodyLimit, return503OnClosing: true });
  app.setErrorHandler((err: FastifyError | ServeError, _req, reply) => {
    if (err instanceof ServeError) return reply.code(err.status).headers(err.headers).send({ error: err.message });
    if (err instanceof UserError) return reply.code(400).send({ error: err.message });
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    app.log.error(err);
    return reply.code(500).send({ error: `internal error: ${err.message}` });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` }));
  await app.register(healthRoutes, { state });
  await app.register(modelRoutes, { state });
  await app.register(inferRoutes, { state, bodyLimit });
  await app.register(monitoringRoutes, { state });
  await app.register(adminRoutes, { state, token: o.adminToken });
  await app.register(dashboardRoutes);
  return app;
}

/** Load the models, then listen. Resolves once ready, with the URL and a close() that drains. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const state = new ServeState(o);
  try {
    await state.loadAll();
  } catch (e) {
    await state.close();
    throw e;
  }
  const app = await buildApp(state);
  const host = o.host ?? DEFAULT_HOST;
  try {
    await app.listen({ host, port: o.port ?? DEFAULT_PORT });
  } catch (e) {
    await state.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`--port ${o.port ?? DEFAULT_PORT}: already in use on ${host}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`--host ${host}: not an address of this machine`);
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? DEFAULT_PORT;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shown}:${port}`, app, state,
    close: () => (closing ??= (async () => {
      state.draining = true;
      await state.settle(o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
      await app.close();
      await state.close();
    })()),
  };
}
