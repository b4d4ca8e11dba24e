import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { HomebedError } from '../../../common/errors.js';
import { silentLogger } from '../../../common/logger.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { TelemetryBatcher } from '../../../gateway/telemetry/telemetry-batcher.js';
import type { TelemetrySink } from '../../../gateway/telemetry/telemetry-sink.js';

/** A sink that records batches and fails on demand (the real InfluxDB sink is tested in integration). */
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

const reading = (i: number): Reading => ({
  deviceId: 'radar',
  metric: 'heart_rate',
  value: 60 + i,
  atMs: 1_000 + i,
});

function setup(options: Partial<{ batchSize: number; maxBufferedPoints: number }> = {}) {
  const clock = new ManualClock();
  const sink = new ScriptedSink();
  const counters = new Counters();
  const batcher = new TelemetryBatcher(sink, clock, silentLogger(), counters, {
    batchSize: options.batchSize ?? 3,
    flushIntervalMs: 1_000,
    maxBufferedPoints: options.maxBufferedPoints ?? 100,
  });
  batcher.start();
  return { clock, sink, counters, batcher };
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

  it('keeps readings (in order, original timestamps) while the sink is unavailable', async () => {
    const { sink, batcher, counters } = setup();
    sink.failWith = new HomebedError('HB_INFLUX_UNAVAILABLE', 'down', { retriable: true });
    for (let i = 0; i < 5; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(batcher.depth).toBe(5);
    expect(counters.get('telemetry_write_failures')).toBeGreaterThan(0);
    sink.failWith = null;
    await batcher.flush();
    expect(sink.batches.flat()).toEqual([0, 1, 2, 3, 4].map(reading));
    expect(batcher.depth).toBe(0);
  });

  it('drops a batch the database rejects for good, counts it, and goes on', async () => {
    const { sink, batcher, counters } = setup();
    sink.failWith = new HomebedError('HB_INFLUX_REJECTED', 'field type conflict', { retriable: false });
    for (let i = 0; i < 3; i++) batcher.add(reading(i));
    await batcher.flush();
    expect(counters.get('readings_rejected')).toBe(3);
    sink.failWith = null;
    batcher.add(reading(7));
    await batcher.flush();
    expect(sink.batches).toEqual([[reading(7)]]);
  });

  it('bounds memory: the oldest readings are dropped and counted', async () => {
    const { sink, batcher, counters } = setup({ batchSize: 100, maxBufferedPoints: 4 });
    sink.failWith = new HomebedError('HB_INFLUX_UNAVAILABLE', 'down', { retriable: true });
    for (let i = 0; i < 6; i++) batcher.add(reading(i));
    expect(batcher.depth).toBe(4);
    expect(counters.get('readings_dropped', { reason: 'buffer_full' })).toBe(2);
    sink.failWith = null;
    await batcher.flush();
    expect(sink.batches.flat()).toEqual([2, 3, 4, 5].map(reading));
  });
});
