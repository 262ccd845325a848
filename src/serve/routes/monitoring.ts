/**
 * GET /metrics (Prometheus text, prom-client), GET /v2/monitor (the InferenceMonitor's JSON snapshot)
 * and GET /v2/monitor/stream (the same snapshot as a server-sent event every second).
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { ServeState } from '../state.js';

export async function monitoringRoutes(app: FastifyInstance, o: { state: ServeState; streamIntervalMs?: number }): Promise<void> {
  const { state } = o;
  const live = () => {
    let queueDepth = 0, inFlight = 0;
    for (const m of state.models.values()) {
      queueDepth += m.batcher.depth;
      inFlight += m.batcher.inFlight;
    }
    return { queueDepth, inFlight };
  };
  app.get('/metrics', async (_req, reply) => reply.type(state.metrics.registry.contentType).send(await state.metrics.registry.metrics()));
  app.get('/v2/monitor', async () => ({ ...state.monitor.snapshot(live()), ready: state.readiness().ready }));

  // Open streams are ended when the server closes (an SSE connection is never idle, so close would wait on it).
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });
  app.get('/v2/monitor/stream', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = () => res.write(`event: monitor\ndata: ${JSON.stringify({ ...state.monitor.snapshot(live()), ready: state.readiness().ready })}\n\n`);
    send();
    const timer = setInterval(send, o.streamIntervalMs ?? 1000);
    streams.add(res);
    const stop = () => {
      clearInterval(timer);
      streams.delete(res);
    };
    req.raw.on('close', stop);
    res.on('close', stop);
  });
}
