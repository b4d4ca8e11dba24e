import { describe, expect, it } from 'vitest';
import type { StoredAlarm } from '../../../../cloud/alarms/alarm-store.js';
import {
  type NotificationPolicyConfig,
  type NotificationsConfig,
  notificationsConfigSchema,
} from '../../../../cloud/notifications/config.js';
import type { DeliveryRecord, DeliveryState } from '../../../../cloud/notifications/delivery-store.js';
import { type Notification, notificationSchema } from '../../../../cloud/notifications/notification.js';
import {
  notificationsForEscalation,
  notificationsForRaised,
  notificationsForResolved,
  SMS_MAX_CHARS,
} from '../../../../cloud/notifications/notification-policy.js';
import { smsText } from '../../../../cloud/notifications/phone-channel.js';
import type { Bed } from '../../../../cloud/people/model.js';

const NOW = Date.UTC(2026, 0, 1, 8, 3, 30);
const HOOK = 'https://care.example/hooks/homebed';
const SUPERVISOR = '+8613900000001';
const NIGHT_NURSE = '+8613900000002';
const DAUGHTER = '+8613800000001';
const SON = '+8613800000002';
const NEIGHBOUR = '+8613800000003';

function config(policy: Record<string, unknown> = {}): NotificationPolicyConfig {
  const parsed: NotificationsConfig = notificationsConfigSchema.parse({
    webhooks: [{ id: 'care-system', url: HOOK, secret: 'x'.repeat(16) }],
    policy: {
      tiers: {
        first_tier: [{ name: 'Care system', channel: 'webhook', address: HOOK }],
        second_tier: [
          { name: 'Night nurse', channel: 'sms', address: NIGHT_NURSE },
          { name: 'Care system', channel: 'webhook', address: HOOK },
        ],
        supervisor: [{ name: 'Supervisor Wang', channel: 'voice', address: SUPERVISOR }],
      },
      ...policy,
    },
  });
  return parsed.policy;
}

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

function bed(overrides: Partial<Bed> = {}): Bed {
  return {
    id: 'bed-0001',
    organisationId: 'org-1',
    residentName: '张桂英',
    address: '上海市徐汇区漕溪北路 88 弄 3 号 502 室',
    contacts: [
      { name: '李娜', relation: '女儿', phone: DAUGHTER, notify: true },
      { name: '李强', relation: '儿子', phone: SON, notify: true },
      { name: '王阿姨', relation: '邻居', phone: NEIGHBOUR, notify: false },
    ],
    riskTags: ['独居'],
    installDate: '2025-12-01',
    state: 'active',
    notes: null,
    createdAt: '2025-12-01T00:00:00.000Z',
    updatedAt: '2025-12-01T00:00:00.000Z',
    ...overrides,
  };
}

const who = (ns: Notification[]) => ns.map((n) => `${n.recipient.channel} ${n.recipient.address}`);

function delivered(n: Notification, state: DeliveryState = 'delivered'): DeliveryRecord {
  return {
    notification: n,
    state,
    firstAttemptAt: n.createdAt,
    nextAttemptAt: state === 'pending' ? n.createdAt : null,
    attemptCount: state === 'pending' ? 0 : 1,
    lastAttemptAt: null,
    lastDetail: null,
  };
}

describe('notificationsForRaised', () => {
  it('tells the first tier and the family contacts marked notify of a critical alarm', () => {
    const ns = notificationsForRaised(alarm({ type: 'fall_suspected' }), bed(), config(), NOW);
    expect(who(ns)).toEqual([`webhook ${HOOK}`, `sms ${DAUGHTER}`, `sms ${SON}`]);
    expect(
      ns.every((n) => n.kind === 'alarm_raised' && n.alarmId === alarm().id && n.bedId === 'bed-0001'),
    ).toBe(true);
    expect(ns.map((n) => n.recipient.name)).toEqual(['Care system', '李娜（女儿）', '李强（儿子）']);
    expect(who(ns)).not.toContain(`sms ${NEIGHBOUR}`);
  });

  it('also calls the family for an SOS (and a confirmed fall), besides the SMS', () => {
    for (const type of ['sos_button', 'fall_confirmed'] as const) {
      const ns = notificationsForRaised(alarm({ type }), bed(), config(), NOW);
      expect(who(ns)).toEqual([
        `webhook ${HOOK}`,
        `sms ${DAUGHTER}`,
        `voice ${DAUGHTER}`,
        `sms ${SON}`,
        `voice ${SON}`,
      ]);
    }
    const voiceOnly = notificationsForRaised(alarm(), bed(), config({ family: { channel: 'voice' } }), NOW);
    expect(who(voiceOnly)).toEqual([`webhook ${HOOK}`, `voice ${DAUGHTER}`, `voice ${SON}`]);
  });

  it('tells nobody of a warning by default', () => {
    expect(notificationsForRaised(alarm({ severity: 'warning' }), bed(), config(), NOW)).toEqual([]);
    expect(notificationsForRaised(alarm({ severity: 'technical' }), bed(), config(), NOW)).toEqual([]);
  });

  it('follows the configured severities, tier and family severities separately', () => {
    const policy = config({ onRaised: { severities: ['critical', 'warning'], tier: 'second_tier' } });
    expect(who(notificationsForRaised(alarm({ severity: 'warning' }), bed(), policy, NOW))).toEqual([
      `sms ${NIGHT_NURSE}`,
      `webhook ${HOOK}`,
    ]);
    const familyToo = config({ family: { severities: ['warning'], alsoVoiceFor: [] } });
    expect(who(notificationsForRaised(alarm({ severity: 'warning' }), bed(), familyToo, NOW))).toEqual([
      `sms ${DAUGHTER}`,
      `sms ${SON}`,
    ]);
    const noFamily = config({ family: { severities: [] } });
    expect(who(notificationsForRaised(alarm(), bed(), noFamily, NOW))).toEqual([`webhook ${HOOK}`]);
  });

  it('never tells the family of a test alarm, and nobody of a cleared or cancelled one', () => {
    expect(who(notificationsForRaised(alarm({ type: 'test_alarm' }), bed(), config(), NOW))).toEqual([
      `webhook ${HOOK}`,
    ]);
    expect(notificationsForRaised(alarm({ state: 'cleared' }), bed(), config(), NOW)).toEqual([]);
    expect(notificationsForRaised(alarm({ state: 'cancelled' }), bed(), config(), NOW)).toEqual([]);
  });

  it('tells only the tier when the bed is unknown', () => {
    const [n, ...rest] = notificationsForRaised(alarm(), null, config(), NOW);
    expect(rest).toEqual([]);
    expect(n?.body).toContain('地址：未登记');
    expect(n?.payload.address).toBeNull();
  });

  it('tells a phone shared by two contacts once, and skips contacts without a phone', () => {
    const shared = bed({
      contacts: [
        { name: '李娜', relation: '女儿', phone: DAUGHTER, notify: true },
        { name: '李娜', relation: '', phone: DAUGHTER, notify: true },
        { name: '无号码', relation: '侄子', phone: '', notify: true },
      ],
    });
    const ns = notificationsForRaised(alarm({ type: 'fall_suspected' }), shared, config(), NOW);
    expect(who(ns)).toEqual([`webhook ${HOOK}`, `sms ${DAUGHTER}`]);
  });

  it('writes Chinese for people and an English payload; the tier sees bed and address, the family the name', () => {
    const [tier, family] = notificationsForRaised(alarm({ type: 'fall_suspected' }), bed(), config(), NOW);
    expect(tier).toMatchObject({
      subject: '【家床守护】紧急报警：疑似跌倒',
      body: '床位 bed-0001，地址：上海市徐汇区漕溪北路 88 弄 3 号 502 室。报警时间 01-01 16:03。请立即处理。',
      payload: {
        type: 'fall_suspected',
        severity: 'critical',
        bedId: 'bed-0001',
        alarmId: alarm().id,
        alarmAt: '2026-01-01T08:03:00.000Z',
        link: `/alarms/${alarm().id}`,
        audience: 'first_tier',
        address: '上海市徐汇区漕溪北路 88 弄 3 号 502 室',
      },
      createdAt: new Date(NOW).toISOString(),
    });
    expect(JSON.stringify(tier)).not.toContain('张桂英');
    expect(family).toMatchObject({
      subject: '【家床守护】张桂英的紧急报警：疑似跌倒',
      body: '时间 01-01 16:03。监护中心已收到并正在处理，请尽快联系张桂英或前往查看。',
      payload: { audience: 'family', bedId: 'bed-0001', link: `/alarms/${alarm().id}` },
    });
    expect(family?.payload).not.toHaveProperty('address');
    const warning = notificationsForRaised(
      alarm({ severity: 'warning', type: 'not_up_in_morning' }),
      bed(),
      config({ onRaised: { severities: ['warning'] } }),
      NOW,
    );
    expect(warning[0]).toMatchObject({ subject: '【家床守护】报警：早晨未起床' });
    expect(warning[0]?.body).toMatch(/请尽快处理。$/);
    const newYork = notificationsForRaised(alarm(), bed(), config({ timeZone: 'America/New_York' }), NOW);
    expect(newYork[0]?.body).toContain('报警时间 01-01 03:03');
  });
});

describe('notificationsForEscalation', () => {
  it('tells the tier the step names, with the step in the payload', () => {
    const second = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 1, tier: 'second_tier', afterS: 120 },
      config(),
      NOW,
    );
    expect(who(second)).toEqual([`sms ${NIGHT_NURSE}`, `webhook ${HOOK}`]);
    expect(second[0]).toMatchObject({
      kind: 'alarm_escalated',
      subject: '【家床守护】报警升级：SOS 紧急呼叫 2 分钟无人受理',
      body: '床位 bed-0001，地址：上海市徐汇区漕溪北路 88 弄 3 号 502 室。报警时间 01-01 16:03，2 分钟内无人受理（第 1 级升级）。请立即跟进。',
      payload: { step: 1, tier: 'second_tier', afterS: 120, audience: 'second_tier', type: 'sos_button' },
    });
    const supervisor = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 2, tier: 'supervisor', afterS: 90 },
      config(),
      NOW,
    );
    expect(who(supervisor)).toEqual([`voice ${SUPERVISOR}`]);
    expect(supervisor[0]?.subject).toContain('90 秒无人受理');
    expect(supervisor[0]?.payload).toMatchObject({ step: 2, tier: 'supervisor', audience: 'supervisor' });
  });

  it('tells nobody for a tier without recipients, or one not configured', () => {
    const policy = config({ tiers: { supervisor: [] } });
    expect(
      notificationsForEscalation(alarm(), bed(), { step: 3, tier: 'supervisor', afterS: 600 }, policy, NOW),
    ).toEqual([]);
    expect(
      notificationsForEscalation(alarm(), bed(), { step: 1, tier: 'night_team', afterS: 60 }, config(), NOW),
    ).toEqual([]);
    expect(
      notificationsForEscalation(alarm(), bed(), { step: 1, tier: 'constructor', afterS: 60 }, config(), NOW),
    ).toEqual([]);
  });

  it('tells a tier configured beside the three', () => {
    const policy = config({
      tiers: {
        first_tier: [],
        night_team: [{ name: 'Night team', channel: 'sms', address: NIGHT_NURSE }],
      },
    });
    const ns = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 1, tier: 'night_team', afterS: 60 },
      policy,
      NOW,
    );
    expect(who(ns)).toEqual([`sms ${NIGHT_NURSE}`]);
    expect(ns[0]?.payload).toMatchObject({ audience: 'night_team', tier: 'night_team' });
  });

  it('reminds those told before when the step says renotify, not the family and not failed ones', () => {
    const raised = notificationsForRaised(alarm(), bed(), config(), NOW).map((n) => delivered(n));
    const step1 = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 1, tier: 'second_tier', afterS: 60, renotify: true },
      config(),
      NOW + 60_000,
      raised,
    );
    // The care system's webhook is in first_tier and second_tier: told once.
    expect(who(step1)).toEqual([`sms ${NIGHT_NURSE}`, `webhook ${HOOK}`]);
    const prior = [
      ...raised,
      ...step1.map((n) => delivered(n, n.recipient.channel === 'sms' ? 'failed' : 'delivered')),
    ].reverse(); // as the store lists them: newest first
    const step2 = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 2, tier: 'supervisor', afterS: 180, renotify: true },
      config(),
      NOW + 180_000,
      prior,
    );
    // The night nurse's SMS failed: not again. The webhook is reminded, as first_tier (told first so).
    expect(who(step2)).toEqual([`voice ${SUPERVISOR}`, `webhook ${HOOK}`]);
    expect(step2[1]?.payload).toMatchObject({ step: 2, tier: 'supervisor', audience: 'first_tier' });
    const quiet = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 2, tier: 'supervisor', afterS: 180, renotify: false },
      config(),
      NOW + 180_000,
      prior,
    );
    expect(who(quiet)).toEqual([`voice ${SUPERVISOR}`]);
  });
});

describe('notificationsForResolved', () => {
  const resolvedAlarm = alarm({
    resolvedAt: '2026-01-01T08:10:00.000Z',
    resolvedBy: 'user-1',
    outcome: 'resident_fine_by_phone',
  });

  function history(): DeliveryRecord[] {
    const raised = notificationsForRaised(alarm(), bed(), config(), NOW);
    const escalated = notificationsForEscalation(
      alarm(),
      bed(),
      { step: 1, tier: 'supervisor', afterS: 120 },
      config(),
      NOW + 120_000,
    );
    return [...raised, ...escalated].map((n) =>
      // The son's SMS could not be delivered (bad number); his call is still being tried.
      delivered(
        n,
        n.recipient.address === SON && n.recipient.channel === 'sms'
          ? 'failed'
          : n.recipient.address === SON
            ? 'pending'
            : 'delivered',
      ),
    );
  }

  it('tells those who were told, phones by SMS, once per address', () => {
    const ns = notificationsForResolved(resolvedAlarm, bed(), history(), config(), NOW + 600_000);
    expect(who(ns)).toEqual([`webhook ${HOOK}`, `sms ${DAUGHTER}`, `sms ${SON}`, `sms ${SUPERVISOR}`]);
    expect(ns.every((n) => n.kind === 'alarm_resolved')).toBe(true);
    const daughter = ns.find((n) => n.recipient.address === DAUGHTER);
    expect(daughter).toMatchObject({
      recipient: { name: '李娜（女儿）', channel: 'sms', address: DAUGHTER },
      subject: '【家床守护】张桂英的报警已处理',
      body: 'SOS 紧急呼叫（01-01 16:03）已由监护中心处理完毕，结果：电话确认老人平安。',
      payload: {
        audience: 'family',
        outcome: 'resident_fine_by_phone',
        resolvedAt: '2026-01-01T08:10:00.000Z',
      },
    });
    expect(ns.find((n) => n.recipient.address === SUPERVISOR)).toMatchObject({
      recipient: { name: 'Supervisor Wang', channel: 'sms' },
      subject: '【家床守护】报警已处理：SOS 紧急呼叫',
      payload: { audience: 'supervisor', address: bed().address },
    });
  });

  it('tells no family contact that was not told before', () => {
    const onlyDaughter = history().filter(
      (d) => d.notification.recipient.address !== SON && d.notification.payload.audience === 'family',
    );
    const ns = notificationsForResolved(resolvedAlarm, bed(), onlyDaughter, config(), NOW);
    expect(who(ns)).toEqual([`sms ${DAUGHTER}`]);
    // The neighbour (notify: false) was never told, so is not now; nor anyone about another alarm.
    const other = history().map((d) => ({ ...d, notification: { ...d.notification, alarmId: 'another' } }));
    expect(notificationsForResolved(resolvedAlarm, bed(), other, config(), NOW)).toEqual([]);
    expect(notificationsForResolved(resolvedAlarm, bed(), [], config(), NOW)).toEqual([]);
  });

  it('can leave the family or the tiers out', () => {
    const noFamily = config({ onResolved: { family: false } });
    expect(who(notificationsForResolved(resolvedAlarm, bed(), history(), noFamily, NOW))).toEqual([
      `webhook ${HOOK}`,
      `sms ${SUPERVISOR}`,
    ]);
    const noTiers = config({ onResolved: { tiers: false } });
    expect(who(notificationsForResolved(resolvedAlarm, bed(), history(), noTiers, NOW))).toEqual([
      `sms ${DAUGHTER}`,
      `sms ${SON}`,
    ]);
  });

  it('still closes the loop without the bed record', () => {
    const ns = notificationsForResolved(resolvedAlarm, null, history(), config(), NOW);
    expect(ns.find((n) => n.recipient.address === DAUGHTER)?.subject).toBe('【家床守护】您家人的报警已处理');
  });
});

describe('notification ids', () => {
  it('are the same for the same alarm, recipient, kind and step, whenever and wherever made', () => {
    const first = notificationsForRaised(alarm(), bed(), config(), NOW);
    const again = notificationsForRaised(alarm(), bed(), config(), NOW + 5_000);
    expect(again.map((n) => n.id)).toEqual(first.map((n) => n.id));
    expect(new Set(first.map((n) => n.id)).size).toBe(first.length);
    const step = { step: 1, tier: 'second_tier', afterS: 120 } as const;
    const e1 = notificationsForEscalation(alarm(), bed(), step, config(), NOW);
    const e1again = notificationsForEscalation(alarm(), null, step, config(), NOW + 1);
    const e2 = notificationsForEscalation(alarm(), bed(), { ...step, step: 2 }, config(), NOW);
    expect(e1again.map((n) => n.id)).toEqual(e1.map((n) => n.id));
    expect(e2.map((n) => n.id)).not.toEqual(e1.map((n) => n.id));
    // The care system's webhook hears of the raise and of the escalation: two notifications.
    expect(e1[1]?.recipient.address).toBe(HOOK);
    expect(e1[1]?.id).not.toBe(first[0]?.id);
    const otherAlarm = notificationsForRaised(
      alarm({ id: '01946f2e-1c00-7a00-8000-000000000002' }),
      bed(),
      config(),
      NOW,
    );
    expect(otherAlarm.map((n) => n.id).some((id) => first.some((f) => f.id === id))).toBe(false);
  });

  it('are UUID-shaped (version 8) and pass the notification schema', () => {
    for (const n of notificationsForRaised(alarm(), bed(), config(), NOW)) {
      expect(n.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(notificationSchema.safeParse(n).success).toBe(true);
    }
  });
});

describe('SMS length', () => {
  it(`keeps every SMS within ${SMS_MAX_CHARS} characters, however long the bed's texts`, () => {
    const long = bed({
      residentName: '欧阳'.repeat(30),
      address: '北京市朝阳区'.repeat(60),
      contacts: [{ name: '长'.repeat(300), relation: '女儿', phone: DAUGHTER, notify: true }],
    });
    const policy = config({
      tiers: { first_tier: [{ name: 'Night nurse', channel: 'sms', address: NIGHT_NURSE }] },
    });
    const all = [
      ...notificationsForRaised(alarm({ type: 'bed_exit_no_return' }), long, policy, NOW),
      ...notificationsForEscalation(
        alarm(),
        long,
        { step: 12, tier: 'first_tier', afterS: 86_400 },
        policy,
        NOW,
      ),
    ];
    const resolved = notificationsForResolved(
      alarm({ outcome: 'resident_fine_by_phone' }),
      long,
      all.map((n) => delivered(n)),
      policy,
      NOW,
    );
    const sms = [...all, ...resolved].filter((n) => n.recipient.channel === 'sms');
    expect(sms.length).toBe(5); // raised: nurse, daughter; escalated: nurse; resolved: nurse, daughter
    for (const n of sms) {
      expect(smsText(n).length).toBeLessThanOrEqual(SMS_MAX_CHARS);
      expect(n.subject.length).toBeLessThanOrEqual(200);
    }
    expect(sms.map((n) => n.recipient.name.length).every((l) => l <= 200)).toBe(true);
    // The ordinary case fits whole, with no cut.
    for (const n of notificationsForRaised(alarm(), bed(), config(), NOW)) {
      if (n.recipient.channel === 'sms') expect(smsText(n)).not.toContain('…');
    }
  });
});
