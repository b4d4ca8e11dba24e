import { beforeAll, describe, expect, it } from 'vitest';
import { Influx1Sink } from '../../../gateway/telemetry/influx1-sink.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';

describe('Influx1Sink against a private InfluxDB 1.x', () => {
  let url: string;
  let database: string;
  let sink: Influx1Sink;

  beforeAll(async () => {
    url = testInfluxUrl();
    database = await createTestDatabase(url, 'sink');
    sink = new Influx1Sink({ url, database, tags: { gateway: 'gw-1', bed: 'bed-1' } });
    await sink.prepare();
  });

  it('writes each metric with its declared type and reads it back with its timestamp and tags', async () => {
    const t0 = Date.UTC(2026, 10, 22, 1, 0, 0);
    const readings: Reading[] = [
      { deviceId: 'radar', metric: 'heart_rate', value: 72, atMs: t0 },
      { deviceId: 'radar', metric: 'heart_rate', value: 74, atMs: t0 + 3_000 },
      { deviceId: 'radar', metric: 'breath_rate', value: 15, atMs: t0 },
      { deviceId: 'radar', metric: 'in_bed', value: true, atMs: t0 },
      { deviceId: 'radar', metric: 'bed_state', value: 'in_bed', atMs: t0 },
    ];
    await sink.write(readings);

    const keys = await queryInflux(url, database, 'SHOW FIELD KEYS FROM heart_rate');
    expect(keys).toEqual([{ fieldKey: 'value', fieldType: 'integer' }]);
    expect(await queryInflux(url, database, 'SHOW FIELD KEYS FROM in_bed')).toEqual([
      { fieldKey: 'value', fieldType: 'boolean' },
    ]);
    expect(await queryInflux(url, database, 'SHOW FIELD KEYS FROM bed_state')).toEqual([
      { fieldKey: 'value', fieldType: 'string' },
    ]);

    const rows = await queryInflux(
      url,
      database,
      'SELECT value, device, gateway, bed FROM heart_rate ORDER BY time',
    );
    expect(rows.map((r) => [(r.time as Date).getTime(), r.value, r.device, r.gateway, r.bed])).toEqual([
      [t0, 72, 'radar', 'gw-1', 'bed-1'],
      [t0 + 3_000, 74, 'radar', 'gw-1', 'bed-1'],
    ]);
  });

  it('classifies a field-type conflict as permanent (never retried) and an unreachable server as retriable', async () => {
    // Write a float into a fresh measurement's field through raw line protocol, then our integer write conflicts.
    const conflictDb = await createTestDatabase(url, 'conflict');
    const res = await fetch(`${url}/write?db=${conflictDb}&precision=ms`, {
      method: 'POST',
      body: 'heart_rate,device=radar value=1.5 1000',
    });
    expect(res.status).toBe(204);
    const conflicting = new Influx1Sink({
      url,
      database: conflictDb,
      tags: { gateway: 'gw-1', bed: 'bed-1' },
    });
    const err = await conflicting
      .write([{ deviceId: 'radar', metric: 'heart_rate', value: 70, atMs: 2000 }])
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'HB_INFLUX_REJECTED', retriable: false });
    expect(err.message).toContain('HTTP 400');

    const unreachable = new Influx1Sink({
      url: 'http://127.0.0.1:9',
      database: 'x',
      tags: { gateway: 'g', bed: 'b' },
      requestTimeoutMs: 2_000,
    });
    const down = await unreachable
      .write([{ deviceId: 'radar', metric: 'heart_rate', value: 70, atMs: 2000 }])
      .catch((e) => e);
    expect(down).toMatchObject({ code: 'HB_INFLUX_UNAVAILABLE', retriable: true });
  });
});
