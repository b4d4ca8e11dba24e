import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmChange, ChangeAnnouncer } from '../../../cloud/alarms/alarm-events.js';
import { AlarmLifecycle } from '../../../cloud/alarms/alarm-lifecycle.js';
import { CLOUD_RAISED_SEQ } from '../../../cloud/alarms/alarm-store.js';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { GatewayIngress } from '../../../cloud/mqtt/gateway-ingress.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import { type AlarmMessage, gatewayTopic } from '../../../contract/index.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

const T0 = Date.parse('2026-11-23T02:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function alarm(seq: number, overrides: Partial<AlarmMessage> = {}): AlarmMessage {
  return {
    v: 1,
    id: uuidv7(),
    gatewayId: 'gw-1',
    bedId: 'bed-1',
    seq,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at: at(0),
    deviceId: 'sos',
    evidence: [{ deviceId: 'sos', kind: 'button_press', at: at(0) }],
    ...overrides,
  };
}

/** Remembers every batch it was told of. */
class RecordingAnnouncer implements ChangeAnnouncer {
  readonly batches: AlarmChange[][] = [];
  announce(changes: readonly AlarmChange[]): void {
    this.batches.push([...changes]);
  }
  get kinds(): string[] {
    return this.batches.flat().map((c) => c.kind);
  }
}

/** Insert a provisioned gateway row directly (the registry's scrypt is not what is tested here). */
async function gatewayRow(
  db: SqlDatabase,
  id: string,
  link: { bedId?: string; organisationId?: string } = {},
) {
  await db.run(
    `INSERT INTO gateways (id, secret_hash, created_at, bed_id, organisation_id) VALUES (?, 'x', ?, ?, ?)`,
    [id, at(0), link.bedId ?? null, link.organisationId ?? null],
  );
}

/** The timeline of every alarm, whichever database is under the store. */
describe.each(STORE_FACTORIES)('alarm timeline contract: $name', (factory) => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let announcer: RecordingAnnouncer;
  let store: SqlAlarmStore;

  beforeEach(async () => {
    ({ db, cleanup } = await factory.open());
    announcer = new RecordingAnnouncer();
    store = new SqlAlarmStore(db, { announcer });
  });
  afterEach(async () => {
    await cleanup();
  });

  const story = async (alarmId: string) =>
    (await store.timeline.forAlarm(alarmId)).map((e) => `${e.kind}@${e.at.slice(11, 19)} by ${e.actor}`);

  it('tells the whole story: raised (edge time), stored (receipt), acknowledged, resolved', async () => {
    const a = alarm(1);
    await store.ingest(a, at(2));
    await store.acknowledge(a.id, 'op-1', at(30));
    const resolved = await store.resolve(a.id, 'op-2', at(90), 'family_visited', 'daughter came');
    expect(resolved).toMatchObject({ ok: true, acknowledgedToo: false });
    expect(await story(a.id)).toEqual([
      'raised@02:00:00 by gateway:gw-1',
      'stored@02:00:02 by system',
      'acknowledged@02:00:30 by op-1',
      'resolved@02:01:30 by op-2',
    ]);
    const events = await store.timeline.forAlarm(a.id);
    expect(events[0]?.detail).toEqual({ type: 'sos_button', severity: 'critical', seq: 1, deviceId: 'sos' });
    expect(events[3]?.detail).toEqual({ outcome: 'family_visited', notes: 'daughter came' });
    expect(new Set(events.map((e) => e.alarmId))).toEqual(new Set([a.id]));
  });

  it('files clears and cancels under the raised alarm they end (under themselves when it is unknown or not theirs)', async () => {
    const fall = alarm(1, { type: 'fall_suspected' });
    const cleared = alarm(2, { type: 'fall_suspected', state: 'cleared', refersTo: fall.id, at: at(40) });
    const sos = alarm(3);
    const cancelled = alarm(4, { state: 'cancelled', refersTo: sos.id, at: at(50) });
    const stray = alarm(5, { state: 'cleared', refersTo: uuidv7(), at: at(60) });
    const foreign = alarm(6, { gatewayId: 'gw-2', state: 'cleared', refersTo: sos.id, at: at(70) });
    for (const [a, s] of [
      [fall, 1],
      [cleared, 41],
      [sos, 3],
      [cancelled, 51],
      [stray, 61],
      [foreign, 71],
    ] as const) {
      await store.ingest(a, at(s));
    }
    expect(await story(fall.id)).toEqual([
      'raised@02:00:00 by gateway:gw-1',
      'stored@02:00:01 by system',
      'cleared@02:00:40 by gateway:gw-1',
    ]);
    expect((await store.timeline.forAlarm(fall.id))[2]?.detail).toEqual({
      alarmId: cleared.id,
      seq: 2,
      receivedAt: at(41),
    });
    expect(await story(sos.id)).toEqual([
      'raised@02:00:00 by gateway:gw-1',
      'stored@02:00:03 by system',
      'cancelled@02:00:50 by gateway:gw-1',
    ]);
    expect(await store.timeline.forAlarm(cleared.id)).toEqual([]);
    expect(await story(stray.id)).toEqual(['cleared@02:01:00 by gateway:gw-1']);
    // Another gateway cannot end this home's alarm: its clear stays on its own.
    expect(await story(foreign.id)).toEqual(['cleared@02:01:10 by gateway:gw-2']);
  });

  it('resolving an alarm nobody took adds acknowledged, then resolved, at the same moment', async () => {
    const a = alarm(1);
    await store.ingest(a, at(1));
    const result = await store.resolve(a.id, 'nurse li', at(45), 'staff_visited');
    expect(result).toMatchObject({ ok: true, changed: true, acknowledgedToo: true });
    expect(await story(a.id)).toEqual([
      'raised@02:00:00 by gateway:gw-1',
      'stored@02:00:01 by system',
      'acknowledged@02:00:45 by nurse li',
      'resolved@02:00:45 by nurse li',
    ]);
    expect(await store.resolve(a.id, 'x', at(50), 'other')).toEqual({
      ok: false,
      reason: 'already_resolved',
    });
    expect(await store.timeline.forAlarm(a.id)).toHaveLength(4);
  });

  it('announces committed changes with bed, gateway and organisation; nothing for repeats or refusals', async () => {
    await gatewayRow(db, 'gw-1', { organisationId: 'org-1' });
    const a = alarm(1);
    await store.ingest(a, at(1));
    await store.ingest(a, at(5)); // a retransmission
    await store.acknowledge(a.id, 'op-1', at(10));
    await store.acknowledge(a.id, 'op-2', at(11)); // already taken
    await store.resolve(uuidv7(), 'op-1', at(12), 'other'); // unknown
    expect(announcer.batches.map((b) => b.map((c) => c.kind))).toEqual([
      ['raised', 'stored'],
      ['acknowledged'],
    ]);
    expect(announcer.batches[0]?.[0]).toMatchObject({
      alarmId: a.id,
      bedId: 'bed-1',
      gatewayId: 'gw-1',
      organisationId: 'org-1',
      actor: 'gateway:gw-1',
    });
    // Unlinked gateways announce a null organisation.
    const other = alarm(1, { gatewayId: 'gw-2', bedId: 'bed-2' });
    await store.ingest(other, at(20));
    expect(announcer.batches.at(-1)?.[0]).toMatchObject({ gatewayId: 'gw-2', organisationId: null });
  });

  it('a failing transaction announces nothing and leaves no timeline', async () => {
    const failing = new SqlAlarmStore(db, {
      announcer,
      escalations: {
        schedule: async () => {
          throw new Error('disk full');
        },
        cancel: async () => undefined,
      },
    });
    const a = alarm(1);
    await expect(failing.ingest(a, at(1))).rejects.toThrow('disk full');
    expect(announcer.batches).toEqual([]);
    expect(await store.get(a.id)).toBeNull();
    expect(await store.timeline.forAlarm(a.id)).toEqual([]);
  });

  it('a failing announcer does not fail the commit', async () => {
    const loud = new SqlAlarmStore(db, {
      announcer: {
        announce: () => {
          throw new Error('feed down');
        },
      },
    });
    const a = alarm(1);
    expect(await loud.ingest(a, at(1))).toEqual({ inserted: true });
    expect(await story(a.id)).toHaveLength(2);
  });

  it('catches a console up: changes after a time, scoped to an organisation or to beds', async () => {
    await gatewayRow(db, 'gw-1', { organisationId: 'org-1' });
    await gatewayRow(db, 'gw-2', { organisationId: 'org-2' });
    const a = alarm(1);
    const b = alarm(1, { gatewayId: 'gw-2', bedId: 'bed-2' });
    await store.ingest(a, at(1));
    await store.ingest(b, at(2));
    await store.acknowledge(a.id, 'op-1', at(3));
    const all = await store.timeline.since(at(0), 100);
    expect(all.map((c) => `${c.kind}:${c.bedId}`)).toEqual([
      'stored:bed-1',
      'stored:bed-2',
      'acknowledged:bed-1',
    ]);
    expect((await store.timeline.since(at(1), 100)).map((c) => c.kind)).toEqual(['stored', 'acknowledged']);
    expect((await store.timeline.since(at(0), 1)).map((c) => c.kind)).toEqual(['stored']);
    expect((await store.timeline.since(at(-1), 100, { organisationId: 'org-2' })).map((c) => c.kind)).toEqual(
      ['raised', 'stored'],
    );
    expect((await store.timeline.since(at(-1), 100, { bedIds: ['bed-1'] })).map((c) => c.kind)).toEqual([
      'raised',
      'stored',
      'acknowledged',
    ]);
    expect(await store.timeline.since(at(-1), 100, { bedIds: [] })).toEqual([]);
  });

  it('the lifecycle tells the gateway acknowledged then resolved, reading nothing first; never for cloud alarms', async () => {
    const told: string[] = [];
    const ingress = {
      sendStatus: async (_gw: string, alarmId: string, status: string) => {
        told.push(`${alarmId === a.id ? 'a' : 'cloud'}:${status}`);
      },
    } as unknown as GatewayIngress;
    let gets = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'get') gets++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const clock = new ManualClock(T0 + 60_000);
    const lifecycle = new AlarmLifecycle(counting, ingress, clock, silentLogger(), new Counters());
    const a = alarm(1);
    await store.ingest(a, at(1));
    expect(await lifecycle.resolve(a.id, 'op-1', 'false_alarm')).toMatchObject({ ok: true });
    expect(told).toEqual(['a:acknowledged', 'a:resolved']);
    expect(gets).toBe(0);

    const offline = alarm(CLOUD_RAISED_SEQ, {
      type: 'gateway_offline',
      severity: 'warning',
      deviceId: 'gw-1',
    });
    await store.ingest(offline, at(2));
    await lifecycle.resolve(offline.id, 'op-1', 'staff_visited');
    expect(told).toEqual(['a:acknowledged', 'a:resolved']);
    expect((await store.handledSince('gw-1', at(0))).map((x) => x.id)).toEqual([a.id]);
    expect(await story(offline.id)).toContain('raised@02:00:00 by system');
  });

  it('ingress stores an alarm naming another bed under the bed its gateway is linked to', async () => {
    await gatewayRow(db, 'gw-1', { bedId: 'bed-linked', organisationId: 'org-1' });
    const counters = new Counters();
    const published: string[] = [];
    const ingress = new GatewayIngress(
      store,
      new GatewayRegistry(db),
      async (topic) => {
        published.push(topic);
      },
      new ManualClock(T0),
      silentLogger(),
      counters,
    );
    const spoofed = alarm(1, { bedId: 'bed-elsewhere' });
    await ingress.handle('gw-1', gatewayTopic('gw-1', 'alarm'), Buffer.from(JSON.stringify(spoofed)));
    await ingress.handle('gw-1', gatewayTopic('gw-1', 'alarm'), Buffer.from(JSON.stringify(spoofed)));
    expect(await store.get(spoofed.id)).toMatchObject({ bedId: 'bed-linked', deliveries: 2 });
    expect(counters.get('alarms_bed_mismatch')).toBe(1);
    expect(published).toHaveLength(2); // acknowledged as stored both times: nothing is lost
    const right = alarm(2, { bedId: 'bed-linked' });
    await ingress.handle('gw-1', gatewayTopic('gw-1', 'alarm'), Buffer.from(JSON.stringify(right)));
    expect(counters.get('alarms_bed_mismatch')).toBe(1);
  });
});
