/**
 * Admin endpoints, all behind the bearer token (auth.ts): Triton's model repository extension
 * (index, load, unload) and a chaos hook that kills one worker instance as a crash would, so that
 * recovery can be tested against a running server (bench/serve.ts does).
 */
import type { FastifyInstance } from 'fastify';
import { adminGuard } from '../auth.js';
import { badRequest, notFound } from '../errors.js';
import type { ServeState } from '../state.js';

export async function adminRoutes(app: FastifyInstance, o: { state: ServeState; token: string | undefined }): Promise<void> {
  const { state } = o;
  app.addHook('onRequest', adminGuard(o.token));
  app.post<{ Body: { ready?: boolean } | undefined }>('/v2/repository/index', async (req) => {
    const all = await state.index();
    return req.body?.ready === true ? all.filter((e) => e.state === 'READY') : all;
  });
  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (req) => {
    await state.load(req.params.model);
    return { name: req.params.model, load: true };
  });
  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/unload', async (req) => {
    await state.unload(req.params.model);
    return { name: req.params.model, unload: true };
  });
  app.post<{ Params: { model: string; instance: string } }>('/v2/debug/models/:model/instances/:instance/kill', async (req) => {
    const m = state.lookup(req.params.model);
    const i = Number(req.params.instance);
    if (!Number.isInteger(i) || i < 0) throw badRequest(`instance must be an index, not '${req.params.instance}'`);
    if (!m.pool.kill(i)) throw notFound(`model '${m.name}' has no running instance ${i}`);
    return { name: m.name, instance: i, killed: true };
  });
}
