import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import { waitFor } from '../../support/relay.js';

/** A gateway configured for the InfluxDB 2 write API writes its readings there (VictoriaMetrics here). */
describe('gateway with influx.version 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-influx2-'));
  let gateway: Gateway | null = null;

  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes readings through the v2 API with their timestamps', async () => {
    const url = inject('victoriaUrl');
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-v2',
        bedId: 'bed-v2',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: {
          version: '2',
          url,
          org: 'homebed',
          bucket: 'homebed',
          token: 'unused-token',
          flushIntervalMs: 100,
        },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    const at = Date.UTC(2026, 10, 23, 1, 0, 0);
    gateway.bus.emit('reading', { deviceId: 'radar-v2', metric: 'heart_rate', value: 66, atMs: at });
    await waitFor(() => gateway!.counters.get('readings_written') === 1, 10_000, 'written');
    const lines = await waitFor(
      async () => {
        await fetch(`${url}/internal/force_flush`);
        const res = await fetch(
          `${url}/api/v1/export?match[]=${encodeURIComponent('heart_rate_value{gateway="gw-v2"}')}`,
        );
        const text = (await res.text()).trim();
        return text
          ? text
              .split('\n')
              .map(
                (l) =>
                  JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] },
              )
          : null;
      },
      15_000,
      'exported',
    );
    expect(lines[0]?.metric).toMatchObject({
      __name__: 'heart_rate_value',
      gateway: 'gw-v2',
      bed: 'bed-v2',
      device: 'radar-v2',
    });
    expect(lines[0]?.values).toEqual([66]);
    expect(lines[0]?.timestamps).toEqual([at]);
  });

  it('refuses a version 2 config without org and bucket', () => {
    const result = gatewayConfigSchema.safeParse({
      gatewayId: 'gw',
      bedId: 'b',
      cloud: { secret: 'irrelevant-secret' },
      influx: { version: '2' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'influx.org: required for InfluxDB 2',
      'influx.bucket: required for InfluxDB 2',
    ]);
  });
});
