import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import { type PrivateInfluxd, startPrivateInfluxd } from '../../../tools/influxd.js';
import { queryInflux } from '../../support/influx.js';
import { waitFor } from '../../support/relay.js';

/**
 * InfluxDB goes away under telemetry load and comes back: every reading
 * arrives afterwards, in sequence, with its original timestamp.
 */
describe('telemetry across an InfluxDB outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-outage-'));
  let influxd: PrivateInfluxd | null = null;
  let gateway: Gateway | null = null;

  afterAll(async () => {
    await gateway?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools during the outage and delivers every point, in order, when InfluxDB returns', async () => {
    influxd = await startPrivateInfluxd({ dir: join(dir, 'influx'), keepData: true });
    const port = influxd.port;
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-outage',
        bedId: 'bed-o',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: influxd.url, database: 'outage', batchSize: 50, flushIntervalMs: 100 },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    const t0 = Date.UTC(2026, 10, 23, 0, 0, 0);
    let n = 0;
    const emit = (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        for (const device of ['radar-a', 'radar-b']) {
          gateway?.bus.emit('reading', {
            deviceId: device,
            metric: 'heart_rate',
            value: n % 200,
            atMs: t0 + n * 1_000,
          });
        }
      }
    };
    emit(100);
    await waitFor(() => gateway!.counters.get('readings_written') >= 200, 10_000, 'first points written');

    await influxd.stop();
    emit(300);
    await waitFor(
      () => (gateway?.counters.get('telemetry_write_failures') ?? 0) > 0,
      10_000,
      'outage noticed',
    );
    emit(200);

    influxd = await startPrivateInfluxd({ dir: join(dir, 'influx'), port, keepData: true });
    await waitFor(() => gateway!.counters.get('readings_written') >= 1_200, 60_000, 'backlog drained');
    const rows = await queryInflux(
      influxd.url,
      'outage',
      `SELECT value, device FROM heart_rate ORDER BY time`,
    );
    for (const device of ['radar-a', 'radar-b']) {
      const times = rows.filter((r) => r.device === device).map((r) => (r.time as Date).getTime());
      // Every second of the 600 s of readings, each once, with its original timestamp.
      expect(times).toEqual(Array.from({ length: 600 }, (_, i) => t0 + i * 1_000));
    }
    expect(gateway.counters.total('readings_dropped')).toBe(0);
  });
});
