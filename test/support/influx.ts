import { randomBytes } from 'node:crypto';
import { InfluxDB } from 'influx';
import { inject } from 'vitest';

/** One row of a query result: column name → value (`time` is a Date with nanosecond extras). */
export type InfluxRow = Record<string, unknown>;

/**
 * URL of the private InfluxDB started by `test/support/influx-global-setup.ts` for this test project.
 *
 * @throws when the project has no influx globalSetup (e.g. called from a unit test).
 */
export function testInfluxUrl(): string {
  const url = inject('influxUrl') ?? process.env.HOMEBED_TEST_INFLUX_URL;
  if (!url) {
    throw new Error(
      'no private InfluxDB for this test: only the integration and e2e projects start one ' +
        '(globalSetup test/support/influx-global-setup.ts)',
    );
  }
  return url;
}

/** An `influx` client for `url`, optionally bound to `database`. */
export function influxClient(url: string, database?: string): InfluxDB {
  const parsed = new URL(url);
  return new InfluxDB({
    host: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
    protocol: parsed.protocol === 'https:' ? 'https' : 'http',
    database,
  });
}

/**
 * Creates a database with a unique name starting with `prefix`, so that test files running in parallel
 * against the same instance never see each other's points. Returns its name.
 */
export async function createTestDatabase(url: string, prefix: string): Promise<string> {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_]/g, '_') || 'test';
  const name = `${safePrefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await influxClient(url).createDatabase(name);
  return name;
}

/** Drops a database made by {@link createTestDatabase} (optional: the instance is thrown away anyway). */
export async function dropTestDatabase(url: string, database: string): Promise<void> {
  await influxClient(url).dropDatabase(database);
}

/**
 * Runs one InfluxQL statement against `database` and returns its rows (all series flattened; for
 * `SHOW FIELD KEYS` rows are `{ fieldKey, fieldType }`).
 */
export async function queryInflux(url: string, database: string, influxql: string): Promise<InfluxRow[]> {
  const results = await influxClient(url, database).query<InfluxRow>(influxql);
  // IResults is an array with extra helpers (groups(), group()); callers want plain rows.
  return results.map((row) => ({ ...row }));
}
