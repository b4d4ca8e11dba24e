import type { StoredAlarm } from '../alarms/alarm-store.js';
import type { Bed } from '../people/model.js';
import { ALARM_TYPE_LABELS, durationLabel, localTime, OUTCOME_LABELS } from './alarm-labels.js';
import {
  FAMILY_AUDIENCE,
  type NotificationPolicyConfig,
  type NotificationTier,
  tierRecipients,
} from './config.js';
import type { DeliveryRecord } from './delivery-store.js';
import type { JsonObject, Notification, NotificationKind, Recipient } from './notification.js';
import { parseNotification } from './notification.js';
import { notificationIdFor } from './notification-id.js';

/**
 * Who is told what about an alarm: pure functions from an alarm, its bed and the policy
 * configuration to the notifications to enqueue. They decide nothing about delivery (the dispatcher
 * does) and read nothing (the caller loads the bed and the earlier deliveries). Ids are derived from
 * (alarm, kind, step, recipient), so calling again — on another relay, or after a crash — yields the
 * same notifications and the store keeps one of each.
 *
 * Texts are Chinese for people; `payload` is English and machine-readable, for webhook receivers.
 * Tier messages name the bed and its address, never the resident; family messages name the resident
 * (the family knows them) and not the address.
 */

/** One step of an alarm's escalation as it fires (cloud/escalation's `EscalationStep` is one). */
export interface EscalationStepInfo {
  /** 1 for the first escalation, 2 for the next, … */
  step: number;
  /** The tier brought in: a tier of `policy.tiers` (an unknown one has no recipients). */
  tier: NotificationTier;
  /** Seconds after the alarm was stored at which this step fires. */
  afterS: number;
  /** Also tell again the tier recipients told of this alarm before (an unanswered alarm nags). */
  renotify?: boolean;
}

/**
 * Who a notification was for (`family`, or a tier's name); stored in its payload so later steps and
 * the resolution can find them again.
 */
export type Audience = string;

/** The alarm fields the policy reads (a `StoredAlarm` has them all). */
export type PolicyAlarm = Pick<StoredAlarm, 'id' | 'bedId' | 'type' | 'severity' | 'state' | 'at'> &
  Partial<Pick<StoredAlarm, 'outcome' | 'resolvedAt'>>;

/** SMS vendors split longer messages (and charge per part); subject, new line and body fit in this. */
export const SMS_MAX_CHARS = 200;
const BRAND = '【家床守护】';
/** Caps on free text from the bed record, so one long field cannot push the rest out of an SMS. */
const NAME_MAX = 20;
const ADDRESS_MAX = 60;
const BED_ID_MAX = 64;
const PRIOR_KINDS: ReadonlySet<NotificationKind> = new Set(['alarm_raised', 'alarm_escalated']);

/**
 * A new alarm (`state: 'raised'`): the `onRaised.tier` recipients if its severity is in
 * `onRaised.severities`; the bed's contacts marked `notify` by `family.channel` if its severity is in
 * `family.severities` (and by voice too for `family.alsoVoiceFor` types). Test alarms never reach
 * family. Cleared and cancelled messages notify nobody. Without a bed (unknown to the centre) only
 * the tier is told.
 */
export function notificationsForRaised(
  alarm: PolicyAlarm,
  bed: Bed | null,
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification[] {
  if (alarm.state !== 'raised') return [];
  const out: Notification[] = [];
  if (config.onRaised.severities.includes(alarm.severity)) {
    const tier = config.onRaised.tier;
    for (const recipient of tierRecipients(config, tier)) {
      out.push(tierNotification(alarm, bed, recipient, tier, 'alarm_raised', null, config, nowMs));
    }
  }
  if (bed && alarm.type !== 'test_alarm' && config.family.severities.includes(alarm.severity)) {
    const channels = new Set<'sms' | 'voice'>([config.family.channel]);
    if (config.family.alsoVoiceFor.includes(alarm.type)) channels.add('voice');
    for (const contact of bed.contacts) {
      if (!contact.notify || !contact.phone) continue;
      const who = contact.name || '紧急联系人';
      for (const channel of channels) {
        const recipient: Recipient = {
          name: (contact.relation ? `${who}（${contact.relation}）` : who).slice(0, 200),
          channel,
          address: contact.phone,
        };
        out.push(familyRaised(alarm, bed, recipient, config, nowMs));
      }
    }
  }
  return unique(out);
}

/**
 * An escalation step fired: every recipient of the tier it names (none if that tier is empty or not
 * configured). With `step.renotify`, also every tier recipient told of the alarm before
 * (`priorDeliveries`, as for `notificationsForResolved`) whose delivery has not failed, on the same
 * channel: whoever was brought in earlier is reminded. Family contacts are not escalated to.
 */
export function notificationsForEscalation(
  alarm: PolicyAlarm,
  bed: Bed | null,
  step: EscalationStepInfo,
  config: NotificationPolicyConfig,
  nowMs: number,
  priorDeliveries: readonly DeliveryRecord[] = [],
): Notification[] {
  const out = tierRecipients(config, step.tier).map((recipient) =>
    tierNotification(alarm, bed, recipient, step.tier, 'alarm_escalated', step, config, nowMs),
  );
  if (step.renotify) {
    for (const { recipient, audience } of toldBefore(alarm, priorDeliveries)) {
      if (audience === FAMILY_AUDIENCE) continue;
      out.push(tierNotification(alarm, bed, recipient, audience, 'alarm_escalated', step, config, nowMs));
    }
  }
  return unique(out);
}

/**
 * The alarm was resolved: everyone who was told of it (`priorDeliveries`: the alarm's deliveries,
 * e.g. `DeliveryStore.list({ alarmId })`) and whose delivery has not failed hears the outcome — family
 * (if `onResolved.family`) and tier recipients (if `onResolved.tiers`); phones by SMS (a call to say
 * all is well would alarm more than it reassures), webhooks by webhook. One message per address.
 */
export function notificationsForResolved(
  alarm: PolicyAlarm,
  bed: Bed | null,
  priorDeliveries: readonly DeliveryRecord[],
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification[] {
  const out: Notification[] = [];
  for (const { recipient: told, audience } of toldBefore(alarm, priorDeliveries)) {
    const family = audience === FAMILY_AUDIENCE;
    if (family ? !config.onResolved.family : !config.onResolved.tiers) continue;
    const recipient: Recipient = { ...told, channel: told.channel === 'webhook' ? 'webhook' : 'sms' };
    out.push(
      family
        ? familyResolved(alarm, bed, recipient, config, nowMs)
        : tierResolved(alarm, bed, recipient, audience, config, nowMs),
    );
  }
  return unique(out);
}

/** Who a stored notification was for, from its payload; null for one the policy did not make. */
export function audienceOf(n: Notification): Audience | null {
  const audience = n.payload.audience;
  return typeof audience === 'string' && audience.length > 0 ? audience : null;
}

/** The recipients told of this alarm (raised or escalated) whose delivery has not failed, with their audience. */
function toldBefore(
  alarm: PolicyAlarm,
  priorDeliveries: readonly DeliveryRecord[],
): Array<{ recipient: Recipient; audience: Audience }> {
  // Oldest first (a stable sort: ties keep their order), so messages follow the order people were told.
  const sorted = [...priorDeliveries].sort((a, b) =>
    a.firstAttemptAt < b.firstAttemptAt ? -1 : a.firstAttemptAt > b.firstAttemptAt ? 1 : 0,
  );
  const told: Array<{ recipient: Recipient; audience: Audience }> = [];
  for (const prior of sorted) {
    const n = prior.notification;
    if (n.alarmId !== alarm.id || !PRIOR_KINDS.has(n.kind) || prior.state === 'failed') continue;
    const audience = audienceOf(n);
    if (audience !== null) told.push({ recipient: n.recipient, audience });
  }
  return told;
}

function tierNotification(
  alarm: PolicyAlarm,
  bed: Bed | null,
  recipient: Recipient,
  tier: NotificationTier,
  kind: 'alarm_raised' | 'alarm_escalated',
  step: EscalationStepInfo | null,
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification {
  const label = ALARM_TYPE_LABELS[alarm.type];
  const where = whereText(alarm, bed);
  const time = localTime(alarm.at, config.timeZone);
  const urgent = alarm.severity === 'critical';
  let subject: string;
  let body: string;
  if (step === null) {
    subject = `${BRAND}${urgent ? '紧急' : ''}报警：${label}`;
    body = `${where}。报警时间 ${time}。请${urgent ? '立即' : '尽快'}处理。`;
  } else {
    const after = durationLabel(step.afterS);
    subject = `${BRAND}报警升级：${label} ${after}无人受理`;
    body = `${where}。报警时间 ${time}，${after}内无人受理（第 ${step.step} 级升级）。请立即跟进。`;
  }
  const payload: JsonObject = {
    ...basePayload(alarm, tier),
    address: bed?.address ?? null,
    // `tier` is the step's; `audience` says which tier this recipient belongs to (differs on a renotify).
    ...(step ? { step: step.step, tier: step.tier, afterS: step.afterS } : {}),
  };
  return build(alarm, recipient, kind, step?.step ?? null, subject, body, payload, nowMs);
}

function tierResolved(
  alarm: PolicyAlarm,
  bed: Bed | null,
  recipient: Recipient,
  tier: NotificationTier,
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification {
  const label = ALARM_TYPE_LABELS[alarm.type];
  const subject = `${BRAND}报警已处理：${label}`;
  const body = `${whereText(alarm, bed)}。报警时间 ${localTime(alarm.at, config.timeZone)}，处理结果：${outcomeText(alarm)}。`;
  const payload: JsonObject = {
    ...basePayload(alarm, tier),
    address: bed?.address ?? null,
    ...resolution(alarm),
  };
  return build(alarm, recipient, 'alarm_resolved', null, subject, body, payload, nowMs);
}

function familyRaised(
  alarm: PolicyAlarm,
  bed: Bed,
  recipient: Recipient,
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification {
  const name = clip(bed.residentName, NAME_MAX);
  const urgent = alarm.severity === 'critical';
  const subject = `${BRAND}${name}的${urgent ? '紧急' : ''}报警：${ALARM_TYPE_LABELS[alarm.type]}`;
  const body = `时间 ${localTime(alarm.at, config.timeZone)}。监护中心已收到并正在处理，请尽快联系${name}或前往查看。`;
  return build(
    alarm,
    recipient,
    'alarm_raised',
    null,
    subject,
    body,
    basePayload(alarm, FAMILY_AUDIENCE),
    nowMs,
  );
}

function familyResolved(
  alarm: PolicyAlarm,
  bed: Bed | null,
  recipient: Recipient,
  config: NotificationPolicyConfig,
  nowMs: number,
): Notification {
  const name = bed ? clip(bed.residentName, NAME_MAX) : '您家人';
  const subject = `${BRAND}${name}的报警已处理`;
  const body = `${ALARM_TYPE_LABELS[alarm.type]}（${localTime(alarm.at, config.timeZone)}）已由监护中心处理完毕，结果：${outcomeText(alarm)}。`;
  const payload: JsonObject = { ...basePayload(alarm, FAMILY_AUDIENCE), ...resolution(alarm) };
  return build(alarm, recipient, 'alarm_resolved', null, subject, body, payload, nowMs);
}

function whereText(alarm: PolicyAlarm, bed: Bed | null): string {
  return `床位 ${clip(alarm.bedId, BED_ID_MAX)}，地址：${bed ? clip(bed.address, ADDRESS_MAX) : '未登记'}`;
}

function outcomeText(alarm: PolicyAlarm): string {
  return alarm.outcome ? OUTCOME_LABELS[alarm.outcome] : '已处理';
}

function basePayload(alarm: PolicyAlarm, audience: Audience): JsonObject {
  return {
    type: alarm.type,
    severity: alarm.severity,
    bedId: alarm.bedId,
    alarmId: alarm.id,
    alarmAt: alarm.at,
    link: `/alarms/${alarm.id}`,
    audience,
  };
}

function resolution(alarm: PolicyAlarm): JsonObject {
  return { outcome: alarm.outcome ?? null, resolvedAt: alarm.resolvedAt ?? null };
}

function build(
  alarm: PolicyAlarm,
  recipient: Recipient,
  kind: NotificationKind,
  step: number | null,
  subject: string,
  body: string,
  payload: JsonObject,
  nowMs: number,
): Notification {
  return parseNotification({
    id: notificationIdFor({ alarmId: alarm.id, kind, step, recipient }),
    kind,
    alarmId: alarm.id,
    bedId: alarm.bedId,
    recipient,
    subject,
    body: recipient.channel === 'sms' ? fitSms(subject, body) : body,
    payload,
    createdAt: new Date(nowMs).toISOString(),
  });
}

/** The body cut so that `subject\nbody` (what `smsText` sends) is at most `SMS_MAX_CHARS`. */
function fitSms(subject: string, body: string): string {
  const room = SMS_MAX_CHARS - subject.length - 1;
  return body.length <= room ? body : clip(body, Math.max(room, 0));
}

function clip(text: string, max: number): string {
  if (max <= 0) return '';
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One notification per id: the same address twice (two contacts sharing a phone) is told once. */
function unique(notifications: Notification[]): Notification[] {
  const seen = new Set<string>();
  return notifications.filter((n) => !seen.has(n.id) && seen.add(n.id));
}
