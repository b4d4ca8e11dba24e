import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../../cloud/alarms/alarm-events.js';
import type { StoredAlarm } from '../../../cloud/alarms/alarm-store.js';
import type { Relay } from '../../../cloud/relay.js';
import { uuidv7 } from '../../../common/ids.js';
import { type AlarmMessage, gatewayTopic } from '../../../contract/index.js';
import {
  type MonitoringCentre,
  request,
  seedBed,
  sosAlarm,
  startMonitoringCentre,
} from '../../support/monitoring-centre.js';
import {
  type ApiClient,
  connectAsGateway,
  loginOverHttp,
  loginToRelay,
  nextMessage,
  waitFor,
} from '../../support/relay.js';
import { SseClient } from '../../support/sse.js';

const ORG_A = 'org-a';
const ORG_B = 'org-b';
const PASSWORD = 'correct horse battery staple';

/** Three beds in two organisations, each with its gateway, resident and a contact to notify. */
const BEDS = {
  A1: {
    bedId: 'bed-A1',
    gatewayId: 'gw-a1',
    organisationId: ORG_A,
    residentName: '陈秀兰',
    address: '上海市黄浦区中山南路 100 弄 1 号 101 室',
    phone: '+8613800000001',
  },
  A2: {
    bedId: 'bed-A2',
    gatewayId: 'gw-a2',
    organisationId: ORG_A,
    residentName: '刘建国',
    address: '上海市黄浦区中山南路 200 弄 2 号 202 室',
    phone: '+8613800000002',
  },
  B1: {
    bedId: 'bed-B1',
    gatewayId: 'gw-b1',
    organisationId: ORG_B,
    residentName: '周玉梅',
    address: '上海市静安区南京西路 300 弄 3 号 303 室',
    phone: '+8613800000003',
  },
} as const;
type BedKey = keyof typeof BEDS;
const RESIDENT_DATA = Object.values(BEDS).flatMap((b) => [b.residentName, b.address, b.phone]);

/**
 * Every `/api/*` route the relay serves, with its method: each needs a session (401
 * `HB_UNAUTHENTICATED` without one), except logging in and out. A test below checks this list
 * against the route files, so a new route cannot be left out.
 */
const PROTECTED_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/api/auth/me'],
  ['GET', '/api/organisations'],
  ['POST', '/api/organisations'],
  ['GET', '/api/users'],
  ['GET', '/api/users/:id'],
  ['POST', '/api/users'],
  ['PATCH', '/api/users/:id'],
  ['POST', '/api/users/:id/beds'],
  ['DELETE', '/api/users/:id/beds/:bedId'],
  ['GET', '/api/beds'],
  ['GET', '/api/beds/:id'],
  ['POST', '/api/beds'],
  ['PATCH', '/api/beds/:id'],
  ['POST', '/api/beds/:id/gateway'],
  ['DELETE', '/api/beds/:id/gateway'],
  ['GET', '/api/beds/:id/status'],
  ['GET', '/api/beds/:id/vitals'],
  ['GET', '/api/beds/:id/events'],
  ['GET', '/api/audit'],
  ['GET', '/api/gateways'],
  ['POST', '/api/gateways'],
  ['POST', '/api/gateways/:id/rotate-secret'],
  ['GET', '/api/alarms'],
  ['GET', '/api/alarms/stream'],
  ['GET', '/api/alarms/:id'],
  ['POST', '/api/alarms/:id/acknowledge'],
  ['POST', '/api/alarms/:id/resolve'],
  ['GET', '/api/statistics'],
  ['GET', '/api/statistics/export'],
  ['GET', '/api/counters'],
];
/** Open to anyone: the login itself, and logout (which always succeeds, clearing the cookie). */
const OPEN_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/api/auth/login'],
  ['POST', '/api/auth/logout'],
];

/** `/api/*` routes registered in cloud/http (read from the source, as `METHOD path`). */
function routesInSource(): string[] {
  const dir = join(import.meta.dirname, '../../../cloud/http');
  const files = [
    ...readdirSync(dir).map((f) => join(dir, f)),
    ...readdirSync(join(dir, 'routes')).map((f) => join(dir, 'routes', f)),
  ].filter((f) => f.endsWith('.ts'));
  const found: string[] = [];
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(
      /\b(?:app|api)\.(get|post|patch|put|delete)\(\s*'(\/api\/[^']*)'/g,
    )) {
      found.push(`${m[1]!.toUpperCase()} ${m[2]}`);
    }
  }
  return found.sort();
}

/**
 * Who sees and does what, with real logins against one relay: two organisations, beds A1 and A2
 * (organisation A) and B1 (organisation B), a gateway and an alarm on each, and a user of every role.
 */
describe('authorization across organisations, roles and gateways', () => {
  let centre: MonitoringCentre;
  let relay: Relay;
  const gateways = new Map<BedKey, MqttClient>();
  const secrets = new Map<BedKey, string>();
  const firstAlarm = new Map<BedKey, AlarmMessage>();
  const seq = new Map<BedKey, number>();
  let family: ApiClient;
  let staffA: ApiClient;
  let staffB: ApiClient;
  let operatorA: ApiClient;
  let regulatorA: ApiClient;
  let adminA: ApiClient;
  const streams: SseClient[] = [];

  /** Connect as a gateway does (acks subscribed first). */
  async function connect(key: BedKey): Promise<MqttClient> {
    const bed = BEDS[key];
    const client = await connectAsGateway(relay.mqttPort, bed.gatewayId, secrets.get(key)!);
    await client.subscribeAsync(gatewayTopic(bed.gatewayId, 'ack'), { qos: 1 });
    gateways.set(key, client);
    return client;
  }

  /** Publish an SOS from the bed's own gateway and wait until the relay acknowledges it as stored. */
  async function raise(key: BedKey, bedId: string = BEDS[key].bedId): Promise<AlarmMessage> {
    const bed = BEDS[key];
    const n = (seq.get(key) ?? 0) + 1;
    seq.set(key, n);
    const alarm = sosAlarm(bed.gatewayId, bedId, n);
    const client = gateways.get(key)!;
    // Listening before publishing (the ack topic is subscribed since connect): no ack can slip past.
    const stored = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('message', onMessage);
        reject(new Error(`no \`stored\` for ${alarm.id} within 5 s`));
      }, 5_000);
      const onMessage = (_topic: string, payload: Buffer) => {
        const ack = JSON.parse(payload.toString()) as { alarmId?: string; status?: string };
        if (ack.alarmId !== alarm.id || ack.status !== 'stored') return;
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve();
      };
      client.on('message', onMessage);
    });
    await client.publishAsync(gatewayTopic(bed.gatewayId, 'alarm'), JSON.stringify(alarm), { qos: 1 });
    await stored;
    return alarm;
  }

  function stream(client: ApiClient | null): SseClient {
    const sse = new SseClient(
      `${relay.httpUrl}/api/alarms/stream`,
      client ? { authorization: `Bearer ${client.token}` } : {},
    );
    streams.push(sse);
    return sse;
  }

  const alarmIds = (body: { alarms: StoredAlarm[] }) => body.alarms.map((a) => a.id);

  beforeAll(async () => {
    centre = await startMonitoringCentre();
    relay = centre.relay;
    await relay.services.organisations.add({ id: ORG_A, name: '黄浦区养老服务中心' });
    await relay.services.organisations.add({ id: ORG_B, name: '静安区社区服务中心' });
    for (const key of Object.keys(BEDS) as BedKey[]) {
      const bed = BEDS[key];
      const { secret } = await seedBed(relay, {
        ...bed,
        contacts: [{ name: '家属', relation: '女儿', phone: bed.phone, notify: true }],
      });
      secrets.set(key, secret);
      await connect(key);
      firstAlarm.set(key, await raise(key));
    }
    family = await loginToRelay(relay, { role: 'family', organisationId: ORG_A, displayName: '陈女士' });
    await relay.services.users.linkBed(family.userId, BEDS.A1.bedId, '女儿');
    staffA = await loginToRelay(relay, { role: 'staff', organisationId: ORG_A, displayName: '值班员 A' });
    staffB = await loginToRelay(relay, { role: 'staff', organisationId: ORG_B, displayName: '值班员 B' });
    operatorA = await loginToRelay(relay, { role: 'operator', organisationId: ORG_A });
    regulatorA = await loginToRelay(relay, { role: 'regulator', organisationId: ORG_A });
    adminA = await loginToRelay(relay, { role: 'admin', organisationId: ORG_A });
  });

  afterAll(async () => {
    for (const sse of streams) await sse.close();
    for (const client of gateways.values()) await client.endAsync(true);
    await centre?.stop();
  });

  describe('family linked to A1', () => {
    it('sees only A1’s alarms and bed; A2 looks like it does not exist', async () => {
      const list = await family.get<{ alarms: StoredAlarm[] }>('/api/alarms');
      expect(list.status).toBe(200);
      expect(alarmIds(list.body)).toContain(firstAlarm.get('A1')!.id);
      expect(list.body.alarms.every((a) => a.bedId === BEDS.A1.bedId)).toBe(true);
      // Asking for another bed's alarms by filter gives nothing either.
      const filtered = await family.get<{ alarms: StoredAlarm[] }>(`/api/alarms?bedId=${BEDS.A2.bedId}`);
      expect(filtered.body.alarms).toEqual([]);

      expect(await family.get(`/api/alarms/${firstAlarm.get('A2')!.id}`)).toMatchObject({
        status: 404,
        body: { error: 'HB_ALARM_NOT_FOUND' },
      });
      expect(await family.get(`/api/alarms/${firstAlarm.get('B1')!.id}`)).toMatchObject({ status: 404 });
      // Their own alarm, without who was told at which number.
      const own = await family.get<{ alarm: StoredAlarm; notifications: unknown[] }>(
        `/api/alarms/${firstAlarm.get('A1')!.id}`,
      );
      expect(own.status).toBe(200);
      expect(own.body.notifications).toEqual([]);

      expect(await family.get(`/api/beds/${BEDS.A2.bedId}`)).toMatchObject({
        status: 404,
        body: { error: 'HB_BED_NOT_FOUND' },
      });
      expect((await family.get(`/api/beds/${BEDS.A1.bedId}`)).status).toBe(200);
      const beds = await family.get<{ beds: { id: string }[] }>('/api/beds');
      expect(beds.body.beds.map((b) => b.id)).toEqual([BEDS.A1.bedId]);
    });

    it('may not acknowledge, not even their own bed’s alarm', async () => {
      for (const key of ['A1', 'A2'] as const) {
        expect(await family.post(`/api/alarms/${firstAlarm.get(key)!.id}/acknowledge`, {})).toMatchObject({
          status: 403,
          body: { error: 'HB_FORBIDDEN' },
        });
      }
      expect(
        await family.post(`/api/alarms/${firstAlarm.get('A1')!.id}/resolve`, { outcome: 'other' }),
      ).toMatchObject({ status: 403 });
      expect((await relay.alarms.get(firstAlarm.get('A1')!.id))?.acknowledgedAt).toBeUndefined();
    });

    it('their live stream carries A1’s changes only', async () => {
      const sse = stream(family);
      await sse.connected;
      expect(sse.status).toBe(200);
      // Others' alarms first: by the time A1's arrives, theirs would have been written before it.
      const a2 = await raise('A2');
      const b1 = await raise('B1');
      const a1 = await raise('A1');
      await waitFor(
        () => sse.json<AlarmChange>('alarm').find((c) => c.alarmId === a1.id && c.kind === 'stored'),
        5_000,
        'A1’s new alarm on the family stream',
      );
      const changes = sse.json<AlarmChange>('alarm');
      expect(changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['raised', 'stored']));
      expect(changes.every((c) => c.bedId === BEDS.A1.bedId)).toBe(true);
      expect(changes.some((c) => c.alarmId === a2.id || c.alarmId === b1.id)).toBe(false);
    });
  });

  describe('staff of organisation A', () => {
    it('see A1 and A2, never B1', async () => {
      const list = await staffA.get<{ alarms: StoredAlarm[] }>('/api/alarms?limit=1000');
      expect(list.status).toBe(200);
      const ids = alarmIds(list.body);
      expect(ids).toEqual(expect.arrayContaining([firstAlarm.get('A1')!.id, firstAlarm.get('A2')!.id]));
      expect(ids).not.toContain(firstAlarm.get('B1')!.id);
      expect(list.body.alarms.every((a) => a.bedId === BEDS.A1.bedId || a.bedId === BEDS.A2.bedId)).toBe(
        true,
      );
      expect(await staffA.get(`/api/alarms/${firstAlarm.get('B1')!.id}`)).toMatchObject({
        status: 404,
        body: { error: 'HB_ALARM_NOT_FOUND' },
      });
      expect((await staffA.get(`/api/beds/${BEDS.B1.bedId}`)).status).toBe(404);
      // And organisation B's staff see theirs, not A's.
      const other = await staffB.get<{ alarms: StoredAlarm[] }>('/api/alarms?limit=1000');
      expect(alarmIds(other.body)).toContain(firstAlarm.get('B1')!.id);
      expect(other.body.alarms.every((a) => a.bedId === BEDS.B1.bedId)).toBe(true);
    });

    it('acknowledge A1’s alarm, while B1’s answers 404 as if it did not exist', async () => {
      const a1 = firstAlarm.get('A1')!;
      const ack = await staffA.post<{ alarm: StoredAlarm; changed: boolean }>(
        `/api/alarms/${a1.id}/acknowledge`,
        {},
      );
      expect(ack).toMatchObject({
        status: 200,
        body: { changed: true, alarm: { acknowledgedBy: '值班员 A' } },
      });
      expect(await staffA.post(`/api/alarms/${firstAlarm.get('B1')!.id}/acknowledge`, {})).toMatchObject({
        status: 404,
        body: { error: 'HB_ALARM_NOT_FOUND' },
      });
      expect((await relay.alarms.get(firstAlarm.get('B1')!.id))?.acknowledgedAt).toBeUndefined();
    });

    it('may not add users or provision gateways', async () => {
      expect(
        await staffA.post('/api/users', {
          username: 'sneaky-admin',
          displayName: 'sneaky',
          role: 'admin',
          password: PASSWORD,
        }),
      ).toMatchObject({ status: 403, body: { error: 'HB_FORBIDDEN' } });
      expect(await staffA.post('/api/gateways', { id: 'gw-by-staff' })).toMatchObject({
        status: 403,
        body: { error: 'HB_FORBIDDEN' },
      });
      expect(await relay.services.users.getByUsername('sneaky-admin')).toBeNull();
      expect((await relay.gateways.list()).some((g) => g.id === 'gw-by-staff')).toBe(false);
    });
  });

  describe('operator of organisation A', () => {
    it('provisions a gateway: the secret is shown once and works; the same id again is 409', async () => {
      const added = await operatorA.post<{ id: string; secret: string; bedId: string | null }>(
        '/api/gateways',
        {
          id: 'gw-a-new',
        },
      );
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ id: 'gw-a-new', bedId: null });
      expect(added.body.secret.length).toBeGreaterThanOrEqual(16);
      expect(await operatorA.post('/api/gateways', { id: 'gw-a-new' })).toMatchObject({
        status: 409,
        body: { error: 'HB_GATEWAY_EXISTS' },
      });
      // The fleet view never shows it again.
      const fleet = await operatorA.get('/api/gateways');
      expect(JSON.stringify(fleet.body)).not.toContain(added.body.secret);

      const client = await connectAsGateway(relay.mqttPort, 'gw-a-new', added.body.secret);
      expect(client.connected).toBe(true);
      await client.endAsync();
      await expect(connectAsGateway(relay.mqttPort, 'gw-a-new', `${added.body.secret}x`)).rejects.toThrow(
        /Bad username or password/i,
      );
    });

    it('rotates its own gateway’s secret (the old one stops working); another organisation’s is unknown', async () => {
      const rotated = await operatorA.post<{ id: string; secret: string }>(
        `/api/gateways/${BEDS.A2.gatewayId}/rotate-secret`,
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(secrets.get('A2'));
      await expect(connectAsGateway(relay.mqttPort, BEDS.A2.gatewayId, secrets.get('A2')!)).rejects.toThrow(
        /Bad username or password/i,
      );
      secrets.set('A2', rotated.body.secret);
      await connect('A2');
      expect(await operatorA.post(`/api/gateways/${BEDS.B1.gatewayId}/rotate-secret`)).toMatchObject({
        status: 404,
        body: { error: 'HB_GATEWAY_UNKNOWN' },
      });
      expect((await operatorA.post('/api/gateways/gw-never-made/rotate-secret')).status).toBe(404);
    });

    it('cannot put a new gateway on organisation B’s bed', async () => {
      expect(
        await operatorA.post('/api/gateways', { id: 'gw-a-into-b', bedId: BEDS.B1.bedId }),
      ).toMatchObject({
        status: 404,
        body: { error: 'HB_BED_NOT_FOUND' },
      });
      expect((await relay.gateways.list()).some((g) => g.id === 'gw-a-into-b')).toBe(false);
    });
  });

  describe('regulator', () => {
    it('reads statistics without any resident’s name, address or number', async () => {
      const from = new Date(Date.now() - 86_400_000).toISOString();
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const stats = await regulatorA.get(
        `/api/statistics?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      );
      expect(stats.status).toBe(200);
      const text = JSON.stringify(stats.body);
      expect(text).toContain(BEDS.A1.bedId);
      for (const personal of RESIDENT_DATA) expect(text).not.toContain(personal);
      // Their own organisation only.
      expect(
        (
          await regulatorA.get(
            `/api/statistics?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&organisationId=${ORG_B}`,
          )
        ).status,
      ).toBe(403);
    });

    it('is refused beds, alarms and the stream (403), with no resident data in the answer', async () => {
      for (const path of [
        `/api/beds/${BEDS.A1.bedId}`,
        '/api/beds',
        '/api/alarms',
        `/api/alarms/${firstAlarm.get('A1')!.id}`,
      ]) {
        const res = await regulatorA.get(path);
        expect(res, path).toMatchObject({ status: 403, body: { error: 'HB_FORBIDDEN' } });
        for (const personal of RESIDENT_DATA) expect(JSON.stringify(res.body)).not.toContain(personal);
      }
      expect((await regulatorA.post(`/api/alarms/${firstAlarm.get('A1')!.id}/acknowledge`, {})).status).toBe(
        403,
      );
      const sse = stream(regulatorA);
      await sse.connected;
      expect(sse.status).toBe(403);
    });
  });

  describe('gateways', () => {
    it('cannot publish on another gateway’s topic: refused by the broker, nothing stored', async () => {
      const deniedBefore = relay.counters.total('mqtt_publish_denied');
      const intruder = gateways.get('A1')!;
      const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
      const forged = sosAlarm(BEDS.A2.gatewayId, BEDS.A2.bedId, 999);
      intruder.publish(gatewayTopic(BEDS.A2.gatewayId, 'alarm'), JSON.stringify(forged), { qos: 1 });
      await closed;
      await intruder.endAsync(true);
      expect(relay.counters.total('mqtt_publish_denied')).toBe(deniedBefore + 1);
      expect(await relay.alarms.get(forged.id)).toBeNull();
      // The real A2 carries on.
      await raise('A2');
      await connect('A1');
    });

    it('an alarm from A1’s gateway naming B1 is filed under A1 and never reaches B1’s people', async () => {
      const toB1Before = centre.phone.messages.filter((m) => m.to === BEDS.B1.phone).length;
      const toA1 = () =>
        centre.phone.messages.filter((m) => m.to === BEDS.A1.phone && m.text.includes(BEDS.A1.residentName))
          .length;
      const toA1Before = toA1();
      const spoof = await raise('A1', BEDS.B1.bedId);
      expect(await relay.alarms.get(spoof.id)).toMatchObject({
        bedId: BEDS.A1.bedId,
        gatewayId: BEDS.A1.gatewayId,
      });
      expect(relay.counters.total('alarms_bed_mismatch')).toBe(1);
      expect(await staffB.get(`/api/alarms/${spoof.id}`)).toMatchObject({ status: 404 });
      expect((await staffA.get(`/api/alarms/${spoof.id}`)).status).toBe(200);
      expect((await family.get(`/api/alarms/${spoof.id}`)).status).toBe(200);
      // A1's family is told (SMS and call) of the alarm filed under A1; B1's family hears nothing.
      await waitFor(() => toA1() === toA1Before + 2, 5_000, 'A1’s family told of the re-filed alarm');
      expect(centre.phone.messages.filter((m) => m.to === BEDS.B1.phone)).toHaveLength(toB1Before);
    });
  });

  describe('a gateway on no bed yet', () => {
    it('an operator’s new gateway naming another organisation’s bed reaches neither that bed nor its people', async () => {
      const added = await operatorA.post<{ id: string; secret: string }>('/api/gateways', { id: 'gw-rogue' });
      expect(added.status).toBe(201);
      const fleet = await operatorA.get<{ gateways: { id: string; organisationId: string | null }[] }>(
        '/api/gateways',
      );
      expect(fleet.body.gateways.find((g) => g.id === 'gw-rogue')?.organisationId).toBe(ORG_A);
      const rogue = await connectAsGateway(relay.mqttPort, 'gw-rogue', added.body.secret);
      await rogue.subscribeAsync(gatewayTopic('gw-rogue', 'ack'), { qos: 1 });
      const toB1Before = centre.phone.messages.filter((m) => m.to === BEDS.B1.phone).length;
      const claim = sosAlarm('gw-rogue', BEDS.B1.bedId, 1);
      const ack = nextMessage(rogue, gatewayTopic('gw-rogue', 'ack'));
      await rogue.publishAsync(gatewayTopic('gw-rogue', 'alarm'), JSON.stringify(claim), { qos: 1 });
      expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: claim.id, status: 'stored' });
      await rogue.endAsync();
      // Stored (an authenticated device's alarm is never dropped), under the gateway's own pseudo-bed.
      expect(await relay.alarms.get(claim.id)).toMatchObject({ bedId: 'gateway:gw-rogue' });
      expect((await staffA.get(`/api/alarms/${claim.id}`)).status).toBe(200);
      expect((await staffB.get(`/api/alarms/${claim.id}`)).status).toBe(404);
      const b1Family = await loginToRelay(relay, { role: 'family', organisationId: ORG_B });
      await relay.services.users.linkBed(b1Family.userId, BEDS.B1.bedId);
      expect(alarmIds((await b1Family.get<{ alarms: StoredAlarm[] }>('/api/alarms')).body)).not.toContain(
        claim.id,
      );
      expect((await b1Family.get(`/api/alarms/${claim.id}`)).status).toBe(404);
      // Give the notifier time to act, then check B1's contact was never texted or called about it.
      await new Promise((r) => setTimeout(r, 500));
      expect(centre.phone.messages.filter((m) => m.to === BEDS.B1.phone)).toHaveLength(toB1Before);
    });
  });

  describe('without a session', () => {
    it('the list of protected routes is every /api route in cloud/http but login and logout', () => {
      const listed = [...PROTECTED_ROUTES, ...OPEN_ROUTES].map(([m, p]) => `${m} ${p}`).sort();
      expect(routesInSource()).toEqual(listed);
    });

    it('every protected route answers 401 HB_UNAUTHENTICATED, with no token and with a forged one', async () => {
      const someAlarm = firstAlarm.get('A1')!.id;
      const fill = (path: string) =>
        path
          .replace(':bedId', BEDS.A1.bedId)
          .replace('/alarms/:id', `/alarms/${someAlarm}`)
          .replace('/beds/:id', `/beds/${BEDS.A1.bedId}`)
          .replace('/users/:id', `/users/${staffA.userId}`)
          .replace('/gateways/:id', `/gateways/${BEDS.A1.gatewayId}`);
      for (const token of [null, 'not-a-real-session-token']) {
        for (const [method, path] of PROTECTED_ROUTES) {
          const body = method === 'POST' || method === 'PATCH' ? {} : undefined;
          const res = await request(relay.httpUrl, token, method, fill(path), body);
          expect(res, `${method} ${path} (token: ${token})`).toMatchObject({
            status: 401,
            body: { error: 'HB_UNAUTHENTICATED' },
          });
        }
      }
      // Nothing changed on the way: no alarm was acknowledged by an anonymous caller.
      expect((await relay.alarms.get(firstAlarm.get('A2')!.id))?.acknowledgedAt).toBeUndefined();
      // Logging out without a session is allowed and does nothing (it only clears the cookie).
      expect((await request(relay.httpUrl, null, 'POST', '/api/auth/logout', {})).status).toBe(204);
    });
  });

  describe('disabled users', () => {
    it('a user disabled by their organisation’s admin loses their session at once', async () => {
      const username = `night-staff-${uuidv7().slice(-8)}`;
      const victim = await loginToRelay(relay, {
        role: 'staff',
        organisationId: ORG_A,
        username,
        displayName: '夜班 王',
      });
      expect((await victim.get('/api/alarms')).status).toBe(200);

      // Organisation B's admin cannot reach them.
      const adminB = await loginToRelay(relay, { role: 'admin', organisationId: ORG_B });
      expect(
        await request(relay.httpUrl, adminB.token, 'PATCH', `/api/users/${victim.userId}`, {
          disabled: true,
        }),
      ).toMatchObject({ status: 404, body: { error: 'HB_USER_NOT_FOUND' } });
      expect((await victim.get('/api/alarms')).status).toBe(200);

      const disabled = await request<{ user: { disabled: boolean }; changed: string[] }>(
        relay.httpUrl,
        adminA.token,
        'PATCH',
        `/api/users/${victim.userId}`,
        { disabled: true },
      );
      expect(disabled).toMatchObject({
        status: 200,
        body: { user: { disabled: true }, changed: ['disabled'] },
      });

      for (const path of ['/api/alarms', '/api/auth/me', `/api/alarms/${firstAlarm.get('A1')!.id}`]) {
        expect(await victim.get(path), path).toMatchObject({
          status: 401,
          body: { error: 'HB_UNAUTHENTICATED' },
        });
      }
      expect(await victim.post(`/api/alarms/${firstAlarm.get('A2')!.id}/acknowledge`, {})).toMatchObject({
        status: 401,
      });
      await expect(loginOverHttp(relay.httpUrl, username, PASSWORD)).rejects.toThrow(/401/);
      const audit = await adminA.get<{ entries: { action: string; targetId: string | null }[] }>(
        `/api/audit?actorId=${adminA.userId}`,
      );
      expect(
        audit.body.entries.some((e) => e.action === 'user.disable' && e.targetId === victim.userId),
      ).toBe(true);
    });
  });
});
