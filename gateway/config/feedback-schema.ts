import { z } from 'zod';
import { SEVERITIES } from '../../contract/alarm-vocabulary.js';

/**
 * Telling the resident that help is coming once a person at the monitoring
 * centre has acknowledged the alarm (gateway/feedback): a 433 MHz chime or
 * light through the RFLink transmitter, a sound or spoken message on the
 * gateway's speaker, or only a log line.
 */

/**
 * An RFLink transmit command as the RFLink manual writes it: `10;` then
 * protocol, address, switch and action, each followed by `;`
 * (`10;NewKaku;00c142;1;ON;`, `10;Byron;1234;01;` for a Byron chime).
 */
export const RFLINK_TRANSMIT_COMMAND = /^10;[\x21-\x3a\x3c-\x7e]+(?:;[\x21-\x3a\x3c-\x7e]+)*;$/;

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_:.-]{0,63}$/, 'must be lower-case letters, digits, "_", ":", "." or "-"')
  .optional()
  .describe(
    'Name in logs and counters (`feedback_failures{notifier}`); default from the type, e.g. `rflink:rflink`.',
  );
const timeoutMs = z
  .number()
  .int()
  .positive()
  .optional()
  .describe('Give up on this output after this long; default `feedback.timeoutMs`.');

export const rflinkNotifierConfigSchema = z
  .object({
    type: z.literal('rflink'),
    name,
    link: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a serial port id')
      .describe('The `serialPorts[].id` of the RFLink port that transmits.'),
    command: z
      .string()
      .regex(RFLINK_TRANSMIT_COMMAND, 'must be an RFLink transmit command such as 10;NewKaku;00c142;1;ON;')
      .describe(
        'What to transmit, e.g. `10;NewKaku;00c142;1;ON;` (a KlikAanKlikUit receiver) or `10;Byron;1234;01;` (a Byron chime, ringtone 01).',
      ),
    timeoutMs,
  })
  .describe('Transmit a 433 MHz command through the RFLink receiver (a chime, a light by the bed).');

export const soundNotifierConfigSchema = z
  .object({
    type: z.literal('sound'),
    name,
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Program and arguments, run without a shell, e.g. `["espeak-ng", "-v", "zh", "救援马上就到"]` or `["aplay", "/opt/homebed/help-coming.wav"]`.',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('A player still running after this long is killed (TERM, then KILL).'),
  })
  .describe('Play a sound or a spoken message on the gateway.');

export const logNotifierConfigSchema = z
  .object({ type: z.literal('log'), name })
  .describe('Only log that the resident would be told (for homes without an output).');

export const notifierConfigSchema = z.discriminatedUnion('type', [
  rflinkNotifierConfigSchema,
  soundNotifierConfigSchema,
  logNotifierConfigSchema,
]);
export type NotifierConfig = z.output<typeof notifierConfigSchema>;

export const feedbackConfigSchema = z
  .object({
    notifiers: z
      .array(notifierConfigSchema)
      .default([{ type: 'log' }])
      .describe('Every output to use; all of them are tried for each acknowledged alarm.'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe(
        'Default limit for one output; a slow or hung output is abandoned (and counted), never waited for.',
      ),
    severities: z
      .array(z.enum(SEVERITIES))
      .min(1)
      .default(['critical', 'warning'])
      .describe(
        'Tell the resident only about alarms of these severities (not, say, a technical `device_battery_low`).',
      ),
    maxAckAgeS: z
      .number()
      .int()
      .positive()
      .default(600)
      .describe(
        'An acknowledgement older than this when it reaches the gateway (it was offline) is not announced: by then staff have called.',
      ),
  })
  .prefault({})
  .describe('Telling the resident that help is coming once staff acknowledge an alarm.');

export type FeedbackConfig = z.output<typeof feedbackConfigSchema>;

/**
 * Checks that need the rest of the gateway config: an `rflink` output must
 * name an RFLink serial port. For the gateway schema's `superRefine`; paths
 * are from the config root.
 */
export function feedbackConfigIssues(
  feedback: FeedbackConfig,
  serialPorts: readonly { id: string; protocol: string }[],
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const names = new Set<string>();
  feedback.notifiers.forEach((n, i) => {
    if (n.name !== undefined) {
      if (names.has(n.name))
        issues.push({ path: ['feedback', 'notifiers', i, 'name'], message: 'duplicate name' });
      names.add(n.name);
    }
    if (n.type !== 'rflink') return;
    const port = serialPorts.find((p) => p.id === n.link);
    if (!port)
      issues.push({ path: ['feedback', 'notifiers', i, 'link'], message: 'no serial port with this id' });
    else if (port.protocol !== 'rflink')
      issues.push({
        path: ['feedback', 'notifiers', i, 'link'],
        message: `a ${port.protocol} port cannot transmit`,
      });
  });
  return issues;
}
