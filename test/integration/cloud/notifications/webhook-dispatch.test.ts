import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../../../cloud/notifications/delivery-queue.js';
import { MemoryDeliveryStore } from '../../../../cloud/notifications/memory-delivery-store.js';
import { createNotification, type Notification } from '../../../../cloud/notifications/notification.js';
import { verifyWebhookSignature, WebhookChannel } from '../../../../cloud/notifications/webhook-channel.js';
import { ManualClock } from '../../../../common/clock.js';
import { Counters } from '../../../../common/counters.js';
import { silentLogger } from '../../../../common/logger.js';
import { WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'whsec-test-0123456789';
const START = Date.UTC(2026, 0, 1, 8, 0, 0);

/**
 * The dispatcher with the real webhook channel and a real receiver: retries until delivered, exactly
 * one accepted delivery per notification id, every attempt recorded, resumption after a crash. Time is
 * a ManualClock; only the HTTP exchanges take real time.
 */
describe('notification dispatch over webhooks', () => {
  let receiver: WebhookReceiver;
  const dispatchers: NotificationDispatcher[] = [];

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    await receiver.stop();
  });

  function setUp(store: MemoryDeliveryStore, clock: ManualClock) {
    const counters = new Counters();
    const channel = new WebhookChannel({
      endpoints: [{ id: 'care-system', url: receiver.url(), secret: SECRET, timeoutMs: 1_000 }],
      clock,
    });
    const dispatcher = new NotificationDispatcher({
      store,
      channels: { webhook: channel },
      clock,
      logger: silentLogger(),
      counters,
      random: () => 0.5,
    });
    dispatchers.push(dispatcher);
    const advance = async (ms: number) => {
      await dispatcher.idle();
      for (let left = ms; left > 0; left -= 1_000) {
        clock.advance(Math.min(1_000, left));
        await dispatcher.idle();
      }
    };
    return { dispatcher, counters, advance };
  }

  function note(clock: ManualClock): Notification {
    return createNotification(
      {
        kind: 'alarm_escalated',
        alarmId: 'alarm-1',
        recipient: { name: 'Care system', channel: 'webhook', address: receiver.url() },
        subject: 'SOS not answered in 2 min',
        body: 'bed-1',
        payload: { type: 'sos_button' },
      },
      clock.now(),
    );
  }

  it('retries a failing receiver, then delivers exactly once', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryDeliveryStore();
    const { dispatcher, counters, advance } = setUp(store, clock);
    receiver.responder = (_req, res, index) => res.writeHead(index < 2 ? 503 : 200).end();
    await dispatcher.start();
    const n = note(clock);
    await dispatcher.enqueue(n);
    await advance(30_000);
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.acceptedById()).toEqual(new Map([[n.id, 1]]));
    // Every request carries the same id, a fresh timestamp and a valid signature.
    for (const req of receiver.requests) {
      expect(req.headers['x-homebed-id']).toBe(n.id);
      const ts = String(req.headers['x-homebed-timestamp']);
      expect(
        verifyWebhookSignature(
          SECRET,
          ts,
          req.rawBody,
          String(req.headers['x-homebed-signature']),
          Number(ts),
        ),
      ).toBe(true);
    }
    expect(receiver.requests.map((r) => Number(r.headers['x-homebed-timestamp']) - START / 1000)).toEqual([
      0, 2, 6,
    ]);
    expect((await store.attempts(n.id)).map((a) => [a.status, a.httpStatus])).toEqual([
      ['retry', 503],
      ['retry', 503],
      ['delivered', 200],
    ]);
    expect(counters.get('notifications_sent', { channel: 'webhook' })).toBe(1);
    expect(counters.get('notifications_retried')).toBe(2);
  });

  it('gives up after maxAttempts and records every attempt', async () => {
    const clock = new ManualClock(START);
    const store = new MemoryDeliveryStore();
    const { dispatcher, counters, advance } = setUp(store, clock);
    receiver.responder = (_req, res) => res.writeHead(500).end('database down');
    await dispatcher.start();
    const n = note(clock);
    await dispatcher.enqueue(n);
    await advance(600_000);
    expect(receiver.requests).toHaveLength(8);
    const attempts = await store.attempts(n.id);
    expect(attempts).toHaveLength(8);
    expect(attempts.every((a) => a.httpStatus === 500 && a.status === 'retry')).toBe(true);
    expect(attempts[7]?.detail).toBe(
      'webhook care-system: HTTP 500 Internal Server Error: database down (giving up: no delivery after 8 attempts)',
    );
    expect(await store.get(n.id)).toMatchObject({ state: 'failed', attemptCount: 8 });
    expect(counters.get('notifications_failed', { channel: 'webhook' })).toBe(1);
    expect(counters.get('notification_attempts', { channel: 'webhook', status: 'retry' })).toBe(8);
  });

  it('resumes after a crash without sending again what was delivered', async () => {
    const store = new MemoryDeliveryStore();
    const firstClock = new ManualClock(START);
    const first = setUp(store, firstClock);
    receiver.responder = (req, res) => {
      const body = JSON.parse(req.rawBody) as { subject: string };
      res.writeHead(body.subject === 'second' ? 503 : 200).end();
    };
    await first.dispatcher.start();
    const delivered = { ...note(firstClock), subject: 'first' };
    const retrying = { ...note(firstClock), subject: 'second' };
    await first.dispatcher.enqueue(delivered);
    await first.dispatcher.enqueue(retrying);
    await first.dispatcher.idle();
    expect(receiver.requests).toHaveLength(2);
    // Crash: the first dispatcher is never stopped and its clock stands still.
    dispatchers.splice(dispatchers.indexOf(first.dispatcher), 1);

    receiver.responder = (_req, res) => res.writeHead(200).end();
    const secondClock = new ManualClock(START + 60_000);
    const second = setUp(store, secondClock);
    await second.dispatcher.start();
    await second.dispatcher.idle();
    expect(receiver.requests).toHaveLength(3);
    expect(receiver.acceptedById()).toEqual(
      new Map([
        [delivered.id, 1],
        [retrying.id, 1],
      ]),
    );
    expect(await store.get(retrying.id)).toMatchObject({ state: 'delivered', attemptCount: 2 });
    await second.advance(10_000);
    expect(receiver.requests).toHaveLength(3);
  });
});
