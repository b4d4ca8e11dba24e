/**
 * A logged-in client of the relay's HTTP API, for the tools (chaos rig,
 * benchmarks) and the tests: log in once, then JSON calls with the session
 * token in the Authorization header.
 */

/** A logged-in API caller: JSON in, `{status, body}` out, its session token in the Authorization header. */
export interface ApiClient {
  token: string;
  userId: string;
  get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** Log in to a relay's HTTP API as an existing user. */
export async function loginOverHttp(
  httpUrl: string,
  username: string,
  password: string,
  userId = '',
): Promise<ApiClient> {
  const res = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { token?: string; user?: { id: string }; message?: string };
  if (res.status !== 200 || !body.token)
    throw new Error(`login as ${username} failed: ${res.status} ${body.message}`);
  const token = body.token;
  const call = async <T>(method: string, path: string, payload?: unknown) => {
    const r = await fetch(`${httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  return {
    token,
    userId: userId || body.user?.id || '',
    get: (path) => call('GET', path),
    post: (path, payload = {}) => call('POST', path, payload),
  };
}
