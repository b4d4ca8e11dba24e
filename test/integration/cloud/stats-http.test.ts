import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerStatsRoutes } from '../../../cloud/http/routes/stats-routes.js';
import type { Principal, Role } from '../../../cloud/people/model.js';
import { StatsSource } from '../../../cloud/stats/stats-source.js';
import { openCloudStore } from '../../../cloud/store/cloud-db.js';
import type { SqlDatabase, SqlValue } from '../../../cloud/store/sql-database.js';

/**
 * The statistics endpoints on SQLite, with a stand-in for the authentication
 * hook: the test names the caller in a header. The beds table holds names,
 * addresses and phone numbers; no response may carry any of them.
 */

const PERSONAL = ['张三', '李四', '王芳', '+8613800138000', '幸福路', 'Hauptstraße'];
const NOW_MS = Date.parse('2026-03-06T00:00:00.000Z');

function principal(role: Role, organisationId: string | null): Principal {
  return { id: `u-${role}`, username: role, displayName: role, role, organisationId, bedIds: [] };
}

function as(p: Principal): Record<string, string> {
  return { 'x-test-principal': JSON.stringify(p) };
}

async function seed(db: SqlDatabase): Promise<void> {
  const created = '2026-01-01T00:00:00.000Z';
  const insert = (table: string, columns: string[], values: SqlValue[]) =>
    db.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      values,
    );
  await insert(
    'organisations',
    ['id', 'name', 'time_zone', 'created_at'],
    ['org-a', '幸福路社区', 'Asia/Shanghai', created],
  );
  await insert(
    'organisations',
    ['id', 'name', 'time_zone', 'created_at'],
    ['org-b', 'Nord', 'Europe/Berlin', created],
  );
  const bedColumns = [
    'id',
    'organisation_id',
    'resident_name',
    'address',
    'contacts',
    'risk_tags',
    'state',
    'notes',
    'created_at',
    'updated_at',
  ];
  const contacts = JSON.stringify([
    { name: '王芳', relation: '女儿', phone: '+8613800138000', notify: true },
  ]);
  await insert('beds', bedColumns, [
    'bed-a1',
    'org-a',
    '张三',
    '幸福路 1 号',
    contacts,
    '["独居"]',
    'active',
    '李四的邻居',
    created,
    created,
  ]);
  await insert('beds', bedColumns, [
    'bed-b1',
    'org-b',
    '李四',
    'Hauptstraße 1',
    '[]',
    '[]',
    'active',
    null,
    created,
    created,
  ]);
  await insert(
    'gateways',
    ['id', 'secret_hash', 'created_at', 'organisation_id', 'bed_id', 'heartbeat_interval_ms'],
    ['gw-a1', 'x', created, 'org-a', 'bed-a1', 60_000],
  );
  const statusColumns = ['id', 'gateway_id', 'state', 'at', 'reason'];
  await insert('gateway_status_history', statusColumns, [
    's1',
    'gw-a1',
    'online',
    '2026-03-04T15:00:00.000Z',
    'connected',
  ]);
  await insert('gateway_status_history', statusColumns, [
    's2',
    'gw-a1',
    'offline',
    '2026-03-05T02:00:00.000Z',
    'last_will',
  ]);
  await insert('gateway_status_history', statusColumns, [
    's3',
    'gw-a1',
    'online',
    '2026-03-05T03:00:00.000Z',
    'connected',
  ]);
  // Heartbeats every minute from 15:00Z on 4 March to 16:00Z on 5 March, none while offline 02:00–03:00Z:
  // 5 March (Shanghai) is watched 23 of 24 h. The radar's last sample, 01:59Z, holds until 02:00:30Z.
  for (
    let at = Date.parse('2026-03-04T15:00:00.000Z');
    at < Date.parse('2026-03-05T16:00:00.000Z');
    at += 60_000
  ) {
    if (at >= Date.parse('2026-03-05T02:00:00.000Z') && at < Date.parse('2026-03-05T03:00:00.000Z')) continue;
    const at_ = new Date(at).toISOString();
    await insert(
      'gateway_heartbeats',
      ['gateway_id', 'at', 'interval_ms', 'devices'],
      [
        'gw-a1',
        at_,
        60_000,
        JSON.stringify([{ id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: at_ }]),
      ],
    );
  }
  const alarmColumns = [
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
    'notes',
  ];
  // 30 s to acknowledge, 10 min to resolve; staff names and notes are in the row and must not leave.
  await insert('alarms', alarmColumns, [
    'al-1',
    'gw-a1',
    'bed-a1',
    1,
    'sos_button',
    'critical',
    'raised',
    '2026-03-05T01:00:00.000Z',
    '2026-03-05T01:00:00.000Z',
    '[]',
    '2026-03-05T01:00:30.000Z',
    '王芳',
    '2026-03-05T01:10:00.000Z',
    '王芳',
    'resident_fine_by_phone',
    '张三 说没事',
  ]);
  await insert('alarms', alarmColumns, [
    'al-2',
    'gw-b1',
    'bed-b1',
    1,
    'sos_button',
    'critical',
    'raised',
    '2026-03-05T08:00:00.000Z',
    '2026-03-05T08:00:00.000Z',
    '[]',
    '2026-03-05T08:01:00.000Z',
    'Erika',
    null,
    null,
    null,
    null,
  ]);
}

describe('statistics over HTTP', () => {
  let db: SqlDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await openCloudStore({ dataDir: ':memory:' });
    await seed(db);
    app = Fastify();
    app.decorateRequest('principal', null);
    // Stands in for the authentication hook (cloud/http/auth.ts), which is not part of this test.
    app.addHook('onRequest', async (req) => {
      const header = req.headers['x-test-principal'];
      req.principal = typeof header === 'string' ? (JSON.parse(header) as Principal) : null;
    });
    registerStatsRoutes(app, { stats: new StatsSource(db), clock: { now: () => NOW_MS } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  const regulator = principal('regulator', null);
  const operatorA = principal('operator', 'org-a');

  function expectNoPersonalData(body: string): void {
    for (const text of PERSONAL) expect(body).not.toContain(text);
  }

  it('gives a regulator without an organisation every organisation, as JSON, by id only', async () => {
    const res = await app.inject({
      url: '/api/statistics?from=2026-03-05&to=2026-03-05&period=day',
      headers: as(regulator),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body.organisations.map((o: { organisationId: string }) => o.organisationId)).toEqual([
      'org-a',
      'org-b',
    ]);
    const orgA = body.organisations[0];
    expect(orgA.responseTimes.calls.timeToAcknowledgeS.p50).toBe(30);
    expect(orgA.responseTimes.calls.timeToResolveS.p50).toBe(600);
    // 24 h less the hour without heartbeats: 23/24.
    expect(orgA.beds[0].coverage.days[0]).toMatchObject({ date: '2026-03-05', watchedMs: 23 * 3_600_000 });
    expect(orgA.beds[0].coverage.share).toBe(23 / 24);
    expectNoPersonalData(res.body);
  });

  it('exports CSV with a BOM, a header row, an attachment name, and no personal data', async () => {
    const res = await app.inject({
      url: '/api/statistics/export?format=csv&table=response_times&from=2026-03-05&to=2026-03-05',
      headers: as(regulator),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="homebed_response_times_2026-03-05_2026-03-05.csv"',
    );
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    const lines = res.body.slice(1).split('\r\n');
    expect(lines[0]!.startsWith('group,from,to,bucket,severities,alarms,acknowledged,')).toBe(true);
    // One calls and one separate row per bed that had an alarm that day.
    expect(lines.filter((l) => l.startsWith('bed-a1,')).map((l) => l.split(',')[3])).toEqual([
      'calls',
      'separate',
    ]);
    expect(lines.some((l) => l.startsWith('bed-b1,'))).toBe(true);
    expectNoPersonalData(res.body);
  });

  it('exports coverage days and gaps', async () => {
    const days = await app.inject({
      url: '/api/statistics/export?table=coverage_days&from=2026-03-05&to=2026-03-05&organisationId=org-a',
      headers: as(regulator),
    });
    expect(days.statusCode).toBe(200);
    const [header, row] = days.body.slice(1).split('\r\n');
    expect(header).toBe(
      'bed_id,date,time_zone,from,to,period_s,watched_s,unwatched_s,share,gateway_offline_s,device_silent_bed-radar_s',
    );
    // Offline 02:00Z–03:00Z (3600 s); the radar is silent from 02:00:30Z to 03:00Z (3570 s).
    expect(row).toBe(
      `bed-a1,2026-03-05,Asia/Shanghai,2026-03-04T16:00:00.000Z,2026-03-05T16:00:00.000Z,86400,82800,3600,${23 / 24},3600,3570`,
    );

    const gaps = await app.inject({
      url: '/api/statistics/export?format=json&table=coverage_gaps&from=2026-03-05&to=2026-03-05',
      headers: as(operatorA),
    });
    expect(gaps.statusCode).toBe(200);
    expect(gaps.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(gaps.headers['content-disposition']).toMatch(
      /filename="homebed_coverage_gaps_2026-03-05_2026-03-05\.json"/,
    );
    expect(gaps.json()).toEqual([
      {
        bed_id: 'bed-a1',
        from: '2026-03-05T02:00:00.000Z',
        to: '2026-03-05T02:00:30.000Z',
        duration_s: 30,
        causes: 'gateway_offline',
      },
      {
        bed_id: 'bed-a1',
        from: '2026-03-05T02:00:30.000Z',
        to: '2026-03-05T03:00:00.000Z',
        duration_s: 3570,
        causes: 'gateway_offline device_silent:bed-radar',
      },
    ]);
  });

  it('keeps an operator to their own organisation', async () => {
    const own = await app.inject({
      url: '/api/statistics?from=2026-03-05&to=2026-03-05',
      headers: as(operatorA),
    });
    expect(own.statusCode).toBe(200);
    expect(own.json().organisations.map((o: { organisationId: string }) => o.organisationId)).toEqual([
      'org-a',
    ]);

    const other = await app.inject({
      url: '/api/statistics?from=2026-03-05&to=2026-03-05&organisationId=org-b',
      headers: as(operatorA),
    });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('HB_FORBIDDEN');

    const regulatorB = await app.inject({
      url: '/api/statistics/export?table=coverage_days&from=2026-03-05&to=2026-03-05&organisationId=org-a',
      headers: as(principal('regulator', 'org-b')),
    });
    expect(regulatorB.statusCode).toBe(403);

    const orphan = await app.inject({
      url: '/api/statistics?from=2026-03-05&to=2026-03-05',
      headers: as(principal('operator', null)),
    });
    expect(orphan.statusCode).toBe(403);
  });

  it('refuses staff and family (403) and anonymous callers (401); lets an admin in', async () => {
    const url = '/api/statistics?from=2026-03-05&to=2026-03-05';
    for (const role of ['staff', 'family'] as const) {
      const res = await app.inject({ url, headers: as(principal(role, 'org-a')) });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('HB_FORBIDDEN');
    }
    const anonymous = await app.inject({ url });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error).toBe('HB_UNAUTHENTICATED');
    const admin = await app.inject({ url, headers: as(principal('admin', null)) });
    expect(admin.statusCode).toBe(200);
  });

  it('refuses a bad range or query with 400', async () => {
    const bad = [
      'from=2026-03-06&to=2026-03-05', // to before from
      'from=2025-01-01&to=2026-01-02', // 367 days
      'from=2026-02-30&to=2026-03-05', // no such day
      'from=2026-03-05T00:00:00&to=2026-03-06', // an instant without offset
      'to=2026-03-05', // no from
      'from=2026-03-05&to=2026-03-05&period=year',
      'from=2026-03-05&to=2026-03-05&colour=red',
    ];
    for (const query of bad) {
      const res = await app.inject({ url: `/api/statistics?${query}`, headers: as(regulator) });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error).toBe('HB_BAD_REQUEST');
    }
    const noTable = await app.inject({
      url: '/api/statistics/export?from=2026-03-05&to=2026-03-05',
      headers: as(regulator),
    });
    expect(noTable.statusCode).toBe(400);
    // 366 days (2024 was a leap year) and instants with offsets are fine.
    for (const query of [
      'from=2024-01-01&to=2024-12-31',
      'from=2026-03-05T00:00:00%2B08:00&to=2026-03-06T00:00:00Z',
    ]) {
      const ok = await app.inject({ url: `/api/statistics?${query}`, headers: as(regulator) });
      expect(ok.statusCode, query).toBe(200);
    }
  });

  it('filters by bed (repeatable) within the caller’s organisations', async () => {
    const res = await app.inject({
      url: '/api/statistics?from=2026-03-05&to=2026-03-05&bedId=bed-a1&bedId=bed-b1',
      headers: as(operatorA),
    });
    expect(res.statusCode).toBe(200);
    const orgs = res.json().organisations;
    // bed-b1 is org-b's: an operator of org-a sees only bed-a1.
    expect(orgs.map((o: { beds: { bedId: string }[] }) => o.beds.map((b) => b.bedId))).toEqual([['bed-a1']]);
  });
});
