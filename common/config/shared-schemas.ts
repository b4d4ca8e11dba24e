import { z } from 'zod';
import { GATEWAY_ID_PATTERN } from '../../contract/topics.js';

/** Pieces of configuration both programs use, so they validate the same way. */
export const logConfigSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Lowest level written.'),
    pretty: z
      .boolean()
      .default(false)
      .describe('Human-readable lines instead of JSON (the demo turns this on).'),
  })
  .prefault({})
  .describe('Logging (pino): JSON lines by default.');

export const gatewayIdSchema = z
  .string()
  .regex(
    GATEWAY_ID_PATTERN,
    'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
  );

export const portSchema = z.number().int().min(0).max(65535);

export const timeZoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Shanghai');

export const mqttUrlSchema = z
  .string()
  .refine((u) => /^(mqtts?|wss?|tcp|ssl):\/\/[^/]+/.test(u), 'must be an MQTT URL such as mqtt://host:1884');

export const httpUrlSchema = z.string().refine((u) => /^https?:\/\/[^/]+/.test(u), 'must be an http(s) URL');
