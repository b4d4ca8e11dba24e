import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { authConfigSchema } from '../../../../cloud/people/config.js';

describe('auth config', () => {
  it('has defaults when absent', () => {
    expect(authConfigSchema.parse(undefined)).toEqual({
      sessionIdleHours: 12,
      sessionMaxDays: 7,
      loginMaxFailuresPerUser: 5,
      loginMaxFailuresPerIp: 30,
      loginWindowMinutes: 15,
    });
  });

  it('refuses an idle time beyond the absolute lifetime and nonsense limits', () => {
    expect(authConfigSchema.safeParse({ sessionIdleHours: 48, sessionMaxDays: 1 }).success).toBe(false);
    expect(authConfigSchema.safeParse({ loginMaxFailuresPerUser: 0 }).success).toBe(false);
    expect(authConfigSchema.safeParse({ loginWindowMinutes: 1.5 }).success).toBe(false);
  });

  it('describes every field (docs/configuration.md is generated from them)', () => {
    const json = z.toJSONSchema(authConfigSchema, { io: 'input' }) as {
      properties: Record<string, { description?: string }>;
    };
    expect(Object.keys(json.properties)).toHaveLength(5);
    for (const [key, field] of Object.entries(json.properties)) expect(field.description, key).toBeTruthy();
  });
});
