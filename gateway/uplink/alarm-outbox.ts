import { uuidv7 } from '../../common/ids.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import {
  type AckStatus,
  type AlarmMessage,
  alarmMessageSchema,
  CONTRACT_VERSION,
  type Evidence,
} from '../../contract/index.js';

/** What a rule hands over: the outbox gives it an id, a sequence number and a durable home. */
export interface AlarmDraft {
  type: AlarmMessage['type'];
  severity: AlarmMessage['severity'];
  state: AlarmMessage['state'];
  /** Edge time in ms. */
  atMs: number;
  deviceId?: string;
  refersTo?: string;
  evidence: Evidence[];
  message?: string;
}

export interface PendingAlarm {
  message: AlarmMessage;
  attempts: number;
  nextAttemptAtMs: number;
}

interface OutboxRow {
  payload: string;
  attempts: number;
  next_attempt_at_ms: number;
}

/**
 * The gateway's durable alarm outbox. An alarm is committed here (fsynced)
 * before anything tries to send it and stays pending until the cloud
 * answers `stored`. The sequence number is allocated in the same
 * transaction, so it survives restarts and never repeats.
 */
export class AlarmOutbox {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly identity: { gatewayId: string; bedId: string },
  ) {}

  /** Commit a new alarm; returns the message exactly as it will be sent. */
  commit(draft: AlarmDraft): AlarmMessage {
    return this.db.transaction((): AlarmMessage => {
      const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'alarm_seq'`).get() as
        | { value: string }
        | undefined;
      const seq = (row ? Number(row.value) : 0) + 1;
      this.db
        .prepare(
          `INSERT INTO meta (key, value) VALUES ('alarm_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        )
        .run(String(seq));
      const message = alarmMessageSchema.parse({
        v: CONTRACT_VERSION,
        id: uuidv7(draft.atMs),
        gatewayId: this.identity.gatewayId,
        bedId: this.identity.bedId,
        seq,
        type: draft.type,
        severity: draft.severity,
        state: draft.state,
        at: new Date(draft.atMs).toISOString(),
        ...(draft.deviceId ? { deviceId: draft.deviceId } : {}),
        ...(draft.refersTo ? { refersTo: draft.refersTo } : {}),
        evidence: draft.evidence,
        ...(draft.message ? { message: draft.message } : {}),
      });
      this.db
        .prepare(
          `INSERT INTO outbox (id, seq, payload, created_at_ms, next_attempt_at_ms) VALUES (?, ?, ?, ?, ?)`,
        )
        .run(message.id, seq, JSON.stringify(message), draft.atMs, draft.atMs);
      return message;
    })();
  }

  /** Alarms not yet `stored` by the cloud, oldest first (send order = sequence order). */
  pending(limit = 100): PendingAlarm[] {
    const rows = this.db
      .prepare(
        `SELECT payload, attempts, next_attempt_at_ms FROM outbox WHERE stored_at_ms IS NULL ORDER BY seq LIMIT ?`,
      )
      .all(limit) as OutboxRow[];
    return rows.map((r) => ({
      message: JSON.parse(r.payload) as AlarmMessage,
      attempts: r.attempts,
      nextAttemptAtMs: r.next_attempt_at_ms,
    }));
  }

  recordAttempt(id: string, nextAttemptAtMs: number): void {
    this.db
      .prepare(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at_ms = ? WHERE id = ?`)
      .run(nextAttemptAtMs, id);
  }

  /** Make every pending alarm due now (after a reconnect nothing should wait out an old backoff). */
  makeAllDue(nowMs: number): void {
    this.db.prepare(`UPDATE outbox SET next_attempt_at_ms = ? WHERE stored_at_ms IS NULL`).run(nowMs);
  }

  /**
   * Record a status from the cloud. Returns false for an alarm id this
   * gateway never sent (counted by the caller). A status can arrive more
   * than once; the first time of each is kept.
   */
  recordStatus(id: string, status: AckStatus, atMs: number): boolean {
    const column = { stored: 'stored_at_ms', acknowledged: 'acknowledged_at_ms', resolved: 'resolved_at_ms' }[
      status
    ];
    // `acknowledged` and `resolved` imply `stored`: the cloud cannot have them without the alarm.
    const result = this.db
      .prepare(
        `UPDATE outbox SET ${column} = COALESCE(${column}, ?), stored_at_ms = COALESCE(stored_at_ms, ?) WHERE id = ?`,
      )
      .run(atMs, atMs, id);
    return result.changes > 0;
  }

  /** Every alarm committed, oldest first (for checks, scenarios and the status command). */
  all(limit = 10_000): AlarmMessage[] {
    const rows = this.db.prepare(`SELECT payload FROM outbox ORDER BY seq LIMIT ?`).all(limit) as {
      payload: string;
    }[];
    return rows.map((r) => JSON.parse(r.payload) as AlarmMessage);
  }

  depth(): number {
    return (
      this.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE stored_at_ms IS NULL`).get() as { n: number }
    ).n;
  }

  /** Alarms not yet `stored`: never published yet (`unsent`), or published without a `stored` ack so far (`unacked`). */
  depthByStage(): { unsent: number; unacked: number } {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(attempts = 0), 0) AS unsent, COALESCE(SUM(attempts > 0), 0) AS unacked
           FROM outbox WHERE stored_at_ms IS NULL`,
      )
      .get() as { unsent: number; unacked: number };
    return { unsent: row.unsent, unacked: row.unacked };
  }

  /** One alarm's delivery record, for status commands and tests. */
  get(id: string): {
    message: AlarmMessage;
    attempts: number;
    storedAtMs: number | null;
    acknowledgedAtMs: number | null;
  } | null {
    const row = this.db
      .prepare(`SELECT payload, attempts, stored_at_ms, acknowledged_at_ms FROM outbox WHERE id = ?`)
      .get(id) as
      | { payload: string; attempts: number; stored_at_ms: number | null; acknowledged_at_ms: number | null }
      | undefined;
    if (!row) return null;
    return {
      message: JSON.parse(row.payload) as AlarmMessage,
      attempts: row.attempts,
      storedAtMs: row.stored_at_ms,
      acknowledgedAtMs: row.acknowledged_at_ms,
    };
  }
}
