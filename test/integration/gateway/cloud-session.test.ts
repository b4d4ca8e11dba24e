import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import { CloudLink } from '../../../gateway/uplink/cloud-link.js';
import { startTestRelay, waitFor } from '../../support/relay.js';

describe('the gateway’s cloud session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-session-'));
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let secret: string;

  beforeAll(async () => {
    ({ relay, stop: stopRelay } = await startTestRelay());
    ({ secret } = await relay.gateways.add('gw-session'));
  });

  afterAll(async () => {
    await stopRelay();
    rmSync(dir, { recursive: true, force: true });
  });

  const gatewayFor = () =>
    new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-session',
        bedId: 'bed-s',
        dataDir: join(dir, 'gw'),
        cloud: { url: `mqtt://127.0.0.1:${relay.mqttPort}`, secret, heartbeatIntervalS: 30 },
        influx: { url: 'http://127.0.0.1:9' },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });

  it('takes a heartbeat interval from the cloud and keeps it across a restart', async () => {
    const first = gatewayFor();
    await first.start();
    await waitFor(() => first.cloudConnected, 10_000, 'connected');
    // The gateway says `online` only after subscribing to its `cmd` topic: a command sent earlier has no subscriber.
    await waitFor(
      async () => (await relay.gateways.list())[0]?.status === 'online',
      5_000,
      'online (subscribed)',
    );
    expect(first.heartbeatIntervalS).toBe(30);
    await relay.ingress.sendCommand('gw-session', { v: 1, cmd: 'set_heartbeat_interval', intervalS: 7 });
    await waitFor(() => first.heartbeatIntervalS === 7, 5_000, 'interval applied');
    await first.stop();

    const second = gatewayFor();
    await second.start();
    expect(second.heartbeatIntervalS).toBe(7);
    await waitFor(() => second.cloudConnected, 10_000, 'reconnected');
    // Two heartbeats 7 s apart would take too long to watch; the heartbeat sent on connect carries the interval.
    await waitFor(
      async () => (await relay.gateways.list())[0]?.lastHeartbeat?.intervalS === 7,
      5_000,
      'heartbeat says 7 s',
    );
    await second.stop();
  });

  it('backs off between reconnect attempts instead of retrying at a fixed period', async () => {
    const counters = new Counters();
    const link = new CloudLink(
      {
        url: 'mqtt://127.0.0.1:9',
        gatewayId: 'gw-x',
        secret: 'whatever-secret',
        keepaliveS: 30,
        connectTimeoutMs: 1_000,
        reconnectPeriodMs: 100,
        reconnectMaxMs: 10_000,
      },
      silentLogger(),
      counters,
    );
    link.start();
    await new Promise((r) => setTimeout(r, 2_500));
    await link.stop();
    // A fixed 100 ms period would try about 25 times in 2.5 s; doubling from 100 ms (±20 %) allows at most 6.
    const attempts = counters.get('cloud_errors');
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(6);
  });
});

describe('reconnect delays', () => {
  it('double from the first period up to the maximum, with ±20 % jitter', () => {
    const make = (random: number) =>
      new CloudLink(
        {
          url: 'mqtt://x:1',
          gatewayId: 'g',
          secret: 'whatever-secret',
          keepaliveS: 30,
          connectTimeoutMs: 1,
          reconnectPeriodMs: 1_000,
          reconnectMaxMs: 8_000,
          random: () => random,
        },
        silentLogger(),
        new Counters(),
      );
    const mid = make(0.5);
    expect(Array.from({ length: 6 }, () => mid.nextReconnectDelay())).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
    const low = make(0);
    expect(low.nextReconnectDelay()).toBe(800);
    const high = make(0.999999);
    expect(high.nextReconnectDelay()).toBe(1_200);
  });
});
