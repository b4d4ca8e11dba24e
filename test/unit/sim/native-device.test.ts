import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  nativeAvailabilitySchema,
  nativeEventSchema,
  nativeStateSchema,
} from '../../../contract/native-device.js';
import { NativeContractError, NativeDeviceEmulator } from '../../../firmware-sim/devices/native-device.js';
import { fakeConnect } from './fake-mqtt.js';

function setup(stateIntervalMs = 0) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  const { connect, clients } = fakeConnect();
  const pendant = new NativeDeviceEmulator({
    mqtt: { url: 'mqtt://broker:1883', reconnectPeriodMs: 500 },
    clock,
    spec: { id: 'pendant', state: { battery: 95, battery_low: false }, stateIntervalMs },
    connect,
  });
  pendant.start();
  const client = clients[0];
  if (!client) throw new Error('no client');
  client.acceptConnection();
  return { clock, pendant, client };
}

describe('NativeDeviceEmulator', () => {
  it('registers an offline last will and says online, then its state, on connect', () => {
    const { client } = setup();
    expect(client.options.clientId).toBe('homebed-sim-native-pendant');
    expect(client.options.will).toMatchObject({
      topic: 'homebed/v1/dev/pendant/availability',
      retain: true,
      qos: 1,
    });
    expect(JSON.parse(String(client.options.will?.payload))).toEqual({ v: 1, state: 'offline' });
    expect(client.published.map((m) => [m.topic, m.retain, m.qos])).toEqual([
      ['homebed/v1/dev/pendant/availability', true, 1],
      ['homebed/v1/dev/pendant/state', false, 1],
    ]);
    expect(client.messagesOn('homebed/v1/dev/pendant/state')).toEqual([
      { v: 1, at: '2026-01-01T08:00:00.000Z', battery: 95, battery_low: false },
    ]);
  });

  it('every message it publishes matches the contract schemas', () => {
    const { pendant, client } = setup();
    pendant.update({ event: 'sos' });
    pendant.update({ state: { occupancy: true }, event: 'cancel' });
    pendant.update({ availability: 'offline' });
    for (const m of client.published) {
      const payload = JSON.parse(m.payload) as unknown;
      const kind = m.topic.split('/').at(-1);
      const schema =
        kind === 'state'
          ? nativeStateSchema
          : kind === 'event'
            ? nativeEventSchema
            : nativeAvailabilitySchema;
      expect(schema.safeParse(payload).success, m.payload).toBe(true);
    }
    expect(client.messagesOn('homebed/v1/dev/pendant/event')).toEqual([
      { v: 1, at: '2026-01-01T08:00:00.000Z', action: 'sos' },
      { v: 1, at: '2026-01-01T08:00:00.000Z', action: 'cancel' },
    ]);
    // State updates merge into the current state and are sent whole.
    expect(client.messagesOn('homebed/v1/dev/pendant/state').at(-1)).toMatchObject({
      battery: 95,
      battery_low: false,
      occupancy: true,
    });
    expect(pendant.state()).toMatchObject({ online: false, eventsSent: 2 });
  });

  it('an update that breaks the contract publishes nothing at all', () => {
    const { pendant, client } = setup();
    client.published.length = 0;
    // Cast: the HTTP layer validates first; this checks the emulator's own guard.
    const bad = { battery: 150 } as unknown as { battery: number };
    expect(() => pendant.update({ state: bad, event: 'sos' })).toThrow(NativeContractError);
    expect(client.published).toEqual([]);
    expect(pendant.state().state).toEqual({ battery: 95, battery_low: false });
  });

  it('re-sends its state every stateIntervalMs while online', () => {
    const { clock, pendant, client } = setup(60_000);
    client.published.length = 0;
    clock.advance(180_000);
    expect(client.messagesOn('homebed/v1/dev/pendant/state')).toHaveLength(3);
    pendant.update({ availability: 'offline' });
    clock.advance(180_000);
    expect(client.messagesOn('homebed/v1/dev/pendant/state')).toHaveLength(3);
  });

  it('a dying battery sends each whole percent, battery_low at the threshold; stop() leaves no timers', async () => {
    const { clock, pendant, client } = setup(60_000);
    client.published.length = 0;
    pendant.setDyingBattery(75, 60_000);
    clock.advance(60_000);
    const states = client.messagesOn('homebed/v1/dev/pendant/state') as Array<{
      battery: number;
      battery_low: boolean;
    }>;
    // The heartbeat (its timer is older) goes out first at 60 s, then the drained level.
    expect(states.map((s) => [s.battery, s.battery_low])).toEqual([
      [95, false],
      [20, true],
    ]);
    expect(clock.pendingTimers()).toBe(2);
    client.published.length = 0;
    await pendant.stop();
    expect(client.messagesOn('homebed/v1/dev/pendant/availability')).toEqual([{ v: 1, state: 'offline' }]);
    expect(client.ended).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });
});
