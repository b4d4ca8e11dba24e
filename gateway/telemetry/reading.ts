/**
 * A normalized reading: what a device measured, independent of protocol.
 * Device definitions and supervision produce these; the telemetry sink and
 * the rules consume them. Every metric has one stable InfluxDB field type
 * (docs/telemetry.md); changing a type is a breaking change.
 */
export const METRICS = {
  // Radars (Seeed 60 GHz)
  presence: { type: 'boolean', unit: null, doc: 'someone is in the radar field' },
  motion: { type: 'string', unit: null, doc: 'none | stationary | active' },
  body_movement: { type: 'integer', unit: null, doc: 'body-movement parameter 0-100' },
  bed_state: { type: 'string', unit: null, doc: 'in_bed | out_of_bed | none' },
  in_bed: { type: 'boolean', unit: null, doc: 'true while the bed radar reports in bed' },
  sleep_state: { type: 'string', unit: null, doc: 'deep | light | awake | none' },
  heart_rate: { type: 'integer', unit: 'bpm', doc: 'heart rate, beats per minute' },
  breath_rate: { type: 'integer', unit: 'per_min', doc: 'breaths per minute' },
  breath_status: { type: 'string', unit: null, doc: 'normal | too_fast | too_slow | none' },
  fall: { type: 'boolean', unit: null, doc: 'the fall radar reports a fall' },
  stationary_residency: { type: 'boolean', unit: null, doc: 'someone stays still in place (after a fall)' },
  distance: { type: 'integer', unit: 'cm', doc: 'distance to the person (MR60BHA1)' },
  // Sensors (RFLink, zigbee2mqtt, native)
  occupancy: { type: 'boolean', unit: null, doc: 'a PIR / occupancy sensor sees movement' },
  contact_open: { type: 'boolean', unit: null, doc: 'a door or window contact is open' },
  smoke: { type: 'boolean', unit: null, doc: 'a smoke detector is in alarm' },
  gas: { type: 'boolean', unit: null, doc: 'a gas detector is in alarm' },
  water_leak: { type: 'boolean', unit: null, doc: 'a water-leak sensor is wet' },
  action: { type: 'string', unit: null, doc: 'a device event: button_press | sos | cancel' },
  // Device health
  battery: { type: 'integer', unit: 'percent', doc: 'battery level 0-100' },
  battery_low: { type: 'boolean', unit: null, doc: 'the device reports a low battery' },
  linkquality: { type: 'integer', unit: null, doc: 'zigbee link quality 0-255' },
  device_online: { type: 'boolean', unit: null, doc: 'supervision: heard within its reporting time' },
  link_open: { type: 'boolean', unit: null, doc: 'a serial port is open (device tag = port id)' },
  frames_dropped: {
    type: 'integer',
    unit: 'count',
    doc: 'frames/lines dropped on a serial port since start, by `reason` tag (device tag = port id)',
  },
} as const satisfies Record<
  string,
  { type: 'integer' | 'float' | 'boolean' | 'string'; unit: string | null; doc: string }
>;

export type MetricName = keyof typeof METRICS;
export type MetricValue = number | boolean | string;

export interface Reading {
  deviceId: string;
  metric: MetricName;
  value: MetricValue;
  /** Measurement time, ms since the epoch (the gateway's clock when the frame arrived). */
  atMs: number;
  /** Extra tags for health series, e.g. `{ reason: 'checksum' }`. */
  tags?: Readonly<Record<string, string>>;
}
