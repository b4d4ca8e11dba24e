import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAedes, listenAedes } from '../../../common/aedes-server.js';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import { createTestDatabase, testInfluxUrl } from '../../support/influx.js';
import { waitFor } from '../../support/relay.js';

/**
 * Home Assistant MQTT discovery against a real broker standing in for the family's Home Assistant: the
 * retained discovery configs Home Assistant reads, the states that follow the gateway's readings, the
 * alarm sensor, and the availability (with a last will). Off unless configured.
 */
describe('Home Assistant discovery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-ha-'));
  let broker: Aedes;
  let server: Parameters<typeof closeAedes>[1];
  let haUrl: string;
  let gateway: Gateway;
  let device: MqttClient;
  let ha: MqttClient;
  const seen = new Map<string, string>();

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    const listening = await listenAedes(broker, '127.0.0.1', 0);
    server = listening.server;
    haUrl = `mqtt://127.0.0.1:${listening.port}`;
    ha = await mqtt.connectAsync(haUrl, { clientId: 'home-assistant', reconnectPeriod: 0 });
    ha.on('message', (topic, payload) => seen.set(topic, payload.toString('utf8')));
    await ha.subscribeAsync(['homeassistant/#', 'homebed/#'], { qos: 1 });

    const influxUrl = testInfluxUrl();
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-ha',
        bedId: 'bed-ha',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: influxUrl, database: await createTestDatabase(influxUrl, 'ha'), flushIntervalMs: 100 },
        localBroker: { port: 0 },
        ops: { port: 0 },
        homeAssistant: { enabled: true, url: haUrl, minIntervalS: 60 },
        devices: [
          { id: 'bed-sensor', kind: 'native', role: 'bed_radar', room: 'bedroom' },
          { id: 'pendant', kind: 'native', role: 'sos_button' },
        ],
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.localBrokerPort}`, { reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await device?.endAsync();
    await gateway?.stop();
    await ha?.endAsync();
    await closeAedes(broker, server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('off by default, and turning it on needs the broker’s URL', () => {
    const base = { gatewayId: 'g', bedId: 'b', cloud: { secret: 'secret-123' } };
    expect(gatewayConfigSchema.parse(base).homeAssistant.enabled).toBe(false);
    const result = gatewayConfigSchema.safeParse({ ...base, homeAssistant: { enabled: true } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('homeAssistant.url');
  });

  it('announces each sensor of the bed as one Home Assistant device, retained, and says it is online', async () => {
    await waitFor(() => seen.get('homebed/gw-ha/availability') === 'online' || null, 5_000, 'online');
    const heart = JSON.parse(seen.get('homeassistant/sensor/gw-ha/bed-sensor_heart_rate/config') ?? 'null');
    expect(heart).toMatchObject({
      unique_id: 'homebed_gw-ha_bed-sensor_heart_rate',
      state_topic: 'homebed/gw-ha/bed-sensor/heart_rate',
      availability_topic: 'homebed/gw-ha/availability',
      unit_of_measurement: 'bpm',
      state_class: 'measurement',
      device: { identifiers: ['homebed_gw-ha'], name: '家床守护 bed-ha' },
    });
    expect(
      JSON.parse(seen.get('homeassistant/binary_sensor/gw-ha/bed-sensor_in_bed/config') ?? '{}'),
    ).toMatchObject({
      device_class: 'occupancy',
      payload_on: 'ON',
    });
    expect(seen.has('homeassistant/sensor/gw-ha/pendant_battery/config')).toBe(true);
    expect(seen.has('homeassistant/binary_sensor/gw-ha/bed_alarm_active/config')).toBe(true);
    // A late Home Assistant still finds them: they are retained.
    const late = await mqtt.connectAsync(haUrl, { clientId: 'home-assistant-2', reconnectPeriod: 0 });
    const retained: string[] = [];
    late.on('message', (topic) => retained.push(topic));
    await late.subscribeAsync('homeassistant/#');
    await waitFor(
      () => retained.includes('homeassistant/sensor/gw-ha/bed-sensor_heart_rate/config') || null,
      3_000,
      'retained',
    );
    await late.endAsync();
    expect(seen.get('homebed/gw-ha/alarm')).toBe('ok');
  });

  it('states follow the readings (numbers throttled, on/off at once) and the alarm sensor shows an SOS', async () => {
    const state = (body: object) =>
      device.publishAsync('homebed/v1/dev/bed-sensor/state', JSON.stringify({ v: 1, ...body }), { qos: 1 });
    await state({ heart_rate: 62, in_bed: true });
    await waitFor(
      () => seen.get('homebed/gw-ha/bed-sensor/heart_rate') === '62' || null,
      5_000,
      'heart rate',
    );
    await waitFor(() => seen.get('homebed/gw-ha/bed-sensor/in_bed') === 'ON' || null, 5_000, 'in bed');
    // Within minIntervalS a new number is held back, but a change of in_bed goes at once.
    await state({ heart_rate: 70, in_bed: false });
    await waitFor(() => seen.get('homebed/gw-ha/bed-sensor/in_bed') === 'OFF' || null, 5_000, 'out of bed');
    expect(seen.get('homebed/gw-ha/bed-sensor/heart_rate')).toBe('62');

    await device.publishAsync('homebed/v1/dev/pendant/event', JSON.stringify({ v: 1, action: 'sos' }), {
      qos: 1,
    });
    await waitFor(() => seen.get('homebed/gw-ha/alarm') === 'sos_button' || null, 5_000, 'alarm sensor');
    expect(seen.get('homebed/gw-ha/alarm_active')).toBe('ON');
  });

  it('says offline when the gateway stops', async () => {
    await gateway.stop();
    await waitFor(() => seen.get('homebed/gw-ha/availability') === 'offline' || null, 5_000, 'offline');
  });
});
