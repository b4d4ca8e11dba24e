import type { AckMessage, AlarmMessage } from '../../contract/index.js';
import type { Reading } from '../telemetry/reading.js';

/**
 * Something a device did (as opposed to a measurement):
 * - `button_press`: a plain press; what it means depends on the device's role;
 * - `sos`: the device itself declares an emergency (zigbee `action: emergency|sos`, native `sos`);
 * - `cancel`: the resident cancels (native `cancel`).
 */
export interface DeviceEvent {
  deviceId: string;
  kind: 'button_press' | 'sos' | 'cancel';
  atMs: number;
  /** The raw input, kept as alarm evidence (an RFLink line, a frame in hex, an MQTT payload). */
  raw: string;
}

/** A device's own statement that it is (un)reachable: zigbee2mqtt or native availability. */
export interface AvailabilityChange {
  deviceId: string;
  online: boolean;
  atMs: number;
}

/** The gateway's internal events, between device ports, rules, supervision, telemetry and uplink. */
export interface GatewayEvents {
  reading: Reading;
  deviceEvent: DeviceEvent;
  availability: AvailabilityChange;
  deviceIdentified: { deviceId: string; model?: string; firmware?: string };
  /** An alarm state change committed to the outbox (raised, cleared or cancelled). */
  alarmCommitted: AlarmMessage;
  /** A status from the cloud about one of our alarms (stored, acknowledged, resolved). */
  alarmAck: AckMessage;
}
