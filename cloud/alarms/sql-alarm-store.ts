import type { Logger } from '../../common/logger.js';
import type { AlarmMessage, ResolutionOutcome } from '../../contract/index.js';
import { num, type SqlDatabase, type SqlExecutor, type SqlValue } from '../store/sql-database.js';
import { type AlarmChange, type AlarmEvent, type ChangeAnnouncer, NO_ANNOUNCER } from './alarm-events.js';
import {
  type AlarmListOptions,
  type AlarmStore,
  CLOUD_RAISED_SEQ,
  type IngestOptions,
  isCloudRaised,
  type LifecycleResult,
  type ResolveResult,
  type StoredAlarm,
} from './alarm-store.js';
import { AlarmTimeline, gatewayActor, SYSTEM_ACTOR, timelineEvent } from './alarm-timeline.js';

export interface AlarmRow {
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

/**
 * Escalation timers kept with the alarm, in the same transactions: scheduled
 * when a raised alarm is stored, cancelled when someone takes it or the
 * gateway ends it (cloud/escalation/escalation-store.ts).
 */
export interface EscalationSchedule {
  schedule(tx: SqlExecutor, alarm: StoredAlarm): Promise<void>;
  cancel(tx: SqlExecutor, alarmId: string, at: string): Promise<void>;
}

export interface SqlAlarmStoreOptions {
  /** Told of the timeline events each commit appended (best effort, after the commit). */
  announcer?: ChangeAnnouncer;
  /** Escalation timers; without it, alarms do not escalate. */
  escalations?: EscalationSchedule;
  /** Where a failing announcer is reported. */
  logger?: Logger;
}

/** What one transaction changed, announced once it is committed. */
interface Committed<T> {
  result: T;
  changes: AlarmChange[];
}

export class SqlAlarmStore implements AlarmStore {
  readonly timeline: AlarmTimeline;
  private readonly announcer: ChangeAnnouncer;
  private readonly escalations: EscalationSchedule | undefined;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly db: SqlDatabase,
    options: SqlAlarmStoreOptions = {},
  ) {
    this.timeline = new AlarmTimeline(db);
    this.announcer = options.announcer ?? NO_ANNOUNCER;
    this.escalations = options.escalations;
    this.logger = options.logger;
  }

  /**
   * Store an alarm, its timeline events and its escalation timers in one
   * transaction; resolves after the commit (SQLite runs with
   * synchronous=FULL). A retransmission only counts a delivery.
   */
  async ingest(
    alarm: AlarmMessage,
    receivedAt: string,
    options: IngestOptions = {},
  ): Promise<{ inserted: boolean }> {
    return this.commit(async (tx): Promise<Committed<{ inserted: boolean }>> => {
      if (options.guard && !(await options.guard(tx))) return { result: { inserted: false }, changes: [] };
      const insert = await tx.run(
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
      if (insert.changes === 0) {
        await tx.run(`UPDATE alarms SET deliveries = deliveries + 1 WHERE id = ?`, [alarm.id]);
        return { result: { inserted: false }, changes: [] };
      }
      const changes = await this.fileIngest(tx, alarm, receivedAt);
      return { result: { inserted: true }, changes };
    });
  }

  /** The timeline (and escalation) side of a newly stored alarm. */
  private async fileIngest(tx: SqlExecutor, alarm: AlarmMessage, receivedAt: string): Promise<AlarmChange[]> {
    const actor = isCloudRaised(alarm) ? SYSTEM_ACTOR : gatewayActor(alarm.gatewayId);
    const organisationId = await organisationOf(tx, alarm.gatewayId);
    if (alarm.state === 'raised') {
      const events = [
        timelineEvent(alarm.id, 'raised', alarm.at, actor, {
          type: alarm.type,
          severity: alarm.severity,
          seq: alarm.seq,
          deviceId: alarm.deviceId ?? null,
        }),
        timelineEvent(alarm.id, 'stored', receivedAt, SYSTEM_ACTOR),
      ];
      await this.timeline.append(tx, events);
      await this.escalations?.schedule(tx, { ...alarm, receivedAt, deliveries: 1 });
      return withPlace(events, alarm.bedId, alarm.gatewayId, organisationId);
    }
    // A clear or cancel is filed under the raised alarm it ends, so one timeline tells the whole
    // story; under itself when that alarm is unknown here (every event must name a stored alarm).
    // Only the same gateway's alarm: a gateway must not end (and stop the escalation of) another home's.
    const ended = alarm.refersTo
      ? await tx.get<{ id: string; bed_id: string }>(
          `SELECT id, bed_id FROM alarms WHERE id = ? AND gateway_id = ? AND state = 'raised'`,
          [alarm.refersTo, alarm.gatewayId],
        )
      : undefined;
    const event = timelineEvent(ended?.id ?? alarm.id, alarm.state, alarm.at, actor, {
      alarmId: alarm.id,
      seq: alarm.seq,
      receivedAt,
    });
    await this.timeline.append(tx, [event]);
    if (ended) await this.escalations?.cancel(tx, ended.id, receivedAt);
    return withPlace([event], ended?.bed_id ?? alarm.bedId, alarm.gatewayId, organisationId);
  }

  async list(options: AlarmListOptions = {}): Promise<StoredAlarm[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    if (options.bedIds && options.bedIds.length === 0) return [];
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (options.gatewayId) {
      where.push('a.gateway_id = ?');
      params.push(options.gatewayId);
    }
    if (options.bedId) {
      where.push('a.bed_id = ?');
      params.push(options.bedId);
    }
    if (options.bedIds) {
      where.push(`a.bed_id IN (${options.bedIds.map(() => '?').join(', ')})`);
      params.push(...options.bedIds);
    }
    if (options.organisationId) {
      where.push('(g.organisation_id = ? OR g.organisation_id IS NULL)');
      params.push(options.organisationId);
    }
    if (options.open) where.push(`a.state = 'raised' AND a.resolved_at IS NULL`);
    if (options.before) {
      where.push('a.received_at < ?');
      params.push(options.before);
    }
    params.push(limit);
    const rows = await this.db.all<AlarmRow>(
      `SELECT a.* FROM alarms a LEFT JOIN gateways g ON g.id = a.gateway_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY a.received_at DESC, a.id DESC LIMIT ?`,
      params,
    );
    return rows.map(toStoredAlarm);
  }

  async get(id: string): Promise<StoredAlarm | null> {
    const row = await this.db.get<AlarmRow>(`SELECT * FROM alarms WHERE id = ?`, [id]);
    return row ? toStoredAlarm(row) : null;
  }

  acknowledge(id: string, by: string, at: string): Promise<LifecycleResult> {
    return this.commit(async (tx): Promise<Committed<LifecycleResult>> => {
      const row = await lockRow(tx, this.db.dialect, id);
      if (!row) return { result: { ok: false, reason: 'not_found' }, changes: [] };
      if (row.state !== 'raised') return { result: { ok: false, reason: 'not_raised' }, changes: [] };
      if (row.acknowledged_at) {
        return { result: { ok: true, alarm: toStoredAlarm(row), changed: false }, changes: [] };
      }
      await tx.run(`UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`, [at, by, id]);
      const events = [timelineEvent(id, 'acknowledged', at, by)];
      await this.timeline.append(tx, events);
      await this.escalations?.cancel(tx, id, at);
      return {
        result: {
          ok: true,
          alarm: toStoredAlarm({ ...row, acknowledged_at: at, acknowledged_by: by }),
          changed: true,
        },
        changes: withPlace(events, row.bed_id, row.gateway_id, await organisationOf(tx, row.gateway_id)),
      };
    });
  }

  resolve(
    id: string,
    by: string,
    at: string,
    outcome: ResolutionOutcome,
    notes?: string,
  ): Promise<ResolveResult> {
    return this.commit(async (tx): Promise<Committed<ResolveResult>> => {
      const row = await lockRow(tx, this.db.dialect, id);
      if (!row) return { result: { ok: false, reason: 'not_found' }, changes: [] };
      if (row.state !== 'raised') return { result: { ok: false, reason: 'not_raised' }, changes: [] };
      if (row.resolved_at) return { result: { ok: false, reason: 'already_resolved' }, changes: [] };
      const acknowledgedToo = !row.acknowledged_at;
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
      // Nobody had taken it: the timeline says it was taken, then closed, as the gateway is told.
      const events = [
        ...(acknowledgedToo ? [timelineEvent(id, 'acknowledged', at, by)] : []),
        timelineEvent(id, 'resolved', at, by, { outcome, notes: notes ?? null }),
      ];
      await this.timeline.append(tx, events);
      await this.escalations?.cancel(tx, id, at);
      return {
        result: { ok: true, alarm: toStoredAlarm(updated), changed: true, acknowledgedToo },
        changes: withPlace(events, row.bed_id, row.gateway_id, await organisationOf(tx, row.gateway_id)),
      };
    });
  }

  async handledSince(gatewayId: string, since: string): Promise<StoredAlarm[]> {
    const rows = await this.db.all<AlarmRow>(
      `SELECT * FROM alarms
       WHERE gateway_id = ? AND state = 'raised' AND seq <> ? AND (acknowledged_at >= ? OR resolved_at >= ?)
       ORDER BY seq`,
      [gatewayId, CLOUD_RAISED_SEQ, since, since],
    );
    return rows.map(toStoredAlarm);
  }

  /** Run one transaction, then announce what it committed (never what was rolled back). */
  private async commit<T>(work: (tx: SqlExecutor) => Promise<Committed<T>>): Promise<T> {
    const { result, changes } = await this.db.transaction(work);
    this.announce(changes);
    return result;
  }

  private announce(changes: readonly AlarmChange[]): void {
    if (changes.length === 0) return;
    try {
      this.announcer.announce(changes);
    } catch (err) {
      // Best effort by design: the change is committed, and a console that missed it catches up from alarm_events.
      this.logger?.error({ err, alarmId: changes[0]?.alarmId }, 'announcing alarm changes failed');
    }
  }
}

/** The organisation a gateway belongs to (null while it is not linked, or unknown). */
async function organisationOf(tx: SqlExecutor, gatewayId: string): Promise<string | null> {
  const row = await tx.get<{ organisation_id: string | null }>(
    `SELECT organisation_id FROM gateways WHERE id = ?`,
    [gatewayId],
  );
  return row?.organisation_id ?? null;
}

/** Events with what subscribers filter on. */
export function withPlace(
  events: readonly AlarmEvent[],
  bedId: string,
  gatewayId: string,
  organisationId: string | null,
): AlarmChange[] {
  return events.map((e) => ({ ...e, bedId, gatewayId, organisationId }));
}

/** Read a row for update: PostgreSQL locks it (two staff clicking at once); SQLite's transaction already excludes. */
export function lockRow(
  tx: SqlExecutor,
  dialect: SqlDatabase['dialect'],
  id: string,
): Promise<AlarmRow | undefined> {
  return tx.get<AlarmRow>(`SELECT * FROM alarms WHERE id = ?${dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
}

export function toStoredAlarm(r: AlarmRow): StoredAlarm {
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
