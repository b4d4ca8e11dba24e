import { HttpError, InfluxDB, Point, type WriteApi } from '@influxdata/influxdb-client';
import { HomebedError } from '../../common/errors.js';
import { METRICS, type Reading } from './reading.js';
import type { TelemetrySink, TelemetryTags } from './telemetry-sink.js';

/** Options of {@link Influx2Sink}. */
export interface Influx2SinkOptions {
  /** Base URL, e.g. `https://eu-central-1-1.aws.cloud2.influxdata.com` or a VictoriaMetrics `http://host:8428`. */
  url: string;
  /** API token with write access to `bucket`; omit for servers without authentication (VictoriaMetrics). */
  token?: string;
  org: string;
  bucket: string;
  tags: TelemetryTags;
  /** Per-request timeout; a hung server must not hold a batch forever. Default 10000. */
  requestTimeoutMs?: number;
}

/**
 * InfluxDB 2.x (and anything speaking `/api/v2/write`, e.g. VictoriaMetrics) through
 * `@influxdata/influxdb-client`: one measurement per metric, field `value` typed from `METRICS`.
 *
 * The client's own batching, timer flushes and retry buffer are switched off: `TelemetryBatcher` owns
 * batching and retries (with original timestamps and a bounded buffer), so each `write()` is exactly one
 * HTTP request whose outcome is reported to the caller.
 */
export class Influx2Sink implements TelemetrySink {
  private readonly client: InfluxDB;
  /** Write APIs of writes in flight, disposed by `close()`. */
  private readonly inFlight = new Set<WriteApi>();

  constructor(private readonly options: Influx2SinkOptions) {
    this.client = new InfluxDB({
      url: options.url,
      ...(options.token ? { token: options.token } : {}),
      timeout: options.requestTimeoutMs ?? 10_000,
    });
  }

  /**
   * One write API per batch: the client preallocates its buffer to `batchSize`, so a "never flush on size"
   * API for any batch is not possible, and a shared API would mix the points of overlapping writes.
   */
  private writeApiFor(points: number): WriteApi {
    return this.client.getWriteApi(this.options.org, this.options.bucket, 'ms', {
      // Never flush on size or on a timer: a background flush would swallow its error.
      batchSize: points + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      // Returning the rejection makes flush() fail with the original error, without the client's console
      // logging and without its retry buffer.
      writeFailed: (error) => Promise.reject(error),
    });
  }

  /**
   * A no-op: the bucket must exist already (creating one needs an org id and an all-access token a gateway
   * should not hold, and VictoriaMetrics has no buckets), and an unreachable server shows up as a retriable
   * `write()` error anyway, which the batcher handles the same way.
   */
  async prepare(): Promise<void> {}

  async write(readings: readonly Reading[]): Promise<void> {
    if (!readings.length) return;
    let points: Point[];
    try {
      points = readings.map((r) => this.toPoint(r));
    } catch (err) {
      // A value the line protocol cannot carry (NaN, Infinity) will never be accepted: not retriable.
      throw err instanceof HomebedError
        ? err
        : new HomebedError('HB_INFLUX_REJECTED', `cannot encode reading: ${String(err)}`, { cause: err });
    }
    const writeApi = this.writeApiFor(points.length);
    this.inFlight.add(writeApi);
    try {
      writeApi.writePoints(points);
      await writeApi.flush();
    } catch (err) {
      throw classifyInflux2Error(err);
    } finally {
      this.inFlight.delete(writeApi);
      writeApi.dispose();
    }
  }

  async close(): Promise<void> {
    // Nothing is buffered between writes; a write still in flight settles on its own.
    for (const writeApi of this.inFlight) writeApi.dispose();
    this.inFlight.clear();
  }

  private toPoint(r: Reading): Point {
    const { gateway, bed } = this.options.tags;
    const point = new Point(r.metric);
    for (const [key, value] of Object.entries(r.tags ?? {})) point.tag(key, value);
    point.tag('gateway', gateway).tag('bed', bed).tag('device', r.deviceId);
    const type = METRICS[r.metric].type;
    const actual = typeof r.value;
    const expected = type === 'integer' || type === 'float' ? 'number' : type;
    // The client would coerce silently (true → 1i, 'x' → NaN error); a wrong type is a bug upstream.
    if (actual !== expected || (type === 'integer' && !Number.isSafeInteger(r.value))) {
      throw new HomebedError(
        'HB_INFLUX_REJECTED',
        `reading ${r.metric} of ${r.deviceId} has value ${JSON.stringify(r.value)}, expected ${type}`,
      );
    }
    switch (type) {
      case 'integer':
        point.intField('value', r.value);
        break;
      case 'float':
        point.floatField('value', r.value);
        break;
      case 'boolean':
        point.booleanField('value', r.value);
        break;
      case 'string':
        point.stringField('value', r.value);
        break;
    }
    return point.timestamp(r.atMs);
  }
}

/**
 * Same rule as `classifyInfluxError` of the 1.x sink: network errors, timeouts, 5xx and 429 can succeed
 * later; other 4xx (a field-type conflict, a missing bucket, a bad token) never will.
 */
export function classifyInflux2Error(err: unknown): HomebedError {
  const status = err instanceof HttpError ? err.statusCode : undefined;
  const retriable = status === undefined || status >= 500 || status === 429;
  const message = err instanceof Error ? err.message : String(err);
  return new HomebedError(
    retriable ? 'HB_INFLUX_UNAVAILABLE' : 'HB_INFLUX_REJECTED',
    `InfluxDB write failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
    { retriable, cause: err },
  );
}
