import { z } from 'zod';
import { logConfigSchema, portSchema } from '../../common/config/shared-schemas.js';

/**
 * The cloud relay's configuration: one schema with its defaults (and the
 * descriptions docs/configuration.md is generated from); loaded from
 * YAML/JSON plus `HOMEBED_CLOUD__…` environment overrides.
 */
export const cloudConfigSchema = z.object({
  dataDir: z.string().min(1).default('./var/cloud').describe('Where the SQLite database lives.'),
  mqtt: z
    .object({
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .describe('Interface the gateways’ MQTT broker (aedes) listens on.'),
      port: portSchema.default(1884).describe('MQTT port for gateways (0: any free port).'),
    })
    .prefault({})
    .describe('The embedded MQTT broker that gateways connect to.'),
  http: z
    .object({
      host: z.string().min(1).default('127.0.0.1').describe('Interface the HTTP API and console listen on.'),
      port: portSchema.default(8080).describe('HTTP port (0: any free port).'),
    })
    .prefault({})
    .describe('HTTP API and console.'),
  log: logConfigSchema,
});

export type CloudConfig = z.output<typeof cloudConfigSchema>;

export const CLOUD_ENV_PREFIX = 'HOMEBED_CLOUD';
