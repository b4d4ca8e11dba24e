import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  Zigbee2mqttEmulator,
  type ZigbeeDeviceSpec,
  ZigbeeRequestError,
} from '../../../firmware-sim/devices/zigbee2mqtt.js';
import { seededRandom } from '../../../firmware-sim/random.js';
import { fakeConnect } from './fake-mqtt.js';

const device = (
  friendlyName: string,
  kind: ZigbeeDeviceSpec['kind'],
  extra: Partial<ZigbeeDeviceSpec> = {},
) => ({
  friendlyName,
  kind,
  availability: 'json' as const,
  battery: 100,
  linkquality: 120,
  occupancyTimeoutMs: 90_000,
  checkinIntervalMs: 0,
  ...extra,
});

const DEVICES: ZigbeeDeviceSpec[] = [
  device('bathroom_sos', 'sos_button'),
  device('hall_motion', 'motion'),
  device('kitchen_smoke', 'smoke'),
  device('kitchen_gas', 'gas'),
  device('bathroom_leak', 'water_leak', { battery: 80 }),
  device('balcony_door', 'contact', { availability: 'legacy' }),
  device('bedside', 'button'),
  device('porch_door', 'contact', { checkinIntervalMs: 3_000_000 }),
];

function setup(options: { bridgeState?: 'json' | 'legacy' } = {}) {
  const clock = new ManualClock();
  const { connect, clients } = fakeConnect();
  const z2m = new Zigbee2mqttEmulator({
    mqtt: { url: 'mqtt://broker:1883', reconnectPeriodMs: 1000 },
    clientId: 'test-z2m',
    clock,
    baseTopic: 'zigbee2mqtt',
    devices: DEVICES,
    random: seededRandom(3),
    connect,
    ...options,
  });
  z2m.start();
  const client = clients[0];
  if (!client) throw new Error('no client');
  client.acceptConnection();
  return { clock, z2m, client };
}

describe('Zigbee2mqttEmulator', () => {
  it('connects with a retained offline last will on bridge/state', () => {
    const { client, z2m } = setup();
    expect(client.url).toBe('mqtt://broker:1883');
    expect(client.options).toMatchObject({ clientId: 'test-z2m', reconnectPeriod: 1000 });
    expect(client.options.will).toMatchObject({ topic: 'zigbee2mqtt/bridge/state', retain: true, qos: 1 });
    expect(String(client.options.will?.payload)).toBe('{"state":"offline"}');
    expect(z2m.connected).toBe(true);
  });

  it('publishes bridge state, the device list, availability in both styles and the cached states on connect', () => {
    const { client } = setup();
    const topics = client.published.map((m) => m.topic);
    expect(topics.slice(0, 2)).toEqual(['zigbee2mqtt/bridge/state', 'zigbee2mqtt/bridge/devices']);
    expect(client.published[0]).toEqual({
      topic: 'zigbee2mqtt/bridge/state',
      payload: '{"state":"online"}',
      retain: true,
      qos: 1,
    });
    expect(client.published[1]).toMatchObject({ retain: true, qos: 0 });
    const availability = client.published.filter((m) => m.topic.endsWith('/availability'));
    expect(availability.map((m) => [m.topic, m.payload, m.retain])).toEqual([
      ['zigbee2mqtt/bathroom_sos/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/hall_motion/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/kitchen_smoke/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/kitchen_gas/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/bathroom_leak/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/balcony_door/availability', 'online', true],
      ['zigbee2mqtt/bedside/availability', '{"state":"online"}', true],
      ['zigbee2mqtt/porch_door/availability', '{"state":"online"}', true],
    ]);
    // Cached states: only exposed properties, plus linkquality; not retained.
    const state = (name: string) => client.messagesOn(`zigbee2mqtt/${name}`)[0] as Record<string, unknown>;
    expect(Object.keys(state('bathroom_sos')).sort()).toEqual(['battery', 'linkquality', 'voltage']);
    expect(Object.keys(state('hall_motion')).sort()).toEqual([
      'battery',
      'illuminance',
      'linkquality',
      'occupancy',
      'voltage',
    ]);
    expect(state('kitchen_smoke')).toMatchObject({ smoke: false, battery: 100, battery_low: false });
    expect(Object.keys(state('kitchen_gas')).sort()).toEqual(['gas', 'linkquality']);
    expect(state('bathroom_leak')).toMatchObject({ water_leak: false, battery: 80, battery_low: false });
    expect(state('balcony_door')).toMatchObject({ contact: true });
    expect(client.published.filter((m) => m.topic === 'zigbee2mqtt/bathroom_sos')[0]?.retain).toBe(false);
  });

  it('describes its devices in bridge/devices as zigbee2mqtt does: coordinator first, keys sorted, definitions with exposes', () => {
    const { client } = setup();
    const payload = client.published[1]?.payload ?? '';
    const list = JSON.parse(payload) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(9);
    expect(list[0]).toMatchObject({ type: 'Coordinator', friendly_name: 'Coordinator', network_address: 0 });
    const sos = list.find((d) => d.friendly_name === 'bathroom_sos') as Record<string, unknown>;
    expect(sos).toMatchObject({
      ieee_address: expect.stringMatching(/^0xa4c13800[0-9a-f]{8}$/),
      type: 'EndDevice',
      supported: true,
      disabled: false,
      power_source: 'Battery',
      model_id: 'TS0215A',
      manufacturer: '_TZ3000_4fsgukof',
      interview_completed: true,
      interviewing: false,
      definition: { model: 'TS0215A_sos', vendor: 'Tuya', description: 'SOS button', supports_ota: false },
    });
    expect(typeof sos.network_address).toBe('number');
    const exposes = (sos.definition as { exposes: Array<Record<string, unknown>> }).exposes;
    expect(exposes.map((e) => e.property)).toEqual(['battery', 'voltage', 'action', 'linkquality']);
    expect(exposes[2]).toEqual({
      access: 1,
      description: 'Triggered action (e.g. a button click)',
      label: 'Action',
      name: 'action',
      property: 'action',
      type: 'enum',
      values: ['emergency'],
    });
    const door = list.find((d) => d.friendly_name === 'balcony_door') as {
      definition: { exposes: unknown[] };
    };
    expect(door.definition.exposes[0]).toMatchObject({
      property: 'contact',
      type: 'binary',
      value_on: false,
      value_off: true,
    });
    const gas = list.find((d) => d.friendly_name === 'kitchen_gas');
    expect(gas).toMatchObject({ type: 'Router', power_source: 'Mains (single phase)' });
    // json-stable-stringify order: keys sorted at every level.
    expect(payload.indexOf('"definition"')).toBeLessThan(payload.indexOf('"disabled"'));
    expect(Object.keys(list[1] as object)).toEqual(Object.keys(list[1] as object).sort());
  });

  it('actions publish state messages with the exposed properties', () => {
    const { z2m, client } = setup();
    client.published.length = 0;
    expect(z2m.act('bathroom_sos', 'sos')).toMatchObject({
      action: 'emergency',
      battery: 100,
      voltage: 3000,
    });
    expect(z2m.act('bedside', 'press')).toMatchObject({ action: 'single' });
    expect(z2m.act('balcony_door', 'open')).toMatchObject({ contact: false });
    expect(z2m.act('kitchen_smoke', 'alarm')).toMatchObject({ smoke: true, battery_low: false });
    const gas = z2m.act('kitchen_gas', 'alarm');
    expect(Object.keys(gas ?? {}).sort()).toEqual(['gas', 'linkquality']);
    expect(z2m.act('bathroom_leak', 'alarm')).toMatchObject({ water_leak: true });
    expect(z2m.act('bathroom_leak', 'clear')).toMatchObject({ water_leak: false });
    // The action is sent once, not cached into later messages.
    expect(z2m.act('balcony_door', 'close')).not.toHaveProperty('action');
    expect(client.messagesOn('zigbee2mqtt/bathroom_sos')).toEqual([
      expect.objectContaining({ action: 'emergency', linkquality: expect.any(Number) }),
    ]);
    expect(z2m.act('nope', 'press')).toBeNull();
    expect(() => z2m.act('kitchen_gas', 'open')).toThrow(ZigbeeRequestError);
    expect(() => z2m.act('bedside', 'sos')).toThrow(/bedside accepts: press/);
  });

  it('motion sets occupancy, which zigbee2mqtt clears after occupancy_timeout (90 s)', () => {
    const { z2m, client, clock } = setup();
    client.published.length = 0;
    expect(z2m.act('hall_motion', 'motion')).toMatchObject({ occupancy: true });
    clock.advance(60_000);
    z2m.act('hall_motion', 'motion');
    clock.advance(89_999);
    expect(client.messagesOn('zigbee2mqtt/hall_motion')).toHaveLength(2);
    clock.advance(1);
    expect(client.messagesOn('zigbee2mqtt/hall_motion').at(-1)).toMatchObject({ occupancy: false });
    z2m.act('hall_motion', 'motion');
    expect(z2m.act('hall_motion', 'clear')).toMatchObject({ occupancy: false });
    // Only porch_door's check-in is left.
    expect(clock.pendingTimers()).toBe(1);
  });

  it('availability: retained, in the device style; a device that talks is online again', () => {
    const { z2m, client } = setup();
    client.published.length = 0;
    z2m.setAvailability('balcony_door', false);
    z2m.setAvailability('bathroom_sos', false);
    expect(client.published.map((m) => [m.topic, m.payload, m.retain])).toEqual([
      ['zigbee2mqtt/balcony_door/availability', 'offline', true],
      ['zigbee2mqtt/bathroom_sos/availability', '{"state":"offline"}', true],
    ]);
    client.published.length = 0;
    z2m.act('bathroom_sos', 'sos');
    expect(client.published.map((m) => m.topic)).toEqual([
      'zigbee2mqtt/bathroom_sos/availability',
      'zigbee2mqtt/bathroom_sos',
    ]);
    expect(z2m.state().devices.find((d) => d.friendlyName === 'bathroom_sos')?.online).toBe(true);
  });

  it('battery: set by hand or run down; battery_low where the model exposes it; mains devices refuse', () => {
    const { z2m, client, clock } = setup();
    client.published.length = 0;
    z2m.setBattery('kitchen_smoke', 15);
    expect(client.messagesOn('zigbee2mqtt/kitchen_smoke').at(-1)).toMatchObject({
      battery: 15,
      battery_low: true,
    });
    expect(() => z2m.setBattery('kitchen_gas', 50)).toThrow(/mains-powered/);
    client.published.length = 0;
    z2m.setDyingBattery('bathroom_leak', 6, 10_000);
    clock.advance(60_000);
    const reports = client.messagesOn('zigbee2mqtt/bathroom_leak') as Array<{ battery: number }>;
    expect(reports.map((r) => r.battery)).toEqual([79, 78, 77, 76, 75, 74]);
    expect(z2m.state().devices.find((d) => d.friendlyName === 'bathroom_leak')?.dyingBattery).toBe(true);
    z2m.setDyingBattery('bathroom_leak', 0);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('a device with a check-in interval re-sends its state, but not while it is offline', () => {
    const { z2m, client, clock } = setup();
    client.published.length = 0;
    clock.advance(3_000_000);
    expect(client.messagesOn('zigbee2mqtt/porch_door')).toEqual([expect.objectContaining({ contact: true })]);
    z2m.setAvailability('porch_door', false);
    clock.advance(3_000_000);
    expect(client.messagesOn('zigbee2mqtt/porch_door')).toHaveLength(1);
  });

  it('republishes everything on a reconnection, like zigbee2mqtt at start-up', () => {
    const { client } = setup();
    const first = client.published.length;
    client.connected = false;
    client.acceptConnection();
    expect(client.published.length).toBe(first * 2);
  });

  it('the legacy bridge state is the bare word', () => {
    const { client } = setup({ bridgeState: 'legacy' });
    expect(client.published[0]?.payload).toBe('online');
    expect(String(client.options.will?.payload)).toBe('offline');
  });

  it('stop() says offline on bridge/state, disconnects and leaves no timers', async () => {
    const { z2m, client, clock } = setup();
    z2m.act('hall_motion', 'motion');
    z2m.setDyingBattery('bathroom_sos', 10);
    // Occupancy clear, battery drain, porch_door's check-in.
    expect(clock.pendingTimers()).toBe(3);
    client.published.length = 0;
    await z2m.stop();
    expect(client.published).toEqual([
      { topic: 'zigbee2mqtt/bridge/state', payload: '{"state":"offline"}', retain: true, qos: 1 },
    ]);
    expect(client.ended).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await z2m.stop();
  });
});
