import type { AttemptStatus, Notification } from './notification.js';

/** Where a delivery stands: `pending` until it is `delivered` or has `failed` for good. */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One attempt to deliver, as recorded. */
export interface DeliveryAttempt {
  /** When the attempt finished (ISO 8601). */
  at: string;
  status: AttemptStatus;
  detail: string;
  httpStatus?: number;
}

/** A notification and how far its delivery has come. */
export interface DeliveryRecord {
  notification: Notification;
  state: DeliveryState;
  /** When the delivery was added: its first attempt was due then (ISO). */
  firstAttemptAt: string;
  /** When the next attempt is due (ISO); null once delivered or failed. */
  nextAttemptAt: string | null;
  /** Attempts recorded so far. */
  attemptCount: number;
  lastAttemptAt: string | null;
  lastDetail: string | null;
}

/** What `recordAttempt` leaves: the delivery as stored now, and whether this attempt settled it. */
export interface RecordedAttempt {
  record: DeliveryRecord;
  /**
   * True when this attempt moved the delivery from `pending` to its final state. False for a retry, and
   * for an attempt recorded after another one (e.g. another relay's, past a lapsed lease) had settled it:
   * only the settling attempt reports the outcome, so a timeline shows one "notified" per delivery.
   */
  settled: boolean;
}

/**
 * Durable storage of notifications and their delivery attempts, for `NotificationDispatcher`.
 * `MemoryDeliveryStore` is the reference behaviour and `SqlDeliveryStore` the relay's (SQLite or
 * PostgreSQL); `test/unit/cloud/notifications/delivery-store-contract.ts` is the suite every
 * implementation must pass.
 *
 * Every method resolves only once its change is committed. Times are ISO 8601 UTC strings as made by
 * `Date.prototype.toISOString` (so they also sort as text). Returned objects are copies: changing them
 * changes nothing stored.
 *
 * Several dispatchers (relay processes) may share one store: they take work with `claimDue`, which
 * leases each delivery to one of them. `due` is a plain query for people and tests; a dispatcher
 * sending what `due` returns would send it twice when another does the same.
 */
export interface DeliveryStore {
  /**
   * Store a new notification, `pending`, first attempt due at `firstAttemptAt`. Idempotent by
   * notification id: adding an id again changes nothing and resolves `{ inserted: false }`.
   */
  add(notification: Notification, firstAttemptAt: string): Promise<{ inserted: boolean }>;

  /**
   * `pending` deliveries whose `nextAttemptAt` is at or before `nowIso`, earliest due first (ties by
   * notification id), at most `limit`. Changes nothing. SQL: index on (state, next_attempt_at).
   */
  due(nowIso: string, limit: number): Promise<DeliveryRecord[]>;

  /**
   * Atomically take what `due(nowIso, limit)` would return and lease it to `owner`: each delivery's
   * `nextAttemptAt` moves to `nowIso + leaseMs` (as returned), so no other caller gets it until the
   * lease ends. The lease ends early when `recordAttempt` schedules the next attempt or settles it; if
   * the owner dies mid-send, the delivery is simply due again when the lease ends (at least once).
   * Concurrent calls, from this process or others, never return the same delivery.
   */
  claimDue(nowIso: string, owner: string, leaseMs: number, limit: number): Promise<DeliveryRecord[]>;

  /**
   * Append an attempt and move the delivery on, in one transaction: with `nextAttemptAt` it stays
   * `pending` and is due again then (`finalState` omitted); with `nextAttemptAt: null` it becomes
   * `finalState` ('delivered' or 'failed'; required then). Either way any lease ends. Rejects for an
   * unknown id. A delivery that is no longer pending keeps its final state (the first one wins), but
   * the attempt is still appended: it happened.
   */
  recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    nextAttemptAt: string | null,
    finalState?: 'delivered' | 'failed',
  ): Promise<RecordedAttempt>;

  get(id: string): Promise<DeliveryRecord | null>;

  /** A delivery's attempts, oldest first; empty for an unknown id. */
  attempts(id: string): Promise<DeliveryAttempt[]>;

  /**
   * Deliveries newest first (by `firstAttemptAt`, then id descending), optionally only those of one
   * alarm and/or in one state; at most `limit` (default 100).
   */
  list(filter?: { alarmId?: string; state?: DeliveryState; limit?: number }): Promise<DeliveryRecord[]>;
}

/** Check `recordAttempt`'s arguments the same way in every store. */
export function checkAttemptArguments(
  nextAttemptAt: string | null,
  finalState: 'delivered' | 'failed' | undefined,
): void {
  if (nextAttemptAt === null) {
    if (finalState === undefined)
      throw new Error('recordAttempt: a final state is required without a next attempt');
  } else if (finalState !== undefined) {
    throw new Error('recordAttempt: a final state excludes a next attempt');
  }
}

/** Milliseconds of an ISO time; throws for anything `Date.parse` cannot read. */
export function timeOf(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO time: ${iso}`);
  return ms;
}
