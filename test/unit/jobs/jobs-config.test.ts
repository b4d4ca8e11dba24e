import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jobsConfigSchema } from '../../../gateway/config/jobs-schema.js';

describe('jobs configuration', () => {
  it('defaults to a noon summary and a Monday 10:00 reminder', () => {
    expect(jobsConfigSchema.parse(undefined)).toEqual({
      dailySummary: { enabled: true, cron: '0 12 * * *' },
      sosTestReminder: { enabled: true, cron: '0 10 * * 1', windowDays: 7 },
    });
  });

  it('names a bad cron expression by its key', () => {
    const result = jobsConfigSchema.safeParse({
      dailySummary: { cron: '0 25 * * *' },
      sosTestReminder: { cron: 'x' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      expect.stringMatching(/^dailySummary\.cron: not a cron expression: .*hour/),
      expect.stringMatching(/^sosTestReminder\.cron: not a cron expression/),
    ]);
  });

  it('renders to JSON Schema for docs/configuration.md, every key described', () => {
    const json = z.toJSONSchema(jobsConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<
        string,
        { description?: string; properties: Record<string, { description?: string }> }
      >;
    };
    for (const job of Object.values(json.properties)) {
      expect(job.description).toBeTruthy();
      for (const key of Object.values(job.properties)) expect(key.description).toBeTruthy();
    }
    expect(json.properties.dailySummary?.properties.cron).toMatchObject({ default: '0 12 * * *' });
  });
});
