import { z } from 'zod';
import {
  gatewayIdSchema,
  httpUrlSchema,
  logConfigSchema,
  mqttUrlSchema,
  timeZoneSchema,
} from '../../common/config/shared-schemas.js';

/**
 * The gateway's configuration: one schema, the defaults in it, the type
 * inferred from it. Loaded from YAML/JSON plus `HOMEBED_GATEWAY__…`
 * environment overrides (see common/config/load.ts).
 */

const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lower-case letters, digits, "_" or "-"');

export const SERIAL_PROTOCOLS = ['seeed', 'rflink'] as const;
/** Baud rates the vendors ship with: Seeed radars 115200, RFLink 57600. */
export const DEFAULT_BAUD_RATE: Record<(typeof SERIAL_PROTOCOLS)[number], number> = {
  seeed: 115200,
  rflink: 57600,
};

export const serialPortConfigSchema = z.object({
  id: idSchema,
  /** Prefer stable paths such as /dev/serial/by-id/usb-…; a missing port is retried, never fatal. */
  path: z.string().min(1),
  protocol: z.enum(SERIAL_PROTOCOLS),
  /** Default by protocol: seeed 115200, rflink 57600. */
  baudRate: z.number().int().positive().optional(),
  /** A partial frame older than this is dropped (counted as `timeout`). */
  partialFrameTimeoutMs: z.number().int().positive().default(1000),
  /** Reconnect backoff after the port fails to open or disappears. */
  reconnectInitialMs: z.number().int().positive().default(500),
  reconnectMaxMs: z.number().int().positive().default(10_000),
});
export type SerialPortConfig = z.output<typeof serialPortConfigSchema>;

export const DEVICE_KINDS = ['mr60bha1', 'mr60fda1', 'ev1527_button', 'pt2262_button'] as const;
export const DEVICE_ROLES = ['sos_button', 'cancel_button', 'bed_radar', 'fall_radar'] as const;

export const deviceConfigSchema = z.object({
  id: idSchema,
  kind: z.enum(DEVICE_KINDS),
  role: z.enum(DEVICE_ROLES),
  room: z.string().max(64).optional(),
  /** Id of the serial port the device is reached through. */
  link: idSchema,
  /** Radio address on an RFLink receiver: `PROTOCOL:id:switch`, e.g. `EV1527:0d3e4:01`. */
  address: z
    .string()
    .regex(
      /^[A-Za-z0-9]+:[0-9a-fA-F]+:[0-9A-Za-z]*$/,
      'must look like PROTOCOL:id:switch, e.g. EV1527:0d3e4:01',
    )
    .optional(),
});
export type DeviceConfig = z.output<typeof deviceConfigSchema>;

export const gatewayConfigSchema = z
  .object({
    gatewayId: gatewayIdSchema,
    bedId: z.string().min(1).max(64),
    /** The home's time zone; night windows and daily jobs follow it. */
    timeZone: timeZoneSchema.default('Asia/Shanghai'),
    /** Where the SQLite store (outbox, state) lives. */
    dataDir: z.string().min(1).default('./var/gateway'),
    cloud: z.object({
      url: mqttUrlSchema.default('mqtt://127.0.0.1:1884'),
      /** The gateway's secret, issued by `npm run cloud -- gateway add`. Never logged. */
      secret: z.string().min(8, 'must be at least 8 characters'),
      /** MQTT keepalive: the broker declares us gone after 1.5× this with no traffic. */
      keepaliveS: z.number().int().min(5).max(600).default(30),
      connectTimeoutMs: z.number().int().positive().default(10_000),
      reconnectPeriodMs: z.number().int().positive().default(2_000),
      heartbeatIntervalS: z.number().int().min(5).max(3600).default(30),
      /** First retransmission of an alarm without a `stored` ack, then doubling up to the max. */
      retransmitInitialMs: z.number().int().positive().default(3_000),
      retransmitMaxMs: z.number().int().positive().default(60_000),
    }),
    influx: z
      .object({
        url: httpUrlSchema.default('http://127.0.0.1:8086'),
        database: z.string().min(1).default('homebed'),
        username: z.string().optional(),
        password: z.string().optional(),
        /** Points per write request. */
        batchSize: z.number().int().min(1).max(50_000).default(500),
        /** Longest a point waits before it is written. */
        flushIntervalMs: z.number().int().positive().default(1_000),
        /** Points kept in memory while InfluxDB is unreachable; oldest dropped (and counted) beyond this. */
        maxBufferedPoints: z.number().int().positive().default(100_000),
      })
      .prefault({}),
    serialPorts: z.array(serialPortConfigSchema).default([]),
    devices: z.array(deviceConfigSchema).default([]),
    rules: z
      .object({
        sos: z
          .object({
            /** Presses of one button closer together than this are one press (care-rules.md). */
            repeatWindowMs: z.number().int().min(0).default(3_000),
          })
          .prefault({}),
      })
      .prefault({}),
    log: logConfigSchema,
  })
  .superRefine((cfg, ctx) => {
    const portIds = new Map<string, (typeof cfg.serialPorts)[number]>();
    cfg.serialPorts.forEach((p, i) => {
      if (portIds.has(p.id))
        ctx.addIssue({ code: 'custom', path: ['serialPorts', i, 'id'], message: 'duplicate id' });
      portIds.set(p.id, p);
    });
    const deviceIds = new Set<string>();
    const addresses = new Set<string>();
    cfg.devices.forEach((d, i) => {
      if (deviceIds.has(d.id))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: 'duplicate id' });
      deviceIds.add(d.id);
      const port = portIds.get(d.link);
      if (!port) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'link'],
          message: 'no serial port with this id',
        });
        return;
      }
      const radio = d.kind === 'ev1527_button' || d.kind === 'pt2262_button';
      if (radio && port.protocol !== 'rflink') {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'link'],
          message: 'radio buttons need an rflink port',
        });
      }
      if (!radio && port.protocol !== 'seeed') {
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'link'], message: 'radars need a seeed port' });
      }
      if (radio && !d.address) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'address'],
          message: 'radio devices need an address',
        });
      }
      if (d.address) {
        const key = d.address.toLowerCase();
        if (addresses.has(key))
          ctx.addIssue({ code: 'custom', path: ['devices', i, 'address'], message: 'duplicate address' });
        addresses.add(key);
      }
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
