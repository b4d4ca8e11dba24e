import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredGatewayEvent } from '../../../cloud/beds/bed-events.js';
import type { BedStatus } from '../../../cloud/beds/bed-status.js';
import type { BedVitals } from '../../../cloud/beds/vitals-source.js';
import type { Relay } from '../../../cloud/relay.js';
import { uuidv7 } from '../../../common/ids.js';
import { type AlarmMessage, type GatewayEventMessage, gatewayTopic } from '../../../contract/index.js';
import { createTestDatabase, testInfluxUrl } from '../../support/influx.js';
import {
  type ApiClient,
  connectAsGateway,
  loginToRelay,
  startTestRelay,
  waitFor,
} from '../../support/relay.js';

const MIN = 60_000;

/** Write line-protocol points (millisecond timestamps) to the test database. */
async function writeLines(url: string, database: string, lines: string[]): Promise<void> {
  const res = await fetch(`${url}/write?db=${encodeURIComponent(database)}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  if (res.status !== 204) throw new Error(`influx write failed: ${res.status} ${await res.text()}`);
}

describe('bed activity: events, vitals and status of one bed', () => {
  let relay: Relay;
  let stop: () => Promise<void>;
  let gateway: MqttClient;
  let influxUrl: string;
  let database: string;
  let admin: ApiClient;
  let staff: ApiClient;
  let family: ApiClient;
  let regulator: ApiClient;
  let otherOperator: ApiClient;
  /** Start of bed-a's heart-rate readings: 70 min before the 10-minute bucket holding now. */
  let t0: number;

  beforeAll(async () => {
    influxUrl = testInfluxUrl();
    database = await createTestDatabase(influxUrl, 'bed_activity');
    ({ relay, stop } = await startTestRelay({ influx: { url: influxUrl, database } }));
    const s = relay.services;
    await s.organisations.add({ id: 'org-a', name: '黄浦养老服务中心' });
    await s.organisations.add({ id: 'org-b', name: '静安社区' });
    for (const [id, organisationId] of [
      ['bed-a', 'org-a'],
      ['bed-b', 'org-a'],
      ['bed-c', 'org-a'],
      ['bed-x', 'org-b'],
    ] as const) {
      await s.beds.add({ id, organisationId, residentName: `住户 ${id}`, address: '上海市中山南路 1 号' });
    }
    const { secret } = await relay.gateways.add('gw-a');
    await s.beds.linkGateway('gw-a', 'bed-a');
    gateway = await connectAsGateway(relay.mqttPort, 'gw-a', secret);

    admin = await loginToRelay(relay);
    staff = await loginToRelay(relay, { role: 'staff', organisationId: 'org-a' });
    family = await loginToRelay(relay, { role: 'family', organisationId: 'org-a' });
    await s.users.linkBed(family.userId, 'bed-a', '女儿');
    regulator = await loginToRelay(relay, { role: 'regulator', organisationId: 'org-a' });
    otherOperator = await loginToRelay(relay, { role: 'operator', organisationId: 'org-b' });

    const now = Date.now();
    t0 = Math.floor(now / (10 * MIN)) * 10 * MIN - 70 * MIN;
    const lines: string[] = [];
    // bed-a: every 10 s for 30 min, silent for 20 min, then 10 min more (out of bed by then).
    for (let t = t0; t < t0 + 60 * MIN; t += 10_000) {
      if (t >= t0 + 30 * MIN && t < t0 + 50 * MIN) continue;
      const inBed = t < t0 + 30 * MIN;
      const hr = 60 + ((t / 10_000) % 5);
      lines.push(`heart_rate,gateway=gw-a,bed=bed-a,device=bed-radar value=${hr}i ${t}`);
      lines.push(`breath_rate,gateway=gw-a,bed=bed-a,device=bed-radar value=16i ${t}`);
      lines.push(`in_bed,gateway=gw-a,bed=bed-a,device=bed-radar value=${inBed} ${t}`);
      lines.push(`presence,gateway=gw-a,bed=bed-a,device=bed-radar value=true ${t}`);
    }
    // Another bed, exactly in bed-a's gap: a leak would fill the gap with 120.
    for (let t = t0 + 30 * MIN; t < t0 + 50 * MIN; t += 10_000) {
      lines.push(`heart_rate,gateway=gw-b,bed=bed-b,device=bed-radar value=120i ${t}`);
      lines.push(`in_bed,gateway=gw-b,bed=bed-b,device=bed-radar value=true ${t}`);
    }
    // bed-c (no gateway, no events): out of bed 9–5 min ago, in bed since 4 min ago.
    for (let t = now - 9 * MIN; t <= now - 30_000; t += 30_000) {
      lines.push(`in_bed,gateway=gw-c,bed=bed-c,device=bed-radar value=${t >= now - 4 * MIN} ${t}`);
    }
    await writeLines(influxUrl, database, lines);
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await stop?.();
  });

  const bucketOf = (v: BedVitals, ms: number) => v.times.indexOf(Math.floor(ms / 1000 / v.stepS) * v.stepS);

  describe('vitals', () => {
    it('24h: one-minute buckets, numbers where bed-a had readings, null in its gap (never a flat line)', async () => {
      const res = await staff.get<BedVitals>('/api/beds/bed-a/vitals?range=24h');
      expect(res.status).toBe(200);
      const v = res.body;
      expect(v).toMatchObject({ bedId: 'bed-a', stepS: 60 });
      expect(v.times).toHaveLength(1440);
      for (const column of [v.heart_rate, v.breath_rate, v.in_bed, v.presence]) {
        expect(column).toHaveLength(1440);
      }
      expect(v.times[1]! - v.times[0]!).toBe(60);
      expect(v.times[0]! % 60).toBe(0);
      expect(Date.parse(v.from)).toBe(v.times[0]! * 1000);
      expect(Date.parse(v.to)).toBe((v.times.at(-1)! + 60) * 1000);
      expect(Date.parse(v.to)).toBeGreaterThan(Date.now() - 1000);

      for (let m = 0; m < 60; m++) {
        const i = bucketOf(v, t0 + m * MIN);
        expect(i).toBeGreaterThanOrEqual(0);
        if (m >= 30 && m < 50) {
          // The gap: no reading of bed-a, and bed-b's 120s must not show through.
          expect([v.heart_rate[i], v.breath_rate[i], v.in_bed[i], v.presence[i]]).toEqual([
            null,
            null,
            null,
            null,
          ]);
        } else {
          expect(v.heart_rate[i]).toBeGreaterThanOrEqual(60);
          expect(v.heart_rate[i]).toBeLessThanOrEqual(64);
          expect(v.breath_rate[i]).toBe(16);
          expect(v.in_bed[i]).toBe(m < 30 ? 1 : 0);
          expect(v.presence[i]).toBe(1);
        }
      }
      // Before the readings began and after they ended: null as well.
      expect(v.heart_rate[bucketOf(v, t0 - MIN)]).toBeNull();
      expect(v.heart_rate[bucketOf(v, t0 + 60 * MIN)]).toBeNull();
      expect(v.heart_rate.filter((x) => x !== null)).toHaveLength(40);
      expect(v.heart_rate).not.toContain(120);
    });

    it('7d: ten-minute buckets over a week', async () => {
      const res = await family.get<BedVitals>('/api/beds/bed-a/vitals?range=7d');
      expect(res.status).toBe(200);
      const v = res.body;
      expect(v.stepS).toBe(600);
      expect(v.times).toHaveLength(7 * 144);
      expect(v.times[0]! % 600).toBe(0);
      expect(v.times[1]! - v.times[0]!).toBe(600);
      expect(v.heart_rate).toHaveLength(1008);
      const filled = [0, 1, 2, 5].map((k) => v.heart_rate[bucketOf(v, t0 + k * 10 * MIN)]);
      for (const hr of filled) expect(hr).toBeCloseTo(62, 0);
      // The 20 min gap is two whole ten-minute buckets.
      expect(v.heart_rate[bucketOf(v, t0 + 30 * MIN)]).toBeNull();
      expect(v.heart_rate[bucketOf(v, t0 + 40 * MIN)]).toBeNull();
      expect(v.in_bed[bucketOf(v, t0)]).toBe(1);
      expect(v.in_bed[bucketOf(v, t0 + 50 * MIN)]).toBe(0);
      expect(v.heart_rate.filter((x) => x !== null)).toHaveLength(4);
    });

    it('another bed never sees bed-a’s readings; the bed goes to InfluxDB as a bound parameter', async () => {
      const b = (await staff.get<BedVitals>('/api/beds/bed-b/vitals')).body;
      expect(b.heart_rate.filter((x) => x !== null).every((x) => x === 120)).toBe(true);
      expect(b.heart_rate[bucketOf(b, t0)]).toBeNull();
      // Not a route input (bed ids are validated), but the source itself must not be injectable.
      const vitals = relay.services.vitals!;
      const sneaky = await vitals.vitals(`bed-b' OR "bed" = 'bed-a`, '24h', Date.now());
      expect(sneaky.heart_rate.every((x) => x === null)).toBe(true);
    });

    it('a bad range is 400', async () => {
      const res = await staff.get('/api/beds/bed-a/vitals?range=1y');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'HB_BAD_REQUEST' });
    });

    it('answers 503 HB_VITALS_UNAVAILABLE on a relay without influx, and still 404 for a bed out of reach', async () => {
      const bare = await startTestRelay();
      try {
        await bare.relay.services.organisations.add({ id: 'org-a', name: 'A' });
        await bare.relay.services.beds.add({
          id: 'bed-a',
          organisationId: 'org-a',
          residentName: '住户',
          address: '地址',
        });
        const api = await loginToRelay(bare.relay, { role: 'operator', organisationId: 'org-a' });
        const res = await api.get('/api/beds/bed-a/vitals?range=24h');
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ error: 'HB_VITALS_UNAVAILABLE' });
        expect((await api.get('/api/beds/bed-zz/vitals')).status).toBe(404);
        // Nothing was shown: nothing is audited.
        expect(await bare.relay.services.audit.list({ bedId: 'bed-a' })).toEqual([]);
      } finally {
        await bare.stop();
      }
    });
  });

  describe('events over MQTT', () => {
    const base = { v: 1 as const, gatewayId: 'gw-a' };

    async function publishEvents(events: GatewayEventMessage[]): Promise<void> {
      const before = relay.counters.total('events_received');
      for (const e of events) {
        await gateway.publishAsync(gatewayTopic('gw-a', 'event'), JSON.stringify(e), { qos: 1 });
      }
      await waitFor(
        () => relay.counters.total('events_received') >= before + events.length,
        5_000,
        'events handled',
      );
    }

    it('stores an event once when it is published twice, under the gateway’s linked bed', async () => {
      const exitAt = new Date(Date.now() - 5 * MIN).toISOString();
      // The gateway names another organisation's bed: filed under its own bed (bed-a) all the same.
      const exit: GatewayEventMessage = {
        ...base,
        bedId: 'bed-x',
        kind: 'bed_exit',
        at: exitAt,
        deviceId: 'bed-radar',
      };
      await publishEvents([exit, exit]);
      const summary = (at: string): GatewayEventMessage => ({
        ...base,
        bedId: 'bed-a',
        kind: 'daily_summary',
        at,
        deviceId: 'bed-radar',
        day: '2026-11-23',
        timeZone: 'Asia/Shanghai',
        period: { from: '2026-11-22T04:00:00.000Z', to: '2026-11-23T04:00:00.000Z' },
        timeInBedMin: 480,
        observedMin: 1400,
        bedExits: 2,
        nightBedExits: 1,
        longestOutOfBedMin: 7,
        heartRateAvg: 62.5,
        alarms: {},
      });
      // A resent summary (same sensor and period, sent again later) is the same summary.
      await publishEvents([summary('2026-11-23T04:00:01.000Z'), summary('2026-11-23T04:05:00.000Z')]);

      const res = await staff.get<{ events: StoredGatewayEvent[] }>('/api/beds/bed-a/events');
      expect(res.status).toBe(200);
      const exits = res.body.events.filter((e) => e.kind === 'bed_exit');
      expect(exits).toEqual([
        {
          id: expect.stringMatching(/^[0-9a-f]{32}$/),
          gatewayId: 'gw-a',
          bedId: 'bed-a',
          kind: 'bed_exit',
          at: exitAt,
          receivedAt: expect.any(String),
          detail: { deviceId: 'bed-radar' },
        },
      ]);
      const summaries = res.body.events.filter((e) => e.kind === 'daily_summary');
      expect(summaries).toHaveLength(1);
      expect(summaries[0]!.detail).toMatchObject({
        timeInBedMin: 480,
        period: { to: '2026-11-23T04:00:00.000Z' },
      });
      expect(relay.counters.get('events_duplicate', { kind: 'bed_exit' })).toBe(1);
      expect(relay.counters.get('events_duplicate', { kind: 'daily_summary' })).toBe(1);
      // Nothing was filed under the bed the message named.
      expect((await otherOperator.get<{ events: unknown[] }>('/api/beds/bed-x/events')).body.events).toEqual(
        [],
      );
    });

    it('lists newest first, with from/to and limit', async () => {
      const start = Date.now() - 4 * MIN;
      const moves: GatewayEventMessage[] = [0, 1, 2, 3].map((k) => ({
        ...base,
        bedId: 'bed-a',
        kind: k % 2 === 0 ? 'bed_return' : 'bed_exit',
        at: new Date(start + k * 30_000).toISOString(),
        deviceId: 'bed-radar',
      }));
      await publishEvents(moves);
      const all = (await staff.get<{ events: StoredGatewayEvent[] }>('/api/beds/bed-a/events?limit=500')).body
        .events;
      const ats = all.map((e) => e.at);
      expect(ats).toEqual([...ats].sort().reverse());
      const two = (await staff.get<{ events: StoredGatewayEvent[] }>('/api/beds/bed-a/events?limit=2')).body
        .events;
      expect(two).toEqual(all.slice(0, 2));
      const from = new Date(start + 30_000).toISOString();
      const to = new Date(start + 90_000).toISOString();
      const window = (
        await staff.get<{ events: StoredGatewayEvent[] }>(
          `/api/beds/bed-a/events?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
        )
      ).body.events;
      // `from` inclusive, `to` exclusive.
      expect(window.map((e) => e.at)).toEqual([new Date(start + 60_000).toISOString(), from]);
      for (const bad of [
        'limit=0',
        'limit=501',
        `from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`,
        'from=yesterday',
        'since=x',
      ]) {
        const res = await staff.get(`/api/beds/bed-a/events?${bad}`);
        expect(res.status, bad).toBe(400);
        expect(res.body).toMatchObject({ error: 'HB_BAD_REQUEST' });
      }
    });
  });

  describe('status', () => {
    const alarm = (seq: number): AlarmMessage => ({
      v: 1,
      id: uuidv7(),
      gatewayId: 'gw-a',
      bedId: 'bed-a',
      seq,
      type: 'sos_button',
      severity: 'critical',
      state: 'raised',
      at: new Date().toISOString(),
      deviceId: 'sos',
      evidence: [{ deviceId: 'sos', kind: 'button_press', at: new Date().toISOString() }],
    });

    it('in or out of bed from the newest bed exit/return event', async () => {
      const at = new Date(Date.now() - MIN).toISOString();
      const exit: GatewayEventMessage = {
        v: 1,
        gatewayId: 'gw-a',
        bedId: 'bed-a',
        kind: 'bed_exit',
        at,
        deviceId: 'bed-radar',
      };
      await gateway.publishAsync(gatewayTopic('gw-a', 'event'), JSON.stringify(exit), { qos: 1 });
      await waitFor(async () => (await relay.services.bedEvents.latest('bed-a', ['bed_exit']))?.at === at);
      let status = (await family.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now).toEqual({ state: 'out_of_bed', since: at, activeAlarm: null });

      const back = new Date(Date.now() - 30_000).toISOString();
      const ret: GatewayEventMessage = {
        v: 1,
        gatewayId: 'gw-a',
        bedId: 'bed-a',
        kind: 'bed_return',
        at: back,
        deviceId: 'bed-radar',
        outOfBedS: 30,
      };
      await gateway.publishAsync(gatewayTopic('gw-a', 'event'), JSON.stringify(ret), { qos: 1 });
      await waitFor(
        async () => (await relay.services.bedEvents.latest('bed-a', ['bed_return']))?.at === back,
      );
      status = (await family.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now).toEqual({ state: 'in_bed', since: back, activeAlarm: null });
      expect(status.lastNight).toMatchObject({
        at: '2026-11-23T04:00:01.000Z',
        timeInBedMin: 480,
        bedExits: 2,
      });
      expect(status.gateway).toMatchObject({ id: 'gw-a' });
    });

    it('alarm while a raised alarm of the bed is open; back to the events once it is resolved', async () => {
      const a = alarm(1);
      const { inserted } = await relay.alarms.ingest(a, new Date().toISOString());
      expect(inserted).toBe(true);
      let status = (await staff.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now.state).toBe('alarm');
      expect(status.now.activeAlarm).toEqual({
        id: a.id,
        type: 'sos_button',
        severity: 'critical',
        receivedAt: expect.any(String),
        acknowledgedAt: null,
        acknowledgedBy: null,
      });
      expect(status.now.since).toBe(status.now.activeAlarm!.receivedAt);

      await relay.lifecycle.acknowledge(a.id, '李娜');
      status = (await staff.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now).toMatchObject({ state: 'alarm', activeAlarm: { id: a.id, acknowledgedBy: '李娜' } });

      await relay.lifecycle.resolve(a.id, '李娜', 'false_alarm');
      status = (await staff.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now.state).toBe('in_bed');
      expect(status.recentAlarms[0]).toMatchObject({
        id: a.id,
        resolvedBy: '李娜',
        outcome: 'false_alarm',
        resolvedAt: expect.any(String),
      });
      expect(Object.keys(status.recentAlarms[0]!).sort()).toEqual(
        [
          'id',
          'type',
          'severity',
          'receivedAt',
          'acknowledgedAt',
          'acknowledgedBy',
          'resolvedAt',
          'resolvedBy',
          'outcome',
        ].sort(),
      );
    });

    it('an installer’s open test alarm is listed but is not the bed’s state now', async () => {
      const test: AlarmMessage = { ...alarm(2), type: 'test_alarm', severity: 'info', evidence: [] };
      await relay.alarms.ingest(test, new Date().toISOString());
      const status = (await staff.get<BedStatus>('/api/beds/bed-a/status')).body;
      expect(status.now.state).not.toBe('alarm');
      expect(status.now.activeAlarm).toBeNull();
      expect(status.recentAlarms[0]).toMatchObject({ id: test.id, type: 'test_alarm' });
      await relay.lifecycle.resolve(test.id, '李娜', 'other');
    });

    it('in bed from InfluxDB’s last ten minutes when no event says otherwise; unknown without either', async () => {
      const c = (await staff.get<BedStatus>('/api/beds/bed-c/status')).body;
      expect(c.now.state).toBe('in_bed');
      // The run began with the first "in bed" reading after the last "out of bed" one (about 4 min ago).
      const since = Date.parse(c.now.since!);
      expect(Date.now() - since).toBeGreaterThan(3 * MIN);
      expect(Date.now() - since).toBeLessThan(5 * MIN);
      expect(c).toMatchObject({ lastNight: null, recentAlarms: [], gateway: null });
      // bed-b's readings are older than ten minutes.
      const b = (await staff.get<BedStatus>('/api/beds/bed-b/status')).body;
      expect(b.now).toEqual({ state: 'unknown', since: null, activeAlarm: null });
    });
  });

  describe('who may see it', () => {
    const routes = ['status', 'vitals?range=24h', 'events'];

    it('family sees their bed and gets 404 for any other; a regulator gets 403', async () => {
      for (const route of routes) {
        expect((await family.get(`/api/beds/bed-a/${route}`)).status, route).toBe(200);
        const other = await family.get(`/api/beds/bed-b/${route}`);
        const missing = await family.get(`/api/beds/no-such-bed/${route}`);
        expect(other.status, route).toBe(404);
        // Someone else's bed is byte-for-byte a missing one.
        expect(other.body).toEqual(missing.body);
        expect(other.body).toMatchObject({ error: 'HB_BED_NOT_FOUND' });
        const denied = await regulator.get(`/api/beds/bed-a/${route}`);
        expect(denied.status, route).toBe(403);
        expect(denied.body).toMatchObject({ error: 'HB_FORBIDDEN' });
      }
    });

    it('staff and operators reach their organisation’s beds only; an admin passes', async () => {
      for (const route of routes) {
        expect((await staff.get(`/api/beds/bed-a/${route}`)).status).toBe(200);
        expect((await staff.get(`/api/beds/bed-x/${route}`)).status).toBe(404);
        expect((await otherOperator.get(`/api/beds/bed-a/${route}`)).status).toBe(404);
        expect((await admin.get(`/api/beds/bed-x/${route}`)).status).toBe(200);
      }
    });

    it('writes one audit row per answered request', async () => {
      const viewer = await loginToRelay(relay, { role: 'family', organisationId: 'org-a' });
      await relay.services.users.linkBed(viewer.userId, 'bed-a', '儿子');
      await viewer.get('/api/beds/bed-a/status');
      await viewer.get('/api/beds/bed-a/vitals?range=7d');
      await viewer.get('/api/beds/bed-a/events');
      await viewer.get('/api/beds/bed-a/events?limit=1');
      await viewer.get('/api/beds/bed-b/status'); // 404: nothing shown, nothing audited
      const entries = await relay.services.audit.list({ actorId: viewer.userId });
      const views = entries.filter((e) => e.action !== 'login');
      expect(views.map((e) => e.action).sort()).toEqual(
        ['bed.view_events', 'bed.view_events', 'bed.view_status', 'bed.view_vitals'].sort(),
      );
      for (const e of views) {
        expect(e).toMatchObject({
          actorRole: 'family',
          targetType: 'bed',
          targetId: 'bed-a',
          bedId: 'bed-a',
        });
      }
      expect(views.find((e) => e.action === 'bed.view_vitals')?.detail).toEqual({ range: '7d' });
    });
  });
});
