/**
 * The console's only door to the relay (docs/api.md). Every call carries the
 * HttpOnly `hb_session` cookie set at login; page scripts never see the token.
 *
 *   const { status, body } = await api.get('/api/alarms?open=true');
 *   const stream = openAlarmStream((change) => …, (status) => …);
 *   stream.close();
 */

/**
 * @typedef {{ status: number, body: any }} ApiResult
 *   `status` 0 means the request never reached the relay (network down); `body` is
 *   the parsed JSON answer, or `{ error, message }` made up for a network failure.
 */

/** @type {Set<() => void>} */
const unauthorizedListeners = new Set();

/**
 * Be told when a call answers 401 (the session expired or was revoked), so the
 * app can show the login page. The login and "who am I" calls do not count.
 * @param {() => void} listener
 * @returns {() => void} unsubscribe
 */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON when given; a POST without one has no content type
 * @returns {Promise<ApiResult>}
 */
async function request(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    return { status: 0, body: { error: 'HB_NETWORK', message: String(err) } };
  }
  const text = await res.text();
  /** @type {any} */
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.status === 401 && path !== '/api/auth/login' && path !== '/api/auth/me') {
    for (const listener of unauthorizedListeners) listener();
  }
  return { status: res.status, body: parsed };
}

/**
 * Ask the relay whether the session still holds; on 401 the `onUnauthorized`
 * listeners hear of it (e.g. when the event stream keeps failing).
 * @returns {Promise<boolean>} false only when the relay said 401
 */
export async function checkSession() {
  const { status } = await request('GET', '/api/auth/me');
  if (status !== 401) return true;
  for (const listener of unauthorizedListeners) listener();
  return false;
}

export const api = {
  /** @param {string} path */
  get: (path) => request('GET', path),
  /** @param {string} path @param {unknown} [body] */
  post: (path, body) => request('POST', path, body),
  /** @param {string} path @param {unknown} [body] */
  patch: (path, body) => request('PATCH', path, body),
  /** @param {string} path */
  delete: (path) => request('DELETE', path),
};

/**
 * A query string from an object, leaving out undefined and null values; arrays repeat the key.
 * @param {Record<string, string | number | boolean | null | undefined | Array<string | number>>} params
 * @returns {string} `?a=1&b=2`, or `''` when nothing is left
 */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) search.append(key, String(v));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} StreamStatus
 *   `open` is reported on every (re)connection: a good moment to reload lists.
 */

/**
 * @typedef {object} AlarmChange one timeline step (docs/api.md § Shapes)
 * @property {string} id
 * @property {string} alarmId
 * @property {string} at
 * @property {string} kind
 * @property {string | null} actor
 * @property {Record<string, unknown>} detail
 * @property {string} bedId
 * @property {string} gatewayId
 * @property {string | null} organisationId
 */

const DEDUPE_MEMORY = 5000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

/**
 * Follow `GET /api/alarms/stream` for as long as the page lives.
 *
 * - The browser reconnects by itself after a dropped stream (the relay asks for
 *   2 s) and sends `Last-Event-ID`, so the relay replays what was missed.
 * - When the browser gives up (the relay was down, answered 401/5xx…), this
 *   reconnects with a growing delay (1 s … 30 s) and `?lastEventId=` of the last
 *   event seen.
 * - Delivery is at least once: events already seen (by id) are dropped here.
 *
 * @param {(change: AlarmChange) => void} onChange
 * @param {(status: StreamStatus) => void} [onStatus]
 * @param {{ url?: string }} [options]
 * @returns {{ close: () => void, reconnect: () => void }}
 */
export function openAlarmStream(onChange, onStatus = () => {}, options = {}) {
  const url = options.url ?? '/api/alarms/stream';
  /** @type {Set<string>} */
  const seen = new Set();
  /** @type {string[]} */
  const seenOrder = [];
  /** @type {string | null} */
  let lastEventId = null;
  /** @type {EventSource | null} */
  let source = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let backoff = BACKOFF_FIRST_MS;
  let closed = false;

  /** @param {StreamStatus} status */
  const report = (status) => {
    try {
      onStatus(status);
    } catch (err) {
      console.error('alarm stream status listener failed', err);
    }
  };

  /** @param {MessageEvent} event */
  const onAlarm = (event) => {
    const id = event.lastEventId;
    if (id) {
      lastEventId = id;
      if (seen.has(id)) return;
      seen.add(id);
      seenOrder.push(id);
      if (seenOrder.length > DEDUPE_MEMORY) seen.delete(/** @type {string} */ (seenOrder.shift()));
    }
    /** @type {AlarmChange} */
    let change;
    try {
      change = JSON.parse(event.data);
    } catch {
      return;
    }
    try {
      onChange(change);
    } catch (err) {
      console.error('alarm stream listener failed', err);
    }
  };

  const connect = () => {
    timer = null;
    if (closed) return;
    const target = lastEventId ? `${url}?lastEventId=${encodeURIComponent(lastEventId)}` : url;
    const es = new EventSource(target, { withCredentials: true });
    source = es;
    es.addEventListener('alarm', onAlarm);
    es.addEventListener('open', () => {
      if (source !== es) return;
      backoff = BACKOFF_FIRST_MS;
      report('open');
    });
    es.addEventListener('error', () => {
      if (source !== es || closed) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser retries by itself, with Last-Event-ID.
        report('reconnecting');
        return;
      }
      es.close();
      source = null;
      report('reconnecting');
      timer = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    });
  };

  report('connecting');
  connect();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      source?.close();
      source = null;
      report('closed');
    },
    /** Drop the connection now and open a new one that catches up (e.g. when the network comes back). */
    reconnect() {
      if (closed) return;
      if (timer) clearTimeout(timer);
      source?.close();
      source = null;
      report('reconnecting');
      connect();
    },
  };
}
