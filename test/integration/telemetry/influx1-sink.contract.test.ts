import { Influx1Sink } from '../../../gateway/telemetry/influx1-sink.js';
import type { MetricName, MetricValue } from '../../../gateway/telemetry/reading.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';
import { describeTelemetrySinkContract, type ReadBackPoint } from '../../support/telemetry-sink-contract.js';

/** InfluxQL string literal. */
const quote = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

describeTelemetrySinkContract(
  'Influx1Sink against a private InfluxDB 1.x',
  { fields: 'typed', booleans: 'boolean', strings: 'string', rejectsTypeConflicts: true },
  async (tags) => {
    const url = testInfluxUrl();
    const database = await createTestDatabase(url, 'contract');
    return {
      sink: new Influx1Sink({ url, database, tags }),
      async readBack(metric: MetricName, deviceId: string): Promise<ReadBackPoint[]> {
        const rows = await queryInflux(
          url,
          database,
          `SELECT * FROM "${metric}" WHERE device = ${quote(deviceId)} AND gateway = ${quote(tags.gateway)} ORDER BY time`,
        );
        return rows.map(({ time, value, ...rest }) => ({
          atMs: (time as Date).getTime(),
          value: value as MetricValue,
          // SELECT * has a column for every tag key of the measurement; other series' keys are null here.
          tags: Object.fromEntries(
            Object.entries(rest).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
          ),
        }));
      },
      async fieldType(metric: MetricName) {
        const rows = await queryInflux(url, database, `SHOW FIELD KEYS FROM "${metric}"`);
        return rows.find((row) => row.fieldKey === 'value')?.fieldType as
          | 'integer'
          | 'float'
          | 'boolean'
          | 'string'
          | undefined;
      },
      unreachableSink: () =>
        new Influx1Sink({ url: 'http://127.0.0.1:9', database: 'x', tags, requestTimeoutMs: 2_000 }),
      async conflictingSink(atMs: number) {
        const conflictDb = await createTestDatabase(url, 'contract_conflict');
        // heart_rate is an integer in METRICS; a float stored first makes our integer write a conflict.
        const res = await fetch(`${url}/write?db=${conflictDb}&precision=ms`, {
          method: 'POST',
          body: `heart_rate,device=radar value=1.5 ${atMs}`,
        });
        if (res.status !== 204) throw new Error(`seeding the conflict failed: HTTP ${res.status}`);
        return new Influx1Sink({ url, database: conflictDb, tags });
      },
    };
  },
);
