import { z } from 'zod';
import { cronExpressionProblem } from '../jobs/cron-expression.js';

/**
 * Scheduled jobs of the gateway (gateway/jobs): the daily summary and the
 * weekly SOS-button test reminder. Times are cron expressions in the home's
 * time zone (`timeZone`); 5 fields `minute hour day month weekday`, or 6 with
 * seconds first, as node-cron reads them.
 */
const cronExpression = (fallback: string) =>
  z
    .string()
    .superRefine((expr, ctx) => {
      const problem = cronExpressionProblem(expr);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a cron expression: ${problem}` });
    })
    .default(fallback);

export const jobsConfigSchema = z
  .object({
    dailySummary: z
      .object({
        enabled: z.boolean().default(true).describe('Send the daily summary.'),
        cron: cronExpression('0 12 * * *').describe(
          'When the summary is made (home time zone). It covers the 24 h up to this time, so noon keeps a night in one piece.',
        ),
      })
      .prefault({})
      .describe(
        'Daily summary per bed sensor: time in bed, bed exits, longest time out of bed at night, average vitals, alarms.',
      ),
    sosTestReminder: z
      .object({
        enabled: z.boolean().default(true).describe('Send the weekly reminder.'),
        cron: cronExpression('0 10 * * 1').describe(
          'When the reminder is sent (home time zone); default Monday 10:00.',
        ),
        windowDays: z
          .number()
          .int()
          .min(1)
          .max(31)
          .default(7)
          .describe('A button pressed within this many days counts as tested.'),
      })
      .prefault({})
      .describe('Weekly reminder to test the SOS buttons, listing when each was last pressed.'),
  })
  .prefault({})
  .describe('Scheduled jobs.');

export type JobsConfig = z.output<typeof jobsConfigSchema>;
