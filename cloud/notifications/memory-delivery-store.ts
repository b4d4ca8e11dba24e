import type { DeliveryAttempt, DeliveryRecord, DeliveryState, DeliveryStore } from './delivery-store.js';
import type { Notification } from './notification.js';

interface Entry {
  record: DeliveryRecord;
  attempts: DeliveryAttempt[];
}

function timeOf(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO time: ${iso}`);
  return ms;
}

/**
 * `DeliveryStore` in memory: the reference behaviour of the interface, for tests and the demo.
 * Nothing survives the process; a "crash" in tests is a new dispatcher on the same instance.
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
    });
    return { inserted: true };
  }

  async due(nowIso: string, limit: number): Promise<DeliveryRecord[]> {
    const now = timeOf(nowIso);
    const due: DeliveryRecord[] = [];
    for (const { record } of this.entries.values()) {
      if (
        record.state === 'pending' &&
        record.nextAttemptAt !== null &&
        timeOf(record.nextAttemptAt) <= now
      ) {
        due.push(record);
      }
    }
    due.sort(
      (a, b) =>
        timeOf(a.nextAttemptAt!) - timeOf(b.nextAttemptAt!) ||
        (a.notification.id < b.notification.id ? -1 : a.notification.id > b.notification.id ? 1 : 0),
    );
    return due.slice(0, Math.max(0, limit)).map((r) => structuredClone(r));
  }

  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    nextAttemptAt: string | null,
    finalState?: 'delivered' | 'failed',
  ): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no delivery ${id}`);
    timeOf(attempt.at);
    if (nextAttemptAt === null) {
      if (finalState === undefined)
        throw new Error('recordAttempt: a final state is required without a next attempt');
    } else {
      timeOf(nextAttemptAt);
      if (finalState !== undefined) throw new Error('recordAttempt: a final state excludes a next attempt');
    }
    entry.attempts.push(structuredClone(attempt));
    const record = entry.record;
    record.attemptCount += 1;
    record.lastAttemptAt = attempt.at;
    record.lastDetail = attempt.detail;
    if (record.state !== 'pending') return;
    if (nextAttemptAt === null) {
      record.state = finalState!;
      record.nextAttemptAt = null;
    } else {
      record.nextAttemptAt = nextAttemptAt;
    }
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
      .sort(
        (a, b) =>
          timeOf(b.firstAttemptAt) - timeOf(a.firstAttemptAt) ||
          (a.notification.id < b.notification.id ? 1 : a.notification.id > b.notification.id ? -1 : 0),
      );
    return records.slice(0, filter.limit ?? 100).map((r) => structuredClone(r));
  }
}
