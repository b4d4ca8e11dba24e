/**
 * The alarm vocabulary of architecture.md. Extend as needed, never rename:
 * stored alarms and the console depend on these strings.
 */
export const ALARM_TYPES = [
  'sos_button',
  'fall_suspected',
  'fall_confirmed',
  'bed_exit_no_return',
  'prolonged_inactivity',
  'not_up_in_morning',
  'heart_rate_high',
  'heart_rate_low',
  'breath_rate_high',
  'breath_rate_low',
  'door_open_at_night',
  'smoke',
  'gas',
  'water_leak',
  'device_offline',
  'device_battery_low',
  'serial_link_lost',
  'gateway_offline',
  'test_alarm',
] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

/** `critical`: life safety, answer now; `warning`: check soon; `technical`: maintenance. */
export const SEVERITIES = ['critical', 'warning', 'technical', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An alarm's state change as seen at the edge. */
export const ALARM_STATES = ['raised', 'cleared', 'cancelled'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/** What the cloud tells the gateway about an alarm. */
export const ACK_STATUSES = ['stored', 'acknowledged', 'resolved'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];

/**
 * How monitoring staff close an alarm (the centre's outcome codes; shown
 * translated in the console). Every `raised` alarm ends with one of them.
 */
export const RESOLUTION_OUTCOMES = [
  'false_alarm',
  'resident_fine_by_phone',
  'family_visited',
  'staff_visited',
  'ambulance_called',
  'other',
] as const;
export type ResolutionOutcome = (typeof RESOLUTION_OUTCOMES)[number];
