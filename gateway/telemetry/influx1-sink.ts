import { FieldType, InfluxDB, type IPoint, type ISchemaOptions } from 'influx';
import { HomebedError } from '../../common/errors.js';
import { METRICS, type MetricName, type Reading } from './reading.js';
import type { TelemetrySink, TelemetryTags } from './telemetry-sink.js';

export interface Influx1SinkOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  tags: TelemetryTags;
  /** Per-request timeout; a hung InfluxDB must not hold a batch forever. */
  requestTimeoutMs?: number;
}

/** A fixed 100 ms pause for the client's host pool (see the constructor). */
const SHORT_POOL_PAUSE = {
  getDelay: () => 100,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

const FIELD_TYPES = {
  integer: FieldType.INTEGER,
  float: FieldType.FLOAT,
  boolean: FieldType.BOOLEAN,
  string: FieldType.STRING,
} as const;

/** Tags on every point: which home and which device. */
export const TAG_KEYS = ['gateway', 'bed', 'device', 'reason', 'type'];

/**
 * The schema tells the `influx` package each field's type, so integers are
 * written as `72i` and stay integers (without it 72 becomes a float and the
 * first integer write after that is a field-type conflict).
 */
export function influxSchema(database: string): ISchemaOptions[] {
  return (Object.keys(METRICS) as MetricName[]).map((metric) => ({
    database,
    measurement: metric,
    fields: { value: FIELD_TYPES[METRICS[metric].type] },
    tags: TAG_KEYS,
  }));
}

/** InfluxDB 1.x through the `influx` package: one measurement per metric, field `value`. */
export class Influx1Sink implements TelemetrySink {
  private readonly client: InfluxDB;

  constructor(private readonly options: Influx1SinkOptions) {
    const url = new URL(options.url);
    this.client = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: options.database,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      schema: influxSchema(options.database),
      options: { timeout: options.requestTimeoutMs ?? 10_000 },
      // The client takes a host out of its pool after a failure and backs off exponentially (up to 10 s
      // by default), on top of the batcher's own retry: a recovered InfluxDB then waited for the pool,
      // not for influx.retryMaxMs. The batcher owns the retry policy; the pool only pauses briefly.
      pool: { maxRetries: 0, backoff: SHORT_POOL_PAUSE },
    });
  }

  async prepare(): Promise<void> {
    try {
      // CREATE DATABASE is idempotent in InfluxDB 1.x.
      await this.client.createDatabase(this.options.database);
    } catch (err) {
      throw classifyInfluxError(err);
    }
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (!readings.length) return;
    const points: IPoint[] = readings.map((r) => ({
      measurement: r.metric,
      tags: { ...r.tags, gateway: this.options.tags.gateway, bed: this.options.tags.bed, device: r.deviceId },
      fields: { value: r.value },
      timestamp: new Date(r.atMs),
    }));
    try {
      await this.client.writePoints(points, { precision: 'ms' });
    } catch (err) {
      throw classifyInfluxError(err);
    }
  }

  async close(): Promise<void> {
    // The `influx` client holds no sockets between requests.
  }
}

/**
 * Network errors, 5xx and 429 can succeed later; 4xx (a field-type
 * conflict, a bad line) never will and must not be retried forever.
 */
export function classifyInfluxError(err: unknown): HomebedError {
  const e = err as { message?: string; res?: { statusCode?: number }; code?: string };
  const status = e.res?.statusCode;
  const retriable = status === undefined || status >= 500 || status === 429;
  return new HomebedError(
    retriable ? 'HB_INFLUX_UNAVAILABLE' : 'HB_INFLUX_REJECTED',
    `InfluxDB write failed${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`,
    { retriable, cause: err },
  );
}
