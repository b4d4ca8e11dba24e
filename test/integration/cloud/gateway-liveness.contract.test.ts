import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredAlarm } from '../../../cloud/alarms/alarm-store.js';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { EscalationStore } from '../../../cloud/escalation/escalation-store.js';
import { escalationConfigSchema } from '../../../cloud/escalation/policy.js';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { GatewayLiveness, livenessConfigSchema } from '../../../cloud/gateways/liveness.js';
import { GatewayIngress } from '../../../cloud/mqtt/gateway-ingress.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { type AlarmMessage, alarmMessageSchema, gatewayTopic } from '../../../contract/index.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

const T0 = Date.parse('2026-11-23T02:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const GW = 'gw-1';

/** One relay process's view of the store: registry, alarm store, liveness and the ingress feeding it. */
function relayParts(db: SqlDatabase, clock: ManualClock, counters = new Counters()) {
  const registry = new GatewayRegistry(db);
  const escalations = new EscalationStore(db, escalationConfigSchema.parse({}));
  const alarms = new SqlAlarmStore(db, { escalations });
  const liveness = new GatewayLiveness({
    db,
    alarms,
    registry,
    config: livenessConfigSchema.parse({}),
    clock,
    logger: silentLogger(),
    counters,
  });
  const ingress = new GatewayIngress(
    alarms,
    registry,
    async () => undefined,
    clock,
    silentLogger(),
    counters,
    {
      liveness,
    },
  );
  const send = (gatewayId: string, kind: 'heartbeat' | 'status', body: unknown) =>
    ingress.handle(gatewayId, gatewayTopic(gatewayId, kind), Buffer.from(JSON.stringify(body)));
  return {
    registry,
    escalations,
    alarms,
    liveness,
    counters,
    heartbeat: (gatewayId = GW, intervalS = 30) =>
      send(gatewayId, 'heartbeat', {
        v: 1,
        gatewayId,
        at: new Date(clock.now()).toISOString(),
        uptimeS: 100,
        intervalS,
        outboxDepth: 0,
        spoolDepth: 0,
        devices: [
          {
            id: 'sos',
            kind: 'sos_button',
            online: true,
            battery: 80,
            lastSeenAt: new Date(clock.now()).toISOString(),
          },
          { id: 'mat', kind: 'bed_mat', online: false },
        ],
      }),
    /** The gateway says online/offline itself (with a time). */
    status: (state: 'online' | 'offline', gatewayId = GW) =>
      send(gatewayId, 'status', { v: 1, state, at: new Date(clock.now()).toISOString() }),
    /** The broker publishes the gateway's last will (fixed at connect: no time). */
    lastWill: (gatewayId = GW) => send(gatewayId, 'status', { v: 1, state: 'offline' }),
  };
}

/** Gateway liveness on both databases: offline by last will or silence, alarm after the grace. */
describe.each(STORE_FACTORIES)('gateway liveness contract: $name', (factory) => {
  let db: SqlDatabase;
  let connectAgain: () => Promise<SqlDatabase>;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let relay: ReturnType<typeof relayParts>;

  beforeEach(async () => {
    ({ db, connectAgain, cleanup } = await factory.open());
    clock = new ManualClock(T0);
    relay = relayParts(db, clock);
    await relay.registry.add(GW, 'secret-of-gw-1');
    await db.run(`UPDATE gateways SET bed_id = 'bed-1', organisation_id = 'org-1' WHERE id = ?`, [GW]);
  });
  afterEach(async () => {
    await relay.liveness.stop();
    await cleanup();
  });

  /** Move the clock to `s` seconds after T0 and let liveness look. */
  const lookAt = async (s: number, liveness = relay.liveness) => {
    clock.advance(T0 + s * 1000 - clock.now());
    await liveness.check();
  };
  const offlineAlarms = async (state?: AlarmMessage['state']) =>
    (await relay.alarms.list()).filter((a) => a.type === 'gateway_offline' && (!state || a.state === state));
  const gateway = async () => (await relay.registry.list()).find((g) => g.id === GW)!;

  it('missed heartbeats: offline after 3 × 30 s, gateway_offline after 30 s more', async () => {
    await relay.heartbeat();
    await lookAt(89);
    expect((await gateway()).status).toBe('online');
    await lookAt(90);
    expect(await gateway()).toMatchObject({ status: 'offline', lastSeenAt: at(0), offlineAlarmId: null });
    expect((await relay.registry.statusHistory(GW, 1))[0]).toMatchObject({
      state: 'offline',
      at: at(90),
      reason: 'heartbeat_timeout',
    });
    await lookAt(119);
    expect(await offlineAlarms()).toEqual([]);
    await lookAt(120);
    const [raised] = await offlineAlarms();
    expect(raised).toMatchObject({
      gatewayId: GW,
      bedId: 'bed-1',
      seq: 0,
      type: 'gateway_offline',
      severity: 'warning',
      state: 'raised',
      at: at(90),
      receivedAt: at(120),
      evidence: [{ deviceId: GW, kind: 'last_seen', at: at(0) }],
    });
    expect(raised?.message).toMatch(/missed heartbeats/);
    // A message the contract would accept from a gateway, but for its seq (0: the cloud's own).
    expect(alarmMessageSchema.safeParse({ ...raised, seq: 1 }).success).toBe(true);
    expect((await gateway()).offlineAlarmId).toBe(raised?.id);
    expect(relay.counters.get('gateway_offline_raised')).toBe(1);
    // Through the alarm store: a timeline, and escalation as a warning.
    expect((await relay.alarms.timeline.forAlarm(raised!.id)).map((e) => `${e.kind}:${e.actor}`)).toEqual([
      'raised:system',
      'stored:system',
    ]);
    expect((await relay.escalations.forAlarm(raised!.id)).map((t) => t.dueAt)).toEqual([at(420), at(1020)]);
    await lookAt(600);
    expect(await offlineAlarms()).toHaveLength(1);
  });

  it('times out by the interval the gateway announced', async () => {
    await relay.heartbeat(GW, 60);
    expect((await gateway()).heartbeatIntervalMs).toBe(60_000);
    await lookAt(179);
    expect((await gateway()).status).toBe('online');
    await lookAt(180);
    expect((await gateway()).status).toBe('offline');
  });

  it('last will: offline at once, gateway_offline after the grace', async () => {
    await relay.heartbeat();
    clock.advance(10_000);
    await relay.lastWill();
    expect(await gateway()).toMatchObject({ status: 'offline', lastSeenAt: at(0) });
    expect((await relay.registry.statusHistory(GW, 1))[0]).toMatchObject({ at: at(10), reason: 'last_will' });
    await lookAt(39);
    expect(await offlineAlarms()).toEqual([]);
    await lookAt(40);
    const [raised] = await offlineAlarms();
    expect(raised).toMatchObject({ at: at(10), receivedAt: at(40), state: 'raised' });
    expect(raised?.message).toMatch(/last will/);
  });

  it('back within the grace: no alarm, the flap is counted', async () => {
    const raisedEvents: StoredAlarm[] = [];
    relay.liveness.events.on('offlineRaised', (a) => raisedEvents.push(a));
    await relay.heartbeat();
    clock.advance(10_000);
    await relay.lastWill();
    await lookAt(25);
    await relay.status('online');
    await lookAt(60);
    expect(await offlineAlarms()).toEqual([]);
    expect(raisedEvents).toEqual([]);
    expect(relay.counters.get('gateway_flaps_suppressed')).toBe(1);
    expect((await gateway()).status).toBe('online');
  });

  it('back after the alarm: a cleared alarm refers to it, once; the next outage raises anew', async () => {
    const cleared: StoredAlarm[] = [];
    relay.liveness.events.on('offlineCleared', (a) => cleared.push(a));
    await relay.heartbeat();
    clock.advance(10_000);
    await relay.lastWill();
    await lookAt(40);
    const [raised] = await offlineAlarms('raised');
    clock.advance(60_000);
    await relay.heartbeat();
    await relay.heartbeat();
    await lookAt(101);
    const clears = await offlineAlarms('cleared');
    expect(clears).toHaveLength(1);
    expect(clears[0]).toMatchObject({
      refersTo: raised?.id,
      seq: 0,
      bedId: 'bed-1',
      severity: 'warning',
      at: at(100),
      evidence: [{ deviceId: GW, kind: 'last_seen', at: at(100) }],
    });
    expect(cleared.map((a) => a.id)).toEqual([clears[0]?.id]);
    expect((await gateway()).offlineAlarmId).toBeNull();
    expect(relay.counters.get('gateway_offline_cleared')).toBe(1);
    expect(relay.counters.get('gateway_flaps_suppressed')).toBe(0);
    expect((await relay.alarms.timeline.forAlarm(raised!.id)).map((e) => `${e.kind}:${e.actor}`)).toEqual([
      'raised:system',
      'stored:system',
      'cleared:system',
    ]);
    // Heard again: its escalation stops.
    expect((await relay.escalations.forAlarm(raised!.id)).every((t) => t.cancelledAt === at(100))).toBe(true);

    clock.advance(100_000);
    await relay.lastWill();
    await lookAt(231);
    const raisedNow = await offlineAlarms('raised');
    expect(raisedNow).toHaveLength(2);
    expect((await gateway()).offlineAlarmId).toBe(raisedNow[0]?.id);
  });

  it('records status changes with their reasons, and every heartbeat compactly', async () => {
    await relay.status('online'); // 0: it connected
    clock.advance(1_000);
    await relay.heartbeat(); // 1: already online, no change
    clock.advance(9_000);
    await relay.lastWill(); // 10
    clock.advance(10_000);
    await relay.heartbeat(); // 20: heard again before saying online
    await lookAt(110); // 20 + 3 × 30: silent
    await relay.status('offline'); // already offline: no change
    expect(
      (await relay.registry.statusHistory(GW)).map((c) => `${c.at.slice(17, 19)} ${c.state} ${c.reason}`),
    ).toEqual([
      '50 offline heartbeat_timeout',
      '20 online heartbeat',
      '10 offline last_will',
      '00 online status',
    ]);
    const beats = await relay.registry.heartbeats(GW);
    expect(beats.map((b) => b.at)).toEqual([at(20), at(1)]);
    expect(beats[0]).toEqual({
      gatewayId: GW,
      at: at(20),
      intervalMs: 30_000,
      devices: [
        { id: 'sos', kind: 'sos_button', online: true, lastSeenAt: at(20) },
        { id: 'mat', kind: 'bed_mat', online: false, lastSeenAt: null },
      ],
    });
    expect(await relay.registry.pruneHeartbeats(at(20))).toBe(1);
    expect((await relay.registry.heartbeats(GW)).map((b) => b.at)).toEqual([at(20)]);
    expect(await relay.registry.statusHistory(GW)).toHaveLength(4);
  });

  it('only provisioned gateways: an unknown id records nothing and raises nothing', async () => {
    await relay.heartbeat('gw-stranger');
    await relay.lastWill('gw-stranger');
    await lookAt(600);
    expect(await relay.registry.statusHistory('gw-stranger')).toEqual([]);
    expect(await relay.registry.heartbeats('gw-stranger')).toEqual([]);
    // gw-1 was never heard either: provisioned but not installed is not offline.
    expect(await offlineAlarms()).toEqual([]);
  });

  it('a relay that was down does not judge silence it could not hear', async () => {
    await relay.heartbeat();
    clock.advance(3_600_000);
    const restarted = relayParts(db, clock, new Counters());
    restarted.liveness.start();
    await restarted.liveness.check();
    expect((await gateway()).status).toBe('online');
    // Its gateways get the full timeout to reconnect; then silence counts again.
    clock.advance(89_000);
    await restarted.liveness.check();
    expect((await gateway()).status).toBe('online');
    clock.advance(1_000);
    await restarted.liveness.check();
    expect((await gateway()).status).toBe('offline');
    await restarted.liveness.stop();
  });

  it('runs on its clock: started, it raises within one check interval of the grace', async () => {
    relay.liveness.start();
    await relay.heartbeat();
    for (let s = 5; s <= 125; s += 5) {
      clock.advance(5_000);
      await relay.liveness.check();
    }
    expect(await offlineAlarms('raised')).toHaveLength(1);
    await relay.liveness.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  if (factory.name === 'postgres') {
    it('two relay processes on two pools: one offline alarm, one timeout, one clear', async () => {
      const other = relayParts(await connectAgain(), clock);
      await relay.heartbeat();
      for (const s of [90, 120, 150]) {
        clock.advance(T0 + s * 1000 - clock.now());
        await Promise.all([relay.liveness.check(), other.liveness.check()]);
      }
      expect(await offlineAlarms('raised')).toHaveLength(1);
      expect(
        relay.counters.get('gateway_offline_raised') + other.counters.get('gateway_offline_raised'),
      ).toBe(1);
      const timeouts = (await relay.registry.statusHistory(GW)).filter(
        (c) => c.reason === 'heartbeat_timeout',
      );
      expect(timeouts).toHaveLength(1);

      clock.advance(10_000);
      await Promise.all([
        relay.heartbeat(),
        other.heartbeat(),
        relay.liveness.check(),
        other.liveness.check(),
      ]);
      await Promise.all([relay.liveness.check(), other.liveness.check()]);
      expect(await offlineAlarms('cleared')).toHaveLength(1);
      expect((await gateway()).offlineAlarmId).toBeNull();
    });
  }
});
