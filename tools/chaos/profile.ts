/**
 * How hard the chaos run pushes. `full` is `npm run chaos`; `quick` is the
 * same cases, shorter, inside `npm test`.
 */
export interface ChaosProfile {
  /** Alarms in each alarm burst. */
  alarms: number;
  /** SOS pendants the presses rotate over (presses of one pendant must be distinct moments). */
  pendants: number;
  /** Pause between presses. */
  pressIntervalMs: number;
  /** Kills (or broker restarts) at random moments of each burst. */
  disruptions: number;
  /** Native sensors streaming a counter for the telemetry cases. */
  sensors: number;
  /** Each sensor reports this often. */
  sensorIntervalMs: number;
  /** How long InfluxDB is down in the outage case. */
  outageMs: number;
  /** `influx.maxSpoolPoints` in the spool-bound case. */
  spoolBound: number;
  /** How many times the spool bound the spool-bound case sends. */
  spoolOverfill: number;
  /** Longest wait for everything to arrive after a case's load stops. */
  settleTimeoutMs: number;
}

export const FULL_PROFILE: ChaosProfile = {
  alarms: 300,
  pendants: 10,
  pressIntervalMs: 40,
  disruptions: 3,
  sensors: 20,
  sensorIntervalMs: 50,
  outageMs: 60_000,
  spoolBound: 5_000,
  spoolOverfill: 2,
  settleTimeoutMs: 120_000,
};

export const QUICK_PROFILE: ChaosProfile = {
  alarms: 60,
  pendants: 6,
  pressIntervalMs: 50,
  disruptions: 2,
  sensors: 5,
  sensorIntervalMs: 50,
  outageMs: 8_000,
  spoolBound: 600,
  spoolOverfill: 2,
  settleTimeoutMs: 60_000,
};
