import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DispatcherOptions,
  NotificationDispatcher,
} from '../../../../cloud/notifications/delivery-queue.js';
import type { DeliveryStore } from '../../../../cloud/notifications/delivery-store.js';
import { MemoryDeliveryStore } from '../../../../cloud/notifications/memory-delivery-store.js';
import {
  createNotification,
  type DeliveryOutcome,
  type Notification,
  type NotificationChannel,
  type Recipient,
} from '../../../../cloud/notifications/notification.js';
import {
  type PhoneProvider,
  PhoneProviderError,
  RecordingPhoneProvider,
  SmsChannel,
  VoiceChannel,
} from '../../../../cloud/notifications/phone-channel.js';
import { ManualClock } from '../../../../common/clock.js';
import { Counters } from '../../../../common/counters.js';
import { createLogger } from '../../../../common/logger.js';

const START = Date.UTC(2026, 0, 1, 8, 0, 0);
const SMS: Recipient = { name: 'Supervisor Wang', channel: 'sms', address: '+8613800138000' };

function note(clock: ManualClock, recipient: Recipient = SMS, alarmId = 'alarm-1'): Notification {
  return createNotification(
    {
      kind: 'alarm_escalated',
      alarmId,
      bedId: 'bed-1',
      recipient,
      subject: 'SOS not answered',
      body: 'bed-1',
    },
    clock.now(),
  );
}

/** Sends that wait until the test lets them go. */
class GatedProvider implements PhoneProvider {
  readonly waiting: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;
  sent = 0;

  sendSms(): Promise<{ providerId: string }> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.inFlight--;
        this.sent++;
        resolve({ providerId: `gated-${this.sent}` });
      }),
    );
  }

  call(): Promise<{ providerId: string }> {
    return this.sendSms();
  }

  releaseAll(): void {
    for (const release of this.waiting.splice(0)) release();
  }
}

/** A channel that answers with scripted outcomes, then `delivered`. */
class ScriptedChannel implements NotificationChannel {
  readonly sent: Array<{ id: string; at: number }> = [];
  constructor(
    readonly kind: 'webhook' | 'sms' | 'voice',
    private readonly clock: ManualClock,
    private readonly script: Array<DeliveryOutcome | Error>,
  ) {}

  async send(n: Notification): Promise<DeliveryOutcome> {
    this.sent.push({ id: n.id, at: this.clock.now() - START });
    const next = this.script.shift();
    if (next instanceof Error) throw next;
    return next ?? { status: 'delivered', detail: 'HTTP 200 OK', httpStatus: 200 };
  }
}

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'debug' }) };
}

interface Rig {
  clock: ManualClock;
  store: DeliveryStore;
  counters: Counters;
  dispatcher: NotificationDispatcher;
  logs: Array<Record<string, unknown>>;
  /** Move the clock in poll-sized steps, letting the dispatcher finish what each step starts. */
  advance(ms: number): Promise<void>;
}

const rigs: Rig[] = [];

function rig(
  options: Partial<DispatcherOptions> & { channels: DispatcherOptions['channels'] },
  clock = new ManualClock(START),
): Rig {
  const { lines, logger } = captureLogs();
  const store = options.store ?? new MemoryDeliveryStore();
  const counters = new Counters();
  const dispatcher = new NotificationDispatcher({
    random: () => 0.5,
    ...options,
    store,
    clock,
    logger,
    counters,
  });
  const r: Rig = {
    clock,
    store,
    counters,
    dispatcher,
    logs: lines,
    async advance(ms) {
      await dispatcher.idle();
      for (let left = ms; left > 0; left -= 1_000) {
        clock.advance(Math.min(1_000, left));
        await dispatcher.idle();
      }
    },
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.dispatcher.stop();
});

describe('NotificationDispatcher', () => {
  it('stores before sending and delivers at once', async () => {
    const provider = new RecordingPhoneProvider();
    const r = rig({ channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    expect(await r.dispatcher.enqueue(n)).toEqual({ inserted: true });
    expect((await r.store.get(n.id))?.state).toBe('pending');
    await r.dispatcher.idle();
    expect(provider.messages).toHaveLength(1);
    expect(await r.store.get(n.id)).toMatchObject({
      state: 'delivered',
      attemptCount: 1,
      nextAttemptAt: null,
    });
    expect(await r.store.attempts(n.id)).toEqual([
      {
        at: '2026-01-01T08:00:00.000Z',
        status: 'delivered',
        detail: 'SMS accepted by the provider (id recorded-1)',
      },
    ]);
    expect(r.counters.snapshot()).toEqual({
      'notification_attempts{channel="sms",status="delivered"}': 1,
      'notifications_enqueued{kind="alarm_escalated"}': 1,
      'notifications_sent{channel="sms"}': 1,
    });
    const delivered = r.logs.find((l) => l.msg === 'notification delivered');
    expect(delivered).toMatchObject({ notificationId: n.id, alarmId: 'alarm-1', address: '+8613*******00' });
    expect(JSON.stringify(r.logs)).not.toContain('+8613800138000');
  });

  it('retries with exponential backoff, then delivers exactly once', async () => {
    const provider = new RecordingPhoneProvider();
    provider.failNext(
      new Error('gateway timeout'),
      new Error('gateway timeout'),
      new Error('gateway timeout'),
    );
    const r = rig({ channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.advance(60_000);
    expect(provider.messages).toHaveLength(1);
    const attempts = await r.store.attempts(n.id);
    // 2 s, 4 s, 8 s apart (jitter fixed at its middle).
    expect(attempts.map((a) => [Date.parse(a.at) - START, a.status])).toEqual([
      [0, 'retry'],
      [2_000, 'retry'],
      [6_000, 'retry'],
      [14_000, 'delivered'],
    ]);
    expect(attempts[0]?.detail).toBe('SMS provider error: gateway timeout');
    expect(r.counters.get('notifications_retried')).toBe(3);
    expect(r.counters.get('notification_attempts', { channel: 'sms', status: 'retry' })).toBe(3);
    expect(r.counters.get('notifications_sent', { channel: 'sms' })).toBe(1);
    expect(r.logs.filter((l) => l.msg === 'notification attempt failed; will retry')).toHaveLength(3);
  });

  it('gives up after maxAttempts, records every attempt, logs an error and tells listeners', async () => {
    const provider = new RecordingPhoneProvider();
    provider.failNext(...Array.from({ length: 20 }, () => new Error('provider down')));
    const r = rig({ channels: { sms: new SmsChannel(provider) } });
    const failed: string[] = [];
    r.dispatcher.events.on('failed', (e) => failed.push(`${e.notification.id} ${e.attempts} ${e.reason}`));
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.advance(3_600_000);
    const attempts = await r.store.attempts(n.id);
    expect(attempts).toHaveLength(8);
    expect(attempts.map((a) => (Date.parse(a.at) - START) / 1000)).toEqual([0, 2, 6, 14, 30, 62, 126, 254]);
    expect(attempts.every((a) => a.status === 'retry')).toBe(true);
    expect(attempts[7]?.detail).toBe(
      'SMS provider error: provider down (giving up: no delivery after 8 attempts)',
    );
    expect(await r.store.get(n.id)).toMatchObject({ state: 'failed', attemptCount: 8, nextAttemptAt: null });
    expect(provider.messages).toEqual([]);
    expect(r.counters.total('notifications_failed')).toBe(1);
    expect(r.counters.get('notifications_retried')).toBe(7);
    expect(r.counters.get('notification_attempts', { channel: 'sms', status: 'retry' })).toBe(8);
    expect(failed).toEqual([`${n.id} 8 no delivery after 8 attempts`]);
    const error = r.logs.find((l) => l.level === 50);
    expect(error).toMatchObject({
      msg: 'notification NOT delivered: giving up',
      notificationId: n.id,
      alarmId: 'alarm-1',
      recipient: 'Supervisor Wang',
      reason: 'no delivery after 8 attempts',
    });
  });

  it('fails at once, without retrying, on a permanent failure', async () => {
    const provider = new RecordingPhoneProvider();
    provider.failNext(new PhoneProviderError('number is barred', { retriable: false }));
    const r = rig({ channels: { sms: new SmsChannel(provider), voice: new VoiceChannel(provider) } });
    await r.dispatcher.start();
    const barred = note(r.clock);
    const badNumber = note(r.clock, { name: 'Son', channel: 'voice', address: '13800138000' });
    await r.dispatcher.enqueue(barred);
    await r.dispatcher.enqueue(badNumber);
    await r.advance(10_000);
    expect(await r.store.attempts(barred.id)).toEqual([
      { at: '2026-01-01T08:00:00.000Z', status: 'failed', detail: 'SMS provider error: number is barred' },
    ]);
    expect((await r.store.attempts(badNumber.id)).map((a) => a.detail)).toEqual([
      'recipient "Son": address is not an E.164 phone number (+ country code and number, e.g. +8613800138000)',
    ]);
    expect((await r.store.list({ state: 'failed' })).map((d) => d.notification.id).sort()).toEqual(
      [barred.id, badNumber.id].sort(),
    );
    expect(r.counters.total('notifications_failed')).toBe(2);
    expect(r.counters.get('notifications_retried')).toBe(0);
  });

  it('fails a notification whose channel is not configured', async () => {
    const r = rig({ channels: {} });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.dispatcher.idle();
    expect(await r.store.get(n.id)).toMatchObject({
      state: 'failed',
      lastDetail: 'no sms channel is configured',
    });
  });

  it('waits as long as the receiver asks (Retry-After), within maxRetryMs, but never less than its backoff', async () => {
    const r = rig({ channels: {} });
    const channel = new ScriptedChannel('webhook', r.clock, [
      { status: 'retry', detail: 'HTTP 429', httpStatus: 429, retryAfterMs: 30_000 },
      { status: 'retry', detail: 'HTTP 429', httpStatus: 429, retryAfterMs: 3_600_000 },
      { status: 'retry', detail: 'HTTP 503', httpStatus: 503, retryAfterMs: 0 },
    ]);
    const d = new NotificationDispatcher({
      store: r.store,
      channels: { webhook: channel },
      clock: r.clock,
      logger: createLogger({ level: 'silent' }),
      counters: r.counters,
      random: () => 0.5,
      maxRetryMs: 60_000,
    });
    await d.start();
    await d.enqueue(
      note(r.clock, { name: 'Care system', channel: 'webhook', address: 'https://care.example/h' }),
    );
    await d.idle();
    for (let i = 0; i < 200; i++) {
      r.clock.advance(1_000);
      await d.idle();
    }
    await d.stop();
    // 30 s as asked; then an hour asked, capped at 60 s; then 0 asked, but the backoff says 8 s.
    expect(channel.sent.map((s) => s.at / 1000)).toEqual([0, 30, 90, 98]);
  });

  it('marks a notification failed rather than schedule an attempt past giveUpAfterMs', async () => {
    const provider = new RecordingPhoneProvider();
    provider.failNext(...Array.from({ length: 50 }, () => new Error('down')));
    const r = rig({
      channels: { sms: new SmsChannel(provider) },
      maxAttempts: 50,
      maxRetryMs: 60_000,
      giveUpAfterMs: 300_000,
    });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.advance(600_000);
    const attempts = await r.store.attempts(n.id);
    // 0, 2, 6, 14, 30, 62, 122, 182, 242 s; the next would be at 302 s.
    expect(attempts.map((a) => (Date.parse(a.at) - START) / 1000)).toEqual([
      0, 2, 6, 14, 30, 62, 122, 182, 242,
    ]);
    expect(attempts.at(-1)?.detail).toBe(
      'SMS provider error: down (giving up: no delivery within 5 min (9 attempts))',
    );
    expect((await r.store.get(n.id))?.state).toBe('failed');
  });

  it('treats a channel that throws or does not answer as a retry', async () => {
    const r = rig({ channels: {} });
    const hanging: NotificationChannel = { kind: 'voice', send: () => new Promise(() => {}) };
    const throwing = new ScriptedChannel('sms', r.clock, [new Error('bug in channel')]);
    const d = new NotificationDispatcher({
      store: r.store,
      channels: { voice: hanging, sms: throwing },
      clock: r.clock,
      logger: createLogger({ level: 'silent' }),
      counters: r.counters,
      sendTimeoutMs: 10_000,
      random: () => 0.5,
    });
    await d.start();
    const call = note(r.clock, { name: 'Son', channel: 'voice', address: '+8613800138000' });
    const sms = note(r.clock);
    await d.enqueue(call);
    await d.enqueue(sms);
    await flush();
    expect(d.inFlightCount).toBe(1); // the call hangs
    r.clock.advance(10_000);
    await d.idle();
    expect(await r.store.attempts(call.id)).toEqual([
      {
        at: '2026-01-01T08:00:10.000Z',
        status: 'retry',
        detail: 'voice channel did not answer within 10000 ms',
      },
    ]);
    expect((await r.store.attempts(sms.id))[0]).toEqual({
      at: '2026-01-01T08:00:00.000Z',
      status: 'retry',
      detail: 'sms channel error: bug in channel',
    });
    // The SMS's retry (due at 2 s) went out on the same poll and was delivered.
    expect((await r.store.get(sms.id))?.state).toBe('delivered');
    expect((await r.store.get(call.id))?.nextAttemptAt).toBe('2026-01-01T08:00:12.000Z');
    await d.stop();
  });

  it('sends at most `concurrency` at once and all of them in the end', async () => {
    const provider = new GatedProvider();
    const r = rig({ channels: { sms: new SmsChannel(provider) }, concurrency: 4 });
    await r.dispatcher.start();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const n = note(r.clock);
      ids.push(n.id);
      await r.dispatcher.enqueue(n);
    }
    await flush();
    expect(provider.inFlight).toBe(4);
    while (provider.sent < 10) {
      provider.releaseAll();
      await flush();
    }
    await r.dispatcher.idle();
    expect(provider.maxInFlight).toBe(4);
    for (const id of ids) expect((await r.store.get(id))?.state).toBe('delivered');
  });

  it('stop() waits for the attempts in flight and records them; nothing is left scheduled', async () => {
    const provider = new GatedProvider();
    const r = rig({ channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await flush();
    let stopped = false;
    const stopping = r.dispatcher.stop().then(() => {
      stopped = true;
    });
    await flush();
    expect(stopped).toBe(false);
    provider.releaseAll();
    await stopping;
    expect((await r.store.get(n.id))?.state).toBe('delivered');
    expect(r.clock.pendingTimers()).toBe(0);
    // Enqueued while stopped: stored, sent after the next start.
    const later = note(r.clock);
    await r.dispatcher.enqueue(later);
    await flush();
    expect(provider.inFlight).toBe(0);
    await r.dispatcher.start();
    await flush();
    provider.releaseAll();
    await r.dispatcher.idle();
    expect((await r.store.get(later.id))?.state).toBe('delivered');
  });

  it('resumes after a crash: sends what was due, and what was in flight once its lease ends, never again what was delivered', async () => {
    const store = new MemoryDeliveryStore();
    const crashClock = new ManualClock(START);
    // The first relay: one delivered, one waiting for its retry, one in flight when it "dies".
    const firstProvider = new RecordingPhoneProvider();
    const hangingProvider = new GatedProvider();
    const first = rig(
      {
        store,
        channels: { sms: new SmsChannel(firstProvider), voice: new VoiceChannel(hangingProvider) },
      },
      crashClock,
    );
    await first.dispatcher.start();
    const delivered = note(crashClock);
    const retrying = note(crashClock);
    const inFlight = note(crashClock, { name: 'Son', channel: 'voice', address: '+8613800138001' });
    await first.dispatcher.enqueue(delivered);
    await first.dispatcher.idle();
    firstProvider.failNext(new Error('throttled'));
    await first.dispatcher.enqueue(retrying);
    await first.dispatcher.idle();
    await first.dispatcher.enqueue(inFlight);
    await flush();
    expect(hangingProvider.inFlight).toBe(1);
    rigs.splice(rigs.indexOf(first), 1); // never stopped: it crashed, and its clock stands still

    // The in-flight call is leased to the first relay for sendTimeoutMs + 60 s: it might still answer.
    expect(first.dispatcher.leaseMs).toBe(120_000);
    expect(await store.get(inFlight.id)).toMatchObject({ nextAttemptAt: '2026-01-01T08:02:00.000Z' });

    // The second relay: same store, a second later.
    const provider = new RecordingPhoneProvider();
    const second = rig(
      { store, channels: { sms: new SmsChannel(provider), voice: new VoiceChannel(provider) } },
      new ManualClock(START + 1_000),
    );
    await second.dispatcher.start();
    await second.dispatcher.idle();
    expect(provider.messages).toEqual([]);
    await second.advance(5_000);
    expect(provider.messages.map((m) => m.kind)).toEqual(['sms']); // the retry, when due
    await second.advance(113_000); // 1 s + 5 s + 113 s: 08:01:59
    expect(provider.messages.map((m) => m.kind)).toEqual(['sms']);
    await second.advance(1_000);
    expect(provider.messages.map((m) => m.kind)).toEqual(['sms', 'voice']); // the lease ended
    expect(firstProvider.messages).toHaveLength(1);
    expect(await store.get(delivered.id)).toMatchObject({ state: 'delivered', attemptCount: 1 });
    expect(await store.get(retrying.id)).toMatchObject({ state: 'delivered', attemptCount: 2 });
    expect(await store.get(inFlight.id)).toMatchObject({ state: 'delivered', attemptCount: 1 });
    // The first relay wakes up after all: its late answer is recorded but reported by nobody again.
    const reported: string[] = [];
    first.dispatcher.events.on('delivered', (e) => reported.push(e.notification.id));
    hangingProvider.releaseAll();
    await first.dispatcher.idle();
    expect(await store.get(inFlight.id)).toMatchObject({ state: 'delivered', attemptCount: 2 });
    expect(reported).toEqual([]);
    expect(
      first.logs.some(
        (l) => l.msg === 'notification attempt recorded after the delivery was already settled',
      ),
    ).toBe(true);
  });

  it('says on start that it resumes what was due', async () => {
    const store = new MemoryDeliveryStore();
    const clock = new ManualClock(START);
    await store.add(note(clock), new Date(START - 5_000).toISOString());
    const r = rig({ store, channels: { sms: new SmsChannel(new RecordingPhoneProvider()) } }, clock);
    await r.dispatcher.start();
    await r.dispatcher.idle();
    expect(
      r.logs.find((l) => l.msg === 'notification dispatcher started: resuming due deliveries'),
    ).toMatchObject({ due: 1 });
  });

  it('emits delivered and failed with the stored record', async () => {
    const r = rig({ channels: {} });
    const channel = new ScriptedChannel('sms', r.clock, [
      { status: 'delivered', detail: 'ok' },
      { status: 'failed', detail: 'barred' },
    ]);
    const d = new NotificationDispatcher({
      store: r.store,
      channels: { sms: channel },
      clock: r.clock,
      logger: createLogger({ level: 'silent' }),
      counters: r.counters,
      concurrency: 1,
    });
    const outcomes: Array<[string, string, number]> = [];
    d.events.on('delivered', (e) => outcomes.push(['delivered', e.record.state, e.record.attemptCount]));
    d.events.on('failed', (e) => outcomes.push(['failed', e.record.state, e.record.attemptCount]));
    await d.start();
    await d.enqueue(note(r.clock));
    await d.idle();
    await d.enqueue(note(r.clock));
    await d.idle();
    await d.stop();
    expect(outcomes).toEqual([
      ['delivered', 'delivered', 1],
      ['failed', 'failed', 1],
    ]);
  });

  it('refuses a lease no longer than the send timeout', () => {
    expect(
      () =>
        new NotificationDispatcher({
          store: new MemoryDeliveryStore(),
          channels: {},
          clock: new ManualClock(START),
          logger: createLogger({ level: 'silent' }),
          counters: new Counters(),
          sendTimeoutMs: 30_000,
          leaseMs: 30_000,
        }),
    ).toThrow(/leaseMs must exceed sendTimeoutMs/);
  });

  it('is idempotent by notification id and refuses an invalid notification', async () => {
    const provider = new RecordingPhoneProvider();
    const r = rig({ channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    expect(await r.dispatcher.enqueue(n)).toEqual({ inserted: false });
    await r.dispatcher.idle();
    expect(provider.messages).toHaveLength(1);
    await expect(r.dispatcher.enqueue({ ...note(r.clock), subject: '' })).rejects.toMatchObject({
      code: 'HB_NOTIFICATION_INVALID',
    });
    await expect(r.dispatcher.enqueue({ ...note(r.clock), id: 'not-a-uuid' })).rejects.toThrow(/id: must be/);
  });

  it('tells the caller when the store cannot take a notification', async () => {
    const store = new MemoryDeliveryStore();
    store.add = async () => {
      throw new Error('database is locked');
    };
    const r = rig({ store, channels: { sms: new SmsChannel(new RecordingPhoneProvider()) } });
    await r.dispatcher.start();
    await expect(r.dispatcher.enqueue(note(r.clock))).rejects.toThrow('database is locked');
    expect(r.counters.get('notification_store_errors', { op: 'add' })).toBe(1);
    expect(r.logs.find((l) => l.level === 50)?.msg).toBe(
      'notification could not be stored; it will not be sent',
    );
  });

  it('attempts again, rather than forgets, a delivery whose attempt could not be recorded', async () => {
    const store = new MemoryDeliveryStore();
    const record = store.recordAttempt.bind(store);
    let failures = 1;
    store.recordAttempt = async (...args) => {
      if (failures-- > 0) throw new Error('connection reset');
      return record(...args);
    };
    const provider = new RecordingPhoneProvider();
    const r = rig({ store, channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.dispatcher.idle();
    expect(provider.messages).toHaveLength(1);
    expect((await store.get(n.id))?.state).toBe('pending');
    await r.advance(119_000);
    expect(provider.messages).toHaveLength(1); // still leased to us
    await r.advance(1_000);
    expect(provider.messages).toHaveLength(2); // the lease ended: at least once, sent again, same id
    expect(await store.get(n.id)).toMatchObject({ state: 'delivered', attemptCount: 1 });
    expect(r.counters.get('notification_store_errors', { op: 'recordAttempt' })).toBe(1);
  });

  it('keeps polling through a store outage and sends once the store answers again', async () => {
    const store = new MemoryDeliveryStore();
    const claimDue = store.claimDue.bind(store);
    let down = true;
    store.claimDue = async (...args) => {
      if (down) throw new Error('connection refused');
      return claimDue(...args);
    };
    const provider = new RecordingPhoneProvider();
    const r = rig({ store, channels: { sms: new SmsChannel(provider) } });
    await r.dispatcher.start();
    const n = note(r.clock);
    await r.dispatcher.enqueue(n);
    await r.advance(90_000);
    expect(provider.messages).toHaveLength(0);
    expect(r.counters.get('notification_store_errors', { op: 'claim' })).toBe(92);
    // Said at once (start and enqueue both polled at 0 s), then once a minute.
    expect(r.logs.filter((l) => l.level === 50).map((l) => l.failures)).toEqual([1, 62]);
    down = false;
    await r.advance(1_000);
    expect(provider.messages).toHaveLength(1);
    expect(r.logs.some((l) => l.msg === 'reading due notifications works again')).toBe(true);
  });
});

/** Let pending promise callbacks (store and channel calls) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
