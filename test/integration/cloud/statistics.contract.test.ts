import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StatsReport, StatsSource } from '../../../cloud/stats/stats-source.js';
import type { SqlDatabase, SqlExecutor, SqlValue } from '../../../cloud/store/sql-database.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

/**
 * A scripted data set read back through StatsSource on both stores. Every
 * expected figure is worked out by hand in the comments from the rows below,
 * not by the code under test.
 *
 * Organisation org-a keeps Asia/Shanghai (UTC+8). The report covers the local
 * dates 2026-03-05 and 2026-03-06, i.e. [2026-03-04T16:00Z, 2026-03-06T16:00Z):
 *   day 1 = 2026-03-05 = [03-04T16:00Z, 03-05T16:00Z), 86 400 000 ms
 *   day 2 = 2026-03-06 = [03-05T16:00Z, 03-06T16:00Z), 86 400 000 ms
 * It is "as of" 2026-03-07T02:00Z, after the range, so coverage runs to its end.
 *
 * bed-1 / gw-1, heartbeats every 60 s from 03-04T12:00Z (status online then):
 *   - offline status at 03-05T02:00Z (local 10:00), online again at 04:00Z; no
 *     heartbeats between (last 01:59Z, next 04:00Z): gateway offline [02:00Z, 04:00Z);
 *   - bed-radar (mr60bha1, 90 s) is listed with lastSeenAt = the heartbeat's time,
 *     so it reports up to 01:59Z + 90 s = 02:00:30Z, then again from 04:00Z:
 *     silent [02:00:30Z, 04:00Z) = 7 170 000 ms, all inside the gateway's outage;
 *   - sos (rf_button, 25 h) is listed with lastSeenAt 03-04T12:00Z until it is heard
 *     again at 03-05T20:00Z: silent [03-05T13:00Z, 20:00Z), 3 h on day 1, 4 h on day 2.
 * bed-2 / gw-2, heartbeats every 60 s from 03-04T12:00Z, never offline:
 *   - fall-radar (mr60fda1, 90 s): the heartbeats from 03-06T01:00Z to 01:29Z still
 *     say lastSeenAt 00:59Z; from 01:30Z it is fresh again: silent
 *     [00:59Z + 90 s = 01:00:30Z, 01:30Z) = 1 770 000 ms on day 2;
 *   - door (rf_contact, heard 03-04T12:00Z) is listed only until 03-05T00:00Z, then
 *     removed from the gateway's configuration: never required after that, so
 *     never silent (its 25 h would end at 03-05T13:00Z).
 * bed-3: no gateway (coverage null). org-b (Europe/Berlin, UTC+1 in March): bed-b1.
 */

const NOW = '2026-03-07T02:00:00.000Z';
const MIN = 60_000;
const HOUR = 3_600_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
const t = (text: string) => Date.parse(text);

async function insertMany(tx: SqlExecutor, table: string, columns: readonly string[], rows: SqlValue[][]) {
  // Chunks keep a statement's parameters well under both drivers' limits.
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const values = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await tx.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
}

interface Device {
  id: string;
  kind: string;
  online: boolean;
  lastSeenAt?: string;
}

/** Heartbeats every minute in [fromMs, toMs), with the device list `devicesAt(at)`. */
function heartbeats(gatewayId: string, fromMs: number, toMs: number, devicesAt: (atMs: number) => Device[]) {
  const rows: SqlValue[][] = [];
  for (let at = fromMs; at < toMs; at += MIN)
    rows.push([gatewayId, iso(at), MIN, JSON.stringify(devicesAt(at))]);
  return rows;
}

interface AlarmRow {
  id: string;
  bed: string;
  gateway: string;
  type: string;
  severity: string;
  state?: string;
  received: string;
  ack?: string;
  resolved?: string;
  outcome?: string;
}

async function seed(db: SqlDatabase): Promise<void> {
  const created = '2026-01-01T00:00:00.000Z';
  await db.transaction(async (tx) => {
    await insertMany(
      tx,
      'organisations',
      ['id', 'name', 'time_zone', 'created_at'],
      [
        ['org-a', '幸福社区养老服务中心', 'Asia/Shanghai', created],
        ['org-b', 'Pflegedienst Nord', 'Europe/Berlin', created],
      ],
    );
    const bed = (id: string, org: string, name: string): SqlValue[] => [
      id,
      org,
      name,
      '某市某区某路 1 号',
      JSON.stringify([{ name: '李四', relation: '女儿', phone: '+8613800138000', notify: true }]),
      '[]',
      'active',
      created,
      created,
    ];
    await insertMany(
      tx,
      'beds',
      [
        'id',
        'organisation_id',
        'resident_name',
        'address',
        'contacts',
        'risk_tags',
        'state',
        'created_at',
        'updated_at',
      ],
      [
        bed('bed-1', 'org-a', '张三'),
        bed('bed-2', 'org-a', '王五'),
        bed('bed-3', 'org-a', '赵六'),
        bed('bed-b1', 'org-b', 'Erika Muster'),
      ],
    );
    await insertMany(
      tx,
      'gateways',
      ['id', 'secret_hash', 'created_at', 'organisation_id', 'bed_id', 'heartbeat_interval_ms'],
      [
        ['gw-1', 'x', created, 'org-a', 'bed-1', MIN],
        ['gw-2', 'x', created, 'org-a', 'bed-2', MIN],
      ],
    );
    await insertMany(
      tx,
      'gateway_status_history',
      ['id', 'gateway_id', 'state', 'at', 'reason'],
      [
        ['s1', 'gw-1', 'online', '2026-03-04T12:00:00.000Z', 'connected'],
        ['s2', 'gw-1', 'offline', '2026-03-05T02:00:00.000Z', 'last_will'],
        ['s3', 'gw-1', 'online', '2026-03-05T04:00:00.000Z', 'connected'],
        ['s4', 'gw-2', 'online', '2026-03-04T12:00:00.000Z', 'connected'],
      ],
    );
    const start = t('2026-03-04T12:00:00.000Z');
    const end = t('2026-03-06T16:00:00.000Z');
    const gw1Devices = (at: number): Device[] => [
      { id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: iso(at) },
      {
        id: 'sos',
        kind: 'rf_button',
        online: true,
        lastSeenAt:
          at < t('2026-03-05T20:00:00.000Z') ? '2026-03-04T12:00:00.000Z' : '2026-03-05T20:00:00.000Z',
      },
    ];
    const radarFrozen = (at: number) =>
      at >= t('2026-03-06T01:00:00.000Z') && at < t('2026-03-06T01:30:00.000Z');
    const gw2Devices = (at: number): Device[] => [
      {
        id: 'fall-radar',
        kind: 'mr60fda1',
        online: !radarFrozen(at),
        lastSeenAt: radarFrozen(at) ? '2026-03-06T00:59:00.000Z' : iso(at),
      },
      ...(at < t('2026-03-05T00:00:00.000Z')
        ? [{ id: 'door', kind: 'rf_contact', online: true, lastSeenAt: '2026-03-04T12:00:00.000Z' }]
        : []),
    ];
    const columns = ['gateway_id', 'at', 'interval_ms', 'devices'];
    await insertMany(tx, 'gateway_heartbeats', columns, [
      ...heartbeats('gw-1', start, t('2026-03-05T02:00:00.000Z'), gw1Devices),
      ...heartbeats('gw-1', t('2026-03-05T04:00:00.000Z'), end, gw1Devices),
      ...heartbeats('gw-2', start, end, gw2Devices),
    ]);

    // biome-ignore format: one alarm a line reads as a table
    const alarms: AlarmRow[] = [
      // org-a, bed-1. A1 is stored with an offset (09:00 Shanghai = 01:00Z): the reads parse times, not compare text.
      { id: 'A1', bed: 'bed-1', gateway: 'gw-1', type: 'sos_button', severity: 'critical', received: '2026-03-05T09:00:00+08:00', ack: '2026-03-05T01:00:15.000Z', resolved: '2026-03-05T01:05:00.000Z', outcome: 'resident_fine_by_phone' },
      { id: 'A2', bed: 'bed-1', gateway: 'gw-1', type: 'fall_suspected', severity: 'critical', received: '2026-03-05T06:00:00.000Z', ack: '2026-03-05T06:00:35.000Z', resolved: '2026-03-05T06:20:00.000Z', outcome: 'staff_visited' },
      { id: 'A3', bed: 'bed-1', gateway: 'gw-1', type: 'sos_button', severity: 'critical', received: '2026-03-05T18:00:00.000Z', ack: '2026-03-05T18:01:40.000Z', resolved: '2026-03-05T18:10:00.000Z', outcome: 'false_alarm' },
      { id: 'A4', bed: 'bed-1', gateway: 'gw-1', type: 'fall_suspected', severity: 'critical', state: 'cleared', received: '2026-03-05T06:10:00.000Z' },
      { id: 'A5', bed: 'bed-1', gateway: 'gw-1', type: 'device_offline', severity: 'technical', received: '2026-03-05T13:00:00.000Z', ack: '2026-03-05T13:10:00.000Z' },
      // org-a, bed-2
      { id: 'B1', bed: 'bed-2', gateway: 'gw-2', type: 'bed_exit_no_return', severity: 'warning', received: '2026-03-04T17:00:00.000Z', ack: '2026-03-04T17:00:20.000Z', resolved: '2026-03-04T17:15:00.000Z', outcome: 'family_visited' },
      { id: 'B2', bed: 'bed-2', gateway: 'gw-2', type: 'heart_rate_low', severity: 'critical', received: '2026-03-06T02:00:00.000Z', ack: '2026-03-06T02:00:40.000Z', resolved: '2026-03-06T02:30:00.000Z', outcome: 'ambulance_called' },
      { id: 'B3', bed: 'bed-2', gateway: 'gw-2', type: 'sos_button', severity: 'critical', received: '2026-03-06T05:00:00.000Z', ack: '2026-03-06T05:00:50.000Z' },
      { id: 'B4', bed: 'bed-2', gateway: 'gw-2', type: 'fall_confirmed', severity: 'critical', received: '2026-03-06T10:00:00.000Z' },
      // Outside org-a's range: at its (excluded) end, and 1 ms before its start.
      { id: 'B5', bed: 'bed-2', gateway: 'gw-2', type: 'sos_button', severity: 'critical', received: '2026-03-06T16:00:00.000Z', ack: '2026-03-06T16:00:10.000Z' },
      { id: 'B6', bed: 'bed-2', gateway: 'gw-2', type: 'sos_button', severity: 'critical', received: '2026-03-04T15:59:59.999Z', ack: '2026-03-04T16:00:10.000Z' },
      // org-b: its local dates run [03-04T23:00Z, 03-06T23:00Z), so C2 is in its range though after org-a's.
      { id: 'C1', bed: 'bed-b1', gateway: 'gw-b', type: 'sos_button', severity: 'critical', received: '2026-03-05T03:00:00.000Z', ack: '2026-03-05T03:00:05.000Z' },
      { id: 'C2', bed: 'bed-b1', gateway: 'gw-b', type: 'sos_button', severity: 'critical', received: '2026-03-06T20:00:00.000Z', ack: '2026-03-06T20:01:00.000Z' },
      // A bed nobody registered: in no organisation.
      { id: 'X1', bed: 'bed-unknown', gateway: 'gw-x', type: 'sos_button', severity: 'critical', received: '2026-03-05T03:00:00.000Z' },
    ];
    await insertMany(
      tx,
      'alarms',
      [
        'id',
        'gateway_id',
        'bed_id',
        'seq',
        'type',
        'severity',
        'state',
        'at',
        'received_at',
        'evidence',
        'acknowledged_at',
        'acknowledged_by',
        'resolved_at',
        'resolved_by',
        'outcome',
      ],
      alarms.map((a, i) => [
        a.id,
        a.gateway,
        a.bed,
        i + 1,
        a.type,
        a.severity,
        a.state ?? 'raised',
        a.received,
        a.received,
        '[]',
        a.ack ?? null,
        a.ack ? 'staff-1' : null,
        a.resolved ?? null,
        a.resolved ? 'staff-1' : null,
        a.outcome ?? null,
      ]),
    );
  });
}

describe.each(STORE_FACTORIES)('statistics over the store: $name', (factory) => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let source: StatsSource;
  let report: StatsReport;

  beforeAll(async () => {
    ({ db, cleanup } = await factory.open());
    await seed(db);
    source = new StatsSource(db);
    report = await source.report({
      scope: {},
      from: '2026-03-05',
      to: '2026-03-06',
      period: 'day',
      now: NOW,
    });
  });
  afterAll(async () => {
    await cleanup();
  });

  const orgA = () => report.organisations.find((o) => o.organisationId === 'org-a')!;
  const bed = (id: string) => orgA().beds.find((b) => b.bedId === id)!;

  describe('alarmsFor', () => {
    const range = { from: '2026-03-04T16:00:00.000Z', to: '2026-03-06T16:00:00.000Z' };

    it('returns the raised alarms received in [from, to) of one organisation, oldest first', async () => {
      const alarms = await source.alarmsFor({ organisationId: 'org-a', ...range });
      // A4 is cleared, B5 is at `to`, B6 1 ms before `from`.
      expect(alarms.map((a) => a.id)).toEqual(['B1', 'A1', 'A2', 'A5', 'A3', 'B2', 'B3', 'B4']);
      expect(alarms.find((a) => a.id === 'A2')).toEqual({
        id: 'A2',
        bedId: 'bed-1',
        type: 'fall_suspected',
        severity: 'critical',
        state: 'raised',
        receivedAt: '2026-03-05T06:00:00.000Z',
        acknowledgedAt: '2026-03-05T06:00:35.000Z',
        resolvedAt: '2026-03-05T06:20:00.000Z',
        outcome: 'staff_visited',
      });
    });

    it('filters by bed, and without an organisation reads every registered bed', async () => {
      expect((await source.alarmsFor({ bedIds: ['bed-2'], ...range })).map((a) => a.id)).toEqual([
        'B1',
        'B2',
        'B3',
        'B4',
      ]);
      // C1 (org-b) joins; X1's bed is not registered.
      expect((await source.alarmsFor(range)).map((a) => a.id).sort()).toEqual(
        ['A1', 'A2', 'A3', 'A5', 'B1', 'B2', 'B3', 'B4', 'C1'].sort(),
      );
      expect(await source.alarmsFor({ bedIds: [], ...range })).toEqual([]);
    });
  });

  describe('coverageInputFor', () => {
    it("reads the bed's gateway history from 25 h before the period, its devices and its zone", async () => {
      const input = await source.coverageInputFor(
        'bed-1',
        '2026-03-04T16:00:00.000Z',
        '2026-03-06T16:00:00.000Z',
      );
      expect(input).not.toBeNull();
      expect(input!.gatewayId).toBe('gw-1');
      expect(input!.timeZone).toBe('Asia/Shanghai');
      expect(input!.gateway.heartbeatIntervalMs).toBe(60_000);
      expect(input!.gateway.statuses).toEqual([
        { at: '2026-03-04T12:00:00.000Z', state: 'online' },
        { at: '2026-03-05T02:00:00.000Z', state: 'offline' },
        { at: '2026-03-05T04:00:00.000Z', state: 'online' },
      ]);
      // 03-04T12:00Z to 03-06T16:00Z is 52 h = 3120 minutes, less the 120 of the outage.
      expect(input!.gateway.heartbeats).toHaveLength(3000);
      const devices = input!.devices.map((d) => ({
        id: d.id,
        timeout: d.supervisionTimeoutMs,
        seen: d.seenAt?.length,
      }));
      // The radar: one distinct lastSeenAt per heartbeat; the button: two.
      expect(devices).toEqual([
        { id: 'bed-radar', timeout: 90_000, seen: 3000 },
        { id: 'sos', timeout: 25 * HOUR, seen: 2 },
      ]);
    });

    it('leaves out what lies before the lookback', async () => {
      // Period from 03-06T14:00Z: the lookback starts at 03-05T13:00Z.
      const input = await source.coverageInputFor(
        'bed-1',
        '2026-03-06T14:00:00.000Z',
        '2026-03-06T16:00:00.000Z',
      );
      // 03-05T13:00Z to 03-06T16:00Z = 27 h = 1620 heartbeats; the statuses are all older.
      expect(input!.gateway.heartbeats).toHaveLength(1620);
      expect(input!.gateway.statuses).toEqual([]);
    });

    it('is null for a bed without a gateway and for an unknown bed', async () => {
      expect(
        await source.coverageInputFor('bed-3', '2026-03-05T00:00:00Z', '2026-03-06T00:00:00Z'),
      ).toBeNull();
      expect(
        await source.coverageInputFor('nope', '2026-03-05T00:00:00Z', '2026-03-06T00:00:00Z'),
      ).toBeNull();
    });
  });

  describe('report', () => {
    it('resolves local dates in each organisation’s zone', () => {
      expect(report.organisations.map((o) => [o.organisationId, o.timeZone, o.from, o.to])).toEqual([
        ['org-a', 'Asia/Shanghai', '2026-03-04T16:00:00.000Z', '2026-03-06T16:00:00.000Z'],
        ['org-b', 'Europe/Berlin', '2026-03-04T23:00:00.000Z', '2026-03-06T23:00:00.000Z'],
      ]);
      expect(report.now).toBe(NOW);
      // org-b: C1 and C2 (C2 at 03-06T20:00Z is inside Berlin's 6 March).
      const orgB = report.organisations[1]!;
      expect(orgB.responseTimes.calls.count).toBe(2);
      expect(orgB.beds.map((b) => [b.bedId, b.gatewayId, b.coverage])).toEqual([['bed-b1', null, null]]);
      expect(orgB.coverage).toEqual({ beds: 0, periodMs: 0, watchedMs: 0, share: null, periods: [] });
    });

    it('gives the organisation’s response times', () => {
      const calls = orgA().responseTimes.calls;
      // Calls: A1 15 s, A2 35 s, A3 100 s, B1 20 s, B2 40 s, B3 50 s acknowledged; B4 never.
      expect(calls.count).toBe(7);
      expect(calls.acknowledged).toBe(6);
      expect(calls.unacknowledged).toBe(1);
      // Sorted 15 20 35 40 50 100: p50 rank ceil(3) = 35; p90 rank ceil(5.4) = 6 → 100; p99 rank 6 → 100.
      expect(calls.timeToAcknowledgeS).toEqual({ p50: 35, p90: 100, p99: 100, max: 100 });
      // Within 60 s: 15 20 35 40 50 = 5 of 6 acknowledged + B4 (16 h old, a miss) = 7.
      // Within 180 s: those and 100 = 6 of 7.
      expect(calls.acknowledgedWithin).toEqual([
        { thresholdS: 60, within: 5, eligible: 7, share: 5 / 7 },
        { thresholdS: 180, within: 6, eligible: 7, share: 6 / 7 },
      ]);
      // Resolved A1 300 s, A2 1200 s, A3 600 s, B1 900 s, B2 1800 s: sorted 300 600 900 1200 1800;
      // p50 rank ceil(2.5) = 3 → 900; p90 rank ceil(4.5) = 5 → 1800.
      expect(calls.resolved).toBe(5);
      expect(calls.timeToResolveS).toEqual({ p50: 900, p90: 1800 });
      expect(calls.byType).toMatchObject({
        sos_button: 3,
        fall_suspected: 1,
        fall_confirmed: 1,
        bed_exit_no_return: 1,
        heart_rate_low: 1,
        device_offline: 0,
      });
      expect(calls.byOutcome).toEqual({
        false_alarm: 1,
        resident_fine_by_phone: 1,
        family_visited: 1,
        staff_visited: 1,
        ambulance_called: 1,
        other: 0,
      });
      // Technical: A5 only, acknowledged after 600 s.
      const separate = orgA().responseTimes.separate;
      expect(separate.count).toBe(1);
      expect(separate.byType.device_offline).toBe(1);
      expect(separate.timeToAcknowledgeS.p50).toBe(600);
      expect(separate.acknowledgedWithin.map((w) => [w.within, w.eligible])).toEqual([
        [0, 1],
        [0, 1],
      ]);
    });

    it('gives response times per local day', () => {
      const days = orgA().periods;
      expect(days.map((d) => [d.key, d.from, d.to])).toEqual([
        ['2026-03-05', '2026-03-04T16:00:00.000Z', '2026-03-05T16:00:00.000Z'],
        ['2026-03-06', '2026-03-05T16:00:00.000Z', '2026-03-06T16:00:00.000Z'],
      ]);
      // 5 March local: B1 (01:00) 20 s, A1 (09:00) 15 s, A2 (14:00) 35 s; A5 technical (21:00).
      // Sorted 15 20 35: p50 rank 2 → 20, p90 rank 3 → 35; all within 60 s.
      expect(days[0]!.calls.timeToAcknowledgeS).toMatchObject({ p50: 20, p90: 35 });
      expect(days[0]!.calls.acknowledgedWithin[0]).toMatchObject({ within: 3, eligible: 3 });
      expect(days[0]!.separate.count).toBe(1);
      // 6 March local: A3 (02:00) 100 s, B2 40 s, B3 50 s, B4 unacknowledged.
      // Sorted 40 50 100: p50 rank 2 → 50, p90 rank 3 → 100. Within 60: 2 of 4; within 180: 3 of 4.
      expect(days[1]!.calls.count).toBe(4);
      expect(days[1]!.calls.timeToAcknowledgeS).toMatchObject({ p50: 50, p90: 100 });
      expect(days[1]!.calls.acknowledgedWithin.map((w) => [w.within, w.eligible])).toEqual([
        [2, 4],
        [3, 4],
      ]);
    });

    it('gives response times per bed', () => {
      // bed-1: 15 35 100 → p50 rank 2 → 35, p90 rank 3 → 100; within 60: 2/3, 180: 3/3.
      // Resolved 300 600 1200: p50 rank 2 → 600, p90 rank 3 → 1200.
      const b1 = bed('bed-1').responseTimes.calls;
      expect(b1.timeToAcknowledgeS).toMatchObject({ p50: 35, p90: 100 });
      expect(b1.acknowledgedWithin.map((w) => w.share)).toEqual([2 / 3, 1]);
      expect(b1.timeToResolveS).toEqual({ p50: 600, p90: 1200 });
      // bed-2: 20 40 50 + B4 unacknowledged → p50 rank 2 → 40, p90 rank 3 → 50; within 60 and 180: 3/4.
      // Resolved 900 1800: p50 rank 1 → 900, p90 rank 2 → 1800.
      const b2 = bed('bed-2').responseTimes.calls;
      expect(b2.timeToAcknowledgeS).toMatchObject({ p50: 40, p90: 50 });
      expect(b2.acknowledgedWithin.map((w) => w.share)).toEqual([3 / 4, 3 / 4]);
      expect(b2.timeToResolveS).toEqual({ p50: 900, p90: 1800 });
      expect(bed('bed-3').responseTimes.calls.count).toBe(0);
      expect(orgA().beds.map((b) => [b.bedId, b.gatewayId])).toEqual([
        ['bed-1', 'gw-1'],
        ['bed-2', 'gw-2'],
        ['bed-3', null],
      ]);
    });

    it('gives bed-1 its coverage per day, to the millisecond, with the gaps and their causes', () => {
      const c = bed('bed-1').coverage!;
      // Day 1: unwatched [02:00Z, 04:00Z) 7 200 000 + [13:00Z, 16:00Z) 10 800 000 = 18 000 000;
      // watched 86 400 000 − 18 000 000 = 68 400 000 = 19/24 of the day.
      // Day 2: unwatched [16:00Z, 20:00Z) = 14 400 000; watched 72 000 000 = 5/6.
      expect(
        c.days.map((d) => [d.date, d.periodMs, d.watchedMs, d.share, d.gatewayOfflineMs, d.deviceSilentMs]),
      ).toEqual([
        [
          '2026-03-05',
          86_400_000,
          68_400_000,
          19 / 24,
          7_200_000,
          { 'bed-radar': 7_170_000, sos: 10_800_000 },
        ],
        ['2026-03-06', 86_400_000, 72_000_000, 5 / 6, 0, { 'bed-radar': 0, sos: 14_400_000 }],
      ]);
      // Whole range: 140 400 000 of 172 800 000 = 13/16.
      expect([c.periodMs, c.watchedMs, c.share]).toEqual([172_800_000, 140_400_000, 13 / 16]);
      expect(c.gaps.map((g) => [g.from, g.to, g.durationMs, g.causes])).toEqual([
        ['2026-03-05T02:00:00.000Z', '2026-03-05T02:00:30.000Z', 30_000, ['gateway_offline']],
        [
          '2026-03-05T02:00:30.000Z',
          '2026-03-05T04:00:00.000Z',
          7_170_000,
          ['gateway_offline', 'device_silent:bed-radar'],
        ],
        // One gap across local midnight: 7 h.
        ['2026-03-05T13:00:00.000Z', '2026-03-05T20:00:00.000Z', 25_200_000, ['device_silent:sos']],
      ]);
    });

    it('gives bed-2 its radar silence, and does not require a removed device', () => {
      const c = bed('bed-2').coverage!;
      // Day 2: 86 400 000 − 1 770 000 = 84 630 000.
      expect(c.days.map((d) => [d.date, d.watchedMs, d.share, d.gatewayOfflineMs, d.deviceSilentMs])).toEqual(
        [
          ['2026-03-05', 86_400_000, 1, 0, { door: 0, 'fall-radar': 0 }],
          ['2026-03-06', 84_630_000, 84_630_000 / 86_400_000, 0, { door: 0, 'fall-radar': 1_770_000 }],
        ],
      );
      expect(c.gaps.map((g) => [g.from, g.to, g.causes])).toEqual([
        ['2026-03-06T01:00:30.000Z', '2026-03-06T01:30:00.000Z', ['device_silent:fall-radar']],
      ]);
      expect(bed('bed-3').coverage).toBeNull();
    });

    it('sums coverage over the beds with a gateway, per period', () => {
      const c = orgA().coverage;
      // bed-1 140 400 000 + bed-2 (172 800 000 − 1 770 000 = 171 030 000) = 311 430 000 of 345 600 000.
      expect([c.beds, c.periodMs, c.watchedMs]).toEqual([2, 345_600_000, 311_430_000]);
      expect(c.share).toBe(311_430_000 / 345_600_000);
      // Day 1: 68 400 000 + 86 400 000; day 2: 72 000 000 + 84 630 000.
      expect(c.periods.map((p) => [p.key, p.periodMs, p.watchedMs])).toEqual([
        ['2026-03-05', 172_800_000, 154_800_000],
        ['2026-03-06', 172_800_000, 156_630_000],
      ]);
    });

    it('sums days into ISO weeks', async () => {
      const weekly = await source.report({
        scope: { organisationId: 'org-a', bedIds: ['bed-1'] },
        from: '2026-03-05',
        to: '2026-03-06',
        period: 'week',
        now: NOW,
      });
      expect(weekly.organisations.map((o) => o.organisationId)).toEqual(['org-a']);
      const org = weekly.organisations[0]!;
      expect(org.beds.map((b) => b.bedId)).toEqual(['bed-1']);
      // Thursday 5 and Friday 6 March 2026 are in ISO week 10; the period is clipped to the range.
      expect(org.coverage.periods).toEqual([
        {
          key: '2026-W10',
          from: '2026-03-04T16:00:00.000Z',
          to: '2026-03-06T16:00:00.000Z',
          periodMs: 172_800_000,
          watchedMs: 140_400_000,
          share: 13 / 16,
        },
      ]);
      expect(org.periods.map((p) => [p.key, p.calls.count])).toEqual([['2026-W10', 3]]);
    });

    it('is a snapshot as of `now`: later acknowledgements and coverage do not count yet', async () => {
      // As of 03-06T02:00:20Z: B2 (received 02:00:00Z) is 20 s old and acknowledged only at 02:00:40Z.
      const early = await source.report({
        scope: { organisationId: 'org-a' },
        from: '2026-03-05',
        to: '2026-03-06',
        period: 'day',
        now: '2026-03-06T02:00:20.000Z',
      });
      const org = early.organisations[0]!;
      // Calls received by then: B1, A1, A2, A3, B2 = 5; acknowledged by then: all but B2.
      expect([org.responseTimes.calls.count, org.responseTimes.calls.acknowledged]).toEqual([5, 4]);
      // Within 60 s: 20 15 35 (A3 took 100 s) = 3 of 4; B2 is not yet 60 s old, so not eligible.
      expect(org.responseTimes.calls.acknowledgedWithin[0]).toMatchObject({ within: 3, eligible: 4 });
      // Coverage stops at now: 03-04T16:00Z to 03-06T02:00:20Z = 34 h 20 s per bed.
      const b1 = org.beds[0]!.coverage!;
      expect(b1.periodMs).toBe(34 * HOUR + 20_000);
      expect(b1.days.map((d) => [d.date, d.periodMs])).toEqual([
        ['2026-03-05', 86_400_000],
        ['2026-03-06', 10 * HOUR + 20_000],
      ]);
    });

    it('names no resident: bed rows carry ids, never the beds table’s names, addresses or contacts', () => {
      const text = JSON.stringify(report);
      for (const personal of [
        '张三',
        '王五',
        '赵六',
        'Erika',
        '李四',
        '+8613800138000',
        '某市',
        '幸福社区',
      ]) {
        expect(text).not.toContain(personal);
      }
    });
  });
});
