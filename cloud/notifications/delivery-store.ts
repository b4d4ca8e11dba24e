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

/**
 * Durable storage of notifications and their delivery attempts, for `NotificationDispatcher`.
 * `MemoryDeliveryStore` is the reference behaviour (and `test/unit/cloud/notifications/
 * delivery-store-contract.ts` the suite every implementation must pass).
 *
 * Every method resolves only once its change is committed. Times are ISO 8601 UTC strings as made by
 * `Date.prototype.toISOString` (so they also sort as text). Returned objects are copies: changing them
 * changes nothing stored.
 *
 * One dispatcher per store: `due` is a plain query, so two dispatchers on one store would both send
 * a due delivery (receivers would see it twice, with the same `x-homebed-id`). A shared SQL store for
 * several relays needs a claim (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` that moves
 * `nextAttemptAt` forward as a lease) in place of `due`.
 */
export interface DeliveryStore {
  /**
   * Store a new notification, `pending`, first attempt due at `firstAttemptAt`. Idempotent by
   * notification id: adding an id again changes nothing and resolves `{ inserted: false }`.
   */
  add(notification: Notification, firstAttemptAt: string): Promise<{ inserted: boolean }>;

  /**
   * `pending` deliveries whose `nextAttemptAt` is at or before `nowIso`, earliest due first (ties by
   * notification id), at most `limit`. SQL: index on (state, next_attempt_at).
   */
  due(nowIso: string, limit: number): Promise<DeliveryRecord[]>;

  /**
   * Append an attempt and move the delivery on, in one transaction: with `nextAttemptAt` it stays
   * `pending` and is due again then (`finalState` omitted); with `nextAttemptAt: null` it becomes
   * `finalState` ('delivered' or 'failed'; required then). Rejects for an unknown id. A delivery that
   * is no longer pending keeps its final state (the first one wins), but the attempt is still appended:
   * it happened.
   */
  recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    nextAttemptAt: string | null,
    finalState?: 'delivered' | 'failed',
  ): Promise<void>;

  get(id: string): Promise<DeliveryRecord | null>;

  /** A delivery's attempts, oldest first; empty for an unknown id. */
  attempts(id: string): Promise<DeliveryAttempt[]>;

  /**
   * Deliveries newest first (by `firstAttemptAt`, then id descending), optionally only those of one
   * alarm and/or in one state; at most `limit` (default 100).
   */
  list(filter?: { alarmId?: string; state?: DeliveryState; limit?: number }): Promise<DeliveryRecord[]>;
}
