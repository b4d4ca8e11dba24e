import { z } from 'zod';
import { logConfigSchema, portSchema } from '../../common/config/shared-schemas.js';

/**
 * The cloud relay's configuration: one schema with its defaults; loaded
 * from YAML/JSON plus `HOMEBED_CLOUD__…` environment overrides.
 */
export const cloudConfigSchema = z.object({
  /** Where the SQLite database lives. */
  dataDir: z.string().min(1).default('./var/cloud'),
  mqtt: z
    .object({
      /** The embedded aedes broker that gateways connect to. */
      host: z.string().min(1).default('127.0.0.1'),
      port: portSchema.default(1884),
    })
    .prefault({}),
  http: z
    .object({
      host: z.string().min(1).default('127.0.0.1'),
      port: portSchema.default(8080),
    })
    .prefault({}),
  log: logConfigSchema,
});

export type CloudConfig = z.output<typeof cloudConfigSchema>;

export const CLOUD_ENV_PREFIX = 'HOMEBED_CLOUD';
