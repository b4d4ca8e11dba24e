import type { DeviceConfig } from '../../config/schema.js';
import type { Reading } from '../../telemetry/reading.js';
import type { DeviceEvent } from '../device-event.js';
import type { AddressChannel } from '../device-registry.js';
import type { RflinkMessage } from '../protocols/rflink/index.js';

type Packet = Extract<RflinkMessage, { kind: 'packet' }>;

export interface DeviceInputs {
  readings: Reading[];
  events: DeviceEvent[];
}

/**
 * Device definition for 433 MHz transmitters received by RFLink: one
 * decoded packet of a configured device → readings and events, by kind.
 * Cheap EV1527/PT2262 sensors say everything with `CMD=ON|OFF`; some
 * protocols add `PIR=ON`, `SMOKEALERT=ON` or `BAT=LOW|OK`.
 */
export function rflinkPacketToInputs(
  device: DeviceConfig,
  packet: Packet,
  atMs: number,
  raw: string,
  channel: AddressChannel = 'main',
): DeviceInputs {
  const readings: Reading[] = [];
  const events: DeviceEvent[] = [];
  const reading = (metric: Reading['metric'], value: Reading['value']) =>
    readings.push({ deviceId: device.id, metric, value, atMs });
  const cmd = packet.cmd?.toUpperCase();
  const on = cmd === 'ON' || cmd === 'ALLON';
  const off = cmd === 'OFF' || cmd === 'ALLOFF';
  const field = (name: string) => packet.fields[name]?.toUpperCase();

  switch (device.kind) {
    case 'rf_button':
      // A press is `CMD=ON` (or no command at all, as some cheap buttons send); `OFF` is a release.
      if (on || cmd === undefined) events.push({ deviceId: device.id, kind: 'button_press', atMs, raw });
      break;
    case 'rf_contact':
      // Two-code contacts send `CMD=ON` on a second code when they close (EV1527 never prints OFF);
      // one-code contacts (ARC/KAKU style) send ON when the magnet leaves and OFF when it returns.
      if (channel === 'close') {
        if (on || cmd === undefined) reading('contact_open', false);
      } else if (on || off) {
        reading('contact_open', on);
      }
      break;
    case 'rf_pir':
      if (on || field('PIR') === 'ON' || cmd === undefined) reading('occupancy', true);
      else if (off || field('PIR') === 'OFF') reading('occupancy', false);
      break;
    case 'rf_smoke':
      if (field('SMOKEALERT') === 'ON' || on) reading('smoke', true);
      else if (field('SMOKEALERT') === 'OFF' || off) reading('smoke', false);
      break;
    case 'rf_gas':
      if (on || cmd === undefined) reading('gas', true);
      else if (off) reading('gas', false);
      break;
    case 'rf_water':
      if (on || cmd === undefined) reading('water_leak', true);
      else if (off) reading('water_leak', false);
      break;
    default:
      break;
  }
  const battery = field('BAT');
  if (battery === 'LOW' || battery === 'OK') reading('battery_low', battery === 'LOW');
  return { readings, events };
}
