/** Server health and metadata (OIP): live never depends on models; ready answers 200 or 503 (probes read the status). */
import type { FastifyInstance } from 'fastify';
import type { ServeState } from '../state.js';
import { PROTOCOL_EXTENSIONS, SERVER_NAME, SERVER_VERSION } from '../protocol.js';

export async function healthRoutes(app: FastifyInstance, o: { state: ServeState }): Promise<void> {
  const { state } = o;
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => {
    const r = state.readiness();
    if (!r.ready) return reply.code(503).send({ ready: false, error: r.reason });
    return { ready: true };
  });
  app.get('/v2', async () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: PROTOCOL_EXTENSIONS }));
}
