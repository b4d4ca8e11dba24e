import type { Reading } from '../telemetry/reading.js';

/** Something a device did (as opposed to a measurement): a button press. */
export interface DeviceEvent {
  deviceId: string;
  kind: 'button_press';
  atMs: number;
  /** The raw input, kept as alarm evidence (an RFLink line, a frame in hex). */
  raw: string;
}

/** The gateway's internal events, between device ports, rules, telemetry and uplink. */
export interface GatewayEvents {
  reading: Reading;
  deviceEvent: DeviceEvent;
  deviceIdentified: { deviceId: string; model?: string; firmware?: string };
}
