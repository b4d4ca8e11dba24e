import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotification, type Notification } from '../../../../cloud/notifications/notification.js';
import {
  verifyWebhookSignature,
  WebhookChannel,
  type WebhookEndpoint,
  webhookBody,
} from '../../../../cloud/notifications/webhook-channel.js';
import { ManualClock } from '../../../../common/clock.js';
import { closedPort, WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'whsec-test-0123456789';
const START = Date.UTC(2026, 0, 1, 8, 0, 0);

/** WebhookChannel against a real HTTP server: what it sends, and how it classifies each answer. */
describe('WebhookChannel', () => {
  let receiver: WebhookReceiver;
  let clock: ManualClock;

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
    clock = new ManualClock(START);
  });

  afterEach(async () => {
    await receiver.stop();
  });

  function endpoint(url = receiver.url(), timeoutMs = 2_000): WebhookEndpoint {
    return { id: 'care-system', url, secret: SECRET, timeoutMs };
  }

  function note(address = receiver.url()): Notification {
    return createNotification(
      {
        kind: 'alarm_raised',
        alarmId: 'alarm-1',
        bedId: 'bed-1',
        recipient: { name: 'Care system', channel: 'webhook', address },
        subject: 'SOS: bed-1',
        body: 'SOS button pressed (bedroom) — 王奶奶',
        payload: { type: 'sos_button', severity: 'critical' },
      },
      clock.now(),
    );
  }

  it('POSTs signed JSON; a 2xx is delivered', async () => {
    receiver.responder = (_req, res) => res.writeHead(204).end();
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock });
    const n = note();
    expect(await channel.send(n)).toEqual({
      status: 'delivered',
      detail: 'webhook care-system: HTTP 204 No Content',
      httpStatus: 204,
    });
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-homebed-id']).toBe(n.id);
    expect(req.headers['x-homebed-timestamp']).toBe(String(START / 1000));
    expect(JSON.parse(req.rawBody)).toEqual(webhookBody(n));
    const nowS = clock.now() / 1000;
    const header = String(req.headers['x-homebed-signature']);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(
      verifyWebhookSignature(SECRET, String(req.headers['x-homebed-timestamp']), req.rawBody, header, nowS),
    ).toBe(true);
    // The same request replayed ten minutes later is refused.
    expect(
      verifyWebhookSignature(
        SECRET,
        String(req.headers['x-homebed-timestamp']),
        req.rawBody,
        header,
        nowS + 600,
      ),
    ).toBe(false);
  });

  it('a 404 is a permanent failure, with the start of the answer in the detail', async () => {
    receiver.responder = (_req, res) =>
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such hook\n');
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock });
    expect(await channel.send(note())).toEqual({
      status: 'failed',
      detail: 'webhook care-system: HTTP 404 Not Found: no such hook',
      httpStatus: 404,
    });
  });

  it('a 503 is retried', async () => {
    receiver.responder = (_req, res) => res.writeHead(503).end();
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock });
    expect(await channel.send(note())).toEqual({
      status: 'retry',
      detail: 'webhook care-system: HTTP 503 Service Unavailable',
      httpStatus: 503,
    });
  });

  it('a 429 is retried after its Retry-After, capped', async () => {
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock, maxRetryAfterMs: 300_000 });
    receiver.responder = (_req, res) => res.writeHead(429, { 'retry-after': '120' }).end('slow down');
    expect(await channel.send(note())).toEqual({
      status: 'retry',
      detail: 'webhook care-system: HTTP 429 Too Many Requests: slow down',
      httpStatus: 429,
      retryAfterMs: 120_000,
    });
    receiver.responder = (_req, res) => res.writeHead(429, { 'retry-after': '86400' }).end();
    expect((await channel.send(note())).retryAfterMs).toBe(300_000);
  });

  it('a receiver that does not answer in time is retried', async () => {
    receiver.responder = () => {}; // never answers
    const channel = new WebhookChannel({ endpoints: [endpoint(receiver.url(), 200)], clock });
    const started = Date.now();
    expect(await channel.send(note())).toEqual({
      status: 'retry',
      detail: 'webhook care-system: no answer within 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a refused connection is retried', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hook`;
    const channel = new WebhookChannel({ endpoints: [endpoint(url)], clock });
    const outcome = await channel.send(note(url));
    expect(outcome.status).toBe('retry');
    expect(outcome.detail).toMatch(/^webhook care-system: network error: ECONNREFUSED/);
  });

  it('does not follow redirects: the signed request must not go elsewhere', async () => {
    receiver.responder = (req, res) => {
      if (req.url === '/hook') res.writeHead(302, { location: receiver.url('/elsewhere') }).end();
      else res.writeHead(200).end();
    };
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock });
    expect(await channel.send(note())).toMatchObject({
      status: 'failed',
      httpStatus: 302,
      detail: 'webhook care-system: HTTP 302 Found: redirects are not followed; configure the final URL',
    });
    expect(receiver.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('sends nothing to an address that is not a configured endpoint', async () => {
    const channel = new WebhookChannel({ endpoints: [endpoint()], clock });
    const outcome = await channel.send(note(receiver.url('/other')));
    expect(outcome).toEqual({
      status: 'failed',
      detail: 'no webhook endpoint is configured for this address (notifications.webhooks[].url)',
    });
    expect(receiver.requests).toHaveLength(0);
  });
});
