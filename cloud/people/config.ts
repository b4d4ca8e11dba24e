import { z } from 'zod';

/**
 * Sessions and the login rate limit (docs/people-and-access.md). Meant to be
 * mounted into the cloud config as `auth`.
 */
export const authConfigSchema = z
  .object({
    sessionIdleHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(12)
      .describe('A session unused for this long expires; every use pushes the expiry out again (sliding).'),
    sessionMaxDays: z
      .number()
      .positive()
      .max(90)
      .default(7)
      .describe('A session ends this long after its login however busy it is; the user logs in again.'),
    loginMaxFailuresPerUser: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe(
        'Failed logins for one username within loginWindowMinutes before further attempts are refused (429).',
      ),
    loginMaxFailuresPerIp: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(30)
      .describe(
        'Failed logins from one client address within loginWindowMinutes before further attempts are refused (429).',
      ),
    loginWindowMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15)
      .describe('The sliding window the failed-login limits count in.'),
  })
  .refine((c) => c.sessionIdleHours <= c.sessionMaxDays * 24, {
    message: 'sessionIdleHours must not exceed sessionMaxDays',
    path: ['sessionIdleHours'],
  })
  .prefault({})
  .describe('Console logins: session lifetime and the failed-login rate limit.');

export type AuthConfig = z.output<typeof authConfigSchema>;
