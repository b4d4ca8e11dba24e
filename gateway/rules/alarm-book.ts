import type { SqliteDatabase } from '../../common/sqlite.js';
import type { AlarmMessage, Evidence } from '../../contract/index.js';
import type { AlarmDraft } from '../uplink/alarm-outbox.js';

interface ActiveRow {
  alarm_id: string;
  type: AlarmMessage['type'];
  severity: AlarmMessage['severity'];
  device_id: string | null;
}

/**
 * Condition alarms: raised once while a condition holds, cleared when it
 * ends. The book remembers which alarm is active under a key (e.g.
 * `device_offline:bed-radar`) in the gateway's SQLite store, in the same
 * transaction as the outbox commit, so after a restart a clear still refers
 * to the right alarm and a condition that persists is not raised twice.
 */
export class AlarmBook {
  /**
   * The active keys, mirrored in memory: supervision and the vitals rule ask on
   * every reading, and this process is the store's only writer. Updated only
   * after a transaction has committed.
   */
  private readonly active: Set<string>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly commit: (draft: AlarmDraft) => AlarmMessage,
  ) {
    this.active = new Set(
      (db.prepare(`SELECT key FROM active_alarms`).all() as { key: string }[]).map((r) => r.key),
    );
  }

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  activeKeys(): string[] {
    return [...this.active].sort();
  }

  /** When an alarm was last raised under this key (for "at most once a day"). */
  lastRaisedAtMs(key: string): number | null {
    const row = this.db.prepare(`SELECT last_raised_at_ms FROM alarm_history WHERE key = ?`).get(key) as
      | { last_raised_at_ms: number }
      | undefined;
    return row?.last_raised_at_ms ?? null;
  }

  /** Raise unless already active under `key`; returns the committed alarm or null. */
  raise(key: string, draft: AlarmDraft): AlarmMessage | null {
    if (this.active.has(key)) return null;
    const raised = this.db.transaction((): AlarmMessage | null => {
      if (this.isActive(key)) return null;
      const message = this.commit(draft);
      this.db
        .prepare(
          `INSERT INTO active_alarms (key, alarm_id, type, severity, device_id, raised_at_ms) VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(key, message.id, message.type, message.severity, message.deviceId ?? null, draft.atMs);
      this.recordRaise(key, draft.atMs);
      return message;
    })();
    if (raised) this.active.add(key);
    return raised;
  }

  /**
   * A one-shot alarm (an SOS has no "cleared"), committed in one transaction
   * with its raise time under `key`, so that after a crash the rule still knows
   * the call it already raised: a device that redelivers the same press (MQTT
   * QoS 1 after the gateway died before its PUBACK) is not a second call.
   */
  raiseOneShot(key: string, draft: AlarmDraft): AlarmMessage {
    return this.db.transaction((): AlarmMessage => {
      const message = this.commit(draft);
      this.recordRaise(key, draft.atMs);
      return message;
    })();
  }

  private recordRaise(key: string, atMs: number): void {
    this.db
      .prepare(
        `INSERT INTO alarm_history (key, last_raised_at_ms) VALUES (?, ?)
         ON CONFLICT(key) DO UPDATE SET last_raised_at_ms = excluded.last_raised_at_ms`,
      )
      .run(key, atMs);
  }

  /** Clear the alarm active under `key` (a `cleared` message referring to it); null if none is active. */
  clear(key: string, atMs: number, evidence: Evidence[], message?: string): AlarmMessage | null {
    return this.end(key, 'cleared', atMs, evidence, message);
  }

  /** The resident cancelled the alarm active under `key` (still recorded and sent: the centre may call). */
  cancel(key: string, atMs: number, evidence: Evidence[], message?: string): AlarmMessage | null {
    return this.end(key, 'cancelled', atMs, evidence, message);
  }

  /** When the alarm active under `key` was raised (edge time), if one is. */
  activeSince(key: string): number | null {
    const row = this.db.prepare(`SELECT raised_at_ms FROM active_alarms WHERE key = ?`).get(key) as
      | { raised_at_ms: number }
      | undefined;
    return row?.raised_at_ms ?? null;
  }

  /** The id of the alarm active under `key`, if any. */
  activeAlarmId(key: string): string | null {
    const row = this.db.prepare(`SELECT alarm_id FROM active_alarms WHERE key = ?`).get(key) as
      | { alarm_id: string }
      | undefined;
    return row?.alarm_id ?? null;
  }

  private end(
    key: string,
    state: 'cleared' | 'cancelled',
    atMs: number,
    evidence: Evidence[],
    message?: string,
  ): AlarmMessage | null {
    if (!this.active.has(key)) return null;
    const ended = this.db.transaction((): AlarmMessage | null => {
      const row = this.db.prepare(`SELECT * FROM active_alarms WHERE key = ?`).get(key) as
        | ActiveRow
        | undefined;
      if (!row) return null;
      this.db.prepare(`DELETE FROM active_alarms WHERE key = ?`).run(key);
      return this.commit({
        type: row.type,
        severity: row.severity,
        state,
        atMs,
        ...(row.device_id ? { deviceId: row.device_id } : {}),
        refersTo: row.alarm_id,
        evidence,
        ...(message ? { message } : {}),
      });
    })();
    if (ended) this.active.delete(key);
    return ended;
  }

  /** Reload the active keys from the store (after an enclosing transaction rolled back). */
  resync(): void {
    this.active.clear();
    for (const r of this.db.prepare(`SELECT key FROM active_alarms`).all() as { key: string }[])
      this.active.add(r.key);
  }
}
