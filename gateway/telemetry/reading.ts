/**
 * A normalized reading: what a device measured, independent of protocol.
 * Device definitions and supervision produce these; the telemetry sink and
 * the rules consume them. Every metric has one stable InfluxDB field type
 * (docs/telemetry.md); changing a type is a breaking change.
 */
/**
 * InfluxDB metrics of the daily summary (gateway/jobs/daily-summary.ts).
 * The `device` tag is the bed sensor; the time is the end of the summarised period.
 */
export const DAILY_SUMMARY_METRICS = {
  daily_time_in_bed: {
    type: 'integer',
    unit: 'min',
    doc: 'daily summary: time in bed in the 24 h to the summary time',
  },
  daily_observed: {
    type: 'integer',
    unit: 'min',
    doc: 'daily summary: time the in/out-of-bed state was known',
  },
  daily_bed_exits: { type: 'integer', unit: 'count', doc: 'daily summary: bed exits' },
  daily_night_bed_exits: {
    type: 'integer',
    unit: 'count',
    doc: 'daily summary: bed exits in the night window',
  },
  daily_longest_out_of_bed: {
    type: 'integer',
    unit: 'min',
    doc: 'daily summary: longest continuous time out of bed in the night window',
  },
  daily_heart_rate_avg: { type: 'float', unit: 'bpm', doc: 'daily summary: mean heart rate in bed' },
  daily_breath_rate_avg: { type: 'float', unit: 'per_min', doc: 'daily summary: mean breath rate in bed' },
  daily_alarms_total: { type: 'integer', unit: 'count', doc: 'daily summary: alarms raised' },
  daily_alarms: { type: 'integer', unit: 'count', doc: 'daily summary: alarms raised, by `type` tag' },
} as const satisfies Record<
  string,
  { type: 'integer' | 'float' | 'boolean' | 'string'; unit: string | null; doc: string }
>;
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
  ...DAILY_SUMMARY_METRICS,
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
