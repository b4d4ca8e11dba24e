import { z } from 'zod';
import { httpUrlSchema, timeZoneSchema } from '../../common/config/shared-schemas.js';
import { ALARM_TYPES, SEVERITIES } from '../../contract/alarm-vocabulary.js';
import { recipientSchema } from './notification.js';
import { isE164 } from './phone-channel.js';

/**
 * Configuration of the notification channels, the delivery retries and the policy of who is told
 * what (docs/notifications.md). Meant to be mounted into the cloud config as `notifications`.
 */

/**
 * Groups of people (or systems) told about alarms. An escalation step names one (its `tier`, free
 * text in the escalation config, so the names follow the same pattern); `first_tier` is also who
 * hears of a new alarm (`policy.onRaised`). These three always exist (empty by default); more can be
 * configured beside them.
 */
export const NOTIFICATION_TIERS = ['first_tier', 'second_tier', 'supervisor'] as const;
/** A tier's name: one of `NOTIFICATION_TIERS` or another configured one. */
export type NotificationTier = string;
export const TIER_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** The audience of family notifications, so no tier may be called so. */
export const FAMILY_AUDIENCE = 'family';

const tierRecipientsSchema = (who: string) =>
  z
    .array(recipientSchema)
    .default([])
    .describe(
      `${who}: each { name, channel: webhook | sms | voice, address } (a configured webhook URL, or an E.164 phone number).`,
    );

export const notificationPolicySchema = z
  .object({
    tiers: z
      .object({
        first_tier: tierRecipientsSchema(
          'Told of every new alarm of `onRaised.severities` (e.g. the care system beside the console)',
        ),
        second_tier: tierRecipientsSchema('Told when an escalation step names `second_tier`'),
        supervisor: tierRecipientsSchema('Told when an escalation step names `supervisor`'),
      })
      .catchall(z.array(recipientSchema))
      .superRefine((tiers, ctx) => {
        for (const name of Object.keys(tiers)) {
          if (!TIER_NAME_PATTERN.test(name) || name === FAMILY_AUDIENCE) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message:
                'a tier name is lower-case letters, digits and _, starting with a letter, and not "family"',
            });
          }
        }
      })
      .prefault({})
      .describe(
        'Recipients by tier; tiers other than these three may be added for escalation steps that name them.',
      ),
    onRaised: z
      .object({
        severities: z
          .array(z.enum(SEVERITIES))
          .default(['critical'])
          .describe('A new alarm of these severities is sent to the tier below.'),
        tier: z
          .string()
          .regex(TIER_NAME_PATTERN, 'lower-case letters, digits and _, starting with a letter')
          .default('first_tier')
          .describe('Who hears of a new alarm: a tier of `tiers`.'),
      })
      .prefault({})
      .describe('New alarms: which ones, to whom (family: see `family`).'),
    family: z
      .object({
        severities: z
          .array(z.enum(SEVERITIES))
          .default(['critical'])
          .describe(
            'A new alarm of these severities is sent to the bed’s emergency contacts marked `notify` (never a test alarm).',
          ),
        channel: z.enum(['sms', 'voice']).default('sms').describe('How family contacts are told.'),
        alsoVoiceFor: z
          .array(z.enum(ALARM_TYPES))
          .default(['sos_button', 'fall_confirmed'])
          .describe('Alarm types for which family contacts are also called (voice), besides the SMS.'),
      })
      .prefault({})
      .describe('Family and other emergency contacts of the bed.'),
    onResolved: z
      .object({
        family: z
          .boolean()
          .default(true)
          .describe('Send an SMS to the family contacts who were told of the alarm when it is resolved.'),
        tiers: z
          .boolean()
          .default(true)
          .describe(
            'Tell the tier recipients who were told of the alarm when it is resolved (phones by SMS, webhooks as before).',
          ),
      })
      .prefault({})
      .describe('Closing the loop: who hears that an alarm was resolved.'),
    timeZone: timeZoneSchema
      .default('Asia/Shanghai')
      .describe('Times in messages are local times of this IANA zone.'),
  })
  .prefault({})
  .describe('Who is told what about alarms (escalation steps name the tier they notify).');

export type NotificationPolicyConfig = z.output<typeof notificationPolicySchema>;

/** A tier's recipients; none for a tier that is not configured (the caller says so in its log). */
export function tierRecipients(policy: NotificationPolicyConfig, tier: NotificationTier) {
  return Object.hasOwn(policy.tiers, tier) ? (policy.tiers[tier] ?? []) : [];
}

export const webhookEndpointSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
    .describe('Name of the receiver, used in logs and attempt details.'),
  url: httpUrlSchema.describe(
    'Where notifications are POSTed (https in production). A webhook recipient’s address must be this URL.',
  ),
  secret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe('HMAC-SHA256 key of the `x-homebed-signature` header; shared with the receiver. Never logged.'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5_000)
    .describe('An attempt without an answer in this time is retried.'),
});

export type WebhookEndpointConfig = z.output<typeof webhookEndpointSchema>;

export const notificationsConfigSchema = z
  .object({
    webhooks: z
      .array(webhookEndpointSchema)
      .default([])
      .superRefine((hooks, ctx) => {
        const ids = new Set<string>();
        const urls = new Set<string>();
        for (const [i, hook] of hooks.entries()) {
          if (ids.has(hook.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'duplicate webhook id' });
          ids.add(hook.id);
          let url = hook.url;
          try {
            url = new URL(hook.url).href;
          } catch {
            // httpUrlSchema reports it
          }
          if (urls.has(url)) {
            ctx.addIssue({ code: 'custom', path: [i, 'url'], message: 'duplicate webhook url' });
          }
          urls.add(url);
        }
      })
      .describe('Webhook receivers (care systems, chat bridges, …).'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(8)
      .describe('Attempts per notification before it is marked failed.'),
    initialRetryMs: z
      .number()
      .int()
      .min(100)
      .default(2_000)
      .describe(
        'Wait before the second attempt; doubles after each failure up to maxRetryMs (±20 % jitter).',
      ),
    maxRetryMs: z
      .number()
      .int()
      .min(1_000)
      .default(300_000)
      .describe('Longest wait between attempts; also caps a receiver’s Retry-After.'),
    giveUpAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(3_600_000)
      .describe(
        'No attempt is scheduled later than this after the first one: the notification is marked failed instead.',
      ),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Deliveries in flight at once.'),
    policy: notificationPolicySchema,
  })
  .refine((c) => c.initialRetryMs <= c.maxRetryMs, {
    message: 'initialRetryMs must not exceed maxRetryMs',
    path: ['initialRetryMs'],
  })
  .superRefine((c, ctx) => {
    // A bad address would only show as a failed delivery during an alarm: refuse it at start instead.
    const endpoints = new Set(c.webhooks.map((w) => normalUrl(w.url)));
    if (!Object.hasOwn(c.policy.tiers, c.policy.onRaised.tier)) {
      ctx.addIssue({
        code: 'custom',
        path: ['policy', 'onRaised', 'tier'],
        message: 'not a tier of policy.tiers',
      });
    }
    for (const [tier, recipients] of Object.entries(c.policy.tiers)) {
      for (const [i, r] of recipients.entries()) {
        const path = ['policy', 'tiers', tier, i, 'address'];
        if (r.channel === 'webhook' && !endpoints.has(normalUrl(r.address))) {
          ctx.addIssue({ code: 'custom', path, message: 'not the url of a configured webhook' });
        } else if (r.channel !== 'webhook' && !isE164(r.address)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: 'must be an E.164 phone number, e.g. +8613800138000',
          });
        }
      }
    }
  })
  .prefault({})
  .describe('Notifying people (staff, supervisors, family) about alarms: channels and retries.');

export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;

function normalUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
