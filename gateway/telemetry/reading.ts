/**
 * A normalized reading: what a device measured, independent of protocol.
 * Device definitions produce these; the telemetry sink and the rules consume them.
 */
export const METRICS = {
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
  stationary_residency: { type: 'boolean', unit: null, doc: 'someone stays still in place' },
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
}
