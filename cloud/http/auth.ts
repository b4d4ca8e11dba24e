import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { SessionStore } from '../people/sessions.js';

/** The browser console's session cookie (HttpOnly, so page scripts never see the token). */
export const SESSION_COOKIE = 'hb_session';

/** A Cookie header as name → value; malformed pairs are skipped, the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      continue;
    }
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/**
 * The session token a request carries: `Authorization: Bearer <token>`
 * (API clients) first, else the `hb_session` cookie (the browser console).
 */
export function requestToken(req: FastifyRequest): string | null {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? null;
  }
  return parseCookies(req.headers.cookie).get(SESSION_COOKIE) ?? null;
}

export interface AuthenticationDeps {
  sessions: SessionStore;
}

/**
 * Set `req.principal` on every request before any route runs: the session's
 * principal, or null when the request has no valid token (routes then
 * answer 401 through `allow`). Call it on the root instance, not inside
 * `app.register`, so the hook covers every route.
 */
export function registerAuthentication<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: AuthenticationDeps,
): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const token = requestToken(req);
    req.principal = token ? await deps.sessions.resolve(token) : null;
  });
}
