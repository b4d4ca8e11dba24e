import { describe, expect, it } from 'vitest';
import { notificationsConfigSchema } from '../../../../cloud/notifications/config.js';
import { NotificationDispatcher } from '../../../../cloud/notifications/delivery-queue.js';
import { MemoryDeliveryStore } from '../../../../cloud/notifications/memory-delivery-store.js';
import { WebhookChannel } from '../../../../cloud/notifications/webhook-channel.js';
import { ManualClock } from '../../../../common/clock.js';
import { Counters } from '../../../../common/counters.js';
import { silentLogger } from '../../../../common/logger.js';

describe('notifications config', () => {
  it('has defaults for everything', () => {
    expect(notificationsConfigSchema.parse(undefined)).toEqual({
      webhooks: [],
      maxAttempts: 8,
      initialRetryMs: 2_000,
      maxRetryMs: 300_000,
      giveUpAfterMs: 3_600_000,
      concurrency: 4,
    });
  });

  it('takes webhooks with a default timeout', () => {
    const config = notificationsConfigSchema.parse({
      webhooks: [{ id: 'care-system', url: 'https://care.example/hooks/homebed', secret: 'x'.repeat(16) }],
    });
    expect(config.webhooks).toEqual([
      {
        id: 'care-system',
        url: 'https://care.example/hooks/homebed',
        secret: 'x'.repeat(16),
        timeoutMs: 5_000,
      },
    ]);
  });

  it('refuses short secrets, bad URLs, duplicates and a backwards retry range', () => {
    const problems = (input: unknown) => {
      const result = notificationsConfigSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ webhooks: [{ id: 'a', url: 'https://a.example/', secret: 'short' }] })).toEqual([
      'webhooks.0.secret: must be at least 16 characters',
    ]);
    expect(problems({ webhooks: [{ id: 'a', url: 'ftp://a.example/', secret: 'x'.repeat(16) }] })).toEqual([
      'webhooks.0.url: must be an http(s) URL',
    ]);
    const hook = { id: 'a', url: 'https://a.example/h', secret: 'x'.repeat(16) };
    expect(problems({ webhooks: [hook, { ...hook, url: 'https://b.example/h' }] })).toEqual([
      'webhooks.1.id: duplicate webhook id',
    ]);
    expect(problems({ webhooks: [hook, { ...hook, id: 'b' }] })).toEqual([
      'webhooks.1.url: duplicate webhook url',
    ]);
    expect(problems({ initialRetryMs: 10_000, maxRetryMs: 5_000 })).toEqual([
      'initialRetryMs: initialRetryMs must not exceed maxRetryMs',
    ]);
    expect(problems({ maxAttempts: 0 })).toHaveLength(1);
  });

  it('feeds the webhook channel and the dispatcher as it is', async () => {
    const config = notificationsConfigSchema.parse({
      webhooks: [{ id: 'care-system', url: 'https://care.example/hooks/homebed', secret: 'x'.repeat(16) }],
      maxAttempts: 5,
    });
    const clock = new ManualClock();
    const webhook = new WebhookChannel({
      endpoints: config.webhooks,
      clock,
      maxRetryAfterMs: config.maxRetryMs,
    });
    const dispatcher = new NotificationDispatcher({
      ...config,
      store: new MemoryDeliveryStore(),
      channels: { webhook },
      clock,
      logger: silentLogger(),
      counters: new Counters(),
    });
    await dispatcher.start();
    await dispatcher.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
