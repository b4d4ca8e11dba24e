import type { DeviceConfig } from '../../config/schema.js';
import type { Reading } from '../../telemetry/reading.js';
import type { DeviceInputs } from './rflink-devices.js';

/** zigbee2mqtt `action` values that are an explicit emergency call (SOS buttons of Heiman, Tuya, …). */
const SOS_ACTIONS = new Set(['emergency', 'sos', 'panic']);
/** Plain presses; they mean SOS or cancel only on a device with that role. */
const PRESS_ACTIONS = new Set(['single', 'press', 'on', 'click', 'button_1_single']);

const BOOLEAN_PROPERTIES = {
  occupancy: 'occupancy',
  smoke: 'smoke',
  gas: 'gas',
  water_leak: 'water_leak',
  in_bed: 'in_bed',
  fall: 'fall',
  battery_low: 'battery_low',
} as const;
const INTEGER_PROPERTIES = {
  heart_rate: 'heart_rate',
  breath_rate: 'breath_rate',
  linkquality: 'linkquality',
} as const;

/**
 * Device definition for JSON state objects: zigbee2mqtt's device messages
 * and native devices' `state`/`event` messages use the same property names
 * (`occupancy`, `contact`, `smoke`, `battery`, `action`, …), so one mapping
 * serves both. Unknown properties are ignored (zigbee2mqtt adds many);
 * known ones with the wrong type are reported in `invalid`.
 */
export function jsonStateToInputs(
  device: DeviceConfig,
  state: Readonly<Record<string, unknown>>,
  atMs: number,
  raw: string,
): DeviceInputs & { invalid: string[] } {
  const readings: Reading[] = [];
  const events: DeviceInputs['events'] = [];
  const invalid: string[] = [];
  const reading = (metric: Reading['metric'], value: Reading['value']) =>
    readings.push({ deviceId: device.id, metric, value, atMs });

  for (const [property, metric] of Object.entries(BOOLEAN_PROPERTIES)) {
    const value = state[property];
    if (value === undefined || value === null) continue;
    if (typeof value === 'boolean') reading(metric, value);
    else invalid.push(property);
  }
  for (const [property, metric] of Object.entries(INTEGER_PROPERTIES)) {
    const value = state[property];
    if (value === undefined || value === null) continue;
    if (typeof value === 'number' && Number.isFinite(value)) reading(metric, Math.round(value));
    else invalid.push(property);
  }
  if (state.contact !== undefined && state.contact !== null) {
    // zigbee2mqtt: contact=true means closed (magnet present).
    if (typeof state.contact === 'boolean') reading('contact_open', !state.contact);
    else invalid.push('contact');
  }
  if (state.battery !== undefined && state.battery !== null) {
    const b = state.battery;
    if (typeof b === 'number' && b >= 0 && b <= 100) reading('battery', Math.round(b));
    else invalid.push('battery');
  }
  const action = state.action;
  if (typeof action === 'string' && action !== '') {
    const a = action.toLowerCase();
    if (SOS_ACTIONS.has(a)) events.push({ deviceId: device.id, kind: 'sos', atMs, raw });
    else if (a === 'cancel') events.push({ deviceId: device.id, kind: 'cancel', atMs, raw });
    else if (PRESS_ACTIONS.has(a)) events.push({ deviceId: device.id, kind: 'button_press', atMs, raw });
  } else if (action !== undefined && action !== null && action !== '') {
    invalid.push('action');
  }
  return { readings, events, invalid };
}
