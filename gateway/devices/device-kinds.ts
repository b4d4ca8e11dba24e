/**
 * The device kinds the gateway supports, as data: how each is reached and
 * how long it may stay silent before it counts as offline (care-rules.md:
 * radars 90 s; radio buttons and contacts 25 h, the supervision tier of
 * European social-alarm transmitters; zigbee follows zigbee2mqtt's
 * availability when it is enabled, else the radio tier).
 */
export type Transport = 'serial' | 'rflink' | 'zigbee2mqtt' | 'native';

export interface DeviceKindInfo {
  transport: Transport;
  /** Serial protocol, for kinds that sit alone on a serial port. */
  protocol?: 'seeed';
  /** Silence after which the device is offline. */
  offlineAfterS: number;
  /**
   * The transport's availability decides while it is known (zigbee2mqtt pings
   * its devices itself); the silence limit applies only when it is not.
   */
  availabilityDecides?: boolean;
  label: string;
}

const RADIO_SUPERVISION_S = 25 * 3600;

export const DEVICE_KINDS = {
  mr60bha1: {
    transport: 'serial',
    protocol: 'seeed',
    offlineAfterS: 90,
    label: 'Seeed MR60BHA1 bed radar (breathing, heartbeat)',
  },
  mr60fda1: { transport: 'serial', protocol: 'seeed', offlineAfterS: 90, label: 'Seeed MR60FDA1 fall radar' },
  rf_button: {
    transport: 'rflink',
    offlineAfterS: RADIO_SUPERVISION_S,
    label: '433 MHz button (EV1527 / PT2262)',
  },
  rf_contact: {
    transport: 'rflink',
    offlineAfterS: RADIO_SUPERVISION_S,
    label: '433 MHz door/window contact',
  },
  rf_pir: { transport: 'rflink', offlineAfterS: RADIO_SUPERVISION_S, label: '433 MHz PIR motion sensor' },
  rf_smoke: { transport: 'rflink', offlineAfterS: RADIO_SUPERVISION_S, label: '433 MHz smoke alarm' },
  rf_gas: { transport: 'rflink', offlineAfterS: RADIO_SUPERVISION_S, label: '433 MHz gas alarm' },
  rf_water: { transport: 'rflink', offlineAfterS: RADIO_SUPERVISION_S, label: '433 MHz water-leak sensor' },
  zigbee: {
    transport: 'zigbee2mqtt',
    offlineAfterS: RADIO_SUPERVISION_S,
    availabilityDecides: true,
    label: 'Zigbee device through zigbee2mqtt',
  },
  native: { transport: 'native', offlineAfterS: RADIO_SUPERVISION_S, label: 'native MQTT JSON device' },
} as const satisfies Record<string, DeviceKindInfo>;

export type DeviceKind = keyof typeof DEVICE_KINDS;
export const DEVICE_KIND_NAMES = Object.keys(DEVICE_KINDS) as [DeviceKind, ...DeviceKind[]];

/** What a device is for in the home; the care rules act on roles, not kinds. */
export const DEVICE_ROLES = [
  'sos_button',
  'cancel_button',
  'fall_radar',
  'bed_radar',
  'front_door',
  'door',
  'pir',
  'smoke',
  'gas',
  'water',
] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

export function kindInfo(kind: DeviceKind): DeviceKindInfo {
  return DEVICE_KINDS[kind];
}
