/**
 * The dashboard as a Fastify plugin: GET / (the page) and GET /dashboard/client.js (its script,
 * compiled by tsc beside this file). The page reads only public endpoints (/v2/monitor/stream,
 * /v2/models, POST /v2/models/{m}/classify), so it needs nothing from the server's state.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { dashboardHtml } from './page.js';

const CLIENT = fileURLToPath(new URL('./client.js', import.meta.url));

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const html = dashboardHtml();
  let script: string | null = null;
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html));
  app.get('/dashboard/client.js', async (_req, reply) => {
    script ??= await readFile(CLIENT, 'utf8');
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script);
  });
}
