import {
  checkAttemptArguments,
  type DeliveryAttempt,
  type DeliveryRecord,
  type DeliveryState,
  type DeliveryStore,
  type RecordedAttempt,
  timeOf,
} from './delivery-store.js';
import type { Notification } from './notification.js';

interface Entry {
  record: DeliveryRecord;
  attempts: DeliveryAttempt[];
  /** Who holds the current lease (kept for parity with the SQL store's `lease_owner`; not returned). */
  leaseOwner: string | null;
}

const byId = (a: DeliveryRecord, b: DeliveryRecord): number =>
  a.notification.id < b.notification.id ? -1 : a.notification.id > b.notification.id ? 1 : 0;

/**
 * `DeliveryStore` in memory: the reference behaviour of the interface, for tests and the demo.
 * Nothing survives the process; a "crash" in tests is a new dispatcher on the same instance. Each
 * method runs without an await in between, so `claimDue` is atomic among callers of one instance.
 */
export class MemoryDeliveryStore implements DeliveryStore {
  private readonly entries = new Map<string, Entry>();

  async add(notification: Notification, firstAttemptAt: string): Promise<{ inserted: boolean }> {
    timeOf(firstAttemptAt);
    if (this.entries.has(notification.id)) return { inserted: false };
    this.entries.set(notification.id, {
      record: {
        notification: structuredClone(notification),
        state: 'pending',
        firstAttemptAt,
        nextAttemptAt: firstAttemptAt,
        attemptCount: 0,
        lastAttemptAt: null,
        lastDetail: null,
      },
      attempts: [],
      leaseOwner: null,
    });
    return { inserted: true };
  }

  async due(nowIso: string, limit: number): Promise<DeliveryRecord[]> {
    return this.dueEntries(nowIso, limit).map((e) => structuredClone(e.record));
  }

  async claimDue(nowIso: string, owner: string, leaseMs: number, limit: number): Promise<DeliveryRecord[]> {
    const leaseEnd = new Date(timeOf(nowIso) + leaseMs).toISOString();
    return this.dueEntries(nowIso, limit).map((e) => {
      e.record.nextAttemptAt = leaseEnd;
      e.leaseOwner = owner;
      return structuredClone(e.record);
    });
  }

  private dueEntries(nowIso: string, limit: number): Entry[] {
    const now = timeOf(nowIso);
    const due = [...this.entries.values()].filter(
      ({ record }) =>
        record.state === 'pending' && record.nextAttemptAt !== null && timeOf(record.nextAttemptAt) <= now,
    );
    due.sort(
      (a, b) => timeOf(a.record.nextAttemptAt!) - timeOf(b.record.nextAttemptAt!) || byId(a.record, b.record),
    );
    return due.slice(0, Math.max(0, limit));
  }

  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    nextAttemptAt: string | null,
    finalState?: 'delivered' | 'failed',
  ): Promise<RecordedAttempt> {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no delivery ${id}`);
    timeOf(attempt.at);
    if (nextAttemptAt !== null) timeOf(nextAttemptAt);
    checkAttemptArguments(nextAttemptAt, finalState);
    entry.attempts.push(structuredClone(attempt));
    entry.leaseOwner = null;
    const record = entry.record;
    record.attemptCount += 1;
    record.lastAttemptAt = attempt.at;
    record.lastDetail = attempt.detail;
    let settled = false;
    if (record.state === 'pending') {
      if (nextAttemptAt === null) {
        record.state = finalState!;
        record.nextAttemptAt = null;
        settled = true;
      } else {
        record.nextAttemptAt = nextAttemptAt;
      }
    }
    return { record: structuredClone(record), settled };
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const entry = this.entries.get(id);
    return entry ? structuredClone(entry.record) : null;
  }

  async attempts(id: string): Promise<DeliveryAttempt[]> {
    return structuredClone(this.entries.get(id)?.attempts ?? []);
  }

  async list(
    filter: { alarmId?: string; state?: DeliveryState; limit?: number } = {},
  ): Promise<DeliveryRecord[]> {
    const records = [...this.entries.values()]
      .map((e) => e.record)
      .filter(
        (r) =>
          (filter.alarmId === undefined || r.notification.alarmId === filter.alarmId) &&
          (filter.state === undefined || r.state === filter.state),
      )
      .sort((a, b) => timeOf(b.firstAttemptAt) - timeOf(a.firstAttemptAt) || byId(b, a));
    return records.slice(0, filter.limit ?? 100).map((r) => structuredClone(r));
  }
}
