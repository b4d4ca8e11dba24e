import { loadConfig } from '../../common/config/load.js';
import { type GatewayConfig, gatewayConfigSchema } from './schema.js';

export const GATEWAY_ENV_PREFIX = 'HOMEBED_GATEWAY';

export function loadGatewayConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  return loadConfig(gatewayConfigSchema, { ...(file ? { file } : {}), env, envPrefix: GATEWAY_ENV_PREFIX });
}
