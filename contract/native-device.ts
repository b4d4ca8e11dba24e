import { z } from 'zod';

/**
 * Native JSON devices: devices that speak MQTT themselves (Wi-Fi or 4G
 * pendants, door sensors, …) publish to the gateway's own broker under
 * `homebed/v1/dev/{deviceId}/{kind}`. Documented in docs/devices.md.
 */
export const NATIVE_TOPIC_ROOT = 'homebed/v1/dev';
export const NATIVE_KINDS = ['state', 'event', 'availability'] as const;
export type NativeKind = (typeof NATIVE_KINDS)[number];

export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function nativeDeviceTopic(deviceId: string, kind: NativeKind): string {
  return `${NATIVE_TOPIC_ROOT}/${deviceId}/${kind}`;
}

export function parseNativeDeviceTopic(topic: string): { deviceId: string; kind: NativeKind } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}/${parts[2]}` !== NATIVE_TOPIC_ROOT) return null;
  const [, , , deviceId, kind] = parts;
  if (!deviceId || !DEVICE_ID_PATTERN.test(deviceId)) return null;
  if (!(NATIVE_KINDS as readonly string[]).includes(kind ?? '')) return null;
  return { deviceId, kind: kind as NativeKind };
}

const isoTime = z.iso.datetime({ offset: true });

/**
 * A device's current state: any subset of these properties. Names and
 * meanings follow zigbee2mqtt's so one mapping serves both.
 */
export const nativeStateSchema = z
  .object({
    v: z.literal(1),
    /** When the device measured it; the gateway's receive time when absent. */
    at: isoTime.optional(),
    occupancy: z.boolean().optional(),
    /** true = closed (magnet near), false = open: zigbee2mqtt's convention. */
    contact: z.boolean().optional(),
    smoke: z.boolean().optional(),
    gas: z.boolean().optional(),
    water_leak: z.boolean().optional(),
    battery: z.number().min(0).max(100).optional(),
    battery_low: z.boolean().optional(),
    heart_rate: z.number().int().min(0).max(255).optional(),
    breath_rate: z.number().int().min(0).max(255).optional(),
    in_bed: z.boolean().optional(),
    fall: z.boolean().optional(),
  })
  .strict();
export type NativeState = z.infer<typeof nativeStateSchema>;

/** Something the device did: a button pressed. */
export const nativeEventSchema = z
  .object({
    v: z.literal(1),
    at: isoTime.optional(),
    /** `sos` = emergency call, `cancel` = resident cancels, `press` = a plain button press. */
    action: z.enum(['sos', 'cancel', 'press']),
  })
  .strict();
export type NativeEvent = z.infer<typeof nativeEventSchema>;

export const nativeAvailabilitySchema = z
  .object({ v: z.literal(1), state: z.enum(['online', 'offline']) })
  .strict();
export type NativeAvailability = z.infer<typeof nativeAvailabilitySchema>;
