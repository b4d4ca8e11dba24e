import { z } from 'zod';
import { ACK_STATUSES, ALARM_STATES, ALARM_TYPES, SEVERITIES } from './alarm-vocabulary.js';
import { GATEWAY_ID_PATTERN } from './topics.js';

/**
 * Payload schemas of the gateway ↔ cloud contract. Each schema is the one
 * definition of its message: the TypeScript type is inferred from it, and
 * both ends validate with it.
 */
export const CONTRACT_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });
const gatewayId = z.string().regex(GATEWAY_ID_PATTERN, 'must be 1-64 letters, digits, "_", "." or "-"');
/** UUIDv7: globally unique and ordered by creation time. */
const alarmId = z.uuid({ version: 'v7' });

/** One reading that made a rule fire, carried with the alarm. */
export const evidenceSchema = z.object({
  deviceId: z.string().min(1),
  /** What was observed: a metric name (`heart_rate`) or an event (`button_press`). */
  kind: z.string().min(1),
  value: z.union([z.number(), z.string(), z.boolean()]).optional(),
  at: isoTime,
  /** The raw input, for the staff's and the engineers' eyes (an RFLink line, a frame in hex). */
  raw: z.string().max(512).optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const alarmMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  id: alarmId,
  gatewayId,
  bedId: z.string().min(1),
  /** Per-gateway sequence number, strictly increasing, persisted across restarts. */
  seq: z.number().int().positive(),
  type: z.enum(ALARM_TYPES),
  severity: z.enum(SEVERITIES),
  state: z.enum(ALARM_STATES),
  /** When it happened at the edge. */
  at: isoTime,
  deviceId: z.string().min(1).optional(),
  /** For `cleared`/`cancelled`: the id of the `raised` alarm it ends. */
  refersTo: alarmId.optional(),
  evidence: z.array(evidenceSchema).max(50),
  message: z.string().max(500).optional(),
});
export type AlarmMessage = z.infer<typeof alarmMessageSchema>;

export const ackMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  alarmId,
  status: z.enum(ACK_STATUSES),
  at: isoTime,
  /** Who acknowledged or resolved it (a staff member's display name or id). */
  by: z.string().max(200).optional(),
});
export type AckMessage = z.infer<typeof ackMessageSchema>;

export const deviceHealthSchema = z.object({
  id: z.string().min(1),
  kind: z.string().min(1),
  /** ISO time of the last message from the device, absent if never heard. */
  lastSeenAt: isoTime.optional(),
  online: z.boolean(),
  battery: z.number().min(0).max(100).optional(),
  batteryLow: z.boolean().optional(),
  model: z.string().max(64).optional(),
  firmware: z.string().max(64).optional(),
});
export type DeviceHealth = z.infer<typeof deviceHealthSchema>;

/** A transmitter the gateway hears that this home has not configured. */
export const unpairedDeviceSchema = z.object({
  transport: z.string().min(1).max(32),
  address: z.string().min(1).max(128),
  firstSeenAt: isoTime,
  lastSeenAt: isoTime,
  count: z.number().int().positive(),
  detail: z.string().max(200).optional(),
});
export type UnpairedDevice = z.infer<typeof unpairedDeviceSchema>;

export const heartbeatMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  gatewayId,
  at: isoTime,
  uptimeS: z.number().nonnegative(),
  intervalS: z.number().int().positive(),
  /** Alarms committed locally and not yet `stored` by the cloud. */
  outboxDepth: z.number().int().nonnegative(),
  /** Telemetry points waiting to be written to InfluxDB. */
  spoolDepth: z.number().int().nonnegative(),
  /** Readings dropped since the gateway started because the spool was full (oldest first). */
  readingsDropped: z.number().int().nonnegative().default(0),
  devices: z.array(deviceHealthSchema).max(500),
  /** Heard but not configured: shown to the installer, never silently dropped. */
  unpaired: z.array(unpairedDeviceSchema).max(50).default([]),
  /** Serial links by id: `open` or `closed`. */
  links: z.record(z.string(), z.enum(['open', 'closed'])).default({}),
  software: z.string().max(100).optional(),
});
export type HeartbeatMessage = z.infer<typeof heartbeatMessageSchema>;

export const statusMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  state: z.enum(['online', 'offline']),
  /** Absent in the last will, which is fixed when the connection opens. */
  at: isoTime.optional(),
});
export type StatusMessage = z.infer<typeof statusMessageSchema>;

/**
 * Parse a JSON payload against a contract schema. Returns a discriminated
 * result so callers count and log rejects without try/catch.
 */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  payload: Uint8Array | string,
): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, error: 'payload is not JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const first = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return { ok: false, error: first.join('; ') };
}

export function encodePayload<S extends z.ZodType>(schema: S, value: z.input<S>): string {
  // Validate on the way out too: a gateway bug should fail here, loudly, not at the cloud.
  return JSON.stringify(schema.parse(value));
}

/**
 * Commands from the cloud to a gateway (`cmd` topic). A gateway ignores,
 * counts and logs a command it does not understand.
 */
export const commandMessageSchema = z.discriminatedUnion('cmd', [
  z.object({
    v: z.literal(CONTRACT_VERSION),
    cmd: z.literal('set_heartbeat_interval'),
    /** New heartbeat interval; kept by the gateway across restarts. */
    intervalS: z.number().int().min(5).max(3600),
  }),
]);
export type CommandMessage = z.infer<typeof commandMessageSchema>;
