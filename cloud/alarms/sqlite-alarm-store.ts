import type { SqliteDatabase } from '../../common/sqlite.js';
import type { AlarmMessage, ResolutionOutcome } from '../../contract/index.js';
import type { AlarmStore, LifecycleResult, StoredAlarm } from './alarm-store.js';

interface AlarmRow {
  id: string;
  gateway_id: string;
  bed_id: string;
  seq: number;
  type: string;
  severity: string;
  state: string;
  at: string;
  received_at: string;
  device_id: string | null;
  refers_to: string | null;
  message: string | null;
  evidence: string;
  deliveries: number;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  outcome: string | null;
  notes: string | null;
}

export class SqliteAlarmStore implements AlarmStore {
  constructor(private readonly db: SqliteDatabase) {}

  ingest(alarm: AlarmMessage, receivedAt: string): { inserted: boolean } {
    // better-sqlite3 runs synchronously; with synchronous=FULL the row is on disk when run() returns.
    const insert = this.db
      .prepare(
        `INSERT OR IGNORE INTO alarms
           (id, gateway_id, bed_id, seq, type, severity, state, at, received_at, device_id, refers_to, message, evidence)
         VALUES (@id, @gatewayId, @bedId, @seq, @type, @severity, @state, @at, @receivedAt, @deviceId, @refersTo, @message, @evidence)`,
      )
      .run({
        id: alarm.id,
        gatewayId: alarm.gatewayId,
        bedId: alarm.bedId,
        seq: alarm.seq,
        type: alarm.type,
        severity: alarm.severity,
        state: alarm.state,
        at: alarm.at,
        receivedAt,
        deviceId: alarm.deviceId ?? null,
        refersTo: alarm.refersTo ?? null,
        message: alarm.message ?? null,
        evidence: JSON.stringify(alarm.evidence),
      });
    if (insert.changes === 1) return { inserted: true };
    this.db.prepare(`UPDATE alarms SET deliveries = deliveries + 1 WHERE id = ?`).run(alarm.id);
    return { inserted: false };
  }

  list(options: { limit?: number; gatewayId?: string } = {}): StoredAlarm[] {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const rows = (
      options.gatewayId
        ? this.db
            .prepare(`SELECT * FROM alarms WHERE gateway_id = ? ORDER BY received_at DESC, id DESC LIMIT ?`)
            .all(options.gatewayId, limit)
        : this.db.prepare(`SELECT * FROM alarms ORDER BY received_at DESC, id DESC LIMIT ?`).all(limit)
    ) as AlarmRow[];
    return rows.map(toStoredAlarm);
  }

  get(id: string): StoredAlarm | null {
    const row = this.db.prepare(`SELECT * FROM alarms WHERE id = ?`).get(id) as AlarmRow | undefined;
    return row ? toStoredAlarm(row) : null;
  }

  acknowledge(id: string, by: string, at: string): LifecycleResult {
    return this.db.transaction((): LifecycleResult => {
      const row = this.db.prepare(`SELECT * FROM alarms WHERE id = ?`).get(id) as AlarmRow | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.state !== 'raised') return { ok: false, reason: 'not_raised' };
      if (row.acknowledged_at) return { ok: true, alarm: toStoredAlarm(row), changed: false };
      this.db
        .prepare(`UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`)
        .run(at, by, id);
      return {
        ok: true,
        alarm: toStoredAlarm({ ...row, acknowledged_at: at, acknowledged_by: by }),
        changed: true,
      };
    })();
  }

  resolve(id: string, by: string, at: string, outcome: ResolutionOutcome, notes?: string): LifecycleResult {
    return this.db.transaction((): LifecycleResult => {
      const row = this.db.prepare(`SELECT * FROM alarms WHERE id = ?`).get(id) as AlarmRow | undefined;
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.state !== 'raised') return { ok: false, reason: 'not_raised' };
      if (row.resolved_at) return { ok: false, reason: 'already_resolved' };
      const updated: AlarmRow = {
        ...row,
        acknowledged_at: row.acknowledged_at ?? at,
        acknowledged_by: row.acknowledged_by ?? by,
        resolved_at: at,
        resolved_by: by,
        outcome,
        notes: notes ?? null,
      };
      this.db
        .prepare(
          `UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, resolved_at = ?, resolved_by = ?, outcome = ?, notes = ?
           WHERE id = ?`,
        )
        .run(
          updated.acknowledged_at,
          updated.acknowledged_by,
          updated.resolved_at,
          updated.resolved_by,
          outcome,
          updated.notes,
          id,
        );
      return { ok: true, alarm: toStoredAlarm(updated), changed: true };
    })();
  }

  handledSince(gatewayId: string, since: string): StoredAlarm[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM alarms
         WHERE gateway_id = ? AND state = 'raised' AND (acknowledged_at >= ? OR resolved_at >= ?)
         ORDER BY seq`,
      )
      .all(gatewayId, since, since) as AlarmRow[];
    return rows.map(toStoredAlarm);
  }
}

function toStoredAlarm(r: AlarmRow): StoredAlarm {
  return {
    v: 1,
    id: r.id,
    gatewayId: r.gateway_id,
    bedId: r.bed_id,
    seq: r.seq,
    type: r.type as StoredAlarm['type'],
    severity: r.severity as StoredAlarm['severity'],
    state: r.state as StoredAlarm['state'],
    at: r.at,
    ...(r.device_id ? { deviceId: r.device_id } : {}),
    ...(r.refers_to ? { refersTo: r.refers_to } : {}),
    ...(r.message ? { message: r.message } : {}),
    evidence: JSON.parse(r.evidence) as StoredAlarm['evidence'],
    receivedAt: r.received_at,
    deliveries: r.deliveries,
    ...(r.acknowledged_at ? { acknowledgedAt: r.acknowledged_at } : {}),
    ...(r.acknowledged_by ? { acknowledgedBy: r.acknowledged_by } : {}),
    ...(r.resolved_at ? { resolvedAt: r.resolved_at } : {}),
    ...(r.resolved_by ? { resolvedBy: r.resolved_by } : {}),
    ...(r.outcome ? { outcome: r.outcome as ResolutionOutcome } : {}),
    ...(r.notes ? { notes: r.notes } : {}),
  };
}
