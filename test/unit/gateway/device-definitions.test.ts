import { describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { jsonStateToInputs } from '../../../gateway/devices/definitions/json-state.js';
import { rflinkPacketToInputs } from '../../../gateway/devices/definitions/rflink-devices.js';
import { parseRflinkLine } from '../../../gateway/devices/protocols/rflink/index.js';

const rf = (kind: DeviceConfig['kind'], role: DeviceConfig['role']): DeviceConfig => ({
  id: 'dev',
  kind,
  role,
  link: 'rf',
  address: 'EV1527:1:01',
});

function fromLine(device: DeviceConfig, line: string) {
  const message = parseRflinkLine(line);
  if (message.kind !== 'packet') throw new Error('not a packet');
  const { readings, events } = rflinkPacketToInputs(device, message, 1_000, line);
  return { readings: readings.map((r) => [r.metric, r.value]), events: events.map((e) => e.kind) };
}

describe('RFLink device definitions', () => {
  it('a button press is an event; its release is nothing', () => {
    expect(fromLine(rf('rf_button', 'sos_button'), '20;01;EV1527;ID=00001;SWITCH=01;CMD=ON;')).toEqual({
      readings: [],
      events: ['button_press'],
    });
    expect(fromLine(rf('rf_button', 'sos_button'), '20;02;EV1527;ID=00001;SWITCH=01;CMD=OFF;')).toEqual({
      readings: [],
      events: [],
    });
  });

  it('a door contact reports open on ON and closed on OFF', () => {
    expect(
      fromLine(rf('rf_contact', 'front_door'), '20;03;EV1527;ID=00001;SWITCH=01;CMD=ON;').readings,
    ).toEqual([['contact_open', true]]);
    expect(
      fromLine(rf('rf_contact', 'front_door'), '20;04;EV1527;ID=00001;SWITCH=01;CMD=OFF;').readings,
    ).toEqual([['contact_open', false]]);
  });

  it('a two-code contact reports closed when its close code says ON', () => {
    const device = { ...rf('rf_contact', 'front_door'), closeAddress: 'EV1527:1:0e' };
    const message = parseRflinkLine('20;0A;EV1527;ID=00001;SWITCH=0e;CMD=ON;');
    if (message.kind !== 'packet') throw new Error('not a packet');
    const { readings } = rflinkPacketToInputs(device, message, 1_000, '', 'close');
    expect(readings.map((r) => [r.metric, r.value])).toEqual([['contact_open', false]]);
  });

  it('PIR, smoke, gas and water sensors report their condition; BAT=LOW is a battery reading', () => {
    expect(fromLine(rf('rf_pir', 'pir'), '20;05;EV1527;ID=00001;SWITCH=01;CMD=ON;').readings).toEqual([
      ['occupancy', true],
    ]);
    expect(fromLine(rf('rf_pir', 'pir'), '20;05;Eurodomest;ID=00001;SWITCH=01;PIR=ON;').readings).toEqual([
      ['occupancy', true],
    ]);
    expect(
      fromLine(rf('rf_smoke', 'smoke'), '20;06;Kidde;ID=00001;SWITCH=01;SMOKEALERT=ON;').readings,
    ).toEqual([['smoke', true]]);
    expect(fromLine(rf('rf_gas', 'gas'), '20;07;EV1527;ID=00001;SWITCH=01;CMD=ON;').readings).toEqual([
      ['gas', true],
    ]);
    expect(fromLine(rf('rf_water', 'water'), '20;08;EV1527;ID=00001;SWITCH=01;CMD=OFF;').readings).toEqual([
      ['water_leak', false],
    ]);
    expect(
      fromLine(rf('rf_smoke', 'smoke'), '20;09;Kidde;ID=00001;SWITCH=01;SMOKEALERT=ON;BAT=LOW;').readings,
    ).toEqual([
      ['smoke', true],
      ['battery_low', true],
    ]);
  });
});

describe('JSON state definitions (zigbee2mqtt and native)', () => {
  const zigbee = (role: DeviceConfig['role']): DeviceConfig => ({
    id: 'z',
    kind: 'zigbee',
    role,
    address: 'x',
  });
  const map = (role: DeviceConfig['role'], state: Record<string, unknown>) => {
    const out = jsonStateToInputs(zigbee(role), state, 5, JSON.stringify(state));
    return {
      readings: out.readings.map((r) => [r.metric, r.value]),
      events: out.events.map((e) => e.kind),
      invalid: out.invalid,
    };
  };

  it('maps emergency/sos actions to an sos event, and single to a plain press', () => {
    expect(map('sos_button', { action: 'emergency', linkquality: 96 })).toEqual({
      readings: [['linkquality', 96]],
      events: ['sos'],
      invalid: [],
    });
    expect(map('pir', { action: 'sos' }).events).toEqual(['sos']);
    expect(map('sos_button', { action: 'single' }).events).toEqual(['button_press']);
    expect(map('sos_button', { action: '' }).events).toEqual([]);
  });

  it('maps sensor properties; contact=true means closed', () => {
    expect(map('front_door', { contact: false, battery: 87.4, battery_low: false }).readings).toEqual([
      ['battery_low', false],
      ['contact_open', true],
      ['battery', 87],
    ]);
    expect(map('pir', { occupancy: true, illuminance: 30 }).readings).toEqual([['occupancy', true]]);
    expect(map('smoke', { smoke: true, gas: false, water_leak: true }).readings).toEqual([
      ['smoke', true],
      ['gas', false],
      ['water_leak', true],
    ]);
  });

  it('reports known properties of the wrong type and keeps the rest', () => {
    expect(map('pir', { occupancy: 'yes', battery: 300, smoke: false })).toEqual({
      readings: [['smoke', false]],
      events: [],
      invalid: ['occupancy', 'battery'],
    });
  });
});
