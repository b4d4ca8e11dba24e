import { num, type SqlDatabase, type SqlExecutor } from '../store/sql-database.js';
import {
  checkAttemptArguments,
  type DeliveryAttempt,
  type DeliveryRecord,
  type DeliveryState,
  type DeliveryStore,
  type RecordedAttempt,
  timeOf,
} from './delivery-store.js';
import type { AttemptStatus, Notification } from './notification.js';

interface DeliveryRow {
  id: string;
  notification: string;
  state: string;
  first_attempt_at: string;
  next_attempt_at: string | null;
  attempt_count: number | string;
  last_attempt_at: string | null;
  last_detail: string | null;
}

interface AttemptRow {
  at: string;
  status: string;
  detail: string;
  http_status: number | string | null;
}

const COLUMNS =
  'id, notification, state, first_attempt_at, next_attempt_at, attempt_count, last_attempt_at, last_detail';

/** Text comparison of times only works on one format: store exactly what `toISOString` makes. */
function canonical(iso: string): string {
  return new Date(timeOf(iso)).toISOString();
}

function toRecord(row: DeliveryRow): DeliveryRecord {
  return {
    notification: JSON.parse(row.notification) as Notification,
    state: row.state as DeliveryState,
    firstAttemptAt: row.first_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    attemptCount: num(row.attempt_count),
    lastAttemptAt: row.last_attempt_at,
    lastDetail: row.last_detail,
  };
}

/**
 * `DeliveryStore` over the relay's SQL seam (tables `notification_deliveries` and
 * `notification_attempts`, migration 3): SQLite for one relay, PostgreSQL for several sharing it.
 *
 * `claimDue` selects due rows and moves them into a lease in one transaction. On PostgreSQL the
 * select is `FOR UPDATE SKIP LOCKED`: a second relay claiming at the same moment skips the rows the
 * first has locked instead of waiting for them, and a row another relay claimed and committed since
 * this one's snapshot is re-checked after locking (READ COMMITTED) and dropped, no longer being due.
 * On SQLite the transaction (`BEGIN IMMEDIATE`, one writer) already excludes everyone else.
 */
export class SqlDeliveryStore implements DeliveryStore {
  constructor(private readonly db: SqlDatabase) {}

  async add(notification: Notification, firstAttemptAt: string): Promise<{ inserted: boolean }> {
    const first = canonical(firstAttemptAt);
    const { changes } = await this.db.run(
      `INSERT INTO notification_deliveries
         (id, alarm_id, bed_id, kind, channel, notification, state, first_attempt_at, next_attempt_at, attempt_count)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 0)
       ON CONFLICT (id) DO NOTHING`,
      [
        notification.id,
        notification.alarmId ?? null,
        notification.bedId ?? null,
        notification.kind,
        notification.recipient.channel,
        JSON.stringify(notification),
        first,
        first,
      ],
    );
    return { inserted: changes === 1 };
  }

  async due(nowIso: string, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.db.all<DeliveryRow>(
      `SELECT ${COLUMNS} FROM notification_deliveries
       WHERE state = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
      [canonical(nowIso), Math.max(0, limit)],
    );
    return rows.map(toRecord);
  }

  async claimDue(nowIso: string, owner: string, leaseMs: number, limit: number): Promise<DeliveryRecord[]> {
    const now = canonical(nowIso);
    const leaseEnd = new Date(timeOf(now) + leaseMs).toISOString();
    if (limit <= 0) return [];
    const lock = this.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<DeliveryRow>(
        `SELECT ${COLUMNS} FROM notification_deliveries
         WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?${lock}`,
        [now, limit],
      );
      if (rows.length === 0) return [];
      await tx.run(
        `UPDATE notification_deliveries SET next_attempt_at = ?, lease_owner = ?
         WHERE id IN (${rows.map(() => '?').join(', ')})`,
        [leaseEnd, owner, ...rows.map((r) => r.id)],
      );
      return rows.map((row) => toRecord({ ...row, next_attempt_at: leaseEnd }));
    });
  }

  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    nextAttemptAt: string | null,
    finalState?: 'delivered' | 'failed',
  ): Promise<RecordedAttempt> {
    checkAttemptArguments(nextAttemptAt, finalState);
    const at = canonical(attempt.at);
    const next = nextAttemptAt === null ? null : canonical(nextAttemptAt);
    return this.db.transaction(async (tx) => {
      const row = await lockDelivery(tx, this.db.dialect, id);
      if (!row) throw new Error(`no delivery ${id}`);
      const n = num(row.attempt_count) + 1;
      const pending = row.state === 'pending';
      const updated: DeliveryRow = {
        ...row,
        attempt_count: n,
        last_attempt_at: at,
        last_detail: attempt.detail,
        // The first final state wins; a late attempt is appended but changes nothing else.
        state: pending && next === null ? finalState! : row.state,
        next_attempt_at: pending ? next : row.next_attempt_at,
      };
      await tx.run(
        `UPDATE notification_deliveries
         SET attempt_count = ?, last_attempt_at = ?, last_detail = ?, state = ?, next_attempt_at = ?, lease_owner = NULL
         WHERE id = ?`,
        [n, at, attempt.detail, updated.state, updated.next_attempt_at, id],
      );
      await tx.run(
        `INSERT INTO notification_attempts (delivery_id, n, at, status, detail, http_status) VALUES (?, ?, ?, ?, ?, ?)`,
        [id, n, at, attempt.status, attempt.detail, attempt.httpStatus ?? null],
      );
      return { record: toRecord(updated), settled: pending && next === null };
    });
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const row = await this.db.get<DeliveryRow>(
      `SELECT ${COLUMNS} FROM notification_deliveries WHERE id = ?`,
      [id],
    );
    return row ? toRecord(row) : null;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    const rows = await this.db.all<AttemptRow>(
      `SELECT at, status, detail, http_status FROM notification_attempts WHERE delivery_id = ? ORDER BY n`,
      [id],
    );
    return rows.map((r) => ({
      at: r.at,
      status: r.status as AttemptStatus,
      detail: r.detail,
      ...(r.http_status === null ? {} : { httpStatus: num(r.http_status) }),
    }));
  }

  async list(
    filter: { alarmId?: string; state?: DeliveryState; limit?: number } = {},
  ): Promise<DeliveryRecord[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.alarmId !== undefined) {
      where.push('alarm_id = ?');
      params.push(filter.alarmId);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    params.push(Math.max(0, filter.limit ?? 100));
    const rows = await this.db.all<DeliveryRow>(
      `SELECT ${COLUMNS} FROM notification_deliveries
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY first_attempt_at DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(toRecord);
  }
}

/** Read a delivery for update: PostgreSQL locks the row (two relays recording at once); SQLite's transaction already excludes. */
function lockDelivery(
  tx: SqlExecutor,
  dialect: SqlDatabase['dialect'],
  id: string,
): Promise<DeliveryRow | undefined> {
  return tx.get<DeliveryRow>(
    `SELECT ${COLUMNS} FROM notification_deliveries WHERE id = ?${dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
    [id],
  );
}
