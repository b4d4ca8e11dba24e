import { z } from 'zod';
import { type LoadConfigOptions, loadConfig } from '../common/config/load.js';
import { logConfigSchema } from '../common/config/shared-schemas.js';
import {
  DEFAULT_MR60BHA1_VITALS,
  MR60BHA1_DEFAULT_FIRMWARE,
  MR60BHA1_DEFAULT_MODEL,
} from './devices/mr60bha1.js';

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
});

const rflinkButtonSchema = z.object({
  /** Name used by `POST /press/:name` and `npm run sim -- press <name>`. */
  name: idSchema,
  protocol: z.enum(['EV1527', 'PT2262']),
  id: rflinkFieldSchema,
  switch: rflinkFieldSchema,
  cmd: z.enum(['ON', 'OFF']).default('ON'),
  /** Identical lines per press. */
  repeats: z.number().int().min(1).max(20).default(3),
});

const rflinkDeviceSchema = z.object({
  id: idSchema,
  kind: z.literal('rflink'),
  devicePath: ptyPathSchema,
  hostPath: ptyPathSchema,
  baudRate: z.number().int().positive().default(57600),
  /** Gap between the repeated lines of one press. */
  repeatGapMs: z.number().int().min(1).max(1000).default(50),
  buttons: z
    .array(rflinkButtonSchema)
    .default([{ name: 'sos', protocol: 'EV1527', id: '0d3e4', switch: '01', cmd: 'ON', repeats: 3 }]),
});

const deviceSchema = z.discriminatedUnion('kind', [radarDeviceSchema, rflinkDeviceSchema]);

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
    /** Emulated devices, each on its own PTY pair. */
    devices: z.array(deviceSchema).default([]),
    /** Seed of the PRNG behind the variation of vitals (each radar gets its own stream). */
    seed: z.number().int().default(1),
    log: logConfigSchema,
  })
  .superRefine((config, ctx) => {
    const ids = new Map<string, number>();
    const paths = new Map<string, string>();
    const buttons = new Map<string, string>();
    config.devices.forEach((device, i) => {
      const seen = ids.get(device.id);
      if (seen !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'id'],
          message: `duplicate id (also devices.${seen})`,
        });
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
        device.buttons.forEach((button, j) => {
          const other = buttons.get(button.name);
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['devices', i, 'buttons', j, 'name'],
              message: `button name already used by ${other}`,
            });
          }
          buttons.set(button.name, `devices.${i}.buttons.${j}`);
        });
      }
    });
  });

export type SimConfig = z.output<typeof simConfigSchema>;
export type SimDeviceConfig = SimConfig['devices'][number];
export type RadarDeviceConfig = Extract<SimDeviceConfig, { kind: 'mr60bha1' }>;
export type RflinkDeviceConfig = Extract<SimDeviceConfig, { kind: 'rflink' }>;
export type RflinkButtonConfig = RflinkDeviceConfig['buttons'][number];

/** Load, merge (`HOMEBED_SIM__…` environment overrides) and validate; throws `ConfigError` listing every problem. */
export function loadSimConfig(options: Omit<LoadConfigOptions, 'envPrefix'> = {}): SimConfig {
  return loadConfig(simConfigSchema, { ...options, envPrefix: SIM_ENV_PREFIX });
}

/** `http://host:port` of the control API (IPv6 hosts bracketed). */
export function controlUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
