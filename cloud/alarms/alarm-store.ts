import type { AlarmMessage } from '../../contract/index.js';

export interface StoredAlarm extends AlarmMessage {
  receivedAt: string;
  /** How many times the gateway delivered it (retransmissions are normal, not duplicates). */
  deliveries: number;
}

/**
 * Durable alarm storage. `ingest` returns only after the alarm is committed,
 * and is idempotent by alarm id: a retransmitted alarm is counted, never
 * stored twice. Implementations: SQLite now; PostgreSQL for scale-out.
 */
export interface AlarmStore {
  ingest(alarm: AlarmMessage, receivedAt: string): { inserted: boolean };
  /** Newest first (by receipt time, then id). */
  list(options?: { limit?: number; gatewayId?: string }): StoredAlarm[];
  get(id: string): StoredAlarm | null;
}
