import { z } from 'zod';
import {
  gatewayIdSchema,
  httpUrlSchema,
  logConfigSchema,
  mqttUrlSchema,
  portSchema,
  timeZoneSchema,
} from '../../common/config/shared-schemas.js';
import { DEVICE_ID_PATTERN } from '../../contract/native-device.js';
import { DEVICE_KIND_NAMES, DEVICE_KINDS, DEVICE_ROLES } from '../devices/device-kinds.js';
import { feedbackConfigIssues, feedbackConfigSchema } from './feedback-schema.js';
import { jobsConfigSchema } from './jobs-schema.js';
import { rulesConfigSchema } from './rules-schema.js';

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

const RFLINK_ADDRESS = /^[A-Za-z0-9]+:[0-9a-fA-F]+:[0-9A-Za-z]*$/;

export const serialPortConfigSchema = z.object({
  id: idSchema.describe('Name of this port, referenced by `devices[].link`.'),
  path: z
    .string()
    .min(1)
    .describe(
      'Device path; prefer stable ones such as /dev/serial/by-id/usb-…. A missing port is retried, never fatal.',
    ),
  protocol: z
    .enum(SERIAL_PROTOCOLS)
    .describe('What speaks on the port: a Seeed 60 GHz radar or an RFLink receiver.'),
  baudRate: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Default by protocol: seeed 115200, rflink 57600.'),
  partialFrameTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(1000)
    .describe('A partial frame older than this is dropped (counted as `timeout`).'),
  reconnectInitialMs: z
    .number()
    .int()
    .positive()
    .default(500)
    .describe('First wait before reopening a port that failed to open or disappeared; doubles each time.'),
  pingIntervalS: z
    .number()
    .int()
    .positive()
    .default(60)
    .describe(
      'RFLink only: how often the receiver is asked `10;PING;` (it is silent when no transmitter sends).',
    ),
  reconnectMaxMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('Longest wait between reopen attempts.'),
});
export type SerialPortConfig = z.output<typeof serialPortConfigSchema>;

export const deviceConfigSchema = z.object({
  id: idSchema.describe('Name of the device in logs, readings and alarms.'),
  kind: z.enum(DEVICE_KIND_NAMES).describe('Device kind; it decides the transport (see docs/devices.md).'),
  role: z.enum(DEVICE_ROLES).describe('What the device is for in this home; the care rules act on roles.'),
  room: z.string().max(64).optional().describe('Where it is, shown to the monitoring staff.'),
  link: idSchema
    .optional()
    .describe(
      'Serial port the device is reached through (radars: their own port; rf_* kinds: the RFLink port).',
    ),
  address: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      'rf_* kinds: `PROTOCOL:id:switch` as RFLink prints it, e.g. `EV1527:0d3e4:01`; zigbee: the zigbee2mqtt friendly name; native: the id it publishes under (default: `id`).',
    ),
  closeAddress: z
    .string()
    .optional()
    .describe(
      'rf_contact only: the second code a two-code contact sends (with `CMD=ON`) when it closes, e.g. `EV1527:1a2b3:0e`; without it, `CMD=OFF` on `address` means closed.',
    ),
  offlineAfterS: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'Silence after which the device is offline; default by kind (radars 90 s, radio and native 25 h).',
    ),
});
export type DeviceConfig = z.output<typeof deviceConfigSchema>;

const positiveMs = () => z.number().int().positive();

export const gatewayConfigSchema = z
  .object({
    gatewayId: gatewayIdSchema.describe("This gateway's id: its MQTT client id and user name at the cloud."),
    bedId: z.string().min(1).max(64).describe('The family elderly-care bed this home is.'),
    timeZone: timeZoneSchema
      .default('Asia/Shanghai')
      .describe("The home's time zone; night windows and daily jobs follow it."),
    dataDir: z
      .string()
      .min(1)
      .default('./var/gateway')
      .describe('Where the SQLite store (alarm outbox, state) lives.'),
    cloud: z
      .object({
        url: mqttUrlSchema
          .default('mqtt://127.0.0.1:1884')
          .describe(
            "The cloud relay's MQTT broker; `mqtts://host:8883` for MQTT over TLS (the relay's certificate is always verified).",
          ),
        caFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            'With `mqtts://`: PEM file of the CA that signed the relay’s certificate (default: the system’s CAs). Read at start.',
          ),
        serverName: z
          .string()
          .min(1)
          .optional()
          .describe(
            'With `mqtts://`: the host name the relay’s certificate must be issued for (also sent as SNI); default the URL’s host.',
          ),
        secret: z
          .string()
          .min(8, 'must be at least 8 characters')
          .describe('The gateway’s secret, issued by `npm run cloud -- gateway add`. Never logged.'),
        keepaliveS: z
          .number()
          .int()
          .min(5)
          .max(600)
          .default(30)
          .describe('MQTT keepalive: the broker declares the gateway gone after 1.5× this without traffic.'),
        connectTimeoutMs: positiveMs().default(10_000).describe('Give up one connection attempt after this.'),
        reconnectPeriodMs: positiveMs()
          .default(2_000)
          .describe(
            'First wait before reconnecting; doubles after each failure up to reconnectMaxMs (±20 % jitter).',
          ),
        reconnectMaxMs: positiveMs().default(60_000).describe('Longest wait between reconnection attempts.'),
        heartbeatIntervalS: z
          .number()
          .int()
          .min(5)
          .max(3600)
          .default(30)
          .describe('How often the gateway tells the cloud it is alive.'),
        retransmitInitialMs: positiveMs()
          .default(3_000)
          .describe(
            'First retransmission of an alarm without a `stored` ack; doubles up to the max (±20 % jitter).',
          ),
        retransmitMaxMs: positiveMs().default(60_000).describe('Cap of the retransmission backoff.'),
      })
      .superRefine((cloud, ctx) => {
        // TLS settings with a plain URL would silently do nothing: the operator meant TLS.
        if (/^(mqtts|ssl|wss):/.test(cloud.url)) return;
        for (const key of ['caFile', 'serverName'] as const) {
          if (cloud[key] !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: 'only used with TLS: make `cloud.url` mqtts://host:port',
            });
          }
        }
      })
      .describe('Connection to the cloud relay.'),
    influx: z
      .object({
        version: z
          .enum(['1', '2'])
          .default('1')
          .describe(
            'InfluxDB generation: 1 (database, `influx` package) or 2 (org/bucket/token, v2 write API; also InfluxDB 3 and VictoriaMetrics).',
          ),
        url: httpUrlSchema.default('http://127.0.0.1:8086').describe('InfluxDB HTTP API.'),
        org: z.string().min(1).optional().describe('Version 2: organisation.'),
        bucket: z.string().min(1).optional().describe('Version 2: bucket (must exist).'),
        token: z
          .string()
          .min(1)
          .optional()
          .describe('Version 2: API token with write access to the bucket. Never logged.'),
        database: z
          .string()
          .min(1)
          .default('homebed')
          .describe('Database the readings go to (created if missing).'),
        username: z.string().optional().describe('InfluxDB user, when authentication is on.'),
        password: z.string().optional().describe('InfluxDB password. Never logged.'),
        batchSize: z.number().int().min(1).max(50_000).default(500).describe('Points per write request.'),
        flushIntervalMs: positiveMs()
          .default(1_000)
          .describe('Longest a reading waits before it is written.'),
        retryMaxMs: positiveMs()
          .default(30_000)
          .describe(
            'Longest wait between write attempts while InfluxDB is failing (doubles from the flush interval); also the longest a recovered InfluxDB waits for its backlog.',
          ),
        maxBufferedPoints: positiveMs()
          .default(10_000)
          .describe('Readings held in memory; beyond this they go to the spool.'),
        maxSpoolPoints: positiveMs()
          .default(1_000_000)
          .describe(
            'Readings kept in the SQLite spool while InfluxDB is unreachable (about 100 B each); the oldest are dropped, counted and reported beyond this.',
          ),
      })
      .prefault({})
      .describe('Where readings are written.'),
    serialPorts: z.array(serialPortConfigSchema).default([]).describe('Serial ports to keep open.'),
    devices: z.array(deviceConfigSchema).default([]).describe('The devices of this home (the registry).'),
    homeAssistant: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Announce the bed’s sensors and alarm state to a Home Assistant (MQTT discovery). Off by default: resident data leaves the gateway for a family’s own system only when they ask for it.',
          ),
        url: mqttUrlSchema
          .optional()
          .describe('Home Assistant’s MQTT broker, e.g. `mqtt://192.168.1.20:1883` (required when enabled).'),
        username: z.string().min(1).optional().describe('User name at that broker.'),
        password: z.string().min(1).optional().describe('Password at that broker. Never logged.'),
        discoveryPrefix: z
          .string()
          .min(1)
          .default('homeassistant')
          .describe('Home Assistant’s discovery prefix (its MQTT integration setting).'),
        stateTopicRoot: z
          .string()
          .min(1)
          .default('homebed')
          .describe('States go to `<root>/<gatewayId>/<device>/<metric>` and `<root>/<gatewayId>/alarm`.'),
        minIntervalS: z
          .number()
          .min(0)
          .default(10)
          .describe(
            'Numbers (heart rate, breath rate, battery) are sent at most this often; on/off states at once.',
          ),
      })
      .prefault({})
      .describe('Home Assistant MQTT discovery (off by default).'),
    localBroker: z
      .object({
        enabled: z
          .boolean()
          .optional()
          .describe('Run the broker; default: only when zigbee or native devices are configured.'),
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe(
            'Interface to listen on: 127.0.0.1 when zigbee2mqtt runs on the gateway, the LAN address for Wi-Fi devices.',
          ),
        port: portSchema.default(1883).describe("MQTT port (zigbee2mqtt's default is 1883)."),
        username: z.string().min(1).optional().describe('Require this user name from every client.'),
        password: z
          .string()
          .min(1)
          .optional()
          .describe('Require this password from every client. Never logged.'),
      })
      .prefault({})
      .describe("The gateway's own MQTT broker for zigbee2mqtt and native devices."),
    ops: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Serve `GET /metrics` (Prometheus) and `GET /status` (JSON for installers and `npm run gateway -- status`); docs/metrics.md.',
          ),
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe(
            'Interface the ops server listens on: keep 127.0.0.1 unless a Prometheus elsewhere scrapes the gateway (then also set `ops.token`).',
          ),
        port: portSchema
          .default(9464)
          .describe(
            'Ops server port (0: any free port). A port in use is logged and retried every 10 s; the gateway runs on without it.',
          ),
        token: z
          .string()
          .min(16, 'must be at least 16 characters')
          .optional()
          .describe('Require `Authorization: Bearer <token>` on every ops request. Never logged.'),
      })
      .prefault({})
      .describe("The gateway's local operations HTTP server."),
    zigbee2mqtt: z
      .object({
        baseTopic: z.string().min(1).default('zigbee2mqtt').describe("zigbee2mqtt's `mqtt.base_topic`."),
      })
      .prefault({})
      .describe('Reading zigbee2mqtt through the local broker.'),
    supervision: z
      .object({
        checkIntervalS: z
          .number()
          .int()
          .positive()
          .default(5)
          .describe('How often reporting times are checked.'),
        healthIntervalS: z
          .number()
          .int()
          .positive()
          .default(60)
          .describe('How often device and link health are written to InfluxDB.'),
        linkLostAfterMs: positiveMs()
          .default(5_000)
          .describe('A serial port closed this long raises `serial_link_lost` (care-rules.md: 5 s).'),
        batteryLowPercent: z
          .number()
          .min(0)
          .max(100)
          .default(20)
          .describe('A reported battery level at or below this is low.'),
        batteryAlarmMinIntervalH: z
          .number()
          .positive()
          .default(24)
          .describe('`device_battery_low` at most once per device in this many hours.'),
      })
      .prefault({})
      .describe('Device and link supervision.'),
    rules: rulesConfigSchema,
    jobs: jobsConfigSchema,
    feedback: feedbackConfigSchema,
    log: logConfigSchema,
  })
  .superRefine((cfg, ctx) => {
    const portIds = new Map<string, (typeof cfg.serialPorts)[number]>();
    cfg.serialPorts.forEach((p, i) => {
      if (portIds.has(p.id))
        ctx.addIssue({ code: 'custom', path: ['serialPorts', i, 'id'], message: 'duplicate id' });
      portIds.set(p.id, p);
    });
    if ((cfg.localBroker.username === undefined) !== (cfg.localBroker.password === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['localBroker', 'password'],
        message: 'set both username and password, or neither',
      });
    }
    for (const i of feedbackConfigIssues(cfg.feedback, cfg.serialPorts))
      ctx.addIssue({ code: 'custom', ...i });
    if (cfg.homeAssistant.enabled && !cfg.homeAssistant.url) {
      ctx.addIssue({ code: 'custom', path: ['homeAssistant', 'url'], message: 'required when enabled' });
    }
    if (cfg.influx.version === '2') {
      for (const key of ['org', 'bucket'] as const) {
        if (!cfg.influx[key])
          ctx.addIssue({ code: 'custom', path: ['influx', key], message: 'required for InfluxDB 2' });
      }
    }
    const deviceIds = new Set<string>();
    const addresses = new Set<string>();
    cfg.devices.forEach((d, i) => {
      const issue = (key: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: ['devices', i, key], message });
      if (deviceIds.has(d.id)) issue('id', 'duplicate id');
      deviceIds.add(d.id);
      const info = DEVICE_KINDS[d.kind];
      if (info.transport === 'serial' || info.transport === 'rflink') {
        const port = d.link ? portIds.get(d.link) : undefined;
        const wanted = info.transport === 'serial' ? info.protocol : 'rflink';
        if (!d.link) issue('link', `a ${d.kind} needs a serial port (link)`);
        else if (!port) issue('link', 'no serial port with this id');
        else if (port.protocol !== wanted)
          issue('link', `a ${d.kind} needs a ${wanted} port, not ${port.protocol}`);
      }
      if (info.transport === 'rflink') {
        if (!d.address) issue('address', 'radio devices need an address');
        else if (!RFLINK_ADDRESS.test(d.address))
          issue('address', 'must look like PROTOCOL:id:switch, e.g. EV1527:0d3e4:01');
      }
      if (d.closeAddress !== undefined) {
        if (d.kind !== 'rf_contact') issue('closeAddress', 'only rf_contact devices have a close address');
        else if (!RFLINK_ADDRESS.test(d.closeAddress)) {
          issue('closeAddress', 'must look like PROTOCOL:id:switch, e.g. EV1527:1a2b3:0e');
        } else {
          const closeKey = `rflink:${d.closeAddress.toLowerCase()}`;
          if (addresses.has(closeKey)) issue('closeAddress', 'duplicate address');
          addresses.add(closeKey);
        }
      }
      if (d.kind === 'zigbee' && !d.address)
        issue('address', 'zigbee devices need their zigbee2mqtt friendly name');
      if (d.kind === 'native' && d.address && !DEVICE_ID_PATTERN.test(d.address)) {
        issue('address', 'must be lower-case letters, digits, "_" or "-"');
      }
      const key = `${info.transport}:${(d.address ?? (info.transport === 'native' ? d.id : '')).toLowerCase()}`;
      if (d.address || info.transport === 'native') {
        if (addresses.has(key)) issue('address', 'duplicate address');
        addresses.add(key);
      }
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
