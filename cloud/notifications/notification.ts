import { z } from 'zod';
import { HomebedError } from '../../common/errors.js';
import { uuidv7 } from '../../common/ids.js';

/**
 * Notifications tell people outside the monitoring centre (second-tier staff, supervisors, family
 * contacts) about alarms. They are delivered at least once by `NotificationDispatcher` through a
 * `NotificationChannel` per channel kind; every attempt is recorded in a `DeliveryStore`.
 */

export const NOTIFICATION_KINDS = [
  'alarm_raised',
  'alarm_escalated',
  'alarm_acknowledged',
  'alarm_resolved',
  'gateway_offline',
  'test',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const CHANNEL_KINDS = ['webhook', 'sms', 'voice'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const recipientSchema = z.object({
  /** Who, for people reading the delivery log ("Supervisor Wang", "Daughter", "Care-system webhook"). */
  name: z.string().min(1).max(200).describe('Who, for people reading the delivery log.'),
  channel: z.enum(CHANNEL_KINDS).describe('How they are reached.'),
  /**
   * A webhook's URL (must be one of the configured endpoints, whose secret signs it) or an E.164 phone
   * number (`+8613800138000`) for `sms` and `voice`. Checked by the channel when sending: a bad address
   * is a recorded, logged permanent failure, not an exception at enqueue time.
   */
  address: z
    .string()
    .min(1)
    .max(2048)
    .describe('A configured webhook URL, or an E.164 phone number (+8613800138000) for sms and voice.'),
});
export type Recipient = z.output<typeof recipientSchema>;

/** The stored and sent shape of a notification; `NotificationDispatcher.enqueue` validates against it. */
export const notificationSchema = z.object({
  /**
   * The receiver's idempotency key (`x-homebed-id`): a UUIDv7 (`createNotification`), or a name-based
   * UUIDv8 derived from the alarm, kind, step and recipient for the policy's (`notificationIdFor`).
   */
  id: z.string().regex(UUID_PATTERN, 'must be a lower-case UUID'),
  kind: z.enum(NOTIFICATION_KINDS),
  alarmId: z.string().min(1).optional(),
  bedId: z.string().min(1).optional(),
  recipient: recipientSchema,
  /** One short line: an SMS starts with it, a webhook receiver can show it as a title. */
  subject: z.string().min(1).max(200),
  /** Plain text for people. */
  body: z.string().max(4000),
  /** Machine-readable details for webhooks (alarm type, severity, …). */
  payload: z.record(z.string(), z.json()),
  createdAt: z.iso.datetime(),
});

export interface Notification {
  id: string;
  kind: NotificationKind;
  alarmId?: string;
  bedId?: string;
  recipient: Recipient;
  subject: string;
  body: string;
  payload: JsonObject;
  createdAt: string;
}

/** What one attempt to deliver came to. */
export type AttemptStatus = 'delivered' | 'retry' | 'failed';

/**
 * The result of one `NotificationChannel.send`: `delivered` (done), `retry` (a transient problem: try
 * again later) or `failed` (retrying cannot help: bad address, endpoint refuses the request).
 */
export interface DeliveryOutcome {
  status: AttemptStatus;
  /** For people: what happened ("HTTP 503 Service Unavailable", "not an E.164 number: …"). */
  detail: string;
  /** The receiver asked to wait at least this long before the next attempt (HTTP `Retry-After`). */
  retryAfterMs?: number;
  httpStatus?: number;
}

/**
 * One way of reaching people. `send` makes exactly one attempt and classifies it; it should not throw
 * (the dispatcher treats a throw as a `retry`) and must not retry by itself: the dispatcher schedules
 * and records every attempt.
 */
export interface NotificationChannel {
  readonly kind: ChannelKind;
  send(notification: Notification): Promise<DeliveryOutcome>;
}

/** Everything but the id and creation time, which `createNotification` assigns. */
export type NotificationDraft = Omit<Notification, 'id' | 'createdAt' | 'payload'> & { payload?: JsonObject };

/** A new notification with a fresh UUIDv7 id, created at `nowMs` (pass the injected clock's time). */
export function createNotification(draft: NotificationDraft, nowMs: number): Notification {
  const notification: Notification = {
    ...draft,
    payload: draft.payload ?? {},
    id: uuidv7(nowMs),
    createdAt: new Date(nowMs).toISOString(),
  };
  return parseNotification(notification);
}

/** Validate a notification (e.g. one read back from storage); throws `HB_NOTIFICATION_INVALID`. */
export function parseNotification(value: unknown): Notification {
  const result = notificationSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new HomebedError('HB_NOTIFICATION_INVALID', `invalid notification: ${problems.join('; ')}`);
  }
  return result.data as Notification;
}

/**
 * A recipient's address as logs may show it: a phone number keeps its first 5 and last 2 digits, a URL
 * only its origin (webhook paths and queries often carry tokens). Addresses are personal data.
 */
export function maskAddress(address: string): string {
  if (address.startsWith('+')) {
    return address.length <= 7
      ? '+***'
      : `${address.slice(0, 5)}${'*'.repeat(address.length - 7)}${address.slice(-2)}`;
  }
  try {
    return `${new URL(address).origin}/…`;
  } catch {
    return '[unparsable address]';
  }
}
