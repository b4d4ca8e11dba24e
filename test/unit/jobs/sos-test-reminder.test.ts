import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite, type SqliteDatabase } from '../../../common/sqlite.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import { gatewayEventSchema, type SosTestReminderEvent } from '../../../contract/index.js';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import type { DeviceEvent, GatewayEvents } from '../../../gateway/devices/device-event.js';
import { ClockCronScheduler } from '../../../gateway/jobs/cron-scheduler.js';
import { SOS_PRESSES_TABLE, SosTestReminder, sosButtonsOf } from '../../../gateway/jobs/sos-test-reminder.js';

const DAY = 24 * 3600_000;
/** Local time in Shanghai on day `d` after Monday 2026-01-05. */
const local = (d: number, hhmm: string) =>
  Date.parse(`2026-01-${String(5 + d).padStart(2, '0')}T${hhmm}:00+08:00`);

const DEVICES = [
  {
    id: 'sos-bedroom',
    kind: 'rf_button',
    role: 'sos_button',
    room: 'bedroom',
    link: 'rf',
    address: 'EV1527:1:01',
  },
  { id: 'sos-bathroom', kind: 'zigbee', role: 'sos_button', room: 'bathroom', address: 'pendant' },
  { id: 'sos-hall', kind: 'rf_button', role: 'sos_button', link: 'rf', address: 'EV1527:3:01' },
  { id: 'door-remote', kind: 'rf_button', role: 'cancel_button', link: 'rf', address: 'EV1527:2:01' },
] as DeviceConfig[];

function setup(db: SqliteDatabase, clock: ManualClock) {
  const bus = new TypedEmitter<GatewayEvents>();
  const counters = new Counters();
  const scheduler = new ClockCronScheduler(clock, silentLogger(), counters);
  const sent: SosTestReminderEvent[] = [];
  const reminder = new SosTestReminder(
    { db, bus, scheduler, clock, logger: silentLogger(), counters, onReminder: (e) => sent.push(e) },
    {
      gatewayId: 'gw-test',
      bedId: 'bed-1',
      timeZone: 'Asia/Shanghai',
      cron: '0 10 * * 1',
      windowDays: 7,
      buttons: sosButtonsOf(DEVICES),
    },
  );
  reminder.start();
  const press = (deviceId: string, kind: DeviceEvent['kind'] = 'button_press') =>
    bus.emit('deviceEvent', {
      deviceId,
      kind,
      atMs: clock.now(),
      raw: '20;01;EV1527;ID=1;SWITCH=01;CMD=ON;',
    });
  return { bus, counters, scheduler, sent, reminder, press };
}

describe('SosTestReminder', () => {
  it('lists every SOS button with its last press on Monday 10:00 local', () => {
    const db = openSqlite(':memory:', []);
    const clock = new ManualClock(local(0, '11:00'));
    const { sent, press, reminder, bus } = setup(db, clock);
    clock.advance(local(1, '09:00') - clock.now());
    press('sos-bedroom');
    clock.advance(local(6, '20:00') - clock.now());
    press('sos-bathroom', 'sos');
    press('sos-hall', 'cancel'); // a cancel is not a test of the SOS function
    press('door-remote'); // not an SOS button
    clock.advance(local(7, '09:59') - clock.now());
    expect(sent).toHaveLength(0);
    clock.advance(local(7, '10:00') - clock.now());
    expect(sent).toHaveLength(1);
    expect(gatewayEventSchema.parse(sent[0])).toEqual(sent[0]);
    expect(sent[0]).toEqual({
      v: 1,
      kind: 'sos_test_reminder',
      gatewayId: 'gw-test',
      bedId: 'bed-1',
      at: '2026-01-12T02:00:00.000Z',
      windowDays: 7,
      buttons: [
        { deviceId: 'sos-bedroom', room: 'bedroom', lastPressedAt: '2026-01-06T01:00:00.000Z', tested: true },
        {
          deviceId: 'sos-bathroom',
          room: 'bathroom',
          lastPressedAt: '2026-01-11T12:00:00.000Z',
          tested: true,
        },
        { deviceId: 'sos-hall', tested: false },
      ],
      allTested: false,
    });
    reminder.stop();
    expect(bus.listenerCount()).toBe(0);
  });

  it('remembers presses across a restart and ages them out of the window', () => {
    const db = openSqlite(':memory:', []);
    const clock = new ManualClock(local(0, '11:00'));
    const first = setup(db, clock);
    first.press('sos-bedroom');
    first.press('sos-bedroom');
    first.reminder.stop();
    first.scheduler.stop();
    const second = setup(db, clock);
    clock.advance(7 * DAY);
    expect(second.sent[0]?.buttons[0]).toEqual({
      deviceId: 'sos-bedroom',
      room: 'bedroom',
      lastPressedAt: '2026-01-05T03:00:00.000Z',
      tested: true,
    });
    clock.advance(7 * DAY);
    expect(second.sent[1]?.buttons[0]?.tested).toBe(false);
    expect(second.counters.get('sos_test_reminders')).toBe(2);
    expect(
      db.prepare(`SELECT presses FROM ${SOS_PRESSES_TABLE} WHERE device_id = 'sos-bedroom'`).get(),
    ).toEqual({
      presses: 2,
    });
    second.reminder.stop();
  });

  it('counts a reminder its receiver could not take, and goes on', () => {
    const db = openSqlite(':memory:', []);
    const clock = new ManualClock(local(0, '11:00'));
    const bus = new TypedEmitter<GatewayEvents>();
    const counters = new Counters();
    const scheduler = new ClockCronScheduler(clock, silentLogger(), counters);
    const reminder = new SosTestReminder(
      {
        db,
        bus,
        scheduler,
        clock,
        logger: silentLogger(),
        counters,
        onReminder: () => {
          throw new Error('outbox full');
        },
      },
      {
        gatewayId: 'gw',
        bedId: 'bed',
        timeZone: 'Asia/Shanghai',
        cron: '0 10 * * 1',
        windowDays: 7,
        buttons: [],
      },
    );
    reminder.start();
    clock.advance(14 * DAY);
    expect(counters.get('sos_test_reminder_failures')).toBe(2);
    expect(reminder.reminder()).toMatchObject({ buttons: [], allTested: false });
    reminder.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
