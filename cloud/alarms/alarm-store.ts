import type { AlarmMessage, ResolutionOutcome } from '../../contract/index.js';

export interface StoredAlarm extends AlarmMessage {
  receivedAt: string;
  /** How many times the gateway delivered it (retransmissions are normal, not duplicates). */
  deliveries: number;
  /** Only `raised` alarms are taken by a person: when, and by whom. */
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  outcome?: ResolutionOutcome;
  notes?: string;
}

/** Why a person could not take or close an alarm. */
export type LifecycleRefusal = 'not_found' | 'not_raised' | 'already_resolved';

export type LifecycleResult =
  | { ok: true; alarm: StoredAlarm; changed: boolean }
  | { ok: false; reason: LifecycleRefusal };

/**
 * Durable alarm storage. `ingest` returns only after the alarm is committed,
 * and is idempotent by alarm id: a retransmitted alarm is counted, never
 * stored twice. One implementation over the SQL seam (cloud/store/sql-database.ts):
 * SQLite by default, PostgreSQL for scale-out.
 */
export interface AlarmStore {
  ingest(alarm: AlarmMessage, receivedAt: string): Promise<{ inserted: boolean }>;
  /** Newest first (by receipt time, then id). */
  list(options?: { limit?: number; gatewayId?: string }): Promise<StoredAlarm[]>;
  get(id: string): Promise<StoredAlarm | null>;
  /** A person has taken a raised alarm. The first acknowledgement counts; a repeat changes nothing. */
  acknowledge(id: string, by: string, at: string): Promise<LifecycleResult>;
  /** Close a raised alarm with an outcome (acknowledging it too, if nobody had). Closing twice is refused. */
  resolve(
    id: string,
    by: string,
    at: string,
    outcome: ResolutionOutcome,
    notes?: string,
  ): Promise<LifecycleResult>;
  /** A gateway's raised alarms acknowledged or resolved at or after `since`, oldest first (for replay). */
  handledSince(gatewayId: string, since: string): Promise<StoredAlarm[]>;
}
