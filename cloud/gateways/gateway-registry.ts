import { createHash, timingSafeEqual } from 'node:crypto';
import { HomebedError } from '../../common/errors.js';
import { uuidv7 } from '../../common/ids.js';
import { generateSecret, hashSecret, verifySecret } from '../../common/secrets.js';
import { GATEWAY_ID_PATTERN, type HeartbeatMessage, type StatusMessage } from '../../contract/index.js';
import { num, type SqlDatabase, type SqlExecutor } from '../store/sql-database.js';

export type GatewayState = StatusMessage['state'];

export interface GatewayRecord {
  id: string;
  createdAt: string;
  /** When the gateway was last heard (a heartbeat or a status it sent; not its last will). */
  lastSeenAt: string | null;
  status: GatewayState | null;
  lastHeartbeat: HeartbeatMessage | null;
  /** The bed and organisation it is linked to (null until linked). */
  bedId: string | null;
  organisationId: string | null;
  /** The interval its last heartbeat announced. */
  heartbeatIntervalMs: number | null;
  /** The open `gateway_offline` alarm the cloud raised for it, if any. */
  offlineAlarmId: string | null;
}

/**
 * Why a gateway's status changed: it said so (`status`), the broker
 * published its last will (`last_will`), it missed its heartbeats
 * (`heartbeat_timeout`), or a heartbeat arrived while it was not online (`heartbeat`).
 */
export const GATEWAY_STATUS_REASONS = ['status', 'last_will', 'heartbeat_timeout', 'heartbeat'] as const;
export type GatewayStatusReason = (typeof GATEWAY_STATUS_REASONS)[number];

/** One row of `gateway_status_history`. */
export interface GatewayStatusChange {
  id: string;
  gatewayId: string;
  state: GatewayState;
  at: string;
  reason: GatewayStatusReason;
}

/** A gateway as liveness sees it right after a message from (or about) it was recorded. */
export interface GatewayPresence {
  gatewayId: string;
  /** False when no gateway has this id (nothing was recorded). */
  provisioned: boolean;
  state: GatewayState | null;
  /** The change this message made; null when the gateway already was in that state. */
  change: GatewayStatusChange | null;
  /** With a change: the change before it (when the previous state began), if any. */
  previous: GatewayStatusChange | null;
  /** The open `gateway_offline` alarm, if any. */
  offlineAlarmId: string | null;
}

/** A heartbeat as kept in `gateway_heartbeats` (devices compacted). */
export interface HeartbeatRecord {
  gatewayId: string;
  at: string;
  intervalMs: number;
  devices: { id: string; kind: string; online: boolean; lastSeenAt: string | null }[];
}

interface GatewayRow {
  id: string;
  secret_hash: string;
  created_at: string;
  last_seen_at: string | null;
  status: string | null;
  last_heartbeat: string | null;
  bed_id: string | null;
  organisation_id: string | null;
  heartbeat_interval_ms: number | null;
  offline_alarm_id: string | null;
}

interface HistoryRow {
  id: string;
  gateway_id: string;
  state: string;
  at: string;
  reason: string;
}

/**
 * Provisioned gateways and their secrets. Secrets are stored only as scrypt
 * hashes; a secret that verified once is remembered as a SHA-256 digest in
 * memory so a fleet reconnecting after an outage does not cost one scrypt each.
 */
export class GatewayRegistry {
  private readonly verified = new Map<string, Buffer>();

  constructor(private readonly db: SqlDatabase) {}

  /**
   * Provision a gateway; returns the secret, which is never shown again. An
   * operator's gateway belongs to their organisation from the start (its
   * alarms stay there even before it is put on a bed); one without an
   * organisation is a platform admin's (CLI).
   */
  async add(
    id: string,
    secret: string = generateSecret(),
    organisationId: string | null = null,
  ): Promise<{ id: string; secret: string }> {
    if (!GATEWAY_ID_PATTERN.test(id)) {
      throw new HomebedError('HB_GATEWAY_ID_INVALID', `invalid gateway id ${JSON.stringify(id)}`);
    }
    if (secret.length < 8)
      throw new HomebedError('HB_SECRET_TOO_SHORT', 'a gateway secret needs at least 8 characters');
    const hash = await hashSecret(secret);
    const result = await this.db.run(
      `INSERT INTO gateways (id, secret_hash, created_at, organisation_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [id, hash, new Date().toISOString(), organisationId],
    );
    if (result.changes === 0) throw new HomebedError('HB_GATEWAY_EXISTS', `gateway ${id} already exists`);
    return { id, secret };
  }

  /** Replace a gateway's secret (a lost or leaked one). */
  async rotate(id: string, secret: string = generateSecret()): Promise<{ id: string; secret: string }> {
    const hash = await hashSecret(secret);
    const result = await this.db.run(`UPDATE gateways SET secret_hash = ? WHERE id = ?`, [hash, id]);
    if (result.changes === 0) throw new HomebedError('HB_GATEWAY_UNKNOWN', `no gateway ${id}`);
    this.verified.delete(id);
    return { id, secret };
  }

  async verify(id: string, secret: string): Promise<boolean> {
    const row = await this.db.get<{ secret_hash: string }>(`SELECT secret_hash FROM gateways WHERE id = ?`, [
      id,
    ]);
    if (!row) return false;
    const digest = createHash('sha256').update(row.secret_hash).update('\0').update(secret).digest();
    const cached = this.verified.get(id);
    if (cached && timingSafeEqual(cached, digest)) return true;
    const ok = await verifySecret(secret, row.secret_hash);
    if (ok) this.verified.set(id, digest);
    return ok;
  }

  /**
   * Record a status the gateway sent (`status`) or its last will
   * (`last_will`); a change is written to the history in the same transaction.
   */
  recordStatus(
    id: string,
    state: GatewayState,
    at: string,
    reason: Extract<GatewayStatusReason, 'status' | 'last_will'> = 'status',
  ): Promise<GatewayPresence> {
    return this.db.transaction(async (tx) => {
      const before = await this.lockGateway(tx, id);
      if (!before) return unprovisioned(id);
      // The last will is the broker speaking, not the gateway: it is not "heard".
      if (reason === 'last_will') {
        await tx.run(`UPDATE gateways SET status = ? WHERE id = ?`, [state, id]);
      } else {
        await tx.run(`UPDATE gateways SET status = ?, last_seen_at = ? WHERE id = ?`, [state, at, id]);
      }
      return this.settle(tx, before, state, at, reason);
    });
  }

  /**
   * Record a heartbeat: the gateway's last heartbeat and interval, one row of
   * `gateway_heartbeats`, and — if it was not online — that it is (reason `heartbeat`).
   */
  recordHeartbeat(heartbeat: HeartbeatMessage, receivedAt: string): Promise<GatewayPresence> {
    const id = heartbeat.gatewayId;
    const intervalMs = heartbeat.intervalS * 1000;
    return this.db.transaction(async (tx) => {
      const before = await this.lockGateway(tx, id);
      if (!before) return unprovisioned(id);
      await tx.run(
        `UPDATE gateways SET last_heartbeat = ?, last_seen_at = ?, heartbeat_interval_ms = ?, status = 'online'
          WHERE id = ?`,
        [JSON.stringify(heartbeat), receivedAt, intervalMs, id],
      );
      const devices: HeartbeatRecord['devices'] = heartbeat.devices.map((d) => ({
        id: d.id,
        kind: d.kind,
        online: d.online,
        lastSeenAt: d.lastSeenAt ?? null,
      }));
      await tx.run(
        `INSERT INTO gateway_heartbeats (gateway_id, at, interval_ms, devices) VALUES (?, ?, ?, ?)
         ON CONFLICT (gateway_id, at) DO NOTHING`,
        [id, receivedAt, intervalMs, JSON.stringify(devices)],
      );
      return this.settle(tx, before, 'online', receivedAt, 'heartbeat');
    });
  }

  /**
   * Mark an online gateway offline because it missed its heartbeats, unless
   * it was heard after `lastSeenAt` (or another relay process did it first):
   * the condition makes the change, and its history row, happen once.
   */
  markTimedOut(id: string, lastSeenAt: string, at: string): Promise<GatewayStatusChange | null> {
    return this.db.transaction(async (tx) => {
      const done = await tx.run(
        `UPDATE gateways SET status = 'offline'
          WHERE id = ? AND last_seen_at = ? AND (status IS NULL OR status = 'online')`,
        [id, lastSeenAt],
      );
      if (done.changes !== 1) return null;
      return this.addHistory(tx, id, 'offline', at, 'heartbeat_timeout');
    });
  }

  /** The gateway's status changes, newest first. */
  async statusHistory(id: string, limit = 100): Promise<GatewayStatusChange[]> {
    const rows = await this.db.all<HistoryRow>(
      `SELECT * FROM gateway_status_history WHERE gateway_id = ? ORDER BY at DESC, id DESC LIMIT ?`,
      [id, Math.min(Math.max(limit, 1), 1000)],
    );
    return rows.map(toStatusChange);
  }

  /** The gateway's recorded heartbeats, newest first. */
  async heartbeats(id: string, limit = 100): Promise<HeartbeatRecord[]> {
    const rows = await this.db.all<{ gateway_id: string; at: string; interval_ms: number; devices: string }>(
      `SELECT * FROM gateway_heartbeats WHERE gateway_id = ? ORDER BY at DESC LIMIT ?`,
      [id, Math.min(Math.max(limit, 1), 1000)],
    );
    return rows.map((r) => ({
      gatewayId: r.gateway_id,
      at: r.at,
      intervalMs: num(r.interval_ms),
      devices: JSON.parse(r.devices) as HeartbeatRecord['devices'],
    }));
  }

  /**
   * Forget heartbeats older than `beforeIso` (one row per gateway per interval
   * adds up: 2 880 a day at 30 s); the status history is kept. Coverage
   * statistics are computed from heartbeats (cloud/stats), so keep at least
   * as far back as reports are asked for. Returns how many went.
   */
  async pruneHeartbeats(beforeIso: string): Promise<number> {
    return (await this.db.run(`DELETE FROM gateway_heartbeats WHERE at < ?`, [beforeIso])).changes;
  }

  /** The organisation a bed belongs to; null for an unknown bed. */
  async bedOrganisation(bedId: string): Promise<string | null> {
    const row = await this.db.get<{ organisation_id: string }>(
      `SELECT organisation_id FROM beds WHERE id = ?`,
      [bedId],
    );
    return row?.organisation_id ?? null;
  }

  /** The bed and organisation a gateway is linked to; null for an unknown gateway. */
  async link(id: string): Promise<{ bedId: string | null; organisationId: string | null } | null> {
    const row = await this.db.get<{ bed_id: string | null; organisation_id: string | null }>(
      `SELECT bed_id, organisation_id FROM gateways WHERE id = ?`,
      [id],
    );
    return row ? { bedId: row.bed_id, organisationId: row.organisation_id } : null;
  }

  /** Read the gateway row for update: PostgreSQL locks it (two relay processes); SQLite's transaction already excludes. */
  private lockGateway(tx: SqlExecutor, id: string): Promise<GatewayRow | undefined> {
    return tx.get<GatewayRow>(
      `SELECT * FROM gateways WHERE id = ?${this.db.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
      [id],
    );
  }

  /** After the row was updated to `state`: write the history when the state changed. */
  private async settle(
    tx: SqlExecutor,
    before: GatewayRow,
    state: GatewayState,
    at: string,
    reason: GatewayStatusReason,
  ): Promise<GatewayPresence> {
    const presence: GatewayPresence = {
      gatewayId: before.id,
      provisioned: true,
      state,
      change: null,
      previous: null,
      offlineAlarmId: before.offline_alarm_id,
    };
    if (before.status === state) return presence;
    const previous = await tx.get<HistoryRow>(
      `SELECT * FROM gateway_status_history WHERE gateway_id = ? ORDER BY at DESC, id DESC LIMIT 1`,
      [before.id],
    );
    presence.previous = previous ? toStatusChange(previous) : null;
    presence.change = await this.addHistory(tx, before.id, state, at, reason);
    return presence;
  }

  private async addHistory(
    tx: SqlExecutor,
    gatewayId: string,
    state: GatewayState,
    at: string,
    reason: GatewayStatusReason,
  ): Promise<GatewayStatusChange> {
    const change: GatewayStatusChange = { id: uuidv7(), gatewayId, state, at, reason };
    await tx.run(
      `INSERT INTO gateway_status_history (id, gateway_id, state, at, reason) VALUES (?, ?, ?, ?, ?)`,
      [change.id, gatewayId, state, at, reason],
    );
    return change;
  }

  async list(): Promise<GatewayRecord[]> {
    const rows = await this.db.all<GatewayRow>(`SELECT * FROM gateways ORDER BY id`);
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      status: (r.status as GatewayRecord['status']) ?? null,
      lastHeartbeat: r.last_heartbeat ? (JSON.parse(r.last_heartbeat) as HeartbeatMessage) : null,
      bedId: r.bed_id,
      organisationId: r.organisation_id,
      heartbeatIntervalMs: r.heartbeat_interval_ms === null ? null : num(r.heartbeat_interval_ms),
      offlineAlarmId: r.offline_alarm_id,
    }));
  }
}

function unprovisioned(gatewayId: string): GatewayPresence {
  return { gatewayId, provisioned: false, state: null, change: null, previous: null, offlineAlarmId: null };
}

function toStatusChange(r: HistoryRow): GatewayStatusChange {
  return {
    id: r.id,
    gatewayId: r.gateway_id,
    state: r.state as GatewayState,
    at: r.at,
    reason: r.reason as GatewayStatusReason,
  };
}
