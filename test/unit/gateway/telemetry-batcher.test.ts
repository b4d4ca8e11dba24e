import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { HomebedError } from '../../../common/errors.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite } from '../../../common/sqlite.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { TelemetryBatcher } from '../../../gateway/telemetry/telemetry-batcher.js';
import type { TelemetrySink } from '../../../gateway/telemetry/telemetry-sink.js';
import { TelemetrySpool } from '../../../gateway/telemetry/telemetry-spool.js';

/** A sink that records batches and fails on demand (the real InfluxDB sinks are tested in integration). */
class ScriptedSink implements TelemetrySink {
  batches: Reading[][] = [];
  failWith: HomebedError | null = null;
  async prepare(): Promise<void> {}
  async write(readings: readonly Reading[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.batches.push([...readings]);
  }
  async close(): Promise<void> {}
}

const DOWN = new HomebedError('HB_INFLUX_UNAVAILABLE', 'down', { retriable: true });
const reading = (i: number): Reading => ({
  deviceId: 'radar',
  metric: 'heart_rate',
  value: 60 + i,
  atMs: 1_000 + i,
});

function setup(
  options: Partial<{
    batchSize: number;
    maxBufferedPoints: number;
    maxSpoolPoints: number;
    spool: boolean;
  }> = {},
) {
  const clock = new ManualClock();
  const sink = new ScriptedSink();
  const counters = new Counters();
  const spool =
    options.spool === false
      ? null
      : new TelemetrySpool(openSqlite(':memory:', []), options.maxSpoolPoints ?? 1_000, counters);
  const batcher = new TelemetryBatcher(
    sink,
    clock,
    silentLogger(),
    counters,
    {
      batchSize: options.batchSize ?? 3,
      flushIntervalMs: 1_000,
      maxBufferedPoints: options.maxBufferedPoints ?? 100,
    },
    spool,
  );
  batcher.start();
  return { clock, sink, counters, batcher, spool };
}

describe('TelemetryBatcher', () => {
  it('writes a full batch at once and a partial one at the interval', async () => {
    const { clock, sink, batcher, counters } = setup();
    for (let i = 0; i < 4; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(sink.batches.map((b) => b.length)).toEqual([3, 1]);
    batcher.add(reading(9));
    expect(sink.batches).toHaveLength(2);
    clock.advance(1_000);
    await batcher.flush();
    expect(sink.batches[2]).toEqual([reading(9)]);
    expect(counters.get('readings_written')).toBe(5);
    await batcher.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('spools what InfluxDB cannot take and drains it in order, with original timestamps, when it returns', async () => {
    const { clock, sink, batcher, spool, counters } = setup();
    sink.failWith = DOWN;
    for (let i = 0; i < 5; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(spool?.depth).toBe(5);
    expect(batcher.depth).toBe(5);
    sink.failWith = null;
    clock.advance(1_000);
    await batcher.flush();
    expect(sink.batches.flat()).toEqual([0, 1, 2, 3, 4].map(reading));
    expect(batcher.depth).toBe(0);
    expect(counters.get('readings_unspooled')).toBe(5);
  });

  it('backs off while InfluxDB is down instead of hammering it', async () => {
    const { clock, sink, batcher, counters } = setup();
    sink.failWith = DOWN;
    batcher.add(reading(0));
    await batcher.flush();
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000);
      await batcher.flush();
    }
    // 1, 2, 4, 8 s waits: four attempts in about 10 s, not ten.
    expect(counters.get('telemetry_write_failures')).toBeLessThanOrEqual(4);
  });

  it('interleaves live batches with spool batches so neither starves', async () => {
    const { clock, sink, batcher } = setup({ batchSize: 2 });
    sink.failWith = DOWN;
    for (let i = 0; i < 6; i++) batcher.add(reading(i));
    await batcher.flush();
    sink.failWith = null;
    clock.advance(1_000);
    batcher.add(reading(100));
    batcher.add(reading(101));
    await batcher.flush();
    const batches = sink.batches.map((b) => b.map((r) => r.value).join(','));
    // The backlog comes out in order…
    expect(batches.filter((b) => !b.startsWith('16'))).toEqual(['60,61', '62,63', '64,65']);
    // …and the live batch did not wait for all of it.
    expect(batches.indexOf('160,161')).toBeLessThan(batches.indexOf('64,65'));
  });

  it('quarantines a batch the database rejects for good, counts it, and goes on', async () => {
    const { sink, batcher, counters, spool } = setup();
    sink.failWith = new HomebedError('HB_INFLUX_REJECTED', 'field type conflict', { retriable: false });
    for (let i = 0; i < 3; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(counters.get('readings_rejected')).toBe(3);
    expect(spool?.quarantined()).toBe(3);
    sink.failWith = null;
    batcher.add(reading(7));
    await batcher.flush();
    expect(sink.batches).toEqual([[reading(7)]]);
  });

  it('bounds the spool: the oldest readings are dropped and counted, the newest kept', async () => {
    const { clock, sink, batcher, counters, spool } = setup({ batchSize: 100, maxSpoolPoints: 4 });
    sink.failWith = DOWN;
    for (let i = 0; i < 6; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(spool?.depth).toBe(4);
    expect(counters.get('readings_dropped', { reason: 'spool_full' })).toBe(2);
    // What the heartbeat reports as readingsDropped.
    expect(batcher.dropped).toBe(2);
    sink.failWith = null;
    clock.advance(2_000);
    await batcher.flush();
    expect(sink.batches.flat()).toEqual([2, 3, 4, 5].map(reading));
  });

  it('without a spool, bounds memory by dropping the oldest', async () => {
    const { sink, batcher, counters } = setup({ batchSize: 100, maxBufferedPoints: 4, spool: false });
    sink.failWith = DOWN;
    for (let i = 0; i < 6; i++) batcher.add(reading(i));
    expect(batcher.depth).toBe(4);
    expect(counters.get('readings_dropped', { reason: 'buffer_full' })).toBe(2);
    expect(batcher.dropped).toBe(2);
  });

  it('keeps unwritten readings in the spool across a stop and a new batcher', async () => {
    const db = openSqlite(':memory:', []);
    const counters = new Counters();
    const clock = new ManualClock();
    const sink = new ScriptedSink();
    sink.failWith = DOWN;
    const first = new TelemetryBatcher(
      sink,
      clock,
      silentLogger(),
      counters,
      { batchSize: 10, flushIntervalMs: 1_000, maxBufferedPoints: 100 },
      new TelemetrySpool(db, 100, counters),
    );
    first.add(reading(1));
    first.add(reading(2));
    await first.stop();
    sink.failWith = null;
    const second = new TelemetryBatcher(
      sink,
      clock,
      silentLogger(),
      counters,
      { batchSize: 10, flushIntervalMs: 1_000, maxBufferedPoints: 100 },
      new TelemetrySpool(db, 100, counters),
    );
    await second.flush();
    expect(sink.batches.flat()).toEqual([reading(1), reading(2)]);
  });

  describe('overloaded: readings arrive faster than InfluxDB takes them', () => {
    /** A sink whose writes wait until released, like an InfluxDB slower than the readings. */
    class GatedSink implements TelemetrySink {
      written: Reading[] = [];
      private release: (() => void)[] = [];
      async prepare(): Promise<void> {}
      write(readings: readonly Reading[]): Promise<void> {
        return new Promise((resolve) => {
          this.release.push(() => {
            this.written.push(...readings);
            resolve();
          });
        });
      }
      releaseAll(): void {
        for (const r of this.release.splice(0)) r();
      }
      get waiting(): number {
        return this.release.length;
      }
      async close(): Promise<void> {}
    }

    /** A real spool that counts its transactions. */
    class CountingSpool extends TelemetrySpool {
      appends = 0;
      override append(readings: readonly Reading[]): number {
        this.appends++;
        return super.append(readings);
      }
    }

    function overloaded() {
      const clock = new ManualClock();
      const sink = new GatedSink();
      const counters = new Counters();
      const spool = new CountingSpool(openSqlite(':memory:', []), 10_000, counters);
      const batcher = new TelemetryBatcher(
        sink,
        clock,
        silentLogger(),
        counters,
        { batchSize: 10, flushIntervalMs: 1_000, maxBufferedPoints: 20 },
        spool,
      );
      batcher.start();
      return { sink, spool, batcher };
    }

    it('loses nothing that arrives while a batch is being written, even when the buffer overflows', async () => {
      const { sink, spool, batcher } = overloaded();
      for (let i = 0; i < 10; i++) batcher.add(reading(i));
      await new Promise((r) => setImmediate(r));
      expect(sink.waiting).toBe(1); // 0..9 in flight
      for (let i = 10; i < 40; i++) batcher.add(reading(i));
      expect(batcher.depth).toBe(40);
      // Drain everything: release writes until nothing is left.
      const tick = () => new Promise((r) => setImmediate(r));
      for (let round = 0; round < 200 && batcher.depth > 0; round++) {
        sink.releaseAll();
        await tick();
        void batcher.flush();
        await tick();
      }
      expect(batcher.depth).toBe(0);
      expect(spool.depth).toBe(0);
      const values = new Set(sink.written.map((r) => r.value));
      for (let i = 0; i < 40; i++) expect(values.has(60 + i), `reading ${i}`).toBe(true);
    });

    it('spills to the spool a batch at a time, not one reading (one transaction) at a time', async () => {
      const { sink, spool, batcher } = overloaded();
      for (let i = 0; i < 10; i++) batcher.add(reading(i));
      await new Promise((r) => setImmediate(r));
      for (let i = 10; i < 1_000; i++) batcher.add(reading(i));
      expect(sink.waiting).toBe(1);
      // 1000 readings, 10 in flight, at most 20 kept in memory: the rest spilled in batches of 10.
      expect(spool.depth).toBeGreaterThanOrEqual(970);
      expect(spool.appends).toBeLessThanOrEqual(100);
      expect(batcher.depth).toBe(1_000);
    });
  });
});
