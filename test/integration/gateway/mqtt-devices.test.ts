import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import type { DeviceEvent } from '../../../gateway/devices/device-event.js';
import { Gateway } from '../../../gateway/gateway.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';
import { waitFor } from '../../support/relay.js';

/**
 * zigbee2mqtt and native JSON devices talking to the gateway's own aedes
 * broker over real MQTT, with zigbee2mqtt's real payload shapes.
 */
describe('zigbee2mqtt and native devices through the gateway broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-mqttdev-'));
  let gateway: Gateway;
  let z2m: MqttClient;
  let influxUrl: string;
  let database: string;
  const readings: Reading[] = [];
  const events: DeviceEvent[] = [];

  beforeAll(async () => {
    influxUrl = testInfluxUrl();
    database = await createTestDatabase(influxUrl, 'mqttdev');
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-z',
        bedId: 'bed-z',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: influxUrl, database, flushIntervalMs: 100 },
        localBroker: { port: 0, username: 'z2m', password: 'local-pass' },
        devices: [
          { id: 'bath-sos', kind: 'zigbee', role: 'sos_button', address: 'bathroom_sos' },
          { id: 'hall-pir', kind: 'zigbee', role: 'pir', address: 'hall/motion' },
          { id: 'front-door', kind: 'zigbee', role: 'front_door', address: 'front_door' },
          { id: 'kitchen-smoke', kind: 'zigbee', role: 'smoke', address: 'kitchen_smoke' },
          { id: 'pendant', kind: 'native', role: 'sos_button' },
        ],
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    gateway.bus.on('reading', (r) => readings.push(r));
    gateway.bus.on('deviceEvent', (e) => events.push(e));
    await gateway.start();
    z2m = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.localBrokerPort}`, {
      clientId: 'zigbee2mqtt',
      username: 'z2m',
      password: 'local-pass',
      reconnectPeriod: 0,
    });
  });

  afterAll(async () => {
    await z2m?.endAsync();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (topic: string, payload: unknown, retain = false) =>
    z2m.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
      retain,
    });

  it('refuses a client with the wrong password', async () => {
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.localBrokerPort}`, {
        username: 'z2m',
        password: 'nope',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password/i);
    expect(gateway.counters.get('local_mqtt_auth_failures')).toBe(1);
  });

  it('turns an SOS button action into an sos event, and single/occupancy/contact/smoke/battery into readings', async () => {
    await publish('zigbee2mqtt/bathroom_sos', { action: 'emergency', battery: 91, linkquality: 120 });
    await publish('zigbee2mqtt/hall/motion', { occupancy: true, illuminance_lux: 12, linkquality: 80 });
    await publish('zigbee2mqtt/front_door', { contact: false, battery_low: false });
    await publish('zigbee2mqtt/kitchen_smoke', { smoke: true, battery: 14 });
    await waitFor(
      () => events.some((e) => e.deviceId === 'bath-sos' && e.kind === 'sos'),
      5_000,
      'sos event',
    );
    await waitFor(
      () => readings.some((r) => r.deviceId === 'kitchen-smoke' && r.metric === 'smoke'),
      5_000,
      'smoke',
    );
    const seen = readings.map((r) => `${r.deviceId}:${r.metric}=${String(r.value)}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'bath-sos:battery=91',
        'bath-sos:linkquality=120',
        'hall-pir:occupancy=true',
        'front-door:contact_open=true',
        'front-door:battery_low=false',
        'kitchen-smoke:smoke=true',
        'kitchen-smoke:battery=14',
      ]),
    );
    // The SOS button's press became a stored alarm draft (the cloud is unreachable, so it waits in the outbox).
    await waitFor(() => gateway.outboxDepth() >= 1, 5_000, 'sos alarm in the outbox');
    // A battery at 14 % raised device_battery_low.
    await waitFor(
      () => gateway.activeAlarms().includes('device_battery_low:kitchen-smoke'),
      5_000,
      'battery alarm',
    );
  });

  it('reads availability in both payload styles', async () => {
    await publish('zigbee2mqtt/hall/motion/availability', { state: 'offline' }, true);
    await waitFor(
      () => gateway.activeAlarms().includes('device_offline:hall-pir'),
      5_000,
      'offline (JSON style)',
    );
    await publish('zigbee2mqtt/hall/motion/availability', 'online', true);
    await waitFor(
      () => !gateway.activeAlarms().includes('device_offline:hall-pir'),
      5_000,
      'online (legacy style)',
    );
  });

  it('lists paired devices from bridge/devices and reports the ones not configured', async () => {
    await publish(
      'zigbee2mqtt/bridge/devices',
      [
        {
          ieee_address: '0x00124b0000000000',
          type: 'Coordinator',
          friendly_name: 'Coordinator',
          definition: null,
        },
        {
          ieee_address: '0x00158d0001a2b3c4',
          type: 'EndDevice',
          friendly_name: 'bathroom_sos',
          definition: { model: 'HS1EB', vendor: 'Heiman', description: 'Smart emergency button' },
        },
        {
          ieee_address: '0x00158d0009999999',
          type: 'EndDevice',
          friendly_name: 'guest_room_button',
          definition: { model: 'WXKG11LM', vendor: 'Aqara', description: 'Wireless mini switch' },
        },
      ],
      true,
    );
    await waitFor(() => gateway.zigbeeBridge?.pairedDevices().length === 2, 5_000, 'paired devices');
    expect(gateway.zigbeeBridge?.pairedDevices()).toEqual([
      expect.objectContaining({
        friendlyName: 'bathroom_sos',
        model: 'HS1EB',
        vendor: 'Heiman',
        configured: true,
      }),
      expect.objectContaining({ friendlyName: 'guest_room_button', configured: false }),
    ]);
    expect(gateway.registry.unpairedDevices()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          transport: 'zigbee2mqtt',
          address: 'guest_room_button',
          detail: 'Aqara WXKG11LM',
        }),
      ]),
    );
  });

  it('counts malformed payloads and keeps going', async () => {
    await publish('zigbee2mqtt/front_door', '{not json');
    await publish('zigbee2mqtt/front_door', { contact: 'ajar' });
    await publish('homebed/v1/dev/pendant/state', { v: 1, heart_rate: 'fast' });
    await publish('homebed/v1/dev/pendant/event', { v: 1, action: 'sos' });
    await waitFor(
      () => events.some((e) => e.deviceId === 'pendant' && e.kind === 'sos'),
      5_000,
      'native sos after bad input',
    );
    expect(gateway.counters.get('zigbee_messages_rejected', { reason: 'json' })).toBe(1);
    expect(gateway.counters.get('zigbee_properties_invalid')).toBe(1);
    expect(gateway.counters.get('native_messages_rejected', { reason: 'schema' })).toBe(1);
  });

  it('maps native state and availability; unknown native ids are reported as unpaired', async () => {
    await publish('homebed/v1/dev/pendant/state', { v: 1, battery: 55, fall: false });
    await publish('homebed/v1/dev/stranger/state', { v: 1, battery: 50 });
    await waitFor(
      () => readings.some((r) => r.deviceId === 'pendant' && r.metric === 'battery' && r.value === 55),
      5_000,
      'native battery',
    );
    await waitFor(
      () =>
        gateway.registry.unpairedDevices().some((u) => u.transport === 'native' && u.address === 'stranger'),
      5_000,
      'unpaired native',
    );
    await publish('homebed/v1/dev/pendant/availability', { v: 1, state: 'offline' });
    await waitFor(() => gateway.activeAlarms().includes('device_offline:pendant'), 5_000, 'native offline');
  });

  it('writes every kind of reading to InfluxDB with stable field types', async () => {
    const types = async (m: string) =>
      (await queryInflux(influxUrl, database, `SHOW FIELD KEYS FROM ${m}`))[0]?.fieldType;
    await waitFor(async () => (await types('contact_open')) !== undefined, 5_000, 'contact_open series');
    expect(await types('contact_open')).toBe('boolean');
    expect(await types('occupancy')).toBe('boolean');
    expect(await types('smoke')).toBe('boolean');
    expect(await types('battery')).toBe('integer');
    expect(await types('linkquality')).toBe('integer');
    const rows = await queryInflux(
      influxUrl,
      database,
      `SELECT value FROM occupancy WHERE device = 'hall-pir'`,
    );
    expect(rows.map((r) => r.value)).toEqual([true]);
  });
});
