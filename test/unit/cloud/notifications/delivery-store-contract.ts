import { describe, expect, it } from 'vitest';
import type { DeliveryStore } from '../../../../cloud/notifications/delivery-store.js';
import { createNotification, type Notification } from '../../../../cloud/notifications/notification.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function note(offsetMs: number, alarmId = 'alarm-1'): Notification {
  return createNotification(
    {
      kind: 'alarm_raised',
      alarmId,
      bedId: 'bed-1',
      recipient: { name: 'Supervisor', channel: 'sms', address: '+8613800138000' },
      subject: 'SOS',
      body: 'SOS button pressed',
      payload: { type: 'sos_button', nested: { list: [1, 'two', null, true] } },
    },
    T0 + offsetMs,
  );
}

/**
 * The behaviour every `DeliveryStore` must have; `MemoryDeliveryStore` and `SqlDeliveryStore` (on SQLite
 * and PostgreSQL: test/integration/cloud/notifications/sql-delivery-store.test.ts) pass it.
 */
export function deliveryStoreContract(name: string, makeStore: () => Promise<DeliveryStore>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    it('adds a notification as pending, due at its first attempt, and keeps it intact', async () => {
      const store = await makeStore();
      const n = note(0);
      expect(await store.add(n, iso(0))).toEqual({ inserted: true });
      expect(await store.get(n.id)).toEqual({
        notification: n,
        state: 'pending',
        firstAttemptAt: iso(0),
        nextAttemptAt: iso(0),
        attemptCount: 0,
        lastAttemptAt: null,
        lastDetail: null,
      });
      expect(await store.attempts(n.id)).toEqual([]);
      expect(await store.get('01900000-0000-7000-8000-000000000000')).toBeNull();
    });

    it('is idempotent by notification id', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      expect(await store.add({ ...n, subject: 'changed' }, iso(5_000))).toEqual({ inserted: false });
      const record = await store.get(n.id);
      expect(record?.notification.subject).toBe('SOS');
      expect(record?.firstAttemptAt).toBe(iso(0));
    });

    it('returns due deliveries earliest first, up to the limit, only pending ones', async () => {
      const store = await makeStore();
      const a = note(0);
      const b = note(1);
      const c = note(2);
      const later = note(3);
      await store.add(c, iso(1_000));
      await store.add(a, iso(0));
      await store.add(b, iso(1_000));
      await store.add(later, iso(60_000));
      expect((await store.due(iso(1_000), 10)).map((r) => r.notification.id)).toEqual([a.id, b.id, c.id]);
      expect((await store.due(iso(1_000), 2)).map((r) => r.notification.id)).toEqual([a.id, b.id]);
      expect(await store.due(iso(-1), 10)).toEqual([]);
      await store.recordAttempt(
        a.id,
        { at: iso(1_000), status: 'delivered', detail: 'ok' },
        null,
        'delivered',
      );
      await store.recordAttempt(
        b.id,
        { at: iso(1_000), status: 'retry', detail: 'HTTP 503', httpStatus: 503 },
        iso(30_000),
        undefined,
      );
      expect((await store.due(iso(1_000), 10)).map((r) => r.notification.id)).toEqual([c.id]);
      expect((await store.due(iso(60_000), 10)).map((r) => r.notification.id)).toEqual([
        c.id,
        b.id,
        later.id,
      ]);
    });

    it('claims due deliveries under a lease: nobody else gets them until it ends', async () => {
      const store = await makeStore();
      const a = note(0);
      const b = note(1);
      const c = note(2);
      const later = note(3);
      await store.add(c, iso(1_000));
      await store.add(a, iso(0));
      await store.add(b, iso(1_000));
      await store.add(later, iso(60_000));
      const claimed = await store.claimDue(iso(1_000), 'relay-1', 30_000, 2);
      expect(claimed.map((r) => r.notification.id)).toEqual([a.id, b.id]);
      expect(claimed.map((r) => r.nextAttemptAt)).toEqual([iso(31_000), iso(31_000)]);
      expect(claimed[0]).toMatchObject({ notification: a, state: 'pending', attemptCount: 0 });
      // Taken: neither another claim nor `due` sees them while the lease lasts.
      expect((await store.claimDue(iso(1_000), 'relay-2', 30_000, 10)).map((r) => r.notification.id)).toEqual(
        [c.id],
      );
      expect(await store.claimDue(iso(30_999), 'relay-2', 30_000, 10)).toEqual([]);
      expect(await store.due(iso(30_999), 10)).toEqual([]);
      expect(await store.get(a.id)).toMatchObject({ nextAttemptAt: iso(31_000), attemptCount: 0 });
      expect(await store.claimDue(iso(1_000), 'relay-1', 30_000, 0)).toEqual([]);
      // a is recorded; the holders of b and c died mid-send: when the lease ends both are due again.
      await store.recordAttempt(
        a.id,
        { at: iso(1_500), status: 'delivered', detail: 'ok' },
        null,
        'delivered',
      );
      expect((await store.due(iso(31_000), 10)).map((r) => r.notification.id)).toEqual([b.id, c.id]);
      expect(
        (await store.claimDue(iso(31_000), 'relay-2', 30_000, 1)).map((r) => [
          r.notification.id,
          r.nextAttemptAt,
        ]),
      ).toEqual([[b.id, iso(61_000)]]);
      // c is still due since 31 s, later since 60 s; b is leased again until 61 s.
      expect(
        (await store.claimDue(iso(60_000), 'relay-3', 30_000, 10)).map((r) => r.notification.id),
      ).toEqual([c.id, later.id]);
    });

    it('ends a lease when the attempt is recorded: a retry is due at its own time', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      await store.claimDue(iso(0), 'relay-1', 60_000, 10);
      const retry = await store.recordAttempt(
        n.id,
        { at: iso(100), status: 'retry', detail: 'HTTP 503', httpStatus: 503 },
        iso(2_000),
      );
      expect(retry.settled).toBe(false);
      expect(retry.record).toMatchObject({ state: 'pending', nextAttemptAt: iso(2_000), attemptCount: 1 });
      expect(await store.claimDue(iso(1_999), 'relay-2', 60_000, 10)).toEqual([]);
      expect((await store.claimDue(iso(2_000), 'relay-2', 60_000, 10)).map((r) => r.attemptCount)).toEqual([
        1,
      ]);
    });

    it('claims each delivery once among concurrent callers', async () => {
      const store = await makeStore();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const n = note(i);
        ids.push(n.id);
        await store.add(n, iso(0));
      }
      const claims = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.claimDue(iso(0), `relay-${i}`, 60_000, 6)),
      );
      const claimed = claims.flat().map((r) => r.notification.id);
      expect(claimed).toHaveLength(20);
      expect(new Set(claimed).size).toBe(20);
      expect([...claimed].sort()).toEqual([...ids].sort());
    });

    it('says which attempt settled a delivery', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      const first = await store.recordAttempt(
        n.id,
        { at: iso(10), status: 'delivered', detail: 'ok' },
        null,
        'delivered',
      );
      expect(first.settled).toBe(true);
      expect(first.record).toMatchObject({
        notification: n,
        state: 'delivered',
        nextAttemptAt: null,
        attemptCount: 1,
        lastAttemptAt: iso(10),
        lastDetail: 'ok',
      });
      const late = await store.recordAttempt(
        n.id,
        { at: iso(20), status: 'failed', detail: 'HTTP 404' },
        null,
        'failed',
      );
      expect(late.settled).toBe(false);
      expect(late.record).toMatchObject({ state: 'delivered', attemptCount: 2, lastDetail: 'HTTP 404' });
    });

    it('records every attempt, oldest first, and the final state', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      await store.recordAttempt(n.id, { at: iso(10), status: 'retry', detail: 'timeout' }, iso(2_000));
      await store.recordAttempt(
        n.id,
        { at: iso(2_010), status: 'retry', detail: 'HTTP 503', httpStatus: 503 },
        iso(6_000),
      );
      await store.recordAttempt(
        n.id,
        { at: iso(6_010), status: 'failed', detail: 'HTTP 404', httpStatus: 404 },
        null,
        'failed',
      );
      expect(await store.attempts(n.id)).toEqual([
        { at: iso(10), status: 'retry', detail: 'timeout' },
        { at: iso(2_010), status: 'retry', detail: 'HTTP 503', httpStatus: 503 },
        { at: iso(6_010), status: 'failed', detail: 'HTTP 404', httpStatus: 404 },
      ]);
      expect(await store.get(n.id)).toMatchObject({
        state: 'failed',
        nextAttemptAt: null,
        attemptCount: 3,
        lastAttemptAt: iso(6_010),
        lastDetail: 'HTTP 404',
      });
    });

    it('keeps the first final state but still appends a later attempt', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      await store.recordAttempt(n.id, { at: iso(10), status: 'delivered', detail: 'ok' }, null, 'delivered');
      await store.recordAttempt(n.id, { at: iso(20), status: 'retry', detail: 'late' }, iso(2_000));
      expect(await store.get(n.id)).toMatchObject({
        state: 'delivered',
        nextAttemptAt: null,
        attemptCount: 2,
      });
      expect(await store.due(iso(10_000), 10)).toEqual([]);
    });

    it('rejects an attempt for an unknown delivery', async () => {
      const store = await makeStore();
      await expect(
        store.recordAttempt(
          '01900000-0000-7000-8000-000000000000',
          { at: iso(0), status: 'retry', detail: '' },
          iso(1),
        ),
      ).rejects.toThrow();
    });

    it('lists newest first, by alarm and by state', async () => {
      const store = await makeStore();
      const a = note(0, 'alarm-a');
      const b = note(1, 'alarm-b');
      const c = note(2, 'alarm-a');
      await store.add(a, iso(0));
      await store.add(b, iso(1_000));
      await store.add(c, iso(2_000));
      await store.recordAttempt(
        c.id,
        { at: iso(2_000), status: 'failed', detail: 'bad number' },
        null,
        'failed',
      );
      expect((await store.list()).map((r) => r.notification.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.list({ alarmId: 'alarm-a' })).map((r) => r.notification.id)).toEqual([c.id, a.id]);
      expect((await store.list({ state: 'failed' })).map((r) => r.notification.id)).toEqual([c.id]);
      expect((await store.list({ limit: 1 })).map((r) => r.notification.id)).toEqual([c.id]);
    });

    it('hands out copies', async () => {
      const store = await makeStore();
      const n = note(0);
      await store.add(n, iso(0));
      n.subject = 'mutated after add';
      const record = await store.get(n.id);
      record!.notification.subject = 'mutated copy';
      record!.state = 'delivered';
      expect(await store.get(n.id)).toMatchObject({ state: 'pending', notification: { subject: 'SOS' } });
    });
  });
}
