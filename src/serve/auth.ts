/**
 * Admin endpoints (repository load/unload/index, chaos hooks) require `Authorization: Bearer <token>`.
 * With no token configured they are disabled outright (403): a server started without thinking about
 * it cannot be reconfigured by whoever reaches its port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ServeError } from './errors.js';

/** Compare digests: equal length always, so the comparison time says nothing about the token. */
function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function adminGuard(token: string | undefined) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!token) throw new ServeError(403, 'admin endpoints are disabled: start vitopt serve with --admin-token (or VITOPT_ADMIN_TOKEN) to enable them');
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !sameToken(m[1]!.trim(), token)) {
      throw new ServeError(401, 'admin endpoints need Authorization: Bearer <admin token>', { 'www-authenticate': 'Bearer realm="vitopt-admin"' });
    }
  };
}
