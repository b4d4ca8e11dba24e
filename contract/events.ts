import { z } from 'zod';
import { ALARM_TYPES } from './alarm-vocabulary.js';
import { GATEWAY_ID_PATTERN } from './topics.js';

/**
 * Notable non-alarm events a gateway publishes on its `event` topic (QoS 1):
 * one schema, a union discriminated by `kind`; the TypeScript types are
 * inferred from it. Unlike alarms these carry no sequence number and need no
 * `stored` ack: the broker's PUBACK is enough, and a repeat (after a
 * reconnect) is recognised by its natural key (for a daily summary:
 * gatewayId, deviceId and period.to).
 */
const isoTime = z.iso.datetime({ offset: true });
const gatewayId = z.string().regex(GATEWAY_ID_PATTERN, 'must be 1-64 letters, digits, "_", "." or "-"');
const minutes = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const base = {
  v: z.literal(1),
  gatewayId,
  bedId: z.string().min(1),
  /** When the gateway produced the event. */
  at: isoTime,
};

/**
 * One bed sensor's day, sent once a day at the summary time (default 12:00
 * local). The period is the 24 h ending at the summary time, so one night is
 * never split at midnight; `day` is the local date of the period's last
 * instant (with the default, the morning the night ended).
 */
export const dailySummaryEventSchema = z.object({
  ...base,
  kind: z.literal('daily_summary'),
  /** The bed sensor (a device with role `bed_radar`) this summary is about. */
  deviceId: z.string().min(1),
  day: z.iso.date(),
  /** The home's time zone, for reading `period` and the night window. */
  timeZone: z.string().min(1),
  period: z.object({ from: isoTime, to: isoTime }),
  /** Time the sensor reported the person in bed. */
  timeInBedMin: minutes,
  /** Time the in/out-of-bed state was known (the sensor was heard); the rest of the period is unknown. */
  observedMin: minutes,
  /** In-bed → out-of-bed transitions in the period. */
  bedExits: count,
  /** Those of them that started inside the night window. */
  nightBedExits: count,
  /** Longest continuous time out of bed inside the night window (when the person is expected in bed). */
  longestOutOfBedMin: minutes,
  /** Mean of the heart-rate readings taken while in bed (absent when there were none). */
  heartRateAvg: z.number().positive().optional(),
  /** Mean of the breath-rate readings taken while in bed (absent when there were none). */
  breathRateAvg: z.number().positive().optional(),
  /** Alarms raised in the period, by type (types with none are left out). */
  alarms: z.partialRecord(z.enum(ALARM_TYPES), z.number().int().positive()),
});
export type DailySummaryEvent = z.infer<typeof dailySummaryEventSchema>;

/** One SOS button in the weekly test reminder. */
export const sosButtonTestSchema = z.object({
  deviceId: z.string().min(1),
  room: z.string().max(64).optional(),
  /** The last press the gateway saw, absent if never. */
  lastPressedAt: isoTime.optional(),
  /** Pressed within the last `windowDays` days. */
  tested: z.boolean(),
});
export type SosButtonTest = z.infer<typeof sosButtonTestSchema>;

/**
 * The weekly reminder to test the SOS buttons (the elderly-care smart-system
 * standard asks for alarm buttons to be tested weekly), with what the
 * gateway saw of each button.
 */
export const sosTestReminderEventSchema = z.object({
  ...base,
  kind: z.literal('sos_test_reminder'),
  windowDays: z.number().int().positive(),
  buttons: z.array(sosButtonTestSchema).max(100),
  /** Every configured button was pressed within the window (false when there is none). */
  allTested: z.boolean(),
});
export type SosTestReminderEvent = z.infer<typeof sosTestReminderEventSchema>;

/** The person got out of bed (the bed sensor `deviceId` reported out of bed). */
export const bedExitEventSchema = z.object({
  ...base,
  kind: z.literal('bed_exit'),
  deviceId: z.string().min(1),
});
export type BedExitEvent = z.infer<typeof bedExitEventSchema>;

/** The person is back in bed. */
export const bedReturnEventSchema = z.object({
  ...base,
  kind: z.literal('bed_return'),
  deviceId: z.string().min(1),
  /** How long they were out, when the exit was seen. */
  outOfBedS: z.number().int().nonnegative().optional(),
});
export type BedReturnEvent = z.infer<typeof bedReturnEventSchema>;

/** Everything a gateway may publish on its `event` topic. */
export const gatewayEventSchema = z.discriminatedUnion('kind', [
  dailySummaryEventSchema,
  sosTestReminderEventSchema,
  bedExitEventSchema,
  bedReturnEventSchema,
]);
export type GatewayEventMessage = z.infer<typeof gatewayEventSchema>;
export type GatewayEventKind = GatewayEventMessage['kind'];
export const GATEWAY_EVENT_KINDS = ['daily_summary', 'sos_test_reminder', 'bed_exit', 'bed_return'] as const;
