import { z } from 'zod';
import { type LoadConfigOptions, loadConfig } from '../common/config/load.js';
import { logConfigSchema, mqttUrlSchema } from '../common/config/shared-schemas.js';
import { DEVICE_ID_PATTERN } from '../contract/native-device.js';
import {
  DEFAULT_MR60BHA1_VITALS,
  MR60BHA1_DEFAULT_FIRMWARE,
  MR60BHA1_DEFAULT_MODEL,
} from './devices/mr60bha1.js';
import {
  MR60FDA1_DEFAULT_FIRMWARE,
  MR60FDA1_DEFAULT_MODEL,
  MR60FDA1_DEFAULT_RESIDENCY_DELAY_MS,
} from './devices/mr60fda1.js';
import { nativeStatePatchSchema } from './devices/native-device.js';
import { RF_PIR_PROTOCOLS, RF_SMOKE_PROTOCOLS, RF_SWITCH_PROTOCOLS } from './devices/rf-transmitter.js';
import { DEFAULT_ZIGBEE_MODEL, hasBattery, ZIGBEE_KINDS, ZIGBEE_MODELS } from './devices/zigbee-models.js';

/** Environment override prefix: `HOMEBED_SIM__CONTROL__PORT=7391`. */
export const SIM_ENV_PREFIX = 'HOMEBED_SIM';

const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, `-` or `_` (it is used in URLs)');

// socat splits its addresses on these characters, so a PTY path must not contain them.
const ptyPathSchema = z
  .string()
  .min(1)
  .regex(/^[^,!\\'"\s]+$/, 'must not contain `,`, `!`, quotes, backslashes or spaces (socat address syntax)');

// RFLink fields are `;`-separated ASCII: letters and digits only keep a line parseable.
const rflinkFieldSchema = z.string().regex(/^[A-Za-z0-9]+$/, 'must be letters and digits only');

/** A fault rate: `true` = the default rate (`faults.*Rate`), `false` = off, or a share 0–1. */
const rateSchema = z.union([z.boolean(), z.number().min(0).max(1)]);

/** A draining battery: `true` = `faults.dyingBatteryPercentPerMin`, `false` = off, or percent per minute. */
const dyingBatterySchema = z
  .union([z.boolean(), z.number().positive().max(100)])
  .default(false)
  .describe(
    'Battery runs down from the start (`true`: at faults.dyingBatteryPercentPerMin, or a number in %/min).',
  );

const serialFaultsSchema = z
  .object({
    noise: rateSchema
      .default(false)
      .describe('Probability of a garbage burst before each frame/line (`true`: faults.noiseRate).'),
    badChecksums: rateSchema
      .default(false)
      .describe('Share of Seeed frames sent with a wrong checksum (`true`: faults.badChecksumRate).'),
    truncated: rateSchema
      .default(false)
      .describe('Share of frames/lines cut short (`true`: faults.truncatedRate).'),
    silent: z.boolean().default(false).describe('The device transmits nothing (the PTY stays).'),
  })
  .prefault({})
  .describe('Faults active from the start; change them while running with `POST /faults/:id`.');

const radarVitalsSchema = z.object({
  /** Resting heart rate the reports vary around. */
  heartRateBpm: z.number().int().min(0).max(255).default(DEFAULT_MR60BHA1_VITALS.heartRateBpm),
  /** Breathing rate the reports vary around. */
  breathRatePerMin: z.number().int().min(0).max(255).default(DEFAULT_MR60BHA1_VITALS.breathRatePerMin),
  /** Lying in bed when the simulator starts. */
  inBed: z.boolean().default(DEFAULT_MR60BHA1_VITALS.inBed),
  /** Reported heart rates stay within baseline ± this. */
  heartRateVariationBpm: z.number().min(0).max(50).default(DEFAULT_MR60BHA1_VITALS.heartRateVariationBpm),
  /** Reported breath rates stay within baseline ± this. */
  breathRateVariationPerMin: z
    .number()
    .min(0)
    .max(20)
    .default(DEFAULT_MR60BHA1_VITALS.breathRateVariationPerMin),
});

const radarDeviceSchema = z.object({
  id: idSchema,
  kind: z.literal('mr60bha1'),
  /** Symlink the emulator opens (relative to the cwd). */
  devicePath: ptyPathSchema,
  /** Symlink the gateway opens (relative to the cwd). */
  hostPath: ptyPathSchema,
  baudRate: z.number().int().positive().default(115200),
  /** Reply to the product-model query. */
  model: z.string().min(1).max(64).default(MR60BHA1_DEFAULT_MODEL),
  /** Reply to the firmware-version query. */
  firmware: z.string().min(1).max(64).default(MR60BHA1_DEFAULT_FIRMWARE),
  /** Time without vital signs after someone lies down (vendor: 20 s); 0 for demos that cannot wait. */
  observationSetupMs: z.number().int().min(0).max(600_000).default(20_000),
  vitals: radarVitalsSchema.prefault({}),
  faults: serialFaultsSchema,
});

const fallRadarDeviceSchema = z.object({
  id: idSchema,
  kind: z.literal('mr60fda1'),
  devicePath: ptyPathSchema.describe('Symlink the emulator opens (relative to the cwd).'),
  hostPath: ptyPathSchema.describe('Symlink the gateway opens (relative to the cwd).'),
  baudRate: z.number().int().positive().default(115200),
  model: z
    .string()
    .min(1)
    .max(64)
    .default(MR60FDA1_DEFAULT_MODEL)
    .describe('Reply to the product-model query.'),
  firmware: z
    .string()
    .min(1)
    .max(64)
    .default(MR60FDA1_DEFAULT_FIRMWARE)
    .describe('Reply to the firmware-version query.'),
  residencyDelayMs: z
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(MR60FDA1_DEFAULT_RESIDENCY_DELAY_MS)
    .describe(
      'Stillness after a fall before stationary residency (83 05) is reported (module setting 83 0A).',
    ),
  present: z.boolean().default(true).describe('Someone in the room (moving) when the simulator starts.'),
  faults: serialFaultsSchema,
});

const transmitterCommon = {
  /** Name used by `POST /rf/:name` and `npm run sim -- rf <name> <action>`. */
  name: idSchema.describe('Name in the control API (`POST /rf/:name`, `POST /press/:name` for buttons).'),
  id: rflinkFieldSchema.describe('Address as RFLink prints it (hex for EV1527, e.g. `0d3e4`).'),
  switch: rflinkFieldSchema.optional().describe('`SWITCH=` value (data code) for ID/SWITCH/CMD protocols.'),
  repeats: z.number().int().min(1).max(20).default(3).describe('Identical lines per event.'),
  batteryLow: z.boolean().default(false).describe('Battery low at start.'),
  batteryField: z
    .enum(['auto', 'always', 'never'])
    .default('auto')
    .describe('`BAT=` in its lines: `auto` = only for protocols RFLink prints it for (Keeloq).'),
  dyingBattery: dyingBatterySchema,
};

const switchProtocol = z.enum(RF_SWITCH_PROTOCOLS);

function needsSwitch(value: { protocol: string; switch?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((RF_SWITCH_PROTOCOLS as readonly string[]).includes(value.protocol) && value.switch === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['switch'],
      message: `a ${value.protocol} transmitter needs a switch`,
    });
  }
}

const buttonShape = {
  ...transmitterCommon,
  protocol: switchProtocol.default('EV1527'),
  cmd: z.enum(['ON', 'OFF']).default('ON').describe('`CMD=` of a press (panic buttons send ON).'),
};

const rfTransmitterSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('button'), ...buttonShape }).superRefine(needsSwitch),
  z
    .object({
      kind: z.literal('contact'),
      ...transmitterCommon,
      protocol: switchProtocol.default('EV1527'),
      closeSwitch: rflinkFieldSchema
        .optional()
        .describe(
          'Data code sent (with CMD=ON) on closing, as two-code EV1527 contacts do; unset = CMD=OFF.',
        ),
      sendsClose: z
        .boolean()
        .default(true)
        .describe('false: a single-code contact that sends nothing on closing.'),
    })
    .superRefine(needsSwitch),
  z
    .object({
      kind: z.literal('pir'),
      ...transmitterCommon,
      protocol: z.enum([...RF_SWITCH_PROTOCOLS, ...RF_PIR_PROTOCOLS]).default('EV1527'),
    })
    .superRefine(needsSwitch),
  z
    .object({
      kind: z.literal('smoke'),
      ...transmitterCommon,
      protocol: z.enum([...RF_SMOKE_PROTOCOLS, ...RF_SWITCH_PROTOCOLS]).default('FA20RF'),
    })
    .superRefine(needsSwitch),
  z
    .object({ kind: z.literal('water'), ...transmitterCommon, protocol: switchProtocol.default('EV1527') })
    .superRefine(needsSwitch),
  z
    .object({ kind: z.literal('gas'), ...transmitterCommon, protocol: switchProtocol.default('EV1527') })
    .superRefine(needsSwitch),
]);

/** The transmitter an RFLink device has when none is configured: the demo's EV1527 SOS button. */
const DEFAULT_TRANSMITTERS = [
  rfTransmitterSchema.parse({ kind: 'button', name: 'sos', id: '0d3e4', switch: '01' }),
];

const rflinkDeviceSchema = z
  .object({
    id: idSchema,
    kind: z.literal('rflink'),
    devicePath: ptyPathSchema,
    hostPath: ptyPathSchema,
    baudRate: z.number().int().positive().default(57600),
    /** Gap between the repeated lines of one press. */
    repeatGapMs: z.number().int().min(1).max(1000).default(50),
    transmitters: z
      .array(rfTransmitterSchema)
      .optional()
      .describe(
        '433 MHz transmitters heard by this receiver; default an EV1527 SOS button `sos` (0d3e4, 01).',
      ),
    buttons: z
      .array(z.object({ ...buttonShape, switch: rflinkFieldSchema }))
      .optional()
      .describe('Older form of `transmitters` with kind `button`; both may be given.'),
    faults: serialFaultsSchema,
  })
  .transform(({ buttons, transmitters, ...rest }) => ({
    ...rest,
    transmitters: [
      ...(buttons ?? []).map((b) => ({ kind: 'button' as const, ...b })),
      ...(transmitters ?? (buttons ? [] : DEFAULT_TRANSMITTERS)),
    ],
  }));

const deviceSchema = z.discriminatedUnion('kind', [
  radarDeviceSchema,
  fallRadarDeviceSchema,
  rflinkDeviceSchema,
]);

const zigbeeDeviceSchema = z
  .object({
    friendlyName: idSchema.describe('zigbee2mqtt friendly name (the topic is `<baseTopic>/<friendlyName>`).'),
    kind: z.enum(ZIGBEE_KINDS),
    model: z
      .string()
      .optional()
      .describe(`Model of that kind; default by kind: ${Object.values(DEFAULT_ZIGBEE_MODEL).join(', ')}.`),
    ieeeAddress: z
      .string()
      .regex(/^0x[0-9a-f]{16}$/, 'must be 0x and 16 lower-case hex digits')
      .optional()
      .describe("Default: the vendor's prefix and a hash of the friendly name."),
    availability: z
      .enum(['json', 'legacy'])
      .default('json')
      .describe('Availability payload: `{"state":"online"}` or the legacy bare `online`.'),
    battery: z.number().min(0).max(100).default(100).describe('Battery level at start (battery models).'),
    linkquality: z
      .number()
      .int()
      .min(0)
      .max(255)
      .default(120)
      .describe('Link quality the reports vary around.'),
    sosAction: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .describe("`action` of an SOS press; default the model's (`emergency`), e.g. `sos` for other models."),
    occupancyTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(90_000)
      .describe(
        "Motion sensors: occupancy clears this long after the last motion (zigbee2mqtt's occupancy_timeout).",
      ),
    checkinIntervalMs: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Re-send the state this often, like periodic reports; 0 = never.'),
    dyingBattery: dyingBatterySchema,
  })
  .superRefine((d, ctx) => {
    const name = d.model ?? DEFAULT_ZIGBEE_MODEL[d.kind];
    const model = ZIGBEE_MODELS[name];
    if (!model || model.kind !== d.kind) {
      const known = Object.values(ZIGBEE_MODELS)
        .filter((m) => m.kind === d.kind)
        .map((m) => m.model);
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: `not a ${d.kind} model; known: ${known.join(', ')}`,
      });
    } else if (d.dyingBattery !== false && !hasBattery(model)) {
      ctx.addIssue({ code: 'custom', path: ['dyingBattery'], message: `${model.model} is mains-powered` });
    }
  });

const nativeDeviceSchema = z.object({
  id: z
    .string()
    .regex(DEVICE_ID_PATTERN, 'must be lower-case letters, digits, `_` or `-` (contract DEVICE_ID_PATTERN)'),
  state: nativeStatePatchSchema
    .default({})
    .describe('State at start (contract state properties, without v/at).'),
  stateIntervalMs: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Re-send the state this often (the device's heartbeat); 0 = never."),
  sequenceIn: z
    .enum(['heart_rate', 'breath_rate'])
    .optional()
    .describe(
      'Test instrument: each state report (on connection and periodic) carries the next value of a counter (0–255, wrapping) in this property, so a test reading the database can find any gap.',
    ),
  dyingBattery: dyingBatterySchema,
});

/**
 * The simulator's configuration: one schema that is also the type. Defaults
 * live here and nowhere else. Load with {@link loadSimConfig}.
 */
export const simConfigSchema = z
  .object({
    /** The HTTP control API (`POST /press/:button`, …). Port 0 picks a free port. */
    control: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7390),
      })
      .prefault({}),
    /** Emulated serial devices, each on its own PTY pair. */
    devices: z.array(deviceSchema).default([]),
    /** Seed of the PRNG behind vitals, link quality and faults (each device gets its own stream). */
    seed: z.number().int().default(1),
    mqtt: z
      .object({
        url: mqttUrlSchema
          .optional()
          .describe(
            "The gateway's broker, e.g. mqtt://127.0.0.1:1883; unset = no zigbee2mqtt or native emulators.",
          ),
        username: z.string().min(1).optional().describe('User name, when the broker requires one.'),
        password: z
          .string()
          .min(1)
          .optional()
          .describe('Password, when the broker requires one. Never logged.'),
        reconnectPeriodMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(1_000)
          .describe('Pause between connection attempts while the broker is down.'),
        clientIdPrefix: z
          .string()
          .min(1)
          .max(64)
          .default('homebed-sim')
          .describe('Prefix of MQTT client ids.'),
      })
      .prefault({})
      .describe('Where the zigbee2mqtt and native-device emulators publish.'),
    zigbee2mqtt: z
      .object({
        baseTopic: z
          .string()
          .min(1)
          .regex(/^[^#+]+$/, 'must not contain MQTT wildcards')
          .default('zigbee2mqtt')
          .describe("zigbee2mqtt's `mqtt.base_topic`."),
        bridgeState: z
          .enum(['json', 'legacy'])
          .default('json')
          .describe('`bridge/state` payload: `{"state":"online"}` or the legacy bare `online`.'),
        coordinatorIeee: z
          .string()
          .regex(/^0x[0-9a-f]{16}$/, 'must be 0x and 16 lower-case hex digits')
          .default('0x00124b0024c8f3a1'),
        devices: z
          .array(zigbeeDeviceSchema)
          .default([])
          .describe('Paired devices; none = emulator not started.'),
      })
      .prefault({})
      .describe('The zigbee2mqtt emulator (needs mqtt.url).'),
    native: z
      .object({
        devices: z
          .array(nativeDeviceSchema)
          .default([])
          .describe('Devices speaking the native JSON contract.'),
      })
      .prefault({})
      .describe('Native JSON device emulators (need mqtt.url).'),
    faults: z
      .object({
        noiseRate: z.number().min(0).max(1).default(0.2).describe('Noise rate of `noise: true`.'),
        badChecksumRate: z.number().min(0).max(1).default(0.2).describe('Rate of `badChecksums: true`.'),
        truncatedRate: z.number().min(0).max(1).default(0.2).describe('Rate of `truncated: true`.'),
        noiseMaxBytes: z.number().int().min(1).max(64).default(8).describe('Longest noise burst.'),
        dyingBatteryPercentPerMin: z
          .number()
          .positive()
          .max(100)
          .default(10)
          .describe('Drain of `dyingBattery: true`, percent per minute.'),
        batteryTickMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(10_000)
          .describe('How often a draining battery drops.'),
        batteryLowPercent: z
          .number()
          .min(1)
          .max(99)
          .default(20)
          .describe('Battery low at or below this level.'),
      })
      .prefault({})
      .describe('Fault injection settings (faults themselves are per device).'),
    log: logConfigSchema,
  })
  .superRefine((config, ctx) => {
    const ids = new Map<string, number>();
    const paths = new Map<string, string>();
    // The fault API (`POST /faults/:id`) addresses serial devices, transmitters, zigbee and native devices
    // by one name, so the names must not collide across them.
    const names = new Map<string, string>();
    const claim = (name: string, where: string, path: (string | number)[]): void => {
      const other = names.get(name);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `name already used by ${other}` });
      } else {
        names.set(name, where);
      }
    };
    config.devices.forEach((device, i) => {
      const seen = ids.get(device.id);
      if (seen !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'id'],
          message: `duplicate id (also devices.${seen})`,
        });
      } else {
        claim(device.id, `devices.${i}`, ['devices', i, 'id']);
      }
      ids.set(device.id, i);
      for (const key of ['devicePath', 'hostPath'] as const) {
        const other = paths.get(device[key]);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['devices', i, key],
            message: `path already used by ${other}`,
          });
        }
        paths.set(device[key], `devices.${i}.${key}`);
      }
      if (device.kind === 'rflink') {
        device.transmitters.forEach((tx, j) => {
          claim(tx.name, `devices.${i}.transmitters.${j}`, ['devices', i, 'transmitters', j, 'name']);
        });
      }
    });
    config.zigbee2mqtt.devices.forEach((d, i) => {
      claim(d.friendlyName, `zigbee2mqtt.devices.${i}`, ['zigbee2mqtt', 'devices', i, 'friendlyName']);
    });
    config.native.devices.forEach((d, i) => {
      claim(d.id, `native.devices.${i}`, ['native', 'devices', i, 'id']);
    });
  });

export type SimConfig = z.output<typeof simConfigSchema>;
export type SimDeviceConfig = SimConfig['devices'][number];
export type RadarDeviceConfig = Extract<SimDeviceConfig, { kind: 'mr60bha1' }>;
export type FallRadarDeviceConfig = Extract<SimDeviceConfig, { kind: 'mr60fda1' }>;
export type RflinkDeviceConfig = Extract<SimDeviceConfig, { kind: 'rflink' }>;
export type RfTransmitterConfig = RflinkDeviceConfig['transmitters'][number];
/** @deprecated Transmitters of kind `button`; kept for callers of the older name. */
export type RflinkButtonConfig = Extract<RfTransmitterConfig, { kind: 'button' }>;
export type SerialFaultsConfig = RadarDeviceConfig['faults'];
export type ZigbeeDeviceConfig = SimConfig['zigbee2mqtt']['devices'][number];
export type NativeDeviceConfig = SimConfig['native']['devices'][number];
export type FaultSettings = SimConfig['faults'];

/** Load, merge (`HOMEBED_SIM__…` environment overrides) and validate; throws `ConfigError` listing every problem. */
export function loadSimConfig(options: Omit<LoadConfigOptions, 'envPrefix'> = {}): SimConfig {
  return loadConfig(simConfigSchema, { ...options, envPrefix: SIM_ENV_PREFIX });
}

/** `http://host:port` of the control API (IPv6 hosts bracketed). */
export function controlUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
