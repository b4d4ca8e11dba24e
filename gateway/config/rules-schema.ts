import { z } from 'zod';

/**
 * The care rules' settings for one bed (care-rules.md): every time and
 * threshold, with the published defaults. One schema, one place.
 */
const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM')
  .describe('Local time of day, HH:MM, in the home’s time zone.');
const ms = () => z.number().int().min(0);
const enabled = z.boolean().default(true).describe('Turn the rule off for this bed.');

export const rulesConfigSchema = z
  .object({
    nightWindow: z
      .object({
        start: clockTime.default('22:00'),
        end: clockTime.default('06:00'),
      })
      .prefault({})
      .describe('The night window used by the bed-exit and door rules (care-rules.md: about 22:00–06:00).'),
    sos: z
      .object({
        repeatWindowMs: ms()
          .default(3_000)
          .describe('Presses of one button closer together than this are one call (care-rules.md).'),
      })
      .prefault({}),
    fall: z
      .object({
        enabled,
        confirmAfterMs: ms()
          .default(60_000)
          .describe(
            '`fall_suspected` becomes `fall_confirmed` when the person has not got up after this long.',
          ),
        cancelWindowMs: ms()
          .default(30_000)
          .describe(
            'After a fall alarm the resident may cancel it within this window (SOS twice, or the cancel button).',
          ),
      })
      .prefault({}),
    bedExit: z
      .object({
        enabled,
        returnWithinMs: ms()
          .default(30 * 60_000)
          .describe('At night, out of bed longer than this raises `bed_exit_no_return`.'),
      })
      .prefault({}),
    notUpInMorning: z
      .object({
        enabled,
        deadline: clockTime
          .default('10:00')
          .describe('Still in bed at this time raises `not_up_in_morning`.'),
      })
      .prefault({}),
    inactivity: z
      .object({
        enabled,
        afterMs: ms()
          .default(4 * 3600_000)
          .describe(
            'No presence or motion anywhere for this long (by day, at home) raises `prolonged_inactivity`.',
          ),
        awayAfterDoorMs: ms()
          .default(10 * 60_000)
          .describe('After the front door opens, no presence for this long means the resident went out.'),
      })
      .prefault({}),
    doorAtNight: z.object({ enabled }).prefault({}),
    heartRate: z
      .object({
        enabled,
        low: z.number().default(40).describe('Below this (bpm) is low: always critical.'),
        high: z.number().default(120).describe('Above this (bpm) is high: warning.'),
        criticalHigh: z.number().default(130).describe('Above this (bpm) a high heart rate is critical.'),
        sustainMs: ms().default(60_000).describe('Out of range this long, in bed, raises the alarm.'),
        hysteresis: z.number().min(0).default(5).describe('Back within the band by this margin clears it.'),
      })
      .prefault({}),
    breathRate: z
      .object({
        enabled,
        low: z.number().default(8).describe('Below this (per min) is low.'),
        high: z.number().default(30).describe('Above this (per min) is high.'),
        sustainMs: ms()
          .default(60_000)
          .describe('Out of range this long, in bed, raises the alarm (warning).'),
        hysteresis: z.number().min(0).default(2).describe('Back within the band by this margin clears it.'),
        absentSustainMs: ms()
          .default(60_000)
          .describe('No breathing detected in bed this long raises a critical `breath_rate_low`.'),
      })
      .prefault({}),
    hazards: z.object({ enabled }).prefault({}).describe('Smoke, gas and water-leak detectors.'),
  })
  .prefault({})
  .describe('Care rules and their settings (care-rules.md).');

export type RulesConfig = z.output<typeof rulesConfigSchema>;
