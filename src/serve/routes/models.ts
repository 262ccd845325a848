/** Model repository reads (OIP + Triton extensions): list, metadata, ready, config, statistics. */
import type { FastifyInstance } from 'fastify';
import type { ServeState } from '../state.js';
import { modelConfig, modelMetadata } from '../protocol.js';

interface Params { model: string; version?: string }

export async function modelRoutes(app: FastifyInstance, o: { state: ServeState }): Promise<void> {
  const { state } = o;
  app.get('/v2/models', async () => ({
    models: [...state.models.values()].map((m) => ({ name: m.name, version: m.version, state: m.ready ? 'READY' : 'UNAVAILABLE' })),
  }));
  app.get('/v2/models/stats', async () => ({ model_stats: [...state.models.values()].map((m) => m.stats.toJSON(m.name, m.version)) }));
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    app.get<{ Params: Params }>(prefix, async (req) => modelMetadata(state.lookup(req.params.model, req.params.version)));
    app.get<{ Params: Params }>(`${prefix}/ready`, async (req, reply) => {
      const m = state.lookup(req.params.model, req.params.version);
      if (!m.ready) return reply.code(503).send({ name: m.name, ready: false, error: `model '${m.name}' is not ready (${m.pool.healthy} healthy workers)` });
      return { name: m.name, ready: true };
    });
    app.get<{ Params: Params }>(`${prefix}/config`, async (req) => modelConfig(state.lookup(req.params.model, req.params.version)));
    app.get<{ Params: Params }>(`${prefix}/stats`, async (req) => {
      const m = state.lookup(req.params.model, req.params.version);
      return { model_stats: [m.stats.toJSON(m.name, m.version)] };
    });
  }
}
