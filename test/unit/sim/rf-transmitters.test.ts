import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  RfActionError,
  RfTransmitter,
  type RfTransmitterSpec,
  rfPacketParts,
} from '../../../firmware-sim/devices/rf-transmitter.js';
import { RflinkEmulator } from '../../../firmware-sim/devices/rflink-receiver.js';
import {
  LineFramer,
  parseRflinkLine,
  type RflinkMessage,
  rflinkDeviceKey,
} from '../../../gateway/devices/protocols/rflink/index.js';
import { MemoryLink } from './memory-link.js';

const base = { repeats: 3, batteryField: 'auto', batteryLow: false } as const;
const SPECS: Record<string, RfTransmitterSpec> = {
  button: { ...base, name: 'sos', kind: 'button', protocol: 'EV1527', id: '0d3e4', switch: '01' },
  contact: { ...base, name: 'door', kind: 'contact', protocol: 'EV1527', id: '1a2b3', switch: '01' },
  twoCode: {
    ...base,
    name: 'door2',
    kind: 'contact',
    protocol: 'EV1527',
    id: '1a2b4',
    switch: '0a',
    closeSwitch: '0e',
  },
  oneCode: {
    ...base,
    name: 'door3',
    kind: 'contact',
    protocol: 'EV1527',
    id: '1a2b5',
    switch: '0a',
    sendsClose: false,
  },
  pir: { ...base, name: 'pir', kind: 'pir', protocol: 'EV1527', id: '2b3c4', switch: '01' },
  pirProto: { ...base, name: 'pir2', kind: 'pir', protocol: 'Pir', id: 'aa66' },
  smoke: { ...base, name: 'smoke', kind: 'smoke', protocol: 'FA20RF', id: '97e3b2' },
  smokeAlert: { ...base, name: 'smoke2', kind: 'smoke', protocol: 'SmokeAlert', id: '123456' },
  water: { ...base, name: 'water', kind: 'water', protocol: 'EV1527', id: '3c4d5', switch: '01' },
  gas: { ...base, name: 'gas', kind: 'gas', protocol: 'EV1527', id: '4d5e6', switch: '02' },
  keeloq: { ...base, name: 'call', kind: 'button', protocol: 'Keeloq', id: 'e311', switch: '0A' },
};

function setup() {
  const clock = new ManualClock();
  const link = new MemoryLink();
  const rflink = new RflinkEmulator({ link, clock });
  const framer = new LineFramer();
  let seen = 0;
  /** Packets written since the last call, parsed with the gateway's real codec. */
  const packets = (): Array<Extract<RflinkMessage, { kind: 'packet' }>> => {
    const chunks = link.written.slice(seen);
    seen = link.written.length;
    return chunks
      .flatMap((c) => framer.push(c))
      .map((l) => parseRflinkLine(l))
      .filter((m): m is Extract<RflinkMessage, { kind: 'packet' }> => m.kind === 'packet');
  };
  rflink.start();
  return { clock, link, rflink, packets };
}

/** Send `action` from `spec` through a real emulator and return the decoded packets (all repeats). */
function heard(spec: RfTransmitterSpec, action: Parameters<RfTransmitter['packet']>[0], low = false) {
  const { clock, rflink, packets } = setup();
  const tx = new RfTransmitter({ ...spec, batteryLow: low }, { clock });
  packets();
  const parts = tx.packet(action);
  const lines = parts ? rflink.transmit(parts, spec.repeats) : 0;
  clock.advance(1_000);
  const out = packets();
  rflink.stop();
  expect(out).toHaveLength(lines);
  return out;
}

const fieldsOf = (p: Extract<RflinkMessage, { kind: 'packet' }>) => ({ protocol: p.protocol, ...p.fields });

describe('RF transmitters through the RFLink emulator (decoded with the gateway codec)', () => {
  it('button: press = 3 identical CMD=ON lines with consecutive counters', () => {
    const out = heard(SPECS.button!, 'press');
    expect(out.map(fieldsOf)).toEqual(
      Array(3).fill({ protocol: 'EV1527', ID: '0d3e4', SWITCH: '01', CMD: 'ON' }),
    );
    expect(out.map((p) => p.counter)).toEqual([1, 2, 3]);
    expect(rflinkDeviceKey(out[0]!)).toBe('EV1527:0d3e4:01');
  });

  it('contact: open = CMD=ON; close = CMD=OFF on the same code, or CMD=ON with the close code, or nothing', () => {
    expect(heard(SPECS.contact!, 'open').map(fieldsOf)[0]).toEqual({
      protocol: 'EV1527',
      ID: '1a2b3',
      SWITCH: '01',
      CMD: 'ON',
    });
    expect(heard(SPECS.contact!, 'close').map(fieldsOf)[0]).toEqual({
      protocol: 'EV1527',
      ID: '1a2b3',
      SWITCH: '01',
      CMD: 'OFF',
    });
    // A two-code EV1527 contact, as real ones print: both states are CMD=ON, the data code differs.
    expect(heard(SPECS.twoCode!, 'open').map((p) => `${p.switch}:${p.cmd}`)[0]).toBe('0a:ON');
    expect(heard(SPECS.twoCode!, 'close').map((p) => `${p.switch}:${p.cmd}`)[0]).toBe('0e:ON');
    // A single-code contact says nothing when the door closes.
    expect(heard(SPECS.oneCode!, 'close')).toEqual([]);
  });

  it('pir: an EV1527 PIR prints CMD=ON; the Pir protocol prints PIR=ON', () => {
    expect(heard(SPECS.pir!, 'motion').map(fieldsOf)[0]).toEqual({
      protocol: 'EV1527',
      ID: '2b3c4',
      SWITCH: '01',
      CMD: 'ON',
    });
    const pir = heard(SPECS.pirProto!, 'motion');
    expect(pir.map(fieldsOf)[0]).toEqual({ protocol: 'Pir', ID: 'aa66', PIR: 'ON' });
  });

  it('smoke: SMOKEALERT=ON under the FA20RF (Flamingo) or SmokeAlert protocol name', () => {
    expect(heard(SPECS.smoke!, 'alarm').map(fieldsOf)[0]).toEqual({
      protocol: 'FA20RF',
      ID: '97e3b2',
      SMOKEALERT: 'ON',
    });
    expect(heard(SPECS.smokeAlert!, 'alarm').map(fieldsOf)[0]).toEqual({
      protocol: 'SmokeAlert',
      ID: '123456',
      SMOKEALERT: 'ON',
    });
  });

  it('water and gas: CMD=ON from an EV1527 sensor', () => {
    expect(heard(SPECS.water!, 'alarm').map((p) => `${rflinkDeviceKey(p)}${p.cmd}`)).toEqual(
      Array(3).fill('EV1527:3c4d5:01ON'),
    );
    expect(heard(SPECS.gas!, 'alarm').map((p) => `${rflinkDeviceKey(p)}${p.cmd}`)).toEqual(
      Array(3).fill('EV1527:4d5e6:02ON'),
    );
  });

  it('battery: EV1527 lines never carry BAT; KeeLoq lines carry BAT=OK/LOW; `always` forces it', () => {
    expect(heard(SPECS.button!, 'press', true)[0]?.fields.BAT).toBeUndefined();
    expect(heard(SPECS.keeloq!, 'press')[0]?.fields).toEqual({
      ID: 'e311',
      SWITCH: '0A',
      CMD: 'ON',
      BAT: 'OK',
    });
    expect(heard(SPECS.keeloq!, 'press', true)[0]?.fields.BAT).toBe('LOW');
    expect(heard({ ...SPECS.smoke!, batteryField: 'always' }, 'alarm', true)[0]?.fields).toEqual({
      ID: '97e3b2',
      SMOKEALERT: 'ON',
      BAT: 'LOW',
    });
    expect(rfPacketParts({ ...SPECS.keeloq!, batteryField: 'never' }, 'press', true)).toEqual([
      'Keeloq',
      'ID=e311',
      'SWITCH=0A',
      'CMD=ON',
    ]);
  });

  it('refuses an action the kind does not have, naming what it accepts', () => {
    expect(() => rfPacketParts(SPECS.pir!, 'open', false)).toThrow(RfActionError);
    expect(() => rfPacketParts(SPECS.contact!, 'press', false)).toThrow(/door accepts: open, close/);
  });

  it('setBattery switches BAT=OK/LOW; a dying battery falls to low on the clock and stop() leaves no timer', () => {
    const clock = new ManualClock();
    const tx = new RfTransmitter(SPECS.keeloq!, { clock, batteryLowPercent: 20 });
    expect(tx.packet('press')).toContain('BAT=OK');
    expect(tx.setBattery('low')).toMatchObject({ battery: 'low', batteryPercent: 10, reportsBattery: true });
    expect(tx.packet('press')).toContain('BAT=LOW');
    tx.setBattery('ok');
    // 10 %/min in 10 s ticks: 100 → 20 % takes 8 minutes.
    tx.setDyingBattery(10, 10_000);
    expect(tx.state()).toMatchObject({ dyingBattery: true, battery: 'ok' });
    clock.advance(7 * 60_000);
    expect(tx.state()).toMatchObject({ battery: 'ok', batteryPercent: 30 });
    clock.advance(60_000);
    expect(tx.state()).toMatchObject({ battery: 'low', batteryPercent: 20 });
    expect(tx.packet('press')).toContain('BAT=LOW');
    // It stops at the floor, never below.
    clock.advance(60 * 60_000);
    expect(tx.state().batteryPercent).toBe(1);
    tx.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(tx.state().events).toBe(3);
  });

  it('RflinkEmulator.transmit sends any packet with repeats and keeps press() as before', () => {
    const { clock, rflink, packets } = setup();
    packets();
    expect(rflink.press({ protocol: 'EV1527', id: '0d3e4', switch: '01' })).toBe(3);
    expect(rflink.transmit(['Pir', 'ID=aa66', 'PIR=ON'], 2)).toBe(2);
    clock.advance(1_000);
    expect(packets().map((p) => `${p.counter}:${p.protocol}`)).toEqual([
      '1:EV1527',
      '2:Pir',
      '3:EV1527',
      '4:Pir',
      '5:EV1527',
    ]);
    expect(rflink.state()).toMatchObject({ pressesSent: 1, packetsReceived: 2 });
    rflink.stop();
    expect(rflink.transmit(['Pir', 'ID=aa66', 'PIR=ON'])).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
