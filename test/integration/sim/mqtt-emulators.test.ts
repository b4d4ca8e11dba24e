import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { validateConfig } from '../../../common/config/load.js';
import { silentLogger } from '../../../common/logger.js';
import { nativeEventSchema, nativeStateSchema } from '../../../contract/native-device.js';
import { simConfigSchema } from '../../../firmware-sim/config.js';
import { NativeDeviceEmulator } from '../../../firmware-sim/devices/native-device.js';
import { Zigbee2mqttEmulator } from '../../../firmware-sim/devices/zigbee2mqtt.js';
import { Simulator } from '../../../firmware-sim/simulator.js';

interface Message {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber that records every message and waits for the ones a test expects. */
class Recorder {
  readonly messages: Message[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    });
  }

  static async connect(url: string, topics: string[]): Promise<Recorder> {
    const client = await mqtt.connectAsync(url, {
      clientId: `recorder-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
    });
    const recorder = new Recorder(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return recorder;
  }

  on(topic: string): Message[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  json(topic: string): unknown[] {
    return this.on(topic).map((m) => JSON.parse(m.payload) as unknown);
  }

  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check();
      if (result !== undefined && result !== false) return result;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out; got ${JSON.stringify(this.messages.map((m) => [m.topic, m.payload.slice(0, 80)]))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

async function post(url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const ZIGBEE_DEVICES = [
  { friendlyName: 'bathroom_sos', kind: 'sos_button' },
  { friendlyName: 'hall_motion', kind: 'motion' },
  { friendlyName: 'kitchen_smoke', kind: 'smoke' },
  { friendlyName: 'kitchen_gas', kind: 'gas' },
  { friendlyName: 'bathroom_leak', kind: 'water_leak' },
  { friendlyName: 'balcony_door', kind: 'contact', availability: 'legacy' },
];

describe('zigbee2mqtt and native emulators against a real (aedes) broker, driven over HTTP', () => {
  let broker: Aedes;
  let server: Server;
  let url: string;
  let sim: Simulator;
  let api: string;
  let rec: Recorder;

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    url = `mqtt://127.0.0.1:${port}`;
    const config = validateConfig(
      simConfigSchema,
      {
        control: { port: 0 },
        mqtt: { url, reconnectPeriodMs: 200 },
        zigbee2mqtt: { devices: ZIGBEE_DEVICES },
        native: { devices: [{ id: 'pendant', state: { battery: 60, battery_low: false } }] },
        faults: { batteryTickMs: 100 },
      },
      'test',
    );
    sim = new Simulator(config, { clock: systemClock, logger: silentLogger() });
    api = (await sim.start()).controlUrl;
    await sim.zigbee2mqtt?.waitConnected();
    await sim.nativeDevice('pendant')?.waitConnected();
    // Subscribe after the emulators published: what arrives now is what the broker retained.
    rec = await Recorder.connect(url, ['zigbee2mqtt/#', 'homebed/v1/dev/#']);
  });

  afterAll(async () => {
    await rec?.close();
    await sim?.stop();
    await new Promise<void>((resolve) => broker?.close(() => resolve()));
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('the broker holds the retained bridge state, device list and availability in both styles', async () => {
    await rec.waitFor(
      () =>
        rec.on('zigbee2mqtt/bridge/devices').length > 0 &&
        rec.on('homebed/v1/dev/pendant/availability').length > 0,
    );
    expect(rec.on('zigbee2mqtt/bridge/state')).toEqual([
      { topic: 'zigbee2mqtt/bridge/state', payload: '{"state":"online"}', retain: true },
    ]);
    const devices = rec.json('zigbee2mqtt/bridge/devices')[0] as Array<Record<string, unknown>>;
    expect(devices.map((d) => d.friendly_name)).toEqual([
      'Coordinator',
      ...ZIGBEE_DEVICES.map((d) => d.friendlyName),
    ]);
    expect(devices[1]).toMatchObject({
      type: 'EndDevice',
      supported: true,
      definition: { model: 'TS0215A_sos', vendor: 'Tuya', exposes: expect.any(Array) },
    });
    expect(rec.on('zigbee2mqtt/bathroom_sos/availability')[0]).toMatchObject({
      payload: '{"state":"online"}',
      retain: true,
    });
    expect(rec.on('zigbee2mqtt/balcony_door/availability')[0]).toMatchObject({
      payload: 'online',
      retain: true,
    });
    expect(rec.json('homebed/v1/dev/pendant/availability')).toEqual([{ v: 1, state: 'online' }]);
    // Device states are not retained, so a late subscriber has none yet.
    expect(rec.on('zigbee2mqtt/bathroom_sos')).toEqual([]);
  });

  it('POST /zigbee/:name publishes state messages with the exposed properties plus linkquality', async () => {
    const sos = await post(`${api}/zigbee/bathroom_sos`, { action: 'sos' });
    expect(sos).toMatchObject({
      status: 200,
      json: { name: 'bathroom_sos', published: { action: 'emergency' } },
    });
    const leak = await post(`${api}/zigbee/bathroom_leak`, { action: 'alarm' });
    expect(leak.status).toBe(200);
    await post(`${api}/zigbee/hall_motion`, { action: 'motion' });
    await post(`${api}/zigbee/balcony_door`, { action: 'open' });
    await rec.waitFor(() => rec.on('zigbee2mqtt/balcony_door').length > 0);
    const [sosState] = rec.json('zigbee2mqtt/bathroom_sos') as Array<Record<string, unknown>>;
    expect(Object.keys(sosState ?? {}).sort()).toEqual(['action', 'battery', 'linkquality', 'voltage']);
    expect(rec.json('zigbee2mqtt/bathroom_leak')[0]).toMatchObject({
      water_leak: true,
      battery_low: false,
      battery: 100,
    });
    expect(rec.json('zigbee2mqtt/hall_motion')[0]).toMatchObject({ occupancy: true });
    expect(rec.json('zigbee2mqtt/balcony_door')[0]).toMatchObject({ contact: false });
    expect(rec.on('zigbee2mqtt/bathroom_sos')[0]?.retain).toBe(false);
  });

  it('POST /zigbee/:name {available} and {battery}, with 400/404 for what cannot be', async () => {
    expect((await post(`${api}/zigbee/balcony_door`, { available: false })).status).toBe(200);
    expect((await post(`${api}/zigbee/bathroom_sos`, { available: false })).status).toBe(200);
    expect((await post(`${api}/zigbee/kitchen_smoke`, { battery: 12 })).status).toBe(200);
    await rec.waitFor(() => rec.on('zigbee2mqtt/kitchen_smoke').length > 0);
    await rec.waitFor(() => rec.on('zigbee2mqtt/bathroom_sos/availability').length > 1);
    expect(rec.on('zigbee2mqtt/balcony_door/availability').at(-1)?.payload).toBe('offline');
    expect(rec.on('zigbee2mqtt/bathroom_sos/availability').at(-1)?.payload).toBe('{"state":"offline"}');
    expect(rec.json('zigbee2mqtt/kitchen_smoke').at(-1)).toMatchObject({ battery: 12, battery_low: true });

    const mains = await post(`${api}/zigbee/kitchen_gas`, { battery: 50 });
    expect(mains).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    expect((await post(`${api}/zigbee/kitchen_gas`, { action: 'open' })).status).toBe(400);
    expect((await post(`${api}/zigbee/kitchen_gas`, { action: 'dance' })).status).toBe(400);
    expect((await post(`${api}/zigbee/kitchen_gas`, {})).status).toBe(400);
    const unknown = await post(`${api}/zigbee/attic`, { action: 'press' });
    expect(unknown.status).toBe(404);
    expect(String(unknown.json.message)).toContain('known: bathroom_sos, hall_motion');
  });

  it('POST /native/:id publishes contract-valid state and events; bad bodies are refused', async () => {
    const res = await post(`${api}/native/pendant`, { event: 'sos', state: { occupancy: true } });
    expect(res.status).toBe(200);
    expect((res.json.published as Array<{ topic: string }>).map((m) => m.topic)).toEqual([
      'homebed/v1/dev/pendant/state',
      'homebed/v1/dev/pendant/event',
    ]);
    await rec.waitFor(() => rec.on('homebed/v1/dev/pendant/event').length > 0);
    const event = rec.json('homebed/v1/dev/pendant/event')[0];
    expect(nativeEventSchema.parse(event)).toMatchObject({ v: 1, action: 'sos' });
    const state = rec.json('homebed/v1/dev/pendant/state').at(-1);
    expect(nativeStateSchema.parse(state)).toMatchObject({ v: 1, battery: 60, occupancy: true });

    const bad = await post(`${api}/native/pendant`, { state: { heart_rate: 'fast' } });
    expect(bad).toMatchObject({ status: 400, json: { error: 'invalid_body' } });
    expect(String(bad.json.message)).toContain('state.heart_rate');
    expect((await post(`${api}/native/pendant`, { event: 'dance' })).status).toBe(400);
    expect((await post(`${api}/native/pendant`, { state: { v: 2 } })).status).toBe(400);
    expect((await post(`${api}/native/watch`, { event: 'sos' })).status).toBe(404);

    await post(`${api}/native/pendant`, { availability: 'offline' });
    await rec.waitFor(() => rec.on('homebed/v1/dev/pendant/availability').length > 1);
    expect(rec.json('homebed/v1/dev/pendant/availability').at(-1)).toEqual({ v: 1, state: 'offline' });
  });

  it('POST /faults/:id {dyingBattery} runs a zigbee and a native battery down', async () => {
    const z = await post(`${api}/faults/bathroom_leak`, { dyingBattery: 60 });
    expect(z).toMatchObject({ status: 200, json: { type: 'zigbee', dyingBattery: 60 } });
    const n = await post(`${api}/faults/pendant`, { dyingBattery: 100 });
    expect(n).toMatchObject({ status: 200, json: { type: 'native', dyingBattery: 100 } });
    // 60 %/min in 100 ms ticks: 1 % per tick; the native one 100 %/min, about 1.7 % per tick.
    await rec.waitFor(() => {
      const leak = rec.json('zigbee2mqtt/bathroom_leak') as Array<{ battery: number }>;
      return leak.length >= 3 && (leak.at(-1)?.battery ?? 100) <= 98;
    });
    await rec.waitFor(() => {
      const states = rec.json('homebed/v1/dev/pendant/state') as Array<{ battery: number }>;
      return (states.at(-1)?.battery ?? 60) <= 57;
    });
    expect((await post(`${api}/faults/kitchen_gas`, { dyingBattery: true })).status).toBe(400);
    expect((await post(`${api}/faults/pendant`, { dyingBattery: false })).status).toBe(200);
    expect((await post(`${api}/faults/bathroom_leak`, { dyingBattery: 0 })).status).toBe(200);

    const state = (await (await fetch(`${api}/state`)).json()) as {
      zigbee2mqtt: {
        running: boolean;
        connected: boolean;
        devices: Array<{ friendlyName: string; dyingBattery: boolean }>;
      };
      native: Array<{ id: string; running: boolean; dyingBattery: boolean }>;
    };
    expect(state.zigbee2mqtt).toMatchObject({ running: true, connected: true });
    expect(state.zigbee2mqtt.devices.find((d) => d.friendlyName === 'bathroom_leak')?.dyingBattery).toBe(
      false,
    );
    expect(state.native[0]).toMatchObject({ id: 'pendant', running: true, dyingBattery: false });
  });

  it('stop(): bridge offline and pendant offline, both retained', async () => {
    rec.messages.length = 0;
    await sim.stop();
    await rec.waitFor(
      () =>
        rec.on('zigbee2mqtt/bridge/state').length > 0 &&
        rec.on('homebed/v1/dev/pendant/availability').length > 0,
    );
    expect(rec.on('zigbee2mqtt/bridge/state').at(-1)?.payload).toBe('{"state":"offline"}');
    expect(rec.json('homebed/v1/dev/pendant/availability').at(-1)).toEqual({ v: 1, state: 'offline' });
  });
});

describe('without mqtt.url the MQTT emulators are not started', () => {
  it('reports them as not running; their routes answer 409', async () => {
    const config = validateConfig(
      simConfigSchema,
      {
        control: { port: 0 },
        zigbee2mqtt: { devices: [{ friendlyName: 'bathroom_sos', kind: 'sos_button' }] },
        native: { devices: [{ id: 'pendant' }] },
      },
      'test',
    );
    const sim = new Simulator(config, { clock: systemClock, logger: silentLogger() });
    const { controlUrl } = await sim.start();
    try {
      const state = (await (await fetch(`${controlUrl}/state`)).json()) as Record<string, unknown>;
      expect(state.zigbee2mqtt).toEqual({ running: false, reason: 'no mqtt.url configured' });
      expect(state.native).toEqual([{ id: 'pendant', running: false, reason: 'no mqtt.url configured' }]);
      expect(await post(`${controlUrl}/zigbee/bathroom_sos`, { action: 'sos' })).toMatchObject({
        status: 409,
        json: { error: 'not_running' },
      });
      expect((await post(`${controlUrl}/native/pendant`, { event: 'sos' })).status).toBe(409);
      expect((await post(`${controlUrl}/faults/pendant`, { dyingBattery: true })).status).toBe(409);
    } finally {
      await sim.stop();
    }
  });
});

const MOSQUITTO = { host: '127.0.0.1', port: 1883 };

// The Mosquitto this machine kind runs on 1883 is a required test service, like PostgreSQL.
describe('zigbee2mqtt and native emulators against the Mosquitto on this machine', () => {
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const baseTopic = `homebed-test-z2m-${tag}`;
  const nativeId = `sim-test-${tag}`;
  const url = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`;

  it('retained bridge/devices, availability in both styles, state messages, and an event', async () => {
    const z2m = new Zigbee2mqttEmulator({
      mqtt: { url, reconnectPeriodMs: 500 },
      clientId: `homebed-sim-z2m-${tag}`,
      clock: systemClock,
      baseTopic,
      bridgeState: 'legacy',
      devices: [
        {
          friendlyName: 'sos',
          kind: 'sos_button',
          availability: 'json',
          battery: 90,
          linkquality: 100,
          occupancyTimeoutMs: 90_000,
          checkinIntervalMs: 0,
        },
        {
          friendlyName: 'door',
          kind: 'contact',
          availability: 'legacy',
          battery: 90,
          linkquality: 100,
          occupancyTimeoutMs: 90_000,
          checkinIntervalMs: 0,
        },
      ],
    });
    const pendant = new NativeDeviceEmulator({
      mqtt: { url, reconnectPeriodMs: 500 },
      clock: systemClock,
      spec: { id: nativeId, state: { battery: 80 }, stateIntervalMs: 0 },
    });
    let rec: Recorder | undefined;
    const cleanup = mqtt.connect(url, { clientId: `homebed-cleanup-${tag}` });
    try {
      z2m.start();
      pendant.start();
      await z2m.waitConnected();
      await pendant.waitConnected();
      rec = await Recorder.connect(url, [`${baseTopic}/#`, `homebed/v1/dev/${nativeId}/#`]);
      const r = rec;
      await r.waitFor(
        () =>
          r.on(`${baseTopic}/bridge/devices`).length > 0 && r.on(`${baseTopic}/door/availability`).length > 0,
      );
      expect(r.on(`${baseTopic}/bridge/state`)[0]).toMatchObject({ payload: 'online', retain: true });
      const devices = r.json(`${baseTopic}/bridge/devices`)[0] as Array<{ friendly_name: string }>;
      expect(devices.map((d) => d.friendly_name)).toEqual(['Coordinator', 'sos', 'door']);
      expect(r.on(`${baseTopic}/sos/availability`)[0]?.payload).toBe('{"state":"online"}');
      expect(r.on(`${baseTopic}/door/availability`)[0]?.payload).toBe('online');
      z2m.act('sos', 'sos');
      z2m.act('door', 'open');
      pendant.update({ event: 'press' });
      await r.waitFor(
        () => r.on(`${baseTopic}/door`).length > 0 && r.on(`homebed/v1/dev/${nativeId}/event`).length > 0,
      );
      expect(r.json(`${baseTopic}/sos`)[0]).toMatchObject({ action: 'emergency', battery: 90 });
      expect(r.json(`${baseTopic}/door`)[0]).toMatchObject({ contact: false, battery: 90 });
      expect(r.json(`homebed/v1/dev/${nativeId}/event`)[0]).toMatchObject({ v: 1, action: 'press' });
    } finally {
      await rec?.close();
      await z2m.stop();
      await pendant.stop();
      // Leave nothing retained on the shared broker.
      const retained = [
        `${baseTopic}/bridge/state`,
        `${baseTopic}/bridge/devices`,
        `${baseTopic}/sos/availability`,
        `${baseTopic}/door/availability`,
        `homebed/v1/dev/${nativeId}/availability`,
      ];
      if (!cleanup.connected) await new Promise<void>((resolve) => cleanup.once('connect', () => resolve()));
      for (const topic of retained) await cleanup.publishAsync(topic, '', { retain: true, qos: 1 });
      await cleanup.endAsync();
    }
  });
});
