import { z } from 'zod';
import type { Severity } from '../../contract/index.js';

/**
 * When an alarm nobody has taken is escalated, per severity (docs/alarm-lifecycle.md).
 * Meant to be mounted into the cloud config as `escalation`.
 */

export const escalationStepSchema = z.object({
  afterS: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .describe('Seconds after the cloud stored the alarm (the start of the response clock).'),
  tier: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and _, starting with a letter')
    .describe(
      'Who is brought in at this step, e.g. `second_tier` or `supervisor`; the notification policy maps tiers to people.',
    ),
  renotify: z
    .boolean()
    .default(true)
    .describe(
      'Also notify again those told before (earlier tiers), not only this tier: an unanswered alarm nags until someone takes it.',
    ),
});

export type EscalationStepConfig = z.output<typeof escalationStepSchema>;

/** One severity's steps, in the order they fire. */
const stepsSchema = (severity: Severity, defaults: EscalationStepConfig[]) =>
  z
    .array(escalationStepSchema)
    .max(10)
    .default(defaults)
    .superRefine((steps, ctx) => {
      for (let i = 1; i < steps.length; i++) {
        if (steps[i]!.afterS <= steps[i - 1]!.afterS) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'afterS'],
            message: 'each step must come later than the one before',
          });
        }
      }
    })
    .describe(
      `Escalation steps for ${severity} alarms nobody has acknowledged, in order; [] never escalates.`,
    );

export const escalationConfigSchema = z
  .object({
    steps: z
      .object({
        // Life safety: a second person within a minute, the supervisor after three; they are nagged each time.
        critical: stepsSchema('critical', [
          { afterS: 60, tier: 'second_tier', renotify: true },
          { afterS: 180, tier: 'supervisor', renotify: true },
        ]),
        // Check soon: brought in later, and the first people are not told again (a warning is not a siren).
        warning: stepsSchema('warning', [
          { afterS: 300, tier: 'second_tier', renotify: false },
          { afterS: 900, tier: 'supervisor', renotify: false },
        ]),
        technical: stepsSchema('technical', []),
        info: stepsSchema('info', []),
      })
      .prefault({})
      .describe('Steps per alarm severity.'),
    pollIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(1_000)
      .describe(
        'How often each relay process looks for due steps in the store; a step fires at most this late.',
      ),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Most due steps one look claims; the rest wait for the next look.'),
  })
  .prefault({})
  .describe(
    'Escalation of raised alarms nobody has acknowledged: timers are kept in the store, so they survive a restart and fire once across relay processes.',
  );

export type EscalationConfig = z.output<typeof escalationConfigSchema>;

/** A step as it fires: its number (from 1) and what the policy says about it. */
export interface EscalationStep {
  step: number;
  tier: string;
  afterS: number;
  renotify: boolean;
}

/** The steps a new alarm of this severity gets, numbered from 1. */
export function stepsFor(config: EscalationConfig, severity: Severity): EscalationStep[] {
  return config.steps[severity].map((s, i) => ({ step: i + 1, ...s }));
}
