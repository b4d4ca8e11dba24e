import { uuidv7 } from '../../common/ids.js';
import type { SqlDatabase, SqlExecutor, SqlValue } from '../store/sql-database.js';
import type { AlarmChange, AlarmEvent, AlarmEventDetail, AlarmEventKind } from './alarm-events.js';

interface EventRow {
  id: string;
  alarm_id: string;
  at: string;
  kind: string;
  actor: string | null;
  detail: string;
}

interface ChangeRow extends EventRow {
  bed_id: string;
  gateway_id: string;
  organisation_id: string | null;
}

/** Which alarms a reader may see: one organisation, some beds, or (both absent) everything. */
export interface TimelineScope {
  organisationId?: string;
  /** With `organisationId`: also alarms of gateways in no organisation yet (the answering roles see those). */
  includeUnlinked?: boolean;
  /** Only these beds; an empty list sees nothing. */
  bedIds?: readonly string[];
}

/** The actor of what a gateway did (raise, clear, cancel). */
export function gatewayActor(gatewayId: string): string {
  return `gateway:${gatewayId}`;
}

/** The actor of what the cloud did by itself (stored, escalated, a gateway_offline alarm). */
export const SYSTEM_ACTOR = 'system';

/** A new timeline event; its UUIDv7 id orders events made by this process. */
export function timelineEvent(
  alarmId: string,
  kind: AlarmEventKind,
  at: string,
  actor: string | null,
  detail: AlarmEventDetail = {},
): AlarmEvent {
  return { id: uuidv7(), alarmId, at, kind, actor, detail };
}

/**
 * The `alarm_events` table: every step of an alarm from the edge to its
 * closing. Events are appended only inside the transaction of the state
 * change they describe, so the timeline never tells of a change that was
 * rolled back, nor misses one that was committed. Every event's `alarm_id`
 * names a row of `alarms` (the store files a clear under its own id when the
 * raised alarm is unknown), so readers can join.
 */
export class AlarmTimeline {
  constructor(private readonly db: SqlDatabase) {}

  /** Append inside the caller's transaction (never on its own: see the class comment). */
  async append(tx: SqlExecutor, events: readonly AlarmEvent[]): Promise<void> {
    for (const e of events) {
      await tx.run(
        `INSERT INTO alarm_events (id, alarm_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)`,
        [e.id, e.alarmId, e.at, e.kind, e.actor, JSON.stringify(e.detail)],
      );
    }
  }

  /** One alarm's whole story, oldest first. */
  async forAlarm(alarmId: string): Promise<AlarmEvent[]> {
    const rows = await this.db.all<EventRow>(
      `SELECT id, alarm_id, at, kind, actor, detail FROM alarm_events WHERE alarm_id = ? ORDER BY at, id`,
      [alarmId],
    );
    return rows.map(toEvent);
  }

  /**
   * Changes after `afterIso`, oldest first, at most `limit` (1–1000), for a
   * console catching up. `raised` carries the edge's time, which can be
   * older than its commit; the `stored` event of the same alarm carries the
   * receipt time, so a catch-up from the last time seen always finds it.
   */
  async since(afterIso: string, limit: number, scope: TimelineScope = {}): Promise<AlarmChange[]> {
    if (scope.bedIds && scope.bedIds.length === 0) return [];
    const where = ['e.at > ?'];
    const params: SqlValue[] = [afterIso];
    if (scope.organisationId) {
      where.push(
        scope.includeUnlinked
          ? '(g.organisation_id = ? OR g.organisation_id IS NULL)'
          : 'g.organisation_id = ?',
      );
      params.push(scope.organisationId);
    }
    if (scope.bedIds) {
      where.push(`a.bed_id IN (${scope.bedIds.map(() => '?').join(', ')})`);
      params.push(...scope.bedIds);
    }
    params.push(Math.min(Math.max(Math.trunc(limit), 1), 1000));
    const rows = await this.db.all<ChangeRow>(
      `SELECT e.id, e.alarm_id, e.at, e.kind, e.actor, e.detail, a.bed_id, a.gateway_id, g.organisation_id
         FROM alarm_events e
         JOIN alarms a ON a.id = e.alarm_id
         LEFT JOIN gateways g ON g.id = a.gateway_id
        WHERE ${where.join(' AND ')}
        ORDER BY e.at, e.id
        LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      ...toEvent(r),
      bedId: r.bed_id,
      gatewayId: r.gateway_id,
      organisationId: r.organisation_id,
    }));
  }
}

function toEvent(r: EventRow): AlarmEvent {
  return {
    id: r.id,
    alarmId: r.alarm_id,
    at: r.at,
    kind: r.kind as AlarmEventKind,
    actor: r.actor,
    detail: JSON.parse(r.detail) as AlarmEventDetail,
  };
}
