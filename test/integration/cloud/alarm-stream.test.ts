import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../../cloud/alarms/alarm-events.js';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { LocalChangeFeed } from '../../../cloud/events/change-feed.js';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { registerAuthentication, requestToken } from '../../../cloud/http/auth.js';
import { registerAlarmStream } from '../../../cloud/http/routes/alarm-stream.js';
import { BedRepository } from '../../../cloud/people/beds.js';
import { OrganisationRepository } from '../../../cloud/people/organisations.js';
import { SessionStore } from '../../../cloud/people/sessions.js';
import { UserRepository } from '../../../cloud/people/users.js';
import { openCloudStore } from '../../../cloud/store/cloud-db.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { Counters } from '../../../common/counters.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import type { AlarmMessage } from '../../../contract/index.js';
import { waitFor } from '../../support/relay.js';
import { SseClient } from '../../support/sse.js';

function alarm(gatewayId: string, bedId: string, seq: number): AlarmMessage {
  const at = new Date().toISOString();
  return {
    v: 1,
    id: uuidv7(),
    gatewayId,
    bedId,
    seq,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at,
    deviceId: 'sos',
    evidence: [{ deviceId: 'sos', kind: 'button_press', at }],
  };
}

/**
 * The alarm event stream on a real SQLite store with real sessions: who
 * sees which change, catch-up after a reconnect, and a stream that ends
 * when its session does.
 */
describe('GET /api/alarms/stream', () => {
  let db: SqlDatabase;
  let app: FastifyInstance;
  let url: string;
  let alarms: SqlAlarmStore;
  let sessions: SessionStore;
  const counters = new Counters();
  const tokens: Record<string, string> = {};
  const clients: SseClient[] = [];

  beforeEach(async () => {
    db = await openCloudStore({ dataDir: ':memory:' });
    const feed = new LocalChangeFeed();
    alarms = new SqlAlarmStore(db, { announcer: feed });
    const organisations = new OrganisationRepository(db);
    const beds = new BedRepository(db);
    const users = new UserRepository(db);
    const gateways = new GatewayRegistry(db);
    sessions = new SessionStore(db);
    for (const org of ['org-a', 'org-b']) await organisations.add({ id: org, name: org });
    for (const [bed, org] of [
      ['bed-a1', 'org-a'],
      ['bed-a2', 'org-a'],
      ['bed-b1', 'org-b'],
    ] as const) {
      await beds.add({ id: bed, organisationId: org, residentName: `resident of ${bed}`, address: 'x' });
      await gateways.add(`gw-${bed}`, 'a-long-enough-secret');
      await beds.linkGateway(`gw-${bed}`, bed);
    }
    await gateways.add('gw-new', 'a-long-enough-secret');
    const people = [
      { username: 'staff-a', role: 'staff', organisationId: 'org-a' },
      { username: 'family-a1', role: 'family', organisationId: 'org-a' },
      { username: 'regulator', role: 'regulator', organisationId: 'org-a' },
    ] as const;
    for (const p of people) {
      const user = await users.add({ ...p, displayName: p.username, password: 'a long test password' });
      if (p.role === 'family') await users.linkBed(user.id, 'bed-a1');
      tokens[p.username] = (await sessions.create(user.id)).token;
    }
    app = Fastify();
    registerAuthentication(app, { sessions });
    registerAlarmStream(app, {
      feed,
      since: (afterIso, limit, scope) => alarms.timeline.since(afterIso, limit, scope),
      revalidate: async (req) => {
        const token = requestToken(req);
        return token ? sessions.resolve(token) : null;
      },
      counters,
      logger: silentLogger(),
      keepAliveMs: 100,
      sweepMs: 300,
    });
    url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/api/alarms/stream`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await app.close();
    await db.close();
  });

  async function connect(user: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient(url, { authorization: `Bearer ${tokens[user]}`, ...headers });
    clients.push(client);
    await client.connected;
    return client;
  }

  const storedIds = (c: SseClient) =>
    c
      .json<AlarmChange>()
      .filter((e) => e.kind === 'stored')
      .map((e) => e.alarmId);

  it('staff sees its organisation and unlinked gateways; family only its bed; regulator is refused', async () => {
    const staff = await connect('staff-a');
    const family = await connect('family-a1');
    const regulator = await connect('regulator');
    expect([staff.status, family.status, regulator.status]).toEqual([200, 200, 403]);
    const a1 = alarm('gw-bed-a1', 'bed-a1', 1);
    const a2 = alarm('gw-bed-a2', 'bed-a2', 1);
    const b1 = alarm('gw-bed-b1', 'bed-b1', 1);
    const fresh = alarm('gw-new', 'bed-new', 1);
    for (const a of [a1, a2, b1, fresh]) await alarms.ingest(a, new Date().toISOString());
    await waitFor(() => storedIds(staff).length === 3 && storedIds(family).length === 1, 5_000, 'changes');
    expect(storedIds(staff)).toEqual([a1.id, a2.id, fresh.id]);
    expect(storedIds(family)).toEqual([a1.id]);
    // Each change carries its timeline id as the event id (what Last-Event-ID sends back).
    expect(staff.events.every((e) => e.id && JSON.parse(e.data).id === e.id)).toBe(true);
  });

  it('a reconnect with Last-Event-ID first replays what was missed, in order', async () => {
    const first = alarm('gw-bed-a1', 'bed-a1', 1);
    await alarms.ingest(first, new Date().toISOString());
    const events = await alarms.timeline.forAlarm(first.id);
    const last = events.at(-1)!;
    // Committed while the console was away.
    const missed = [alarm('gw-bed-a1', 'bed-a1', 2), alarm('gw-bed-a2', 'bed-a2', 1)];
    for (const a of missed) await alarms.ingest(a, new Date().toISOString());
    const back = await connect('staff-a', { 'last-event-id': last.id });
    await waitFor(() => missed.every((a) => storedIds(back).includes(a.id)), 5_000, 'replay');
    expect(storedIds(back).filter((id) => id !== first.id)).toEqual(missed.map((a) => a.id));
    // And live changes follow the replay.
    const live = alarm('gw-bed-a1', 'bed-a1', 3);
    await alarms.ingest(live, new Date().toISOString());
    await waitFor(() => storedIds(back).includes(live.id), 5_000, 'live after replay');
  });

  it('a change committed but never announced (its process died first) still arrives, by the sweep', async () => {
    const staff = await connect('staff-a');
    // Another relay process's store on the same database, which committed and died before its NOTIFY.
    const unannounced = alarm('gw-bed-a1', 'bed-a1', 1);
    await new SqlAlarmStore(db).ingest(unannounced, new Date().toISOString());
    await waitFor(() => storedIds(staff).includes(unannounced.id), 5_000, 'swept change');
    // Exactly once, though later sweeps read it again.
    await new Promise((r) => setTimeout(r, 700));
    expect(storedIds(staff).filter((id) => id === unannounced.id)).toHaveLength(1);
  });

  it('ends the stream once its session is revoked, at the next keep-alive', async () => {
    const staff = await connect('staff-a');
    await sessions.revoke(tokens['staff-a']!);
    const before = counters.get('sse_sessions_ended');
    await waitFor(() => counters.get('sse_sessions_ended') === before + 1, 5_000, 'stream ended');
    // A new connection with the old token is refused.
    const again = await connect('staff-a');
    expect(again.status).toBe(401);
    expect(staff.status).toBe(200);
  });
});
