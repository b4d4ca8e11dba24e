import { type Clock, systemClock } from '../../common/clock.js';
import { uuidv7 } from '../../common/ids.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { Principal } from './model.js';

/** Who did it: a principal, or `ANONYMOUS_ACTOR` for a login attempt nobody owns yet. */
export type AuditActor = Pick<Principal, 'id'> & { role: string };

/** A failed login has no authenticated actor. */
export const ANONYMOUS_ACTOR: AuditActor = { id: 'anonymous', role: 'anonymous' };

export type AuditDetail = Record<string, unknown>;

export interface AuditInput {
  actor: AuditActor;
  /** `bed.view`, `bed.update`, `user.add`, `alarm.acknowledge`, `login`, `login.failed`, … */
  action: string;
  /** `bed`, `user`, `organisation`, `gateway`, `alarm`, `session`. */
  targetType: string;
  targetId?: string | null;
  /** The bed concerned, so a resident's whole history is one query. */
  bedId?: string | null;
  detail?: AuditDetail;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string;
  actorRole: string;
  action: string;
  targetType: string;
  targetId: string | null;
  bedId: string | null;
  detail: AuditDetail;
}

export interface AuditQuery {
  bedId?: string;
  actorId?: string;
  /** Entries about this organisation: its beds, its users acting, or its users as the target. */
  organisationId?: string;
  /** ISO time; entries at or after it. */
  since?: string;
  /** Newest first, at most this many (1-1000, default 100). */
  limit?: number;
}

/** Keys whose values are never written to the audit log, at any depth. */
const SECRET_KEY = /pass(word)?|token|secret|hash|cookie|authori[sz]ation/i;

/** `detail` without secrets: such keys are dropped, so a careless caller cannot leak one into the log. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRET_KEY.test(key))
        .map(([key, v]) => [key, withoutSecrets(v)]),
    );
  }
  return value;
}

interface AuditRow {
  id: string;
  at: string;
  actor_id: string;
  actor_role: string;
  action: string;
  target_type: string;
  target_id: string | null;
  bed_id: string | null;
  detail: string;
}

/**
 * Who looked at or changed what, and when: every read of a resident's
 * record and every change to people, beds and alarms. Append only.
 */
export class AuditLog {
  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  async record(input: AuditInput): Promise<AuditEntry> {
    const now = this.clock.now();
    const entry: AuditEntry = {
      id: uuidv7(now),
      at: new Date(now).toISOString(),
      actorId: input.actor.id,
      actorRole: input.actor.role,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId ?? null,
      bedId: input.bedId ?? null,
      detail: withoutSecrets(input.detail ?? {}) as AuditDetail,
    };
    await this.db.run(
      `INSERT INTO audit_log (id, at, actor_id, actor_role, action, target_type, target_id, bed_id, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        entry.id,
        entry.at,
        entry.actorId,
        entry.actorRole,
        entry.action,
        entry.targetType,
        entry.targetId,
        entry.bedId,
        JSON.stringify(entry.detail),
      ],
    );
    return entry;
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.bedId !== undefined) {
      where.push('bed_id = ?');
      params.push(query.bedId);
    }
    if (query.actorId !== undefined) {
      where.push('actor_id = ?');
      params.push(query.actorId);
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since);
    }
    if (query.organisationId !== undefined) {
      where.push(
        `(bed_id IN (SELECT id FROM beds WHERE organisation_id = ?)
          OR actor_id IN (SELECT id FROM users WHERE organisation_id = ?)
          OR (target_type = 'user' AND target_id IN (SELECT id FROM users WHERE organisation_id = ?))
          OR (target_type = 'organisation' AND target_id = ?))`,
      );
      params.push(query.organisationId, query.organisationId, query.organisationId, query.organisationId);
    }
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
    const rows = await this.db.all<AuditRow>(
      `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
       ORDER BY at DESC, id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(toEntry);
  }
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actorId: r.actor_id,
    actorRole: r.actor_role,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    bedId: r.bed_id,
    detail: JSON.parse(r.detail) as AuditDetail,
  };
}
