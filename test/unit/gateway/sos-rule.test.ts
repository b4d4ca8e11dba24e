import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import { DeviceRegistry } from '../../../gateway/devices/device-registry.js';
import { SosRule } from '../../../gateway/rules/sos-rule.js';
import type { AlarmDraft } from '../../../gateway/uplink/alarm-outbox.js';

function setup() {
  const clock = new ManualClock();
  const bus = new TypedEmitter<GatewayEvents>();
  const registry = new DeviceRegistry(
    [
      {
        id: 'sos',
        kind: 'rf_button',
        role: 'sos_button',
        room: 'bedroom',
        link: 'rf',
        address: 'EV1527:1:01',
      },
      { id: 'door-remote', kind: 'rf_button', role: 'cancel_button', link: 'rf', address: 'EV1527:2:01' },
    ],
    clock,
  );
  const raised: AlarmDraft[] = [];
  const rule = new SosRule(bus, registry, (d) => raised.push(d), silentLogger(), { repeatWindowMs: 3_000 });
  rule.start();
  const press = (deviceId: string, atMs: number) =>
    bus.emit('deviceEvent', {
      deviceId,
      kind: 'button_press',
      atMs,
      raw: '20;05;EV1527;ID=1;SWITCH=01;CMD=ON;',
    });
  return { rule, raised, press, bus };
}

describe('SOS rule', () => {
  it('raises one critical sos_button alarm with the press as evidence', () => {
    const { raised, press } = setup();
    press('sos', 10_000);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      type: 'sos_button',
      severity: 'critical',
      state: 'raised',
      deviceId: 'sos',
      atMs: 10_000,
      message: 'SOS button pressed (bedroom)',
    });
    expect(raised[0]?.evidence[0]).toMatchObject({
      deviceId: 'sos',
      kind: 'button_press',
      raw: expect.stringContaining('EV1527'),
    });
  });

  it('treats presses within 3 s as the same call and a later press as a new one', () => {
    const { raised, press } = setup();
    press('sos', 10_000);
    press('sos', 11_000);
    press('sos', 12_900);
    expect(raised).toHaveLength(1);
    press('sos', 20_000);
    expect(raised).toHaveLength(2);
  });

  it('ignores buttons that are not SOS buttons, and stops listening when stopped', () => {
    const { raised, press, rule, bus } = setup();
    press('door-remote', 1_000);
    expect(raised).toHaveLength(0);
    rule.stop();
    press('sos', 2_000);
    expect(raised).toHaveLength(0);
    expect(bus.listenerCount()).toBe(0);
  });
});
