import { createHash } from 'node:crypto';
import type { GatewayEventKind, GatewayEventMessage } from '../../contract/index.js';
import type { SqlDatabase, SqlValue } from '../store/sql-database.js';

/** A gateway event as kept in `gateway_events` and shown on a bed's page. */
export interface StoredGatewayEvent {
  /** Derived from the event's natural key (see gatewayEventId). */
  id: string;
  gatewayId: string;
  /** The bed it is filed under: the gateway's linked bed when it has one (as alarms are). */
  bedId: string;
  kind: GatewayEventKind;
  /** When the gateway produced it (UTC ISO). */
  at: string;
  receivedAt: string;
  /** The kind's own fields: the message without `v`, `gatewayId`, `bedId`, `kind` and `at`. */
  detail: Record<string, unknown>;
}

export interface BedEventQuery {
  /** ISO instant; events at or after it. */
  from?: string;
  /** ISO instant; events before it (so paging back with `to = last at` does not repeat the edge). */
  to?: string;
  /** 1–500, default 100. */
  limit?: number;
}

interface EventRow {
  id: string;
  gateway_id: string;
  bed_id: string;
  kind: string;
  at: string;
  received_at: string;
  detail: string;
}

/** UTC ISO, so `+08:00` and `Z` spellings of one instant are one key and text order is time order. */
function utc(iso: string): string {
  return new Date(iso).toISOString();
}

/**
 * The id of an event, from its natural key: a daily summary is one sensor's
 * period (gateway, device, period end); any other event is one kind at one
 * instant of one gateway. Events carry no id of their own and a gateway
 * resends its queue after a reconnect, so the same event must map to the
 * same row (docs/contract.md).
 */
export function gatewayEventId(event: GatewayEventMessage): string {
  const key =
    event.kind === 'daily_summary'
      ? [event.gatewayId, event.kind, event.deviceId, utc(event.period.to)]
      : [event.gatewayId, event.kind, utc(event.at)];
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
}

/** The gateways' non-alarm events, by bed (daily summaries, bed exits and returns, SOS test reminders). */
export class BedEventRepository {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Keep an event under `bedId`; a repeat (same natural key) changes nothing
   * and answers `inserted: false`.
   */
  async record(
    event: GatewayEventMessage,
    bedId: string,
    receivedAt: string,
  ): Promise<{ inserted: boolean; event: StoredGatewayEvent }> {
    const { v: _v, gatewayId, bedId: _claimed, kind, at, ...detail } = event;
    const stored: StoredGatewayEvent = {
      id: gatewayEventId(event),
      gatewayId,
      bedId,
      kind,
      at: utc(at),
      receivedAt,
      detail,
    };
    const result = await this.db.run(
      `INSERT INTO gateway_events (id, gateway_id, bed_id, kind, at, received_at, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [
        stored.id,
        stored.gatewayId,
        stored.bedId,
        stored.kind,
        stored.at,
        stored.receivedAt,
        JSON.stringify(stored.detail),
      ],
    );
    return { inserted: result.changes > 0, event: stored };
  }

  /** A bed's events, newest first (by `at`, then id). */
  async list(bedId: string, query: BedEventQuery = {}): Promise<StoredGatewayEvent[]> {
    const where = ['bed_id = ?'];
    const params: SqlValue[] = [bedId];
    if (query.from !== undefined) {
      where.push('at >= ?');
      params.push(utc(query.from));
    }
    if (query.to !== undefined) {
      where.push('at < ?');
      params.push(utc(query.to));
    }
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 500);
    const rows = await this.db.all<EventRow>(
      `SELECT * FROM gateway_events WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(toEvent);
  }

  /** The bed's newest event of one of `kinds`, or null. */
  async latest(bedId: string, kinds: readonly GatewayEventKind[]): Promise<StoredGatewayEvent | null> {
    if (kinds.length === 0) return null;
    const row = await this.db.get<EventRow>(
      `SELECT * FROM gateway_events WHERE bed_id = ? AND kind IN (${kinds.map(() => '?').join(', ')})
        ORDER BY at DESC, id DESC LIMIT 1`,
      [bedId, ...kinds],
    );
    return row ? toEvent(row) : null;
  }
}

function toEvent(r: EventRow): StoredGatewayEvent {
  return {
    id: r.id,
    gatewayId: r.gateway_id,
    bedId: r.bed_id,
    kind: r.kind as GatewayEventKind,
    at: r.at,
    receivedAt: r.received_at,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}
