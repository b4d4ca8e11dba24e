import { afterEach, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../../../cloud/notifications/delivery-queue.js';
import {
  createNotification,
  type DeliveryOutcome,
  type Notification,
  type NotificationChannel,
} from '../../../../cloud/notifications/notification.js';
import { SqlDeliveryStore } from '../../../../cloud/notifications/sql-delivery-store.js';
import { systemClock } from '../../../../common/clock.js';
import { Counters } from '../../../../common/counters.js';
import { silentLogger } from '../../../../common/logger.js';
import { STORE_FACTORIES } from '../../../support/cloud-stores.js';

const postgres = STORE_FACTORIES.find((f) => f.name === 'postgres')!;

/** Records every send (duplicates included), taking a few milliseconds so claims interleave. */
class RecordingChannel implements NotificationChannel {
  readonly kind = 'sms' as const;
  readonly sent: Array<{ id: string; by: string }> = [];
  constructor(private readonly by: string) {}

  async send(n: Notification): Promise<DeliveryOutcome> {
    await new Promise((resolve) => setTimeout(resolve, 2 + Math.floor(Math.random() * 10)));
    this.sent.push({ id: n.id, by: this.by });
    return { status: 'delivered', detail: `sent by ${this.by}` };
  }
}

/**
 * Two relay processes (two connection pools, two dispatchers) on one PostgreSQL store: `claimDue`
 * leases each delivery to one of them, so every notification goes out exactly once in the normal
 * case, and none is left behind.
 */
describe('two dispatchers sharing one PostgreSQL delivery store', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers each of 50 notifications once, through either relay', async () => {
    const { db, connectAgain, cleanup } = await postgres.open();
    cleanups.push(cleanup);
    const storeA = new SqlDeliveryStore(db);
    const storeB = new SqlDeliveryStore(await connectAgain());
    const channelA = new RecordingChannel('A');
    const channelB = new RecordingChannel('B');
    const make = (store: SqlDeliveryStore, channel: RecordingChannel, owner: string) => {
      const d = new NotificationDispatcher({
        store,
        channels: { sms: channel },
        clock: systemClock,
        logger: silentLogger(),
        counters: new Counters(),
        pollIntervalMs: 20,
        concurrency: 4,
        owner,
      });
      cleanups.push(() => d.stop());
      return d;
    };
    const a = make(storeA, channelA, 'relay-a');
    const b = make(storeB, channelB, 'relay-b');

    // All stored before either starts, half through each relay: both first claims find work.
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const n = createNotification(
        {
          kind: 'alarm_raised',
          alarmId: `alarm-${i}`,
          bedId: 'bed-1',
          recipient: { name: 'Supervisor', channel: 'sms', address: '+8613800138000' },
          subject: `alarm ${i}`,
          body: '',
        },
        Date.now(),
      );
      ids.push(n.id);
      await (i % 2 === 0 ? a : b).enqueue(n);
    }
    await Promise.all([a.start(), b.start()]);

    const deadline = Date.now() + 20_000;
    while ((await storeA.list({ state: 'delivered', limit: 1000 })).length < 50) {
      if (Date.now() > deadline) throw new Error('not all delivered within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await Promise.all([a.idle(), b.idle()]);

    const sent = [...channelA.sent, ...channelB.sent].map((s) => s.id);
    expect(sent).toHaveLength(50); // no duplicates
    expect([...sent].sort()).toEqual([...ids].sort()); // and every one
    expect(channelA.sent.length).toBeGreaterThan(0);
    expect(channelB.sent.length).toBeGreaterThan(0);
    for (const id of ids) {
      expect(await storeB.get(id)).toMatchObject({ state: 'delivered', attemptCount: 1 });
    }
    expect(await storeB.due(new Date(Date.now() + 3_600_000).toISOString(), 10)).toEqual([]);
  });
});
