import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite } from '../../../common/sqlite.js';
import type { GatewayEventMessage } from '../../../contract/index.js';
import { EventOutbox } from '../../../gateway/jobs/event-outbox.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const exit = (n: number): GatewayEventMessage => ({
  v: 1,
  kind: 'bed_exit',
  gatewayId: 'gw-test',
  bedId: 'bed-1',
  deviceId: 'bed-radar',
  at: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
});

function setup(maxEvents = 1_000) {
  const db = openSqlite(':memory:', []);
  const clock = new ManualClock();
  const counters = new Counters();
  const published: string[] = [];
  let online = false;
  const outbox = new EventOutbox(
    db,
    async (payload) => {
      if (!online) throw new Error('not connected to the cloud');
      published.push(payload);
    },
    clock,
    silentLogger(),
    counters,
    { maxEvents, retryInitialMs: 5_000, retryMaxMs: 60_000 },
  );
  return { db, clock, counters, published, outbox, goOnline: () => (online = true) };
}

describe('EventOutbox', () => {
  it('keeps events while the cloud is away and sends them in order when it is back', async () => {
    const { clock, counters, published, outbox, goOnline } = setup();
    outbox.start();
    outbox.enqueue(exit(1));
    outbox.enqueue(exit(2));
    clock.advance(0);
    await flush();
    expect(published).toEqual([]);
    expect(outbox.depth()).toBe(2);
    expect(counters.get('events_publish_failures')).toBe(1);
    goOnline();
    outbox.kick();
    clock.advance(0);
    await flush();
    expect(published.map((p) => JSON.parse(p).at)).toEqual([exit(1).at, exit(2).at]);
    expect(outbox.depth()).toBe(0);
    expect(counters.get('events_published', { kind: 'bed_exit' })).toBe(2);
    outbox.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('retries with backoff on its own, and drops the oldest beyond its bound', async () => {
    const { clock, counters, published, outbox, goOnline } = setup(2);
    outbox.start();
    for (let n = 1; n <= 3; n++) outbox.enqueue(exit(n));
    expect(counters.get('events_dropped')).toBe(1);
    clock.advance(0);
    await flush();
    goOnline();
    clock.advance(4_999);
    await flush();
    expect(published).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(published.map((p) => JSON.parse(p).at)).toEqual([exit(2).at, exit(3).at]);
    outbox.stop();
  });

  it('refuses an event that does not match the contract', () => {
    const { outbox } = setup();
    expect(() => outbox.enqueue({ ...exit(1), gatewayId: 'bad id!' })).toThrow();
    expect(outbox.depth()).toBe(0);
  });
});
