import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import type { AlarmMessage } from '../../../contract/index.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import { DeviceRegistry } from '../../../gateway/devices/device-registry.js';
import { AlarmBook } from '../../../gateway/rules/alarm-book.js';
import { openGatewayDb } from '../../../gateway/store/gateway-db.js';
import { DeviceSupervisor } from '../../../gateway/supervision/device-supervisor.js';
import { LinkSupervisor } from '../../../gateway/supervision/link-supervisor.js';
import { SerialLink } from '../../../gateway/transports/serial-link.js';
import { AlarmOutbox } from '../../../gateway/uplink/alarm-outbox.js';

const HOUR = 3600_000;

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 0, 0, 0));
  const bus = new TypedEmitter<GatewayEvents>();
  const registry = new DeviceRegistry(
    [
      { id: 'radar', kind: 'mr60bha1', role: 'bed_radar', link: 'p1' },
      { id: 'door', kind: 'rf_contact', role: 'front_door', link: 'rf', address: 'EV1527:1:01' },
      { id: 'hall', kind: 'zigbee', role: 'pir', address: 'hall_motion' },
    ],
    clock,
  );
  const db = openGatewayDb(':memory:');
  const outbox = new AlarmOutbox(db, { gatewayId: 'gw', bedId: 'bed' });
  const alarms: AlarmMessage[] = [];
  const book = new AlarmBook(db, (d) => {
    const m = outbox.commit(d);
    alarms.push(m);
    return m;
  });
  const readings: string[] = [];
  bus.on('reading', (r) => readings.push(`${r.deviceId}:${r.metric}=${String(r.value)}`));
  const supervisor = new DeviceSupervisor(registry, bus, book, clock, silentLogger(), {
    checkIntervalMs: 5_000,
    healthIntervalMs: 60_000,
    batteryLowPercent: 20,
    batteryAlarmMinIntervalMs: 24 * HOUR,
  });
  supervisor.start();
  return { clock, bus, registry, book, alarms, supervisor, readings };
}

const summary = (alarms: AlarmMessage[]) => alarms.map((a) => `${a.type}:${a.deviceId ?? '-'}:${a.state}`);

describe('DeviceSupervisor', () => {
  it('raises device_offline for a radar silent for 90 s and clears it when the radar is heard', () => {
    const { clock, bus, registry, alarms } = setup();
    const hear = () => {
      registry.markSeen('radar', clock.now());
      bus.emit('reading', { deviceId: 'radar', metric: 'heart_rate', value: 70, atMs: clock.now() });
    };
    hear();
    clock.advance(85_000);
    expect(summary(alarms)).toEqual([]);
    clock.advance(10_000);
    expect(summary(alarms)).toEqual(['device_offline:radar:raised']);
    clock.advance(60_000);
    expect(alarms).toHaveLength(1); // raised once, not on every check
    hear();
    expect(summary(alarms)).toEqual(['device_offline:radar:raised', 'device_offline:radar:cleared']);
    expect(alarms[1]?.refersTo).toBe(alarms[0]?.id);
  });

  it('gives a radio contact 25 h, and a never-heard device counts from the gateway start', () => {
    const { clock, registry, alarms } = setup();
    registry.markSeen('radar', clock.now() + 48 * HOUR); // keep the radar out of this test
    clock.advance(24 * HOUR);
    expect(summary(alarms).filter((a) => a.includes('door'))).toEqual([]);
    clock.advance(HOUR + 10_000);
    expect(summary(alarms).filter((a) => a.includes('door'))).toEqual(['device_offline:door:raised']);
  });

  it('follows zigbee availability when zigbee2mqtt reports it: offline raises at once, online clears', () => {
    const { clock, bus, registry, alarms } = setup();
    registry.setAvailability('hall', false);
    bus.emit('availability', { deviceId: 'hall', online: false, atMs: clock.now() });
    expect(summary(alarms)).toContain('device_offline:hall:raised');
    registry.setAvailability('hall', true);
    bus.emit('availability', { deviceId: 'hall', online: true, atMs: clock.now() });
    expect(summary(alarms)).toContain('device_offline:hall:cleared');
  });

  it('raises device_battery_low at most once a day per device, and clears when the battery is fine', () => {
    const { clock, bus, alarms } = setup();
    const battery = (value: number | boolean) =>
      bus.emit('reading', {
        deviceId: 'door',
        metric: typeof value === 'boolean' ? 'battery_low' : 'battery',
        value,
        atMs: clock.now(),
      });
    battery(true);
    battery(15);
    const low = () => summary(alarms).filter((a) => a.startsWith('device_battery_low'));
    expect(low()).toEqual(['device_battery_low:door:raised']);
    battery(90);
    expect(low()).toEqual(['device_battery_low:door:raised', 'device_battery_low:door:cleared']);
    clock.advance(2 * HOUR);
    battery(true); // low again the same day: not raised again
    expect(low()).toHaveLength(2);
    clock.advance(23 * HOUR);
    battery(true);
    expect(low()).toHaveLength(3);
  });

  it('writes device health as readings and leaves no timer behind when stopped', () => {
    const { clock, supervisor, readings } = setup();
    clock.advance(60_000);
    expect(readings).toEqual(expect.arrayContaining(['radar:device_online=true', 'door:device_online=true']));
    supervisor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('LinkSupervisor', () => {
  it('raises serial_link_lost when a port stays closed for 5 s and clears it when it opens', () => {
    const clock = new ManualClock();
    const bus = new TypedEmitter<GatewayEvents>();
    const db = openGatewayDb(':memory:');
    const outbox = new AlarmOutbox(db, { gatewayId: 'gw', bedId: 'bed' });
    const alarms: AlarmMessage[] = [];
    const book = new AlarmBook(db, (d) => {
      const m = outbox.commit(d);
      alarms.push(m);
      return m;
    });
    // Never started: its state stays `closed`, and we drive its events as the port would.
    const link = new SerialLink(
      {
        id: 'radar-port',
        path: '/nonexistent',
        baudRate: 115200,
        reconnectInitialMs: 100,
        reconnectMaxMs: 100,
      },
      clock,
      silentLogger(),
    );
    const supervisor = new LinkSupervisor(
      new Map([['radar-port', link]]),
      book,
      bus,
      clock,
      silentLogger(),
      new Counters(),
      {
        lostAfterMs: 5_000,
        healthIntervalMs: 60_000,
      },
    );
    supervisor.start();
    clock.advance(4_999);
    expect(alarms).toHaveLength(0);
    clock.advance(1);
    expect(summary(alarms)).toEqual(['serial_link_lost:radar-port:raised']);
    expect(alarms[0]?.evidence[0]).toMatchObject({ deviceId: 'radar-port', value: 'not open since start' });
    link.events.emit('open', undefined);
    expect(summary(alarms)).toEqual([
      'serial_link_lost:radar-port:raised',
      'serial_link_lost:radar-port:cleared',
    ]);
    // A short unplug (under 5 s) raises nothing.
    link.events.emit('close', { reason: 'disconnected' });
    clock.advance(3_000);
    link.events.emit('open', undefined);
    clock.advance(10_000);
    expect(alarms).toHaveLength(2);
    supervisor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
