import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredAlarm } from '../../../../cloud/alarms/alarm-store.js';
import type { EscalationHook } from '../../../../cloud/escalation/escalator.js';
import { AlarmNotifier, type AlarmNotifierOptions } from '../../../../cloud/notifications/alarm-notifier.js';
import { notificationsConfigSchema } from '../../../../cloud/notifications/config.js';
import { NotificationDispatcher } from '../../../../cloud/notifications/delivery-queue.js';
import type { DeliveryRecord } from '../../../../cloud/notifications/delivery-store.js';
import { MemoryDeliveryStore } from '../../../../cloud/notifications/memory-delivery-store.js';
import type {
  ChannelKind,
  DeliveryOutcome,
  Notification,
  NotificationChannel,
} from '../../../../cloud/notifications/notification.js';
import type { Bed } from '../../../../cloud/people/model.js';
import { ManualClock } from '../../../../common/clock.js';
import { Counters } from '../../../../common/counters.js';
import { createLogger } from '../../../../common/logger.js';

const START = Date.UTC(2026, 0, 1, 8, 3, 1);
const HOOK = 'https://care.example/hooks/homebed';
const SUPERVISOR = '+8613900000001';
const DAUGHTER = '+8613800000001';
const SON = '+8613800000002';

const POLICY = notificationsConfigSchema.parse({
  webhooks: [{ id: 'care-system', url: HOOK, secret: 'x'.repeat(16) }],
  policy: {
    tiers: {
      first_tier: [{ name: 'Care system', channel: 'webhook', address: HOOK }],
      supervisor: [{ name: 'Supervisor Wang', channel: 'sms', address: SUPERVISOR }],
    },
  },
}).policy;

const BED: Bed = {
  id: 'bed-0001',
  organisationId: 'org-1',
  residentName: '张桂英',
  address: '上海市徐汇区漕溪北路 88 弄 3 号 502 室',
  contacts: [
    { name: '李娜', relation: '女儿', phone: DAUGHTER, notify: true },
    { name: '李强', relation: '儿子', phone: SON, notify: true },
    { name: '王阿姨', relation: '邻居', phone: '+8613800000003', notify: false },
  ],
  riskTags: [],
  installDate: null,
  state: 'active',
  notes: null,
  createdAt: '2025-12-01T00:00:00.000Z',
  updatedAt: '2025-12-01T00:00:00.000Z',
};

function alarm(overrides: Partial<StoredAlarm> = {}): StoredAlarm {
  return {
    v: 1,
    id: '01946f2e-1c00-7a00-8000-000000000001',
    gatewayId: 'gw-1',
    bedId: 'bed-0001',
    seq: 7,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at: '2026-01-01T08:03:00.000Z',
    evidence: [],
    receivedAt: '2026-01-01T08:03:01.000Z',
    deliveries: 1,
    ...overrides,
  };
}

/** Records every send; answers `failed` for the addresses in `refuse`. */
class RecordingChannel implements NotificationChannel {
  constructor(
    readonly kind: ChannelKind,
    private readonly sent: Notification[],
    private readonly refuse: Set<string>,
  ) {}

  async send(n: Notification): Promise<DeliveryOutcome> {
    this.sent.push(n);
    return this.refuse.has(n.recipient.address)
      ? { status: 'failed', detail: 'number is barred' }
      : { status: 'delivered', detail: 'ok' };
  }
}

interface Rig {
  notifier: AlarmNotifier;
  dispatcher: NotificationDispatcher;
  store: MemoryDeliveryStore;
  sent: Notification[];
  outcomes: Array<{ record: DeliveryRecord; final: 'delivered' | 'failed' }>;
  logs: Array<Record<string, unknown>>;
  /** Let the dispatcher send everything due, and the notifier report it. */
  settle(): Promise<void>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.dispatcher.stop();
    await r.notifier.close();
  }
});

async function rig(
  options: {
    store?: MemoryDeliveryStore;
    loadBed?: AlarmNotifierOptions['loadBed'];
    onOutcome?: AlarmNotifierOptions['onOutcome'];
    refuse?: string[];
  } = {},
): Promise<Rig> {
  const clock = new ManualClock(START);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  });
  const store = options.store ?? new MemoryDeliveryStore();
  const sent: Notification[] = [];
  const refuse = new Set(options.refuse ?? []);
  const channels = Object.fromEntries(
    (['webhook', 'sms', 'voice'] as const).map((k) => [k, new RecordingChannel(k, sent, refuse)]),
  );
  const dispatcher = new NotificationDispatcher({
    store,
    channels,
    clock,
    logger,
    counters: new Counters(),
  });
  const outcomes: Rig['outcomes'] = [];
  const notifier = new AlarmNotifier({
    dispatcher,
    store,
    policy: POLICY,
    loadBed: options.loadBed ?? (async (id) => (id === BED.id ? BED : null)),
    onOutcome:
      options.onOutcome ??
      ((record, final) => {
        outcomes.push({ record, final });
      }),
    clock,
    logger,
  });
  await dispatcher.start();
  const r: Rig = {
    notifier,
    dispatcher,
    store,
    sent,
    outcomes,
    logs,
    async settle() {
      await dispatcher.idle();
      await notifier.idle();
    },
  };
  rigs.push(r);
  return r;
}

const who = (ns: Notification[]) => ns.map((n) => `${n.recipient.channel} ${n.recipient.address}`).sort();

describe('AlarmNotifier', () => {
  it('tells the first tier and the family of a new SOS, and reports each delivery', async () => {
    const r = await rig();
    expect(await r.notifier.onAlarmStored(alarm())).toEqual({
      planned: 5,
      inserted: 5,
      failed: 0,
      complete: true,
    });
    await r.settle();
    expect(who(r.sent)).toEqual(
      [`webhook ${HOOK}`, `sms ${DAUGHTER}`, `voice ${DAUGHTER}`, `sms ${SON}`, `voice ${SON}`].sort(),
    );
    expect(r.outcomes).toHaveLength(5);
    expect(r.outcomes.every((o) => o.final === 'delivered' && o.record.state === 'delivered')).toBe(true);
    expect(r.outcomes[0]?.record).toMatchObject({ attemptCount: 1, lastDetail: 'ok' });
    expect(new Set(r.outcomes.map((o) => o.record.notification.alarmId))).toEqual(new Set([alarm().id]));
    expect(r.logs.find((l) => l.msg === 'alarm notifications queued')).toMatchObject({
      alarmId: alarm().id,
      kind: 'alarm_raised',
      planned: 5,
      inserted: 5,
    });
  });

  it('enqueues nothing twice: again on this relay, or on a second relay sharing the store', async () => {
    const first = await rig();
    await first.notifier.onAlarmStored(alarm());
    await first.settle();
    expect(await first.notifier.onAlarmStored(alarm())).toMatchObject({ planned: 5, inserted: 0 });
    const second = await rig({ store: first.store });
    expect(await second.notifier.onAlarmStored(alarm())).toEqual({
      planned: 5,
      inserted: 0,
      failed: 0,
      complete: true,
    });
    await first.settle();
    await second.settle();
    expect(first.sent).toHaveLength(5);
    expect(second.sent).toHaveLength(0);
    expect(await first.store.list()).toHaveLength(5);
  });

  it('tells nobody of a cleared alarm or a warning', async () => {
    const r = await rig();
    expect(await r.notifier.onAlarmStored(alarm({ state: 'cleared' }))).toEqual({
      planned: 0,
      inserted: 0,
      failed: 0,
      complete: true,
    });
    expect(await r.notifier.onAlarmStored(alarm({ severity: 'warning' }))).toMatchObject({ planned: 0 });
    await r.settle();
    expect(r.sent).toEqual([]);
  });

  it('tells the tier an escalation step names, and warns when that tier is empty', async () => {
    const r = await rig();
    expect(await r.notifier.onEscalated(alarm(), { step: 1, tier: 'supervisor', afterS: 120 })).toMatchObject(
      { planned: 1, inserted: 1, complete: true },
    );
    await r.settle();
    expect(who(r.sent)).toEqual([`sms ${SUPERVISOR}`]);
    expect(r.sent[0]).toMatchObject({ kind: 'alarm_escalated', payload: { step: 1, tier: 'supervisor' } });
    expect(
      await r.notifier.onEscalated(alarm(), { step: 2, tier: 'second_tier', afterS: 300 }),
    ).toMatchObject({
      planned: 0,
      complete: true,
    });
    expect(
      r.logs.find(
        (l) =>
          l.msg ===
          'escalation step fired but its tier has no recipients configured: nobody new was brought in',
      ),
    ).toMatchObject({ level: 40, step: 2, tier: 'second_tier', alarmId: alarm().id });
  });

  it('fits the Escalator as its hook', async () => {
    const r = await rig();
    const hook: EscalationHook = async (a, step) => {
      await r.notifier.onEscalated(a, step);
    };
    await hook(alarm(), { step: 1, tier: 'supervisor', afterS: 60, renotify: false });
    await r.settle();
    expect(who(r.sent)).toEqual([`sms ${SUPERVISOR}`]);
  });

  it('reminds those told before on a renotify step, from the store', async () => {
    const r = await rig();
    await r.notifier.onAlarmStored(alarm({ type: 'fall_suspected' }));
    await r.settle();
    r.sent.splice(0);
    expect(
      await r.notifier.onEscalated(alarm(), { step: 1, tier: 'supervisor', afterS: 60, renotify: true }),
    ).toMatchObject({ planned: 2, inserted: 2, complete: true });
    await r.settle();
    expect(who(r.sent)).toEqual([`sms ${SUPERVISOR}`, `webhook ${HOOK}`].sort());
    expect(r.sent.every((n) => n.kind === 'alarm_escalated' && n.payload.step === 1)).toBe(true);
  });

  it('still brings the step’s tier in when the earlier deliveries cannot be read', async () => {
    const store = new MemoryDeliveryStore();
    store.list = async () => {
      throw new Error('connection refused');
    };
    const r = await rig({ store });
    expect(
      await r.notifier.onEscalated(alarm(), { step: 1, tier: 'supervisor', afterS: 60, renotify: true }),
    ).toEqual({ planned: 1, inserted: 1, failed: 0, complete: false });
    await r.settle();
    expect(who(r.sent)).toEqual([`sms ${SUPERVISOR}`]);
    expect(r.logs.find((l) => l.level === 50)?.msg).toBe(
      'reading the notifications of an alarm failed; the earlier recipients are not reminded',
    );
  });

  it('tells those who were told that the alarm was resolved, not those whose delivery failed', async () => {
    const r = await rig({ refuse: [SON] });
    await r.notifier.onAlarmStored(alarm());
    await r.notifier.onEscalated(alarm(), { step: 1, tier: 'supervisor', afterS: 120 });
    await r.settle();
    expect(
      r.outcomes.filter((o) => o.final === 'failed').map((o) => o.record.notification.recipient.address),
    ).toEqual([SON, SON]);
    r.sent.splice(0);
    const resolved = alarm({
      resolvedAt: '2026-01-01T08:10:00.000Z',
      resolvedBy: 'user-1',
      outcome: 'staff_visited',
    });
    expect(await r.notifier.onResolved(resolved)).toMatchObject({ planned: 3, inserted: 3, complete: true });
    await r.settle();
    expect(who(r.sent)).toEqual([`sms ${DAUGHTER}`, `sms ${SUPERVISOR}`, `webhook ${HOOK}`].sort());
    expect(r.sent.every((n) => n.kind === 'alarm_resolved')).toBe(true);
    expect(r.sent.find((n) => n.recipient.address === DAUGHTER)?.body).toContain('工作人员已上门查看');
  });

  it('reports a notification that failed for good, with its reason', async () => {
    const r = await rig({ refuse: [DAUGHTER] });
    await r.notifier.onAlarmStored(alarm({ type: 'fall_suspected' }));
    await r.settle();
    const failed = r.outcomes.filter((o) => o.final === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.record).toMatchObject({
      state: 'failed',
      lastDetail: 'number is barred',
      notification: { recipient: { channel: 'sms', address: DAUGHTER, name: '李娜（女儿）' } },
    });
  });

  it('still tells the tier when the bed cannot be loaded, and says it is incomplete', async () => {
    const r = await rig({
      loadBed: async () => {
        throw new Error('connection refused');
      },
    });
    expect(await r.notifier.onAlarmStored(alarm())).toEqual({
      planned: 1,
      inserted: 1,
      failed: 0,
      complete: false,
    });
    await r.settle();
    expect(who(r.sent)).toEqual([`webhook ${HOOK}`]);
    expect(r.logs.find((l) => l.level === 50)).toMatchObject({
      msg: 'loading the bed of an alarm failed; its family contacts are not notified',
      bedId: 'bed-0001',
    });
  });

  it('does not throw when the store cannot take a notification; calling again completes the job', async () => {
    const store = new MemoryDeliveryStore();
    const add = store.add.bind(store);
    let failures = 2;
    store.add = async (...args) => {
      if (failures-- > 0) throw new Error('database is locked');
      return add(...args);
    };
    const r = await rig({ store });
    expect(await r.notifier.onAlarmStored(alarm())).toEqual({
      planned: 5,
      inserted: 3,
      failed: 2,
      complete: false,
    });
    expect(await r.notifier.onAlarmStored(alarm())).toEqual({
      planned: 5,
      inserted: 2,
      failed: 0,
      complete: true,
    });
    await r.settle();
    expect(r.sent).toHaveLength(5);
  });

  it('says so when the earlier deliveries of a resolved alarm cannot be read', async () => {
    const store = new MemoryDeliveryStore();
    store.list = async () => {
      throw new Error('connection refused');
    };
    const r = await rig({ store });
    expect(await r.notifier.onResolved(alarm({ outcome: 'false_alarm' }))).toEqual({
      planned: 0,
      inserted: 0,
      failed: 0,
      complete: false,
    });
  });

  it('logs an outcome callback that fails, and stops reporting once closed', async () => {
    let calls = 0;
    const r = await rig({
      onOutcome: async () => {
        calls++;
        throw new Error('timeline write failed');
      },
    });
    await r.notifier.onAlarmStored(alarm({ type: 'fall_suspected' }));
    await r.settle();
    expect(calls).toBe(3);
    expect(r.logs.filter((l) => l.msg === 'reporting a notification outcome failed')).toHaveLength(3);
    await r.notifier.close();
    await r.notifier.onEscalated(alarm(), { step: 1, tier: 'supervisor', afterS: 120 });
    await r.settle();
    expect(r.sent).toHaveLength(4);
    expect(calls).toBe(3);
  });
});
