import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, Role } from '../people/model.js';
import { sendError } from './api-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook (cloud/http/auth.ts) before any route runs; null when anonymous. */
    principal: Principal | null;
  }
}

/**
 * The caller, when they have one of `roles`; otherwise the 401/403 reply is
 * sent and null returned, so a route reads:
 * `const who = allow(req, reply, ['staff', 'operator']); if (!who) return reply;`
 * An admin passes every check.
 */
export function allow(req: FastifyRequest, reply: FastifyReply, roles: readonly Role[]): Principal | null {
  const who = req.principal;
  if (!who) {
    sendError(reply, 401, 'HB_UNAUTHENTICATED', 'log in first (POST /api/auth/login), then send the token');
    return null;
  }
  if (who.role === 'admin' || (who.role !== 'system' && roles.includes(who.role))) return who;
  sendError(reply, 403, 'HB_FORBIDDEN', `a ${who.role} may not do this`);
  return null;
}
