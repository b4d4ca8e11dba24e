import type { AlarmMessage, ResolutionOutcome } from '../../contract/index.js';
import type { SqlExecutor } from '../store/sql-database.js';

/**
 * The `seq` of alarms the cloud raises itself (`gateway_offline`). Gateways
 * number theirs from 1, so a cloud alarm never collides with one, and the
 * gateway is never told about an alarm it did not raise.
 */
export const CLOUD_RAISED_SEQ = 0;

export function isCloudRaised(alarm: Pick<AlarmMessage, 'seq'>): boolean {
  return alarm.seq === CLOUD_RAISED_SEQ;
}

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

/** A resolve that went through also says whether it acknowledged the alarm (nobody had). */
export type ResolveResult =
  | { ok: true; alarm: StoredAlarm; changed: true; acknowledgedToo: boolean }
  | { ok: false; reason: LifecycleRefusal };

/** Which alarms a list returns; every filter given must hold. */
export interface AlarmListOptions {
  /** 1–1000, default 100. */
  limit?: number;
  gatewayId?: string;
  bedId?: string;
  /** Only these beds (a family's); an empty list returns nothing. */
  bedIds?: readonly string[];
  /**
   * Only alarms of gateways in this organisation, and of gateways on no bed
   * yet: an alarm from a home not yet linked must still reach someone.
   */
  organisationId?: string;
  /** Only raised alarms not yet resolved (the staff queue). */
  open?: boolean;
  /** Only alarms received before this ISO time (paging backwards). */
  before?: string;
}

export interface IngestOptions {
  /**
   * Runs first, inside the ingest transaction; when it returns false nothing
   * is stored (`inserted: false`). The cloud's own alarms claim their right
   * to be raised this way (a conditional UPDATE), so that of several relay
   * processes exactly one raises, and a crash cannot leave a claim without its alarm.
   */
  guard?: (tx: SqlExecutor) => Promise<boolean>;
}

/**
 * Durable alarm storage. `ingest` returns only after the alarm is committed,
 * and is idempotent by alarm id: a retransmitted alarm is counted, never
 * stored twice. One implementation over the SQL seam (cloud/store/sql-database.ts):
 * SQLite by default, PostgreSQL for scale-out.
 */
export interface AlarmStore {
  ingest(alarm: AlarmMessage, receivedAt: string, options?: IngestOptions): Promise<{ inserted: boolean }>;
  /** Newest first (by receipt time, then id). */
  list(options?: AlarmListOptions): Promise<StoredAlarm[]>;
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
  ): Promise<ResolveResult>;
  /**
   * A gateway's own raised alarms (not the cloud's) acknowledged or resolved
   * at or after `since`, oldest first (for replay to the gateway).
   */
  handledSince(gatewayId: string, since: string): Promise<StoredAlarm[]>;
}
