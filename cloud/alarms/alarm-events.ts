/**
 * An alarm's timeline: every step from the edge to its closing, one row
 * each in `alarm_events`. Clears and cancels from the gateway are filed
 * under the raised alarm they end (`refersTo`), so one timeline tells the whole story.
 */
export const ALARM_EVENT_KINDS = [
  /** The edge raised it (`at` = edge time). */
  'raised',
  /** The cloud committed it (`at` = receipt time); the start of the response clock. */
  'stored',
  /** The gateway cleared it (the condition ended on its own). */
  'cleared',
  /** The gateway cancelled it (e.g. the resident pressed cancel). */
  'cancelled',
  'acknowledged',
  'resolved',
  /** An escalation step fired (detail: step, tier, afterS). */
  'escalated',
  /** A notification was delivered (detail: channel, recipient name, delivery id). */
  'notified',
  /** A notification failed for good (detail: channel, recipient name, reason). */
  'notification_failed',
] as const;
export type AlarmEventKind = (typeof ALARM_EVENT_KINDS)[number];

export type AlarmEventDetail = Record<string, string | number | boolean | null>;

export interface AlarmEvent {
  /** UUIDv7; also the server-sent-events id. */
  id: string;
  /** The raised alarm this step belongs to. */
  alarmId: string;
  at: string;
  kind: AlarmEventKind;
  /** Who did it: the user's display name (acknowledged, resolved; the audit log has the user id), `gateway:<id>`, or `system`. */
  actor: string | null;
  detail: AlarmEventDetail;
}

/** An alarm event with what subscribers filter on (which bed, which organisation). */
export interface AlarmChange extends AlarmEvent {
  bedId: string;
  gatewayId: string;
  organisationId: string | null;
}

/**
 * Told after every commit that appended alarm events, so consoles on every
 * relay process hear of it (cloud/events/change-feed.ts: in-process for
 * SQLite, PostgreSQL LISTEN/NOTIFY for several processes). Announcing is
 * best effort: a console that missed a change catches up from `alarm_events`.
 */
export interface ChangeAnnouncer {
  announce(changes: readonly AlarmChange[]): void;
}

export const NO_ANNOUNCER: ChangeAnnouncer = { announce: () => undefined };
