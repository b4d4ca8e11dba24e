import { z } from 'zod';
import { httpUrlSchema } from '../../common/config/shared-schemas.js';

/**
 * Configuration of the notification channels and of the delivery retries (docs/notifications.md).
 * Meant to be mounted into the cloud config as `notifications`.
 */

export const webhookEndpointSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
    .describe('Name of the receiver, used in logs and attempt details.'),
  url: httpUrlSchema.describe(
    'Where notifications are POSTed (https in production). A webhook recipient’s address must be this URL.',
  ),
  secret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe('HMAC-SHA256 key of the `x-homebed-signature` header; shared with the receiver. Never logged.'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5_000)
    .describe('An attempt without an answer in this time is retried.'),
});

export type WebhookEndpointConfig = z.output<typeof webhookEndpointSchema>;

export const notificationsConfigSchema = z
  .object({
    webhooks: z
      .array(webhookEndpointSchema)
      .default([])
      .superRefine((hooks, ctx) => {
        const ids = new Set<string>();
        const urls = new Set<string>();
        for (const [i, hook] of hooks.entries()) {
          if (ids.has(hook.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'duplicate webhook id' });
          ids.add(hook.id);
          let url = hook.url;
          try {
            url = new URL(hook.url).href;
          } catch {
            // httpUrlSchema reports it
          }
          if (urls.has(url)) {
            ctx.addIssue({ code: 'custom', path: [i, 'url'], message: 'duplicate webhook url' });
          }
          urls.add(url);
        }
      })
      .describe('Webhook receivers (care systems, chat bridges, …).'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(8)
      .describe('Attempts per notification before it is marked failed.'),
    initialRetryMs: z
      .number()
      .int()
      .min(100)
      .default(2_000)
      .describe(
        'Wait before the second attempt; doubles after each failure up to maxRetryMs (±20 % jitter).',
      ),
    maxRetryMs: z
      .number()
      .int()
      .min(1_000)
      .default(300_000)
      .describe('Longest wait between attempts; also caps a receiver’s Retry-After.'),
    giveUpAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(3_600_000)
      .describe(
        'No attempt is scheduled later than this after the first one: the notification is marked failed instead.',
      ),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Deliveries in flight at once.'),
  })
  .refine((c) => c.initialRetryMs <= c.maxRetryMs, {
    message: 'initialRetryMs must not exceed maxRetryMs',
    path: ['initialRetryMs'],
  })
  .prefault({})
  .describe('Notifying people (staff, supervisors, family) about alarms: channels and retries.');

export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
