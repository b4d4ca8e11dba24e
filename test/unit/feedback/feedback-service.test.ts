import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite, type SqliteDatabase } from '../../../common/sqlite.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import type { AckMessage, AlarmMessage } from '../../../contract/index.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import {
  type AlarmInfo,
  DEFAULT_FEEDBACK_OPTIONS,
  FeedbackService,
} from '../../../gateway/feedback/feedback-service.js';
import type { AcknowledgedAlarm, ResidentNotifier } from '../../../gateway/feedback/resident-notifier.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const ALARM_ID = '0190a0b0-0000-7000-8000-000000000001';

/** A notifier that records calls and answers as told. */
class FakeNotifier implements ResidentNotifier {
  readonly calls: AcknowledgedAlarm[] = [];
  readonly signals: AbortSignal[] = [];
  constructor(
    readonly name: string,
    private readonly behaviour: 'ok' | 'hang' | 'throw' | 'reject' = 'ok',
  ) {}

  helpIsComing(alarm: AcknowledgedAlarm, signal?: AbortSignal): Promise<void> {
    this.calls.push(alarm);
    if (signal) this.signals.push(signal);
    switch (this.behaviour) {
      case 'ok':
        return Promise.resolve();
      case 'hang':
        return new Promise<void>(() => {});
      case 'throw':
        throw new Error('chime broken');
      case 'reject':
        return Promise.reject(new Error('no speaker'));
    }
  }
}

function alarm(overrides: Partial<AlarmMessage> = {}): AlarmMessage {
  return {
    v: 1,
    id: ALARM_ID,
    gatewayId: 'gw-test',
    bedId: 'bed-1',
    seq: 1,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    deviceId: 'sos-bedroom',
    evidence: [],
    ...overrides,
  };
}

function setup(
  notifiers: ResidentNotifier[],
  options: { db?: SqliteDatabase; lookupAlarm?: (id: string) => AlarmInfo | null } = {},
) {
  const db = options.db ?? openSqlite(':memory:', []);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 1));
  const bus = new TypedEmitter<GatewayEvents>();
  const counters = new Counters();
  const service = new FeedbackService(
    {
      bus,
      db,
      clock,
      logger: silentLogger(),
      counters,
      notifiers,
      ...(options.lookupAlarm ? { lookupAlarm: options.lookupAlarm } : {}),
    },
    DEFAULT_FEEDBACK_OPTIONS,
  );
  service.start();
  const ack = (status: AckMessage['status'], alarmId = ALARM_ID, atMs = clock.now()) =>
    bus.emit('alarmAck', { v: 1, alarmId, status, at: new Date(atMs).toISOString(), by: 'operator 7' });
  return { db, clock, bus, counters, service, ack };
}

describe('FeedbackService', () => {
  it('tells the resident once per acknowledged alarm, through every output', async () => {
    const chime = new FakeNotifier('rflink:rflink');
    const sound = new FakeNotifier('sound:espeak-ng');
    const { bus, counters, service, ack } = setup([chime, sound]);
    bus.emit('alarmCommitted', alarm());
    ack('stored');
    await service.whenIdle();
    expect(chime.calls).toEqual([]);
    ack('acknowledged');
    ack('acknowledged');
    ack('resolved');
    await service.whenIdle();
    const expected = { alarmId: ALARM_ID, type: 'sos_button', deviceId: 'sos-bedroom' };
    expect(chime.calls).toEqual([expected]);
    expect(sound.calls).toEqual([expected]);
    expect(counters.get('feedback_notified', { notifier: 'rflink:rflink' })).toBe(1);
    expect(counters.get('feedback_skipped', { reason: 'duplicate' })).toBe(1);
    service.stop();
    expect(bus.listenerCount()).toBe(0);
  });

  it('stays silent for a redelivered acknowledgement after a restart', async () => {
    const db = openSqlite(':memory:', []);
    const first = new FakeNotifier('log');
    const a = setup([first], { db });
    a.bus.emit('alarmCommitted', alarm());
    a.ack('acknowledged');
    await a.service.whenIdle();
    a.service.stop();
    const second = new FakeNotifier('log');
    const b = setup([second], { db, lookupAlarm: () => ({ type: 'sos_button', severity: 'critical' }) });
    b.ack('acknowledged');
    await b.service.whenIdle();
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(0);
    b.service.stop();
  });

  it('a hanging output times out and a throwing one fails, both counted, while the others still run', async () => {
    const hang = new FakeNotifier('hang', 'hang');
    const thrower = new FakeNotifier('throw', 'throw');
    const rejecter = new FakeNotifier('reject', 'reject');
    const good = new FakeNotifier('good');
    const { bus, clock, counters, service, ack } = setup([hang, thrower, rejecter, good]);
    bus.emit('alarmCommitted', alarm());
    ack('acknowledged');
    await flush();
    expect(good.calls).toHaveLength(1);
    expect(counters.get('feedback_notified', { notifier: 'good' })).toBe(1);
    expect(counters.get('feedback_failures', { notifier: 'throw' })).toBe(1);
    expect(counters.get('feedback_failures', { notifier: 'reject' })).toBe(1);
    expect(counters.get('feedback_failures', { notifier: 'hang' })).toBe(0);
    clock.advance(4_999);
    expect(counters.get('feedback_failures', { notifier: 'hang' })).toBe(0);
    clock.advance(1);
    expect(counters.get('feedback_failures', { notifier: 'hang' })).toBe(1);
    expect(hang.signals[0]?.aborted).toBe(true);
    await service.whenIdle();
    expect(clock.pendingTimers()).toBe(0);
    service.stop();
  });

  it('announces only the configured severities, and not stale acknowledgements', async () => {
    const out = new FakeNotifier('log');
    const { bus, clock, counters, service, ack } = setup([out]);
    bus.emit('alarmCommitted', alarm({ type: 'device_battery_low', severity: 'technical' }));
    ack('acknowledged');
    const other = '0190a0b0-0000-7000-8000-000000000002';
    bus.emit('alarmCommitted', alarm({ id: other }));
    clock.advance(11 * 60_000);
    ack('acknowledged', other, clock.now() - 11 * 60_000);
    await service.whenIdle();
    expect(out.calls).toEqual([]);
    expect(counters.get('feedback_skipped', { reason: 'severity' })).toBe(1);
    expect(counters.get('feedback_skipped', { reason: 'stale' })).toBe(1);
    service.stop();
  });

  it('finds alarms raised before it started through the lookup, and announces unknown ones anyway', async () => {
    const out = new FakeNotifier('log');
    const lookups: string[] = [];
    const { service, ack } = setup([out], {
      lookupAlarm: (id) => {
        lookups.push(id);
        return id === ALARM_ID
          ? { type: 'fall_confirmed', severity: 'critical', deviceId: 'fall-radar' }
          : null;
      },
    });
    ack('acknowledged');
    const unknown = '0190a0b0-0000-7000-8000-000000000003';
    ack('acknowledged', unknown);
    await service.whenIdle();
    expect(lookups).toEqual([ALARM_ID, unknown]);
    expect(out.calls).toEqual([
      { alarmId: ALARM_ID, type: 'fall_confirmed', deviceId: 'fall-radar' },
      { alarmId: unknown, type: 'unknown' },
    ]);
    service.stop();
  });

  it('abandons running outputs when stopped, without counting them as failures', async () => {
    const hang = new FakeNotifier('hang', 'hang');
    const { bus, clock, counters, service, ack } = setup([hang]);
    bus.emit('alarmCommitted', alarm());
    ack('acknowledged');
    service.stop();
    await service.whenIdle();
    expect(hang.signals[0]?.aborted).toBe(true);
    expect(counters.total('feedback_failures')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
