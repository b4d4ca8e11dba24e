import { describe, expect, it } from 'vitest';
import { z } from 'zod';
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
      policy: {
        tiers: { first_tier: [], second_tier: [], supervisor: [] },
        onRaised: { severities: ['critical'], tier: 'first_tier' },
        family: { severities: ['critical'], channel: 'sms', alsoVoiceFor: ['sos_button', 'fall_confirmed'] },
        onResolved: { family: true, tiers: true },
        timeZone: 'Asia/Shanghai',
      },
    });
  });

  it('takes tier recipients: webhooks must be configured endpoints, phones E.164', () => {
    const hook = { id: 'care-system', url: 'https://care.example/hooks/homebed', secret: 'x'.repeat(16) };
    const config = notificationsConfigSchema.parse({
      webhooks: [hook],
      policy: {
        tiers: {
          first_tier: [
            { name: 'Care system', channel: 'webhook', address: 'https://CARE.example/hooks/homebed' },
          ],
          supervisor: [{ name: 'Supervisor Wang', channel: 'voice', address: '+8613800138000' }],
        },
        family: { alsoVoiceFor: [] },
      },
    });
    expect(config.policy.tiers.supervisor).toHaveLength(1);
    const custom = notificationsConfigSchema.parse({
      policy: {
        tiers: { night_team: [{ name: 'Night team', channel: 'sms', address: '+8613800138000' }] },
        onRaised: { tier: 'night_team' },
      },
    });
    expect(Object.keys(custom.policy.tiers).sort()).toEqual([
      'first_tier',
      'night_team',
      'second_tier',
      'supervisor',
    ]);
    expect(custom.policy.onRaised.tier).toBe('night_team');
    expect(config.policy.tiers.second_tier).toEqual([]);
    expect(config.policy.family).toEqual({ severities: ['critical'], channel: 'sms', alsoVoiceFor: [] });

    const problems = (policy: unknown) => {
      const result = notificationsConfigSchema.safeParse({ webhooks: [hook], policy });
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(
      problems({
        tiers: {
          second_tier: [
            { name: 'Unknown hook', channel: 'webhook', address: 'https://elsewhere.example/h' },
            { name: 'Night nurse', channel: 'sms', address: '13800138000' },
          ],
        },
      }),
    ).toEqual([
      'policy.tiers.second_tier.0.address: not the url of a configured webhook',
      'policy.tiers.second_tier.1.address: must be an E.164 phone number, e.g. +8613800138000',
    ]);
    expect(problems({ onRaised: { tier: 'third_tier' } })).toEqual([
      'policy.onRaised.tier: not a tier of policy.tiers',
    ]);
    expect(problems({ onRaised: { tier: 'Third Tier' } })).toEqual([
      'policy.onRaised.tier: lower-case letters, digits and _, starting with a letter',
      'policy.onRaised.tier: not a tier of policy.tiers',
    ]);
    expect(
      problems({
        tiers: {
          family: [{ name: 'Daughter', channel: 'sms', address: '+8613800138000' }],
          'Night-Team': [],
        },
      }),
    ).toEqual([
      'policy.tiers.family: a tier name is lower-case letters, digits and _, starting with a letter, and not "family"',
      'policy.tiers.Night-Team: a tier name is lower-case letters, digits and _, starting with a letter, and not "family"',
    ]);
    expect(problems({ family: { severities: ['urgent'] } })).toHaveLength(1);
    expect(problems({ family: { alsoVoiceFor: ['sos'] } })).toHaveLength(1);
    expect(problems({ timeZone: 'Mars/Olympus' })).toEqual([
      'policy.timeZone: must be an IANA time zone such as Asia/Shanghai',
    ]);
  });

  it('renders to JSON Schema for docs/configuration.md, every policy key described', () => {
    type Node = { description?: string; properties?: Record<string, Node> };
    const json = z.toJSONSchema(notificationsConfigSchema, { io: 'input', unrepresentable: 'any' }) as Node;
    const undescribed: string[] = [];
    const walk = (node: Node, path: string) => {
      if (!node.description) undescribed.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
    };
    walk(json.properties!.policy!, 'policy');
    expect(undescribed).toEqual([]);
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
