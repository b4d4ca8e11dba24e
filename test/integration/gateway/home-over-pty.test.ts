import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';
import { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import type { Simulator } from '../../../firmware-sim/simulator.js';
import type { Gateway } from '../../../gateway/gateway.js';
import { startHome } from '../../support/gateway-rig.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';
import { startTestRelay, waitFor } from '../../support/relay.js';

describe('a home on real PTYs, a real relay and a real InfluxDB', () => {
  let relay: Relay;
  let relayDir: string;
  let stopRelay: () => Promise<void>;
  let sim: Simulator;
  let gateway: Gateway;
  let stopHome: () => Promise<void>;
  let homeDir: string;
  let influxUrl: string;
  let database: string;

  beforeAll(async () => {
    influxUrl = testInfluxUrl();
    database = await createTestDatabase(influxUrl, 'home');
    ({ relay, dataDir: relayDir, stop: stopRelay } = await startTestRelay());
    const { secret } = await relay.gateways.add('gw-home');
    ({
      sim,
      gateway,
      dir: homeDir,
      stop: stopHome,
    } = await startHome({ mqttPort: relay.mqttPort, secret, influxUrl, database }));
    await waitFor(() => gateway.cloudConnected, 10_000, 'gateway connected');
  });

  afterAll(async () => {
    await stopHome?.();
    await stopRelay?.();
  });

  it('pings the RFLink receiver and hears its PONG', async () => {
    await waitFor(() => gateway.counters.get('rflink_pongs', { link: 'rflink-port' }) >= 1, 5_000, 'PONG');
    expect(gateway.counters.get('rflink_unresponsive', { link: 'rflink-port' })).toBe(0);
  });

  it('identifies the radar by querying its model and firmware', async () => {
    await waitFor(
      () => gateway.registry.health().find((d) => d.id === 'bed-radar')?.online,
      10_000,
      'radar heard',
    );
    expect(gateway.counters.total('frames_decoded')).toBeGreaterThan(0);
  });

  it('turns an SOS press into one stored alarm, acknowledged back to the gateway', async () => {
    expect(sim.press('sos')).toEqual({ pressed: 'sos', lines: 3 });
    const alarm = await waitFor(
      async () => (await listAlarms(relay)).find((a) => a.type === 'sos_button'),
      5_000,
      'alarm',
    );
    expect(alarm).toMatchObject({
      gatewayId: 'gw-home',
      bedId: 'bed-home',
      severity: 'critical',
      state: 'raised',
      deviceId: 'sos',
    });
    expect(alarm.evidence[0]?.raw).toMatch(/^20;[0-9A-F]{2};EV1527;ID=0d3e4;SWITCH=01;CMD=ON;$/);
    // Three repeated radio lines were one press.
    await waitFor(
      () => gateway.counters.get('rflink_repeats_collapsed', { link: 'rflink-port' }) === 2,
      2_000,
      'repeats',
    );
    expect((await listAlarms(relay)).filter((a) => a.type === 'sos_button')).toHaveLength(1);
    await waitFor(() => gateway.alarmRecord(alarm.id)?.storedAtMs, 5_000, 'stored ack at the gateway');
    expect(gateway.outboxDepth()).toBe(0);
  });

  it('tells the resident help is coming when the centre acknowledges, once', async () => {
    const alarm = (await listAlarms(relay)).find((a) => a.type === 'sos_button')!;
    await relay.ingress.sendStatus(
      'gw-home',
      alarm.id,
      'acknowledged',
      'operator 7',
      new Date().toISOString(),
    );
    await relay.ingress.sendStatus(
      'gw-home',
      alarm.id,
      'acknowledged',
      'operator 7',
      new Date().toISOString(),
    );
    const file = join(homeDir, 'told-resident');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8') === 'told\n', 5_000, 'resident told');
    await waitFor(() => gateway.alarmRecord(alarm.id)?.acknowledgedAtMs, 5_000, 'acknowledged recorded');
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(file, 'utf8')).toBe('told\n');
  });

  it('writes vitals to InfluxDB as integers', async () => {
    const heart = await pollRows(influxUrl, database, 'SELECT value, device FROM heart_rate', 15_000);
    expect(heart[0]?.device).toBe('bed-radar');
    expect(Number.isInteger(heart[0]?.value)).toBe(true);
    expect(await queryInflux(influxUrl, database, 'SHOW FIELD KEYS FROM heart_rate')).toEqual([
      { fieldKey: 'value', fieldType: 'integer' },
    ]);
    // Bed state is reported when it changes (as the module does): get out of bed, then back in.
    sim.updateRadar('bed-radar', { inBed: false });
    await pollRows(influxUrl, database, 'SELECT value FROM in_bed WHERE value = false', 5_000);
    sim.updateRadar('bed-radar', { inBed: true });
    const inBed = await pollRows(influxUrl, database, 'SELECT value FROM in_bed WHERE value = true', 5_000);
    expect(inBed[0]?.value).toBe(true);
    const states = await queryInflux(influxUrl, database, 'SELECT value FROM bed_state ORDER BY time');
    expect(states.map((r) => r.value)).toEqual(['out_of_bed', 'in_bed']);
    // The exit and the return reached the cloud as events, validated there.
    await waitFor(
      () => relay.counters.get('events_received', { kind: 'bed_return' }) === 1,
      5_000,
      'bed_return event',
    );
    expect(relay.counters.get('events_received', { kind: 'bed_exit' })).toBe(1);
  });

  it('keeps an alarm raised while the relay is down and delivers it when the relay returns', async () => {
    const port = relay.mqttPort;
    await relay.stop();
    await waitFor(() => !gateway.cloudConnected, 5_000, 'gateway notices the relay is gone');
    sim.press('sos');
    await waitFor(() => gateway.outboxDepth() === 1, 5_000, 'alarm committed to the outbox');
    // The relay comes back on the same port with the same database.
    relay = new Relay({
      config: cloudConfigSchema.parse({ dataDir: relayDir, mqtt: { port }, http: { port: 0 } }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await relay.start();
    await waitFor(() => gateway.outboxDepth() === 0, 15_000, 'outbox drained after reconnect');
    expect((await listAlarms(relay)).filter((a) => a.type === 'sos_button')).toHaveLength(2);
  });
});

function listAlarms(relay: Relay) {
  return relay.alarms.list();
}

async function pollRows(url: string, db: string, q: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await queryInflux(url, db, q);
    if (rows.length) return rows;
    if (Date.now() > deadline) throw new Error(`no rows for ${q}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
