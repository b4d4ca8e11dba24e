import { InfluxDB } from 'influx';
import { HomebedError } from '../../common/errors.js';

/**
 * A bed's vital signs and in-bed state as chart columns, read from the
 * InfluxDB 1.x the gateways write their readings to (docs/telemetry.md:
 * one measurement per metric, field `value`, tags `gateway`, `bed`, `device`).
 */

/** Each range is a fixed number of equal buckets, so a chart's x axis never depends on which data exists. */
export const VITALS_RANGES = {
  '24h': { rangeS: 24 * 3600, stepS: 60 },
  '7d': { rangeS: 7 * 24 * 3600, stepS: 600 },
} as const;
export type VitalsRange = keyof typeof VITALS_RANGES;
export const VITALS_RANGE_NAMES = Object.keys(VITALS_RANGES) as VitalsRange[];

/**
 * uPlot's aligned data: `times` (unix seconds, bucket starts) and one column
 * per metric of the same length. A bucket without readings is null, so a
 * chart draws a gap where the sensor was silent, never a line across it.
 */
export interface BedVitals {
  bedId: string;
  /** Start of the first bucket (UTC ISO). */
  from: string;
  /** End of the last bucket (UTC ISO); the last bucket holds `now` and may still fill. */
  to: string;
  stepS: number;
  times: number[];
  /** Mean of the bucket, bpm, one decimal. */
  heart_rate: (number | null)[];
  /** Mean of the bucket, per minute, one decimal. */
  breath_rate: (number | null)[];
  /** The last reading of the bucket: 1 in bed, 0 out of bed. */
  in_bed: (0 | 1 | null)[];
  /** The last reading of the bucket: 1 when any radar of the home saw someone. */
  presence: (0 | 1 | null)[];
}

/** The newest in-bed reading of a bed, and since when it has said so (when known). */
export interface InBedReading {
  inBed: boolean;
  /** Time of that reading (UTC ISO). */
  at: string;
  /** First reading of the current run (after the last opposite one); null when no opposite reading is in the last 7 days. */
  since: string | null;
}

export interface VitalsSourceConfig {
  url: string;
  database: string;
}

export interface VitalsSourceOptions {
  /** One query's time limit; default 10 s. */
  requestTimeoutMs?: number;
}

/** How far back the start of the current in/out-of-bed run is looked for. */
const RUN_LOOKBACK_MS = 7 * 24 * 3600_000;

type RawSeries = { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };
type RawResults = {
  results?: { statement_id?: number; series?: RawSeries[]; error?: string }[];
  error?: string;
};

const NUMERIC_METRICS = ['heart_rate', 'breath_rate'] as const;
const BOOLEAN_METRICS = ['in_bed', 'presence'] as const;

export class VitalsSource {
  private readonly client: InfluxDB;

  constructor(config: VitalsSourceConfig, options: VitalsSourceOptions = {}) {
    const url = new URL(config.url);
    this.client = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: config.database,
      // A page waiting on a dead InfluxDB should get its 503 quickly, not after retries.
      pool: { maxRetries: 0, requestTimeout: options.requestTimeoutMs ?? 10_000 },
    });
  }

  /** The bed's columns over `range`, ending with the bucket that holds `nowMs`. */
  async vitals(bedId: string, range: VitalsRange, nowMs: number): Promise<BedVitals> {
    const { rangeS, stepS } = VITALS_RANGES[range];
    const to = (Math.floor(nowMs / 1000 / stepS) + 1) * stepS;
    const from = to - rangeS;
    const count = rangeS / stepS;
    const times = Array.from({ length: count }, (_, i) => from + i * stepS);
    const window = `"bed" = $bed AND time >= ${from}s AND time < ${to}s`;
    // Numbers: the mean of the bucket (over every device of the bed). Booleans: InfluxDB 1.x cannot
    // average them, so the last reading of each device's bucket, combined (any true is 1).
    const statements = [
      ...NUMERIC_METRICS.map(
        (m) => `SELECT mean("value") FROM "${m}" WHERE ${window} GROUP BY time(${stepS}s) fill(null)`,
      ),
      ...BOOLEAN_METRICS.map(
        (m) =>
          `SELECT last("value") FROM "${m}" WHERE ${window} GROUP BY time(${stepS}s), "device" fill(null)`,
      ),
    ];
    const results = await this.query(statements, { bed: bedId }, 's');
    const index = (t: unknown): number | null => {
      if (typeof t !== 'number') return null;
      const i = (t - from) / stepS;
      return Number.isInteger(i) && i >= 0 && i < count ? i : null;
    };
    const numeric = (series: RawSeries[]): (number | null)[] => {
      const column: (number | null)[] = new Array(count).fill(null);
      for (const s of series) {
        for (const [t, v] of s.values) {
          const i = index(t);
          if (i !== null && typeof v === 'number') column[i] = Math.round(v * 10) / 10;
        }
      }
      return column;
    };
    const boolean = (series: RawSeries[]): (0 | 1 | null)[] => {
      const column: (0 | 1 | null)[] = new Array(count).fill(null);
      for (const s of series) {
        for (const [t, v] of s.values) {
          const i = index(t);
          if (i === null || typeof v !== 'boolean') continue;
          if (v) column[i] = 1;
          else if (column[i] === null) column[i] = 0;
        }
      }
      return column;
    };
    return {
      bedId,
      from: new Date(from * 1000).toISOString(),
      to: new Date(to * 1000).toISOString(),
      stepS,
      times,
      heart_rate: numeric(results[0] ?? []),
      breath_rate: numeric(results[1] ?? []),
      in_bed: boolean(results[2] ?? []),
      presence: boolean(results[3] ?? []),
    };
  }

  /** The bed's newest `in_bed` reading within `withinMs` before `nowMs`, or null when there is none. */
  async latestInBed(bedId: string, nowMs: number, withinMs: number): Promise<InBedReading | null> {
    const bed = { bed: bedId };
    const [latest] = await this.query(
      [
        `SELECT last("value") FROM "in_bed" WHERE "bed" = $bed AND time >= ${nowMs - withinMs}ms AND time <= ${nowMs}ms`,
      ],
      bed,
      'ms',
    );
    const row = latest?.[0]?.values[0];
    if (!row || typeof row[0] !== 'number' || typeof row[1] !== 'boolean') return null;
    const [atMs, inBed] = row as [number, boolean];
    // When did this run start: the first reading after the last one that said otherwise.
    const [opposite] = await this.query(
      [
        `SELECT last("value") FROM "in_bed" WHERE "bed" = $bed AND "value" != ${inBed} AND time >= ${atMs - RUN_LOOKBACK_MS}ms AND time < ${atMs}ms`,
      ],
      bed,
      'ms',
    );
    const oppositeAt = opposite?.[0]?.values[0]?.[0];
    let since: string | null = null;
    if (typeof oppositeAt === 'number') {
      const [first] = await this.query(
        [
          `SELECT first("value") FROM "in_bed" WHERE "bed" = $bed AND time > ${oppositeAt}ms AND time <= ${atMs}ms`,
        ],
        bed,
        'ms',
      );
      const firstAt = first?.[0]?.values[0]?.[0];
      since = new Date(typeof firstAt === 'number' ? firstAt : atMs).toISOString();
    }
    return { inBed, at: new Date(atMs).toISOString(), since };
  }

  /**
   * Run statements in one request; the bed goes in as a bind parameter
   * (never into the query text). Returns each statement's series.
   */
  private async query(
    statements: string[],
    placeholders: Record<string, string>,
    precision: 's' | 'ms',
  ): Promise<RawSeries[][]> {
    let raw: RawResults;
    try {
      raw = (await this.client.queryRaw(statements, { placeholders, precision })) as RawResults;
    } catch (err) {
      throw unavailable(`InfluxDB did not answer: ${(err as Error).message}`, err);
    }
    if (raw.error) throw unavailable(`InfluxDB refused the query: ${raw.error}`);
    return statements.map((_, i) => {
      const result = raw.results?.[i];
      if (result?.error) throw unavailable(`InfluxDB refused the query: ${result.error}`);
      return result?.series ?? [];
    });
  }
}

function unavailable(message: string, cause?: unknown): HomebedError {
  return new HomebedError('HB_VITALS_UNAVAILABLE', message, { retriable: true, cause });
}
