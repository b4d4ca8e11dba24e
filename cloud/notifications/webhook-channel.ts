import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { DeliveryOutcome, Notification, NotificationChannel } from './notification.js';

/**
 * Webhooks: a JSON POST per notification, signed Stripe-style.
 *
 * Headers: `x-homebed-id` (the notification id: the receiver's idempotency key, since a delivery may
 * be repeated), `x-homebed-timestamp` (unix seconds) and
 * `x-homebed-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with the endpoint's secret.
 *
 * The timestamp is inside the signed text so that a captured request cannot be replayed later: the
 * receiver rejects timestamps further than a tolerance (5 min) from its own clock, and an attacker
 * cannot move the timestamp without the secret. Within the tolerance a replay is caught by the id.
 */

export const SIGNATURE_HEADER = 'x-homebed-signature';
export const TIMESTAMP_HEADER = 'x-homebed-timestamp';
export const ID_HEADER = 'x-homebed-id';

/** A configured receiver: notifications whose recipient address is `url` are signed with `secret`. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  secret: string;
  timeoutMs: number;
}

export interface WebhookChannelOptions {
  endpoints: readonly WebhookEndpoint[];
  /** Supplies the signed timestamp. */
  clock: Clock;
  /** A receiver's `Retry-After` is honoured up to this long; default 5 min. */
  maxRetryAfterMs?: number;
}

/** The value of `x-homebed-signature` for `timestampS` and `rawBody`: `sha256=<hex>`. */
export function signWebhook(secret: string, timestampS: number | string, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampS}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * For receivers: is `header` (the `x-homebed-signature` value) a valid signature of `rawBody` sent at
 * `timestamp` (the `x-homebed-timestamp` value), and is that timestamp within `toleranceS` of `nowS`?
 * Pass the body exactly as received (bytes or the undecoded string), not re-serialised JSON. The
 * header may list several comma-separated signatures (e.g. during a secret rotation); one valid is
 * enough. Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | undefined,
  rawBody: string | Buffer,
  header: string | undefined,
  nowS: number,
  toleranceS = 300,
): boolean {
  if (timestamp === undefined || header === undefined) return false;
  const ts = String(timestamp);
  if (!/^\d{1,12}$/.test(ts)) return false;
  if (Math.abs(nowS - Number(ts)) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, ts, rawBody), 'utf8');
  let valid = false;
  for (const candidate of header.split(',')) {
    const given = Buffer.from(candidate.trim(), 'utf8');
    // timingSafeEqual needs equal lengths; the length of a well-formed signature is public anyway.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}

/** The JSON body POSTed for a notification (version 1). */
export interface WebhookBody {
  v: 1;
  id: string;
  kind: Notification['kind'];
  createdAt: string;
  alarmId?: string;
  bedId?: string;
  recipient: string;
  subject: string;
  body: string;
  payload: Notification['payload'];
}

export function webhookBody(n: Notification): WebhookBody {
  return {
    v: 1,
    id: n.id,
    kind: n.kind,
    createdAt: n.createdAt,
    ...(n.alarmId !== undefined ? { alarmId: n.alarmId } : {}),
    ...(n.bedId !== undefined ? { bedId: n.bedId } : {}),
    recipient: n.recipient.name,
    subject: n.subject,
    body: n.body,
    payload: n.payload,
  };
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (relative to `nowMs`); undefined when
 * absent or unparsable. Not capped here.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse alone would also take "-5" as a year.
  const at = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** How an HTTP status is treated: 2xx delivered; 408, 429, 5xx retried; anything else a permanent failure. */
export function classifyHttpStatus(status: number): DeliveryOutcome['status'] {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}

function normaliseUrl(url: string): string | null {
  try {
    return new URL(url).href;
  } catch {
    return null;
  }
}

const SNIPPET_BYTES = 300;

/** The start of a response body for the attempt's detail; the rest is discarded unread. */
async function bodySnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short tells nothing more; the status decides.
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function networkErrorDetail(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return `network error: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
    }
    return `network error: ${err.message}`;
  }
  return `network error: ${errorMessage(err)}`;
}

/**
 * Delivers `webhook` notifications to the configured endpoints. A notification's recipient address
 * must be the URL of one of them (the channel never posts to an address it has no secret for).
 * Redirects are not followed (the signed request would go elsewhere): a 3xx is a permanent failure.
 */
export class WebhookChannel implements NotificationChannel {
  readonly kind = 'webhook' as const;
  private readonly endpoints = new Map<string, WebhookEndpoint>();
  private readonly maxRetryAfterMs: number;

  constructor(private readonly options: WebhookChannelOptions) {
    for (const endpoint of options.endpoints) {
      const url = normaliseUrl(endpoint.url);
      if (url === null) throw new Error(`webhook ${endpoint.id}: invalid URL`);
      this.endpoints.set(url, endpoint);
    }
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 300_000;
  }

  async send(n: Notification): Promise<DeliveryOutcome> {
    const url = normaliseUrl(n.recipient.address);
    const endpoint = url === null ? undefined : this.endpoints.get(url);
    if (!endpoint) {
      return {
        status: 'failed',
        detail: 'no webhook endpoint is configured for this address (notifications.webhooks[].url)',
      };
    }
    const rawBody = JSON.stringify(webhookBody(n));
    const timestampS = Math.floor(this.options.clock.now() / 1000);
    let res: Response;
    try {
      res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'homebed-relay',
          [ID_HEADER]: n.id,
          [TIMESTAMP_HEADER]: String(timestampS),
          [SIGNATURE_HEADER]: signWebhook(endpoint.secret, timestampS, rawBody),
        },
        body: rawBody,
        redirect: 'manual',
        signal: AbortSignal.timeout(endpoint.timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        return {
          status: 'retry',
          detail: `webhook ${endpoint.id}: no answer within ${endpoint.timeoutMs} ms`,
        };
      }
      return { status: 'retry', detail: `webhook ${endpoint.id}: ${networkErrorDetail(err)}` };
    }
    const status = classifyHttpStatus(res.status);
    const label = `webhook ${endpoint.id}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (status === 'delivered') {
      res.body?.cancel().catch(() => {});
      return { status, detail: label, httpStatus: res.status };
    }
    const snippet = await bodySnippet(res);
    const outcome: DeliveryOutcome = {
      status,
      detail: snippet ? `${label}: ${snippet}` : label,
      httpStatus: res.status,
    };
    if (status === 'retry') {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.options.clock.now());
      if (retryAfterMs !== undefined) outcome.retryAfterMs = Math.min(retryAfterMs, this.maxRetryAfterMs);
    } else if (res.status >= 300 && res.status < 400) {
      outcome.detail = `${label}: redirects are not followed; configure the final URL`;
    }
    return outcome;
  }
}
