import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import { z } from 'zod';
import { ANONYMOUS_ACTOR, type AuditLog } from '../../people/audit-log.js';
import type { LoginLimiter } from '../../people/login-limiter.js';
import { ROLES } from '../../people/model.js';
import type { SessionStore } from '../../people/sessions.js';
import type { UserRepository } from '../../people/users.js';
import { parseOr400, sendError } from '../api-errors.js';
import { requestToken, SESSION_COOKIE } from '../auth.js';
import { allow } from '../request-principal.js';

export interface AuthRouteDeps {
  users: UserRepository;
  sessions: SessionStore;
  limiter: LoginLimiter;
  audit: AuditLog;
}

/**
 * Deliberately loose: a malformed username gets the same 401 as a wrong
 * password, so the reply never says which part was wrong.
 */
const loginBodySchema = z.object({
  username: z.string().trim().toLowerCase().min(1).max(64),
  password: z.string().min(1).max(1024),
});

/** One answer for an unknown user, a wrong password and a disabled account. */
const LOGIN_FAILED = 'wrong username or password';

/**
 * The session cookie: HttpOnly (scripts cannot read it), SameSite=Strict
 * (other sites cannot make the browser send it: no CSRF), Secure whenever
 * the request came over HTTPS (behind a proxy: with trustProxy set).
 */
function sessionCookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure}`;
}

/** POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me. */
export function registerAuthRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: AuthRouteDeps,
): void {
  app.post('/api/auth/login', async (req, reply) => {
    const body = parseOr400(reply, loginBodySchema, req.body);
    if (!body) return reply;
    const { username, password } = body;

    const verdict = await deps.limiter.check(username, req.ip);
    if (!verdict.allowed) {
      await auditFailure(deps, req, username, 'rate_limited');
      reply.header('retry-after', String(verdict.retryAfterS));
      return sendError(
        reply,
        429,
        'HB_LOGIN_RATE_LIMITED',
        `too many failed logins; try again in ${verdict.retryAfterS} s`,
      );
    }

    const user = await deps.users.verifyPassword(username, password);
    if (!user) {
      await deps.limiter.recordFailure(username, req.ip);
      await auditFailure(deps, req, username, 'credentials');
      return sendError(reply, 401, 'HB_LOGIN_FAILED', LOGIN_FAILED);
    }

    await deps.limiter.recordSuccess(username);
    const session = await deps.sessions.create(user.id);
    await deps.audit.record({
      actor: { id: user.id, role: user.role },
      action: 'login',
      targetType: 'user',
      targetId: user.id,
      detail: { ip: req.ip },
    });
    reply.header('set-cookie', sessionCookie(req, session.token, session.maxAgeS));
    return { token: session.token, expiresAt: session.expiresAt, user };
  });

  app.post('/api/auth/logout', async (req, reply) => {
    const token = requestToken(req);
    if (token && (await deps.sessions.revoke(token)) && req.principal) {
      await deps.audit.record({
        actor: req.principal,
        action: 'logout',
        targetType: 'user',
        targetId: req.principal.id,
      });
    }
    // Cleared either way: a stale cookie is useless, and logout must always succeed.
    reply.header('set-cookie', sessionCookie(req, '', 0));
    return reply.code(204).send();
  });

  app.get('/api/auth/me', async (req, reply) => {
    const who = allow(req, reply, ROLES);
    if (!who) return reply;
    return { principal: who };
  });
}

/**
 * A failed login, filed against the account when it exists (so its
 * organisation's admins see attacks on their users); the reply does not differ.
 */
async function auditFailure(
  deps: AuthRouteDeps,
  req: FastifyRequest,
  username: string,
  reason: 'credentials' | 'rate_limited',
): Promise<void> {
  const target = await deps.users.getByUsername(username);
  await deps.audit.record({
    actor: ANONYMOUS_ACTOR,
    action: 'login.failed',
    targetType: 'user',
    targetId: target?.id ?? null,
    detail: { username, ip: req.ip, reason },
  });
}
