import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS, type MetricName, type MetricValue, type Reading } from '../../gateway/telemetry/reading.js';
import type { TelemetrySink, TelemetryTags } from '../../gateway/telemetry/telemetry-sink.js';

type FieldType = 'integer' | 'float' | 'boolean' | 'string';

/** One point as the backend returns it. */
export interface ReadBackPoint {
  atMs: number;
  value: MetricValue;
  /** All tags of the series (gateway, bed, device, and extra tags such as `reason`). */
  tags: Record<string, string>;
}

/**
 * What a backend can store, so the suite states the exact expectation per backend instead of weakening
 * the checks for all of them.
 */
export interface SinkCapabilities {
  /**
   * `typed`: the backend keeps the declared field type and reports it (`fieldType()` is required);
   * `numeric`: every value is a float64 sample (VictoriaMetrics), integers read back as whole numbers.
   */
  fields: 'typed' | 'numeric';
  /** How booleans read back: as booleans, or as 1 / 0 (VictoriaMetrics). */
  booleans: 'boolean' | 'one-zero';
  /**
   * How strings read back: as strings; as the number 0 (VictoriaMetrics 1.79 parses a string field as 0,
   * so the text is lost); or not at all (newer VictoriaMetrics releases skip string fields).
   */
  strings: 'string' | 'zero' | 'dropped';
  /** The server answers 4xx to a field-type conflict (InfluxDB); without field types (VictoriaMetrics) it stores the point. */
  rejectsTypeConflicts: boolean;
}

/** What a backend's test file provides to {@link describeTelemetrySinkContract}. */
export interface SinkUnderTest {
  /** A sink writing with `tags` to a destination where the test may write freely. */
  sink: TelemetrySink;
  /** All points of `metric` written by this sink for `deviceId`, oldest first. */
  readBack(metric: MetricName, deviceId: string): Promise<ReadBackPoint[]>;
  /** The stored type of field `value` of `metric` (only for `fields: 'typed'`). */
  fieldType?(metric: MetricName): Promise<FieldType | undefined>;
  /** A sink of the same kind pointed at a port where nothing listens, with a short timeout. */
  unreachableSink(): TelemetrySink;
  /**
   * A sink whose destination already holds `heart_rate` as a float at `atMs`, so writing the integer
   * `heart_rate` near that time conflicts (only for `rejectsTypeConflicts`). InfluxDB checks field types
   * per shard (one time range), hence the time.
   */
  conflictingSink(atMs: number): Promise<TelemetrySink>;
}

/** Example values of each type: the float has no fraction on purpose (it must still be stored as a float). */
const SAMPLE: Record<FieldType, readonly [MetricValue, MetricValue]> = {
  integer: [72, 7],
  float: [72, 15.25],
  boolean: [true, false],
  string: ['in_bed', 'out_of_bed'],
};

/**
 * The one contract of every `TelemetrySink` (telemetry-sink.ts), run against a real server: values and
 * types of every metric in `METRICS`, millisecond timestamps, tags, a 5,000-point batch, and error
 * classification (retriable when unreachable, permanent on a type conflict).
 *
 * @param factory called once with unique gateway/bed tags, so suites sharing a server never see each
 *   other's points.
 */
export function describeTelemetrySinkContract(
  name: string,
  capabilities: SinkCapabilities,
  factory: (tags: TelemetryTags) => Promise<SinkUnderTest>,
): void {
  describe(`TelemetrySink contract: ${name}`, () => {
    const run = randomBytes(4).toString('hex');
    const tags: TelemetryTags = { gateway: `gw-${run}`, bed: `bed-${run}` };
    // Recent enough for any retention period, with a millisecond part so truncation to seconds shows.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 123;
    let under: SinkUnderTest;

    beforeAll(async () => {
      under = await factory(tags);
      await under.sink.prepare();
      // prepare() must be safe to call repeatedly.
      await under.sink.prepare();
    });

    /** What the backend returns for `value` written as `type`. */
    function expectedValue(type: FieldType, value: MetricValue): MetricValue | undefined {
      if (type === 'boolean' && capabilities.booleans === 'one-zero') return value ? 1 : 0;
      if (type === 'string' && capabilities.strings === 'zero') return 0;
      if (type === 'string' && capabilities.strings === 'dropped') return undefined;
      return value;
    }

    it('writes every metric of the catalogue and reads back its values with their type', async () => {
      const device = `all-${run}`;
      const metrics = Object.keys(METRICS) as MetricName[];
      const readings: Reading[] = metrics.flatMap((metric) =>
        SAMPLE[METRICS[metric].type].map((value, i) => ({
          deviceId: device,
          metric,
          value,
          atMs: t0 + i * 1000,
        })),
      );
      await under.sink.write(readings);

      for (const metric of metrics) {
        const type = METRICS[metric].type;
        const rows = await under.readBack(metric, device);
        const expected = SAMPLE[type]
          .map((value, i) => ({ atMs: t0 + i * 1000, value: expectedValue(type, value) }))
          .filter((row) => row.value !== undefined);
        expect(
          rows.map((row) => ({ atMs: row.atMs, value: row.value })),
          `${metric} (${type})`,
        ).toEqual(expected);
        if (capabilities.fields === 'typed') {
          expect(await under.fieldType?.(metric), `field type of ${metric}`).toBe(type);
          for (const row of rows)
            expect(typeof row.value).toBe(type === 'integer' || type === 'float' ? 'number' : type);
        } else if (type === 'integer') {
          // No integer type to check: at least no rounding or scaling happened.
          for (const row of rows)
            expect(Number.isInteger(row.value), `${metric} value ${row.value}`).toBe(true);
        }
      }
    });

    it('keeps original timestamps to the millisecond, in order, with repeated values', async () => {
      const device = `ts-${run}`;
      const times = [t0, t0 + 1, t0 + 999, t0 + 1000, t0 + 61_001];
      await under.sink.write(
        // Written newest first: the order of a batch must not matter.
        times
          .map((atMs, i): Reading => ({ deviceId: device, metric: 'heart_rate', value: 70 + (i % 2), atMs }))
          .reverse(),
      );
      const rows = await under.readBack('heart_rate', device);
      expect(rows.map((row) => [row.atMs, row.value])).toEqual(times.map((atMs, i) => [atMs, 70 + (i % 2)]));
    });

    it('tags each point with gateway, bed, device and the reading’s extra tags', async () => {
      const port = `port-${run}`;
      await under.sink.write([
        { deviceId: port, metric: 'frames_dropped', value: 3, atMs: t0, tags: { reason: 'checksum' } },
        { deviceId: port, metric: 'frames_dropped', value: 1, atMs: t0, tags: { reason: 'tail' } },
        { deviceId: port, metric: 'daily_alarms', value: 2, atMs: t0, tags: { type: 'sos_button' } },
      ]);
      const dropped = await under.readBack('frames_dropped', port);
      expect(
        dropped.map((row) => row.tags).sort((a, b) => String(a.reason).localeCompare(String(b.reason))),
      ).toEqual([
        { gateway: tags.gateway, bed: tags.bed, device: port, reason: 'checksum' },
        { gateway: tags.gateway, bed: tags.bed, device: port, reason: 'tail' },
      ]);
      expect(dropped.map((row) => row.value).sort()).toEqual([1, 3]);
      expect(await under.readBack('daily_alarms', port)).toEqual([
        {
          atMs: t0,
          value: 2,
          tags: { gateway: tags.gateway, bed: tags.bed, device: port, type: 'sos_button' },
        },
      ]);
    });

    it('writes a batch of 5,000 points in one write', async () => {
      const device = `batch-${run}`;
      const readings: Reading[] = Array.from({ length: 5000 }, (_, i) => ({
        deviceId: device,
        metric: 'heart_rate',
        value: 50 + (i % 50),
        atMs: t0 + i * 7,
      }));
      await under.sink.write(readings);
      const rows = await under.readBack('heart_rate', device);
      expect(rows).toHaveLength(5000);
      expect(rows.map((row) => [row.atMs, row.value])).toEqual(readings.map((r) => [r.atMs, r.value]));
    });

    it('writing nothing is a no-op', async () => {
      await expect(under.sink.write([])).resolves.toBeUndefined();
    });

    it('reports an unreachable server as retriable HB_INFLUX_UNAVAILABLE', async () => {
      const sink = under.unreachableSink();
      try {
        const err = await sink
          .write([{ deviceId: `down-${run}`, metric: 'heart_rate', value: 70, atMs: t0 }])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toMatchObject({ code: 'HB_INFLUX_UNAVAILABLE', retriable: true });
      } finally {
        await sink.close();
      }
    });

    // InfluxDB types fields: a conflict is a permanent 400 that must never be retried. VictoriaMetrics
    // stores float64 samples only: the same write must simply be stored (no false rejection).
    it(
      capabilities.rejectsTypeConflicts
        ? 'reports a field-type conflict as non-retriable HB_INFLUX_REJECTED'
        : 'has no field types: a point whose type differs from earlier points is stored, not rejected',
      async () => {
        const device = `conflict-${run}`;
        const sink = await under.conflictingSink(t0);
        try {
          const err = await sink
            .write([{ deviceId: device, metric: 'heart_rate', value: 70, atMs: t0 }])
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          if (capabilities.rejectsTypeConflicts) {
            expect(err).toMatchObject({ code: 'HB_INFLUX_REJECTED', retriable: false });
            expect((err as Error).message).toContain('HTTP 400');
          } else {
            expect(err).toBeUndefined();
            expect((await under.readBack('heart_rate', device)).map((p) => p.value)).toEqual([70]);
          }
        } finally {
          await sink.close();
        }
      },
    );
  });
}
