import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../../cloud/alarms/alarm-events.js';
import type { StoredAlarm } from '../../../cloud/alarms/alarm-store.js';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { EscalationStore } from '../../../cloud/escalation/escalation-store.js';
import { Escalator } from '../../../cloud/escalation/escalator.js';
import {
  type EscalationConfig,
  type EscalationStep,
  escalationConfigSchema,
} from '../../../cloud/escalation/policy.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import type { AlarmMessage } from '../../../contract/index.js';
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

describe('escalation policy', () => {
  it('defaults: critical at 60 s and 180 s, warning at 300 s and 900 s, technical and info never', () => {
    const config = escalationConfigSchema.parse(undefined);
    expect(config.steps.critical).toEqual([
      { afterS: 60, tier: 'second_tier', renotify: true },
      { afterS: 180, tier: 'supervisor', renotify: true },
    ]);
    expect(config.steps.warning.map((s) => [s.afterS, s.tier])).toEqual([
      [300, 'second_tier'],
      [900, 'supervisor'],
    ]);
    expect(config.steps.technical).toEqual([]);
    expect(config.steps.info).toEqual([]);
    expect(config.pollIntervalMs).toBe(1000);
  });

  it('refuses steps out of order and unnamed tiers', () => {
    const bad = escalationConfigSchema.safeParse({
      steps: {
        critical: [
          { afterS: 120, tier: 'second_tier' },
          { afterS: 60, tier: 'supervisor' },
        ],
      },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['steps', 'critical', 1, 'afterS']);
    expect(escalationConfigSchema.safeParse({ steps: { warning: [{ afterS: 5, tier: '' }] } }).success).toBe(
      false,
    );
    const renotifyDefault = escalationConfigSchema.parse({
      steps: { info: [{ afterS: 5, tier: 'family' }] },
    });
    expect(renotifyDefault.steps.info).toEqual([{ afterS: 5, tier: 'family', renotify: true }]);
  });
});

/** Escalation of unanswered alarms, with its timers in the store, on both databases. */
describe.each(STORE_FACTORIES)('escalation contract: $name', (factory) => {
  let db: SqlDatabase;
  let connectAgain: () => Promise<SqlDatabase>;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let config: EscalationConfig;
  let timers: EscalationStore;
  let store: SqlAlarmStore;
  let counters: Counters;
  let fired: string[];
  let announced: AlarmChange[];
  let escalators: Escalator[];

  beforeEach(async () => {
    ({ db, connectAgain, cleanup } = await factory.open());
    clock = new ManualClock(T0);
    config = escalationConfigSchema.parse({});
    timers = new EscalationStore(db, config);
    store = new SqlAlarmStore(db, { escalations: timers });
    counters = new Counters();
    fired = [];
    announced = [];
    escalators = [];
  });
  afterEach(async () => {
    for (const e of escalators) await e.stop();
    await cleanup();
  });

  /** An Escalator on `on` (default the test's store), recording what it fires as `alarm-seq/step/tier`. */
  function escalator(owner: string, on: EscalationStore = timers): Escalator {
    const e = new Escalator({
      store: on,
      config,
      clock,
      logger: silentLogger(),
      counters,
      owner,
      announcer: { announce: (changes) => announced.push(...changes) },
      onEscalated: (a: StoredAlarm, step: EscalationStep) => {
        fired.push(`${a.seq}/${step.step}/${step.tier}/${step.afterS}`);
      },
    });
    escalators.push(e);
    return e;
  }

  it('a critical alarm nobody takes: second tier at 60 s, supervisor at 180 s, each once', async () => {
    const e = escalator('relay-A');
    const a = alarm(1);
    await store.ingest(a, at(0));
    clock.advance(59_000);
    expect(await e.tick()).toBe(0);
    clock.advance(1_000);
    expect(await e.tick()).toBe(1);
    expect(fired).toEqual(['1/1/second_tier/60']);
    clock.advance(119_000);
    expect(await e.tick()).toBe(0);
    clock.advance(1_000);
    expect(await e.tick()).toBe(1);
    clock.advance(600_000);
    expect(await e.tick()).toBe(0);
    expect(fired).toEqual(['1/1/second_tier/60', '1/2/supervisor/180']);
    expect(counters.get('escalations_fired', { severity: 'critical', tier: 'second_tier', step: '1' })).toBe(
      1,
    );
    expect(counters.get('escalations_fired', { severity: 'critical', tier: 'supervisor', step: '2' })).toBe(
      1,
    );

    const escalated = (await store.timeline.forAlarm(a.id)).filter((ev) => ev.kind === 'escalated');
    expect(escalated.map((ev) => [ev.at, ev.actor, ev.detail])).toEqual([
      [at(60), 'system', { step: 1, tier: 'second_tier', afterS: 60, renotify: true }],
      [at(180), 'system', { step: 2, tier: 'supervisor', afterS: 180, renotify: true }],
    ]);
    expect(announced.map((c) => [c.kind, c.alarmId, c.bedId])).toEqual([
      ['escalated', a.id, 'bed-1'],
      ['escalated', a.id, 'bed-1'],
    ]);
    expect((await timers.forAlarm(a.id)).map((t) => [t.dueAt, t.firedAt, t.firedBy])).toEqual([
      [at(60), at(60), 'relay-A'],
      [at(180), at(180), 'relay-A'],
    ]);
  });

  it('acknowledged at 100 s: step 1 fired, step 2 never does', async () => {
    const e = escalator('relay-A');
    const a = alarm(1);
    await store.ingest(a, at(0));
    clock.advance(60_000);
    await e.tick();
    clock.advance(40_000);
    await store.acknowledge(a.id, 'op-1', at(100));
    clock.advance(500_000);
    expect(await e.tick()).toBe(0);
    expect(fired).toEqual(['1/1/second_tier/60']);
    expect((await timers.forAlarm(a.id)).map((t) => [t.step, t.firedAt, t.cancelledAt])).toEqual([
      [1, at(60), null],
      [2, null, at(100)],
    ]);
  });

  it('a cleared or resolved alarm stops escalating; so does a cancelled one', async () => {
    const e = escalator('relay-A');
    const fall = alarm(1, { type: 'fall_suspected' });
    const sos = alarm(3);
    const door = alarm(5, { type: 'door_open_at_night' });
    await store.ingest(fall, at(0));
    await store.ingest(sos, at(0));
    await store.ingest(door, at(0));
    await store.ingest(alarm(2, { state: 'cleared', refersTo: fall.id, at: at(30) }), at(30));
    await store.ingest(alarm(4, { state: 'cancelled', refersTo: sos.id, at: at(31) }), at(31));
    await store.resolve(door.id, 'op-1', at(32), 'false_alarm');
    clock.advance(600_000);
    expect(await e.tick()).toBe(0);
    expect(fired).toEqual([]);
    for (const id of [fall.id, sos.id, door.id]) {
      expect((await timers.forAlarm(id)).every((t) => t.cancelledAt !== null && t.firedAt === null)).toBe(
        true,
      );
    }
  });

  it("another gateway's clear does not stop an alarm escalating", async () => {
    const e = escalator('relay-A');
    const sos = alarm(1);
    await store.ingest(sos, at(0));
    await store.ingest(
      alarm(7, { gatewayId: 'gw-other', state: 'cleared', refersTo: sos.id, at: at(5) }),
      at(5),
    );
    clock.advance(60_000);
    expect(await e.tick()).toBe(1);
    expect((await store.timeline.forAlarm(sos.id)).map((ev) => ev.kind)).toEqual([
      'raised',
      'stored',
      'escalated',
    ]);
  });

  it('schedules by severity from the receipt time: warnings later, technical never', async () => {
    const warning = alarm(1, { type: 'door_open_at_night', severity: 'warning' });
    const technical = alarm(2, { type: 'device_battery_low', severity: 'technical' });
    await store.ingest(warning, at(10));
    await store.ingest(technical, at(10));
    await store.ingest(warning, at(20)); // a retransmission schedules nothing new
    expect((await timers.forAlarm(warning.id)).map((t) => t.dueAt)).toEqual([at(310), at(910)]);
    expect(await timers.forAlarm(technical.id)).toEqual([]);
    const e = escalator('relay-A');
    clock.advance(910_000);
    expect(await e.tick()).toBe(2);
    expect(fired).toEqual(['1/1/second_tier/300', '1/2/supervisor/900']);
  });

  it('timers survive a restart: an Escalator started after the due time fires the overdue steps once', async () => {
    const a = alarm(1);
    await store.ingest(a, at(0));
    clock.advance(400_000); // the relay was down through both steps
    const restarted = escalator('relay-A-restarted');
    restarted.start();
    await restarted.stop();
    expect(fired).toEqual(['1/1/second_tier/60', '1/2/supervisor/180']);
    expect(announced.map((c) => c.at)).toEqual([at(400), at(400)]);

    const again = escalator('relay-A-again');
    again.start();
    await again.tick();
    expect(fired).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(1);
    await again.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs on its clock: started, it fires as time passes', async () => {
    const e = escalator('relay-A');
    e.start();
    await store.ingest(alarm(1), at(0));
    for (let s = 0; s < 200; s++) {
      clock.advance(1_000);
      await e.tick();
    }
    expect(fired).toEqual(['1/1/second_tier/60', '1/2/supervisor/180']);
  });

  it('a failing hook is counted and logged; the step stays fired', async () => {
    const e = new Escalator({
      store: timers,
      config,
      clock,
      logger: silentLogger(),
      counters,
      onEscalated: () => {
        throw new Error('pager down');
      },
    });
    escalators.push(e);
    const a = alarm(1);
    await store.ingest(a, at(0));
    clock.advance(60_000);
    expect(await e.tick()).toBe(1);
    expect(counters.get('escalation_hook_failures', { tier: 'second_tier' })).toBe(1);
    expect((await timers.forAlarm(a.id))[0]?.firedBy).toBe(e.owner);
  });

  if (factory.name === 'postgres') {
    it('two relay processes racing on two pools fire each step exactly once', async () => {
      const other = await connectAgain();
      const otherTimers = new EscalationStore(other, config);
      const alarms = Array.from({ length: 12 }, (_, i) => alarm(i + 1));
      for (const a of alarms) await store.ingest(a, at(0));
      const [x, y] = [escalator('relay-A'), escalator('relay-B', otherTimers)];
      clock.advance(200_000);
      // Both see the same due steps, in the same order, at the same moment; each follow-up look too.
      const rounds = await Promise.all([x.tick(), y.tick(), x.tick(), y.tick()]);
      expect(rounds.reduce((sum, n) => sum + n, 0)).toBe(alarms.length * 2);
      expect(await Promise.all([x.tick(), y.tick()])).toEqual([0, 0]);
      expect(fired).toHaveLength(alarms.length * 2);
      expect(new Set(fired).size).toBe(fired.length);
      const byStep = await db.all<{ n: number }>(
        `SELECT COUNT(*) AS n FROM alarm_events WHERE kind = 'escalated' GROUP BY alarm_id ORDER BY alarm_id`,
      );
      expect(byStep.map((r) => Number(r.n))).toEqual(alarms.map(() => 2));
    });

    it('an acknowledgement racing the escalator: the step fires before it or never', async () => {
      const other = await connectAgain();
      const otherStore = new SqlAlarmStore(other, { escalations: new EscalationStore(other, config) });
      const alarms = Array.from({ length: 10 }, (_, i) => alarm(i + 1));
      for (const a of alarms) await store.ingest(a, at(0));
      const e = escalator('relay-A');
      clock.advance(60_000);
      await Promise.all([e.tick(), ...alarms.map((a) => otherStore.acknowledge(a.id, 'op-1', at(60)))]);
      for (const a of alarms) {
        const events = (await store.timeline.forAlarm(a.id)).map((ev) => ev.kind);
        const step1 = (await timers.forAlarm(a.id))[0]!;
        // Either fired (its event before the acknowledgement) or cancelled by it; never both, never neither.
        expect(step1.firedAt === null).toBe(step1.cancelledAt !== null);
        if (step1.firedAt) expect(events.indexOf('escalated')).toBeLessThan(events.indexOf('acknowledged'));
        else expect(events).not.toContain('escalated');
      }
    });
  }
});
