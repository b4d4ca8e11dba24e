import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { BedEventRepository, gatewayEventId } from '../../../cloud/beds/bed-events.js';
import { BedStatusSource } from '../../../cloud/beds/bed-status.js';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { ManualClock } from '../../../common/clock.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import type { AlarmMessage, GatewayEventMessage } from '../../../contract/index.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

const move = (kind: 'bed_exit' | 'bed_return', at: string): GatewayEventMessage => ({
  v: 1,
  gatewayId: 'gw-1',
  bedId: 'bed-1',
  kind,
  at,
  deviceId: 'bed-radar',
});

/** Gateway events and the bed status over the store, whichever database is under them. */
describe.each(STORE_FACTORIES)('bed events and status contract: $name', (factory) => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let events: BedEventRepository;
  let status: BedStatusSource;

  beforeEach(async () => {
    ({ db, cleanup } = await factory.open());
    events = new BedEventRepository(db);
    status = new BedStatusSource({
      db,
      events,
      vitals: null,
      clock: new ManualClock(Date.UTC(2026, 10, 23, 4)),
      logger: silentLogger(),
    });
  });
  afterEach(async () => {
    await cleanup();
  });

  it('keeps an event once by its natural key, newest first, with from (inclusive) and to (exclusive)', async () => {
    const received = '2026-11-23T04:00:00.000Z';
    expect(
      (await events.record(move('bed_exit', '2026-11-23T01:00:00.000Z'), 'bed-1', received)).inserted,
    ).toBe(true);
    // The same instant in another offset is the same event.
    expect(
      (await events.record(move('bed_exit', '2026-11-23T09:00:00.000+08:00'), 'bed-1', received)).inserted,
    ).toBe(false);
    await events.record(move('bed_return', '2026-11-23T01:10:00.000Z'), 'bed-1', received);
    await events.record(move('bed_exit', '2026-11-23T02:00:00.000Z'), 'bed-1', received);
    await events.record(move('bed_exit', '2026-11-23T02:30:00.000Z'), 'bed-2', received);

    const list = await events.list('bed-1');
    expect(list.map((e) => [e.kind, e.at])).toEqual([
      ['bed_exit', '2026-11-23T02:00:00.000Z'],
      ['bed_return', '2026-11-23T01:10:00.000Z'],
      ['bed_exit', '2026-11-23T01:00:00.000Z'],
    ]);
    expect(list[2]).toEqual({
      id: gatewayEventId(move('bed_exit', '2026-11-23T01:00:00.000Z')),
      gatewayId: 'gw-1',
      bedId: 'bed-1',
      kind: 'bed_exit',
      at: '2026-11-23T01:00:00.000Z',
      receivedAt: received,
      detail: { deviceId: 'bed-radar' },
    });
    const window = await events.list('bed-1', {
      from: '2026-11-23T01:10:00.000Z',
      to: '2026-11-23T10:00:00+08:00',
    });
    expect(window.map((e) => e.at)).toEqual(['2026-11-23T01:10:00.000Z']);
    expect(await events.list('bed-1', { limit: 1 })).toHaveLength(1);
    expect((await events.latest('bed-1', ['bed_return']))?.at).toBe('2026-11-23T01:10:00.000Z');
    expect(await events.latest('bed-1', ['daily_summary'])).toBeNull();
  });

  it('status: alarm while a raised alarm is open, the newest move otherwise, its gateway', async () => {
    await new GatewayRegistry(db).add('gw-1', 'gateway-secret-1');
    await db.run(
      `UPDATE gateways SET bed_id = 'bed-1', status = 'online', last_seen_at = ? WHERE id = 'gw-1'`,
      ['2026-11-23T03:59:00.000Z'],
    );
    expect((await status.status('bed-1')).now).toEqual({ state: 'unknown', since: null, activeAlarm: null });
    await events.record(move('bed_exit', '2026-11-23T01:00:00.000Z'), 'bed-1', '2026-11-23T01:00:01.000Z');
    expect((await status.status('bed-1')).now).toEqual({
      state: 'out_of_bed',
      since: '2026-11-23T01:00:00.000Z',
      activeAlarm: null,
    });

    const alarms = new SqlAlarmStore(db);
    const raise = (seq: number, severity: AlarmMessage['severity'], receivedAt: string) => {
      const alarm: AlarmMessage = {
        v: 1,
        id: uuidv7(),
        gatewayId: 'gw-1',
        bedId: 'bed-1',
        seq,
        type: severity === 'critical' ? 'sos_button' : 'device_battery_low',
        severity,
        state: 'raised',
        at: receivedAt,
        evidence: [],
      };
      return alarms.ingest(alarm, receivedAt).then(() => alarm);
    };
    const sos = await raise(1, 'critical', '2026-11-23T02:00:00.000Z');
    const battery = await raise(2, 'technical', '2026-11-23T03:00:00.000Z');
    let s = await status.status('bed-1');
    // The most severe open alarm, not the newest.
    expect(s.now).toMatchObject({ state: 'alarm', since: '2026-11-23T02:00:00.000Z' });
    expect(s.now.activeAlarm?.id).toBe(sos.id);
    expect(s.recentAlarms.map((a) => a.id)).toEqual([battery.id, sos.id]);
    expect(s.gateway).toEqual({ id: 'gw-1', status: 'online', lastSeenAt: '2026-11-23T03:59:00.000Z' });

    await alarms.resolve(sos.id, '李娜', '2026-11-23T03:10:00.000Z', 'false_alarm');
    await alarms.resolve(battery.id, '李娜', '2026-11-23T03:11:00.000Z', 'other');
    s = await status.status('bed-1');
    expect(s.now.state).toBe('out_of_bed');
    expect(s.recentAlarms[1]).toMatchObject({ id: sos.id, outcome: 'false_alarm', resolvedBy: '李娜' });

    // An offline gateway may have missed a move: its events no longer say where the resident is.
    await db.run(`UPDATE gateways SET status = 'offline' WHERE id = 'gw-1'`);
    expect((await status.status('bed-1')).now.state).toBe('unknown');
  });
});
