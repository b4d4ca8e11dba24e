import type { AlarmMessage, ResolutionOutcome } from '../../contract/index.js';
import { num, type SqlDatabase, type SqlExecutor } from '../store/sql-database.js';
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

export class SqlAlarmStore implements AlarmStore {
  constructor(private readonly db: SqlDatabase) {}

  async ingest(alarm: AlarmMessage, receivedAt: string): Promise<{ inserted: boolean }> {
    // Resolves after the commit: SQLite runs with synchronous=FULL; PostgreSQL commits each statement.
    const insert = await this.db.run(
      `INSERT INTO alarms
         (id, gateway_id, bed_id, seq, type, severity, state, at, received_at, device_id, refers_to, message, evidence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [
        alarm.id,
        alarm.gatewayId,
        alarm.bedId,
        alarm.seq,
        alarm.type,
        alarm.severity,
        alarm.state,
        alarm.at,
        receivedAt,
        alarm.deviceId ?? null,
        alarm.refersTo ?? null,
        alarm.message ?? null,
        JSON.stringify(alarm.evidence),
      ],
    );
    if (insert.changes === 1) return { inserted: true };
    await this.db.run(`UPDATE alarms SET deliveries = deliveries + 1 WHERE id = ?`, [alarm.id]);
    return { inserted: false };
  }

  async list(options: { limit?: number; gatewayId?: string } = {}): Promise<StoredAlarm[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const rows = options.gatewayId
      ? await this.db.all<AlarmRow>(
          `SELECT * FROM alarms WHERE gateway_id = ? ORDER BY received_at DESC, id DESC LIMIT ?`,
          [options.gatewayId, limit],
        )
      : await this.db.all<AlarmRow>(`SELECT * FROM alarms ORDER BY received_at DESC, id DESC LIMIT ?`, [
          limit,
        ]);
    return rows.map(toStoredAlarm);
  }

  async get(id: string): Promise<StoredAlarm | null> {
    const row = await this.db.get<AlarmRow>(`SELECT * FROM alarms WHERE id = ?`, [id]);
    return row ? toStoredAlarm(row) : null;
  }

  acknowledge(id: string, by: string, at: string): Promise<LifecycleResult> {
    return this.db.transaction(async (tx): Promise<LifecycleResult> => {
      const row = await lockRow(tx, this.db.dialect, id);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.state !== 'raised') return { ok: false, reason: 'not_raised' };
      if (row.acknowledged_at) return { ok: true, alarm: toStoredAlarm(row), changed: false };
      await tx.run(`UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`, [at, by, id]);
      return {
        ok: true,
        alarm: toStoredAlarm({ ...row, acknowledged_at: at, acknowledged_by: by }),
        changed: true,
      };
    });
  }

  resolve(
    id: string,
    by: string,
    at: string,
    outcome: ResolutionOutcome,
    notes?: string,
  ): Promise<LifecycleResult> {
    return this.db.transaction(async (tx): Promise<LifecycleResult> => {
      const row = await lockRow(tx, this.db.dialect, id);
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
      await tx.run(
        `UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, resolved_at = ?, resolved_by = ?, outcome = ?, notes = ?
         WHERE id = ?`,
        [
          updated.acknowledged_at,
          updated.acknowledged_by,
          updated.resolved_at,
          updated.resolved_by,
          outcome,
          updated.notes,
          id,
        ],
      );
      return { ok: true, alarm: toStoredAlarm(updated), changed: true };
    });
  }

  async handledSince(gatewayId: string, since: string): Promise<StoredAlarm[]> {
    const rows = await this.db.all<AlarmRow>(
      `SELECT * FROM alarms
       WHERE gateway_id = ? AND state = 'raised' AND (acknowledged_at >= ? OR resolved_at >= ?)
       ORDER BY seq`,
      [gatewayId, since, since],
    );
    return rows.map(toStoredAlarm);
  }
}

/** Read a row for update: PostgreSQL locks it (two staff clicking at once); SQLite's transaction already excludes. */
function lockRow(
  tx: SqlExecutor,
  dialect: SqlDatabase['dialect'],
  id: string,
): Promise<AlarmRow | undefined> {
  return tx.get<AlarmRow>(`SELECT * FROM alarms WHERE id = ?${dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
}

function toStoredAlarm(r: AlarmRow): StoredAlarm {
  return {
    v: 1,
    id: r.id,
    gatewayId: r.gateway_id,
    bedId: r.bed_id,
    seq: num(r.seq),
    type: r.type as StoredAlarm['type'],
    severity: r.severity as StoredAlarm['severity'],
    state: r.state as StoredAlarm['state'],
    at: r.at,
    ...(r.device_id ? { deviceId: r.device_id } : {}),
    ...(r.refers_to ? { refersTo: r.refers_to } : {}),
    ...(r.message ? { message: r.message } : {}),
    evidence: JSON.parse(r.evidence) as StoredAlarm['evidence'],
    receivedAt: r.received_at,
    deliveries: num(r.deliveries),
    ...(r.acknowledged_at ? { acknowledgedAt: r.acknowledged_at } : {}),
    ...(r.acknowledged_by ? { acknowledgedBy: r.acknowledged_by } : {}),
    ...(r.resolved_at ? { resolvedAt: r.resolved_at } : {}),
    ...(r.resolved_by ? { resolvedBy: r.resolved_by } : {}),
    ...(r.outcome ? { outcome: r.outcome as ResolutionOutcome } : {}),
    ...(r.notes ? { notes: r.notes } : {}),
  };
}
