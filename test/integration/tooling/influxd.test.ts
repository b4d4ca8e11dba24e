import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldType, InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInfluxd, type PrivateInfluxd, startPrivateInfluxd } from '../../../tools/influxd.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startPrivateInfluxd', () => {
  let influxd: PrivateInfluxd;

  beforeAll(async () => {
    influxd = await startPrivateInfluxd({ dir: await mkdtemp(join(tmpdir(), 'homebed-influxd-test-')) });
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it('answers /ping with 204 on 127.0.0.1, not on 8086', async () => {
    expect(influxd.port).not.toBe(8086);
    expect(influxd.url).toBe(`http://127.0.0.1:${influxd.port}`);
    const response = await fetch(`${influxd.url}/ping`);
    expect(response.status).toBe(204);
    expect(response.headers.get('x-influxdb-version')).toMatch(/^1\./);
  });

  it('runs with the intended effective config (influxd ignores unknown keys, so check what it read)', () => {
    const binary = findInfluxd();
    expect(binary).toBeDefined();
    const effective = execFileSync(
      binary as string,
      ['config', '-config', join(influxd.dir, 'influxd.conf')],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const section = (name: string): string => effective.split(`[${name}]`)[1]?.split('\n[')[0] ?? '';
    // Debian's 1.6.7 prints reporting-enabled; upstream prints reporting-disabled.
    expect(effective).toMatch(/reporting-enabled = false|reporting-disabled = true/);
    expect(effective).toMatch(/^bind-address = "127\.0\.0\.1:\d+"$/m);
    expect(effective).not.toContain('127.0.0.1:8088"');
    expect(section('http')).toContain(`bind-address = "127.0.0.1:${influxd.port}"`);
    expect(section('http')).toContain('log-enabled = false');
    expect(section('monitor')).toContain('store-enabled = false');
    expect(section('continuous_queries')).toContain('enabled = false');
    expect(section('meta')).toContain(`dir = "${join(influxd.dir, 'meta')}"`);
    expect(section('data')).toContain(`wal-dir = "${join(influxd.dir, 'wal')}"`);
  });

  it('keeps INTEGER fields integer and float fields float', async () => {
    const database = await createTestDatabase(influxd.url, 'tooling');
    const client = new InfluxDB({
      host: '127.0.0.1',
      port: influxd.port,
      database,
      schema: [
        {
          measurement: 'bed_reading',
          fields: { heart_rate: FieldType.INTEGER, temperature: FieldType.FLOAT },
          tags: ['device'],
        },
      ],
    });
    await client.writeMeasurement('bed_reading', [
      { tags: { device: 'bedroom-radar' }, fields: { heart_rate: 72, temperature: 36 } },
    ]);

    const fieldKeys = await queryInflux(influxd.url, database, 'SHOW FIELD KEYS FROM bed_reading');
    const types = Object.fromEntries(fieldKeys.map((row) => [row.fieldKey, row.fieldType]));
    expect(types).toEqual({ heart_rate: 'integer', temperature: 'float' });

    const rows = await queryInflux(influxd.url, database, 'SELECT heart_rate, temperature FROM bed_reading');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ heart_rate: 72, temperature: 36 });
  });

  it('stores plain numbers as float when no schema says otherwise (why writers must declare one)', async () => {
    const database = await createTestDatabase(influxd.url, 'tooling_no_schema');
    const client = new InfluxDB({ host: '127.0.0.1', port: influxd.port, database });
    await client.writePoints([{ measurement: 'm', fields: { value: 1 } }]);
    const fieldKeys = await queryInflux(influxd.url, database, 'SHOW FIELD KEYS FROM m');
    expect(fieldKeys).toEqual([{ fieldKey: 'value', fieldType: 'float' }]);
  });

  it('after stop(), the port is closed, the process is gone and the folder removed', async () => {
    const other = await startPrivateInfluxd({ dir: await mkdtemp(join(tmpdir(), 'homebed-influxd-stop-')) });
    expect(await portAcceptsConnections(other.port)).toBe(true);
    expect(processExists(other.pid)).toBe(true);
    await other.stop();
    expect(await portAcceptsConnections(other.port)).toBe(false);
    expect(processExists(other.pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await other.stop(); // idempotent
  });

  it('keeps data with keepData, and a restart on the same folder sees it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homebed-influxd-keep-'));
    const first = await startPrivateInfluxd({ dir, keepData: true });
    await new InfluxDB({ host: '127.0.0.1', port: first.port }).createDatabase('kept');
    await first.stop();
    expect(existsSync(join(dir, 'meta'))).toBe(true);
    const second = await startPrivateInfluxd({ dir });
    try {
      const names = await new InfluxDB({ host: '127.0.0.1', port: second.port }).getDatabaseNames();
      expect(names).toContain('kept');
    } finally {
      await second.stop();
    }
    expect(existsSync(dir)).toBe(false);
  });
});

describe('global setup instance', () => {
  it('is provided to tests and reachable', async () => {
    const url = testInfluxUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toContain(':8086');
    expect(process.env.HOMEBED_TEST_INFLUX_URL).toBe(url);
    const database = await createTestDatabase(url, 'global-setup');
    expect(database).toMatch(/^global_setup_/);
    expect(await queryInflux(url, database, 'SHOW MEASUREMENTS')).toEqual([]);
  });
});
