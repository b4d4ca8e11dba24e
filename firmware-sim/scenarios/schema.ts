import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { validateConfig } from '../../common/config/load.js';
import { timeZoneSchema } from '../../common/config/shared-schemas.js';
import { ConfigError } from '../../common/errors.js';
import { ALARM_STATES, ALARM_TYPES, SEVERITIES } from '../../contract/alarm-vocabulary.js';
import { rulesConfigSchema } from '../../gateway/config/rules-schema.js';
import { nativeStatePatchSchema } from '../devices/native-device.js';
import { type KitDevice, kitDevice, RF_KIND_ACTIONS, STANDARD_KIT } from './kit.js';
import {
  parseLocalDateTime,
  parseOffsetMs,
  resolveScenarioTime,
  ScenarioTimeError,
  TIME_FORMS,
} from './time.js';

/**
 * A scenario: a scripted stretch of a resident's life played on the standard
 * kit (kit.ts), with the alarms the gateway must raise and nothing else. One
 * zod schema that is also the type; its output has every time resolved to
 * epoch ms (`startMs`, `steps[].atMs`, `expect[].fromMs/toMs`). Format and
 * examples: firmware-sim/scenarios/README.md.
 */

const timeSpec = z
  .string()
  .refine((t) => parseOffsetMs(t) !== null || isLocalForm(t), { message: `must be ${TIME_FORMS}` });

function isLocalForm(text: string): boolean {
  try {
    return parseLocalDateTime(text) !== null;
  } catch {
    // Shaped like a date-time but impossible (2026-02-30): the scenario-wide check names the problem.
    return true;
  }
}

const kitId = z.string().min(1);

const bedRadarPatchSchema = z
  .strictObject({
    inBed: z.boolean().optional().describe('Lie down (true) or get up (false).'),
    present: z.boolean().optional().describe('Someone in the bedroom; false also takes them out of bed.'),
    heartRateBpm: z.number().int().min(0).max(255).optional().describe('New heart-rate baseline.'),
    breathRatePerMin: z.number().int().min(0).max(255).optional().describe('New breath-rate baseline.'),
    breathAbsent: z
      .literal(true)
      .optional()
      .describe('Breathing stops: the radar reports a breath rate of 0 (same as breathRatePerMin: 0).'),
    sleepState: z.enum(['deep', 'light', 'awake', 'none']).optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'give at least one of inBed, present, heartRateBpm, breathRatePerMin, breathAbsent, sleepState',
  })
  .refine((p) => !(p.breathAbsent && p.breathRatePerMin !== undefined), {
    message: 'breathAbsent and breathRatePerMin together',
  });

const FAULT_ACTIONS = ['unplug', 'replug', 'silent', 'resume', 'noise', 'clear', 'dying_battery'] as const;
/** Fault actions for serial devices (the radars and the RFLink receiver). */
const SERIAL_FAULTS: readonly string[] = ['unplug', 'replug', 'silent', 'resume', 'noise', 'clear'];

const STEP_ACTIONS = ['bedRadar', 'fallRadar', 'rf', 'battery', 'zigbee', 'native', 'fault'] as const;

const stepSchema = z
  .strictObject({
    at: timeSpec.describe('When: a local date-time or an offset from start.'),
    note: z.string().optional().describe('What is happening, for people reading the file.'),
    bedRadar: bedRadarPatchSchema.optional().describe('The bed radar (MR60BHA1) sees a change.'),
    fallRadar: z
      .enum(['fall', 'get_up', 'leave', 'enter'])
      .optional()
      .describe('The fall radar (MR60FDA1): a fall, getting up, leaving or entering the room.'),
    rf: z
      .strictObject({ device: kitId, action: z.enum(['press', 'open', 'close', 'motion', 'alarm']) })
      .optional()
      .describe('A 433 MHz transmitter sends: press (buttons), open/close (contact), motion, alarm (smoke).'),
    battery: z
      .strictObject({
        device: kitId,
        state: z.enum(['low', 'ok']).optional().describe('RF transmitters: shows in their next line.'),
        percent: z
          .number()
          .min(0)
          .max(100)
          .optional()
          .describe('zigbee and native devices: reported at once.'),
      })
      .refine((b) => (b.state === undefined) !== (b.percent === undefined), {
        message: 'give exactly one of state (RF transmitters) or percent (zigbee, native)',
      })
      .optional(),
    zigbee: z
      .strictObject({
        device: kitId,
        action: z.enum(['press', 'sos', 'motion', 'open', 'close', 'alarm', 'clear']).optional(),
        available: z.boolean().optional(),
      })
      .refine((b) => b.action !== undefined || b.available !== undefined, {
        message: 'give an action or available',
      })
      .optional(),
    native: z
      .strictObject({
        device: kitId,
        event: z.enum(['sos', 'cancel', 'press']).optional(),
        state: nativeStatePatchSchema.optional(),
        availability: z.enum(['online', 'offline']).optional(),
      })
      .refine((b) => b.event !== undefined || b.state !== undefined || b.availability !== undefined, {
        message: 'give an event, a state or an availability',
      })
      .optional(),
    fault: z
      .strictObject({
        device: kitId,
        action: z.enum(FAULT_ACTIONS),
        rate: z
          .number()
          .positive()
          .optional()
          .describe(
            'noise: share 0–1 of frames (default the simulator’s); dying_battery: percent per minute.',
          ),
      })
      .optional()
      .describe(
        'unplug/replug a serial device, make it silent (resume ends it), add noise (clear ends every serial fault), ' +
          'or run a battery down (dying_battery).',
      ),
  })
  .superRefine((step, ctx) => {
    const given = STEP_ACTIONS.filter((k) => step[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `a step needs one action: ${STEP_ACTIONS.join(', ')}`
            : `one action per step (got ${given.join(' and ')}); give each its own step`,
      });
    }
  });

const expectSchema = z.strictObject({
  type: z.enum(ALARM_TYPES),
  state: z.enum(ALARM_STATES).default('raised'),
  deviceId: z.string().min(1).optional().describe('Kit id of the device the alarm names; any when omitted.'),
  severity: z.enum(SEVERITIES).optional().describe('Checked only when given.'),
  window: z
    .tuple([timeSpec, timeSpec])
    .describe('Earliest and latest acceptable `at`, both included, local date-times or offsets from start.'),
  note: z.string().optional(),
});

const kitSchema = z
  .strictObject({
    pendant: z.boolean().default(false).describe('Add the native 4G SOS pendant `pendant`.'),
    bedRadar: z
      .strictObject({
        observationSetupMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(20_000)
          .describe('No vital signs this long after lying down (the module: 20 s).'),
        heartRateVariationBpm: z.number().min(0).max(50).optional(),
        breathRateVariationPerMin: z.number().min(0).max(20).optional(),
      })
      .prefault({}),
    fallRadar: z
      .strictObject({
        residencyDelayMs: z
          .number()
          .int()
          .min(0)
          .max(3_600_000)
          .optional()
          .describe('Stillness after a fall before stationary residency is reported (the module: 200 s).'),
      })
      .prefault({}),
  })
  .prefault({});

const initialSchema = z
  .strictObject({
    bedRadar: z
      .strictObject({
        inBed: z.boolean().default(true),
        present: z.boolean().default(true).describe('Someone in the bedroom (in bed or not).'),
        heartRateBpm: z.number().int().min(0).max(255).default(68),
        breathRatePerMin: z.number().int().min(0).max(255).default(15),
        sleepState: z.enum(['deep', 'light', 'awake', 'none']).optional(),
      })
      .prefault({}),
    fallRadar: z
      .strictObject({ present: z.boolean().default(false).describe('Someone in the bathroom.') })
      .prefault({}),
  })
  .prefault({});

const scenarioObjectSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and `-` (it is the file name)'),
  description: z.string().min(1),
  timeZone: timeZoneSchema.default('Asia/Shanghai').describe('The home’s time zone; local times are in it.'),
  start: timeSpec.describe('A local date-time: the simulated clock starts here.'),
  end: timeSpec.describe('When the run stops (a local date-time or an offset from start).'),
  seed: z.number().int().default(1).describe('Seed of the simulator’s PRNG (vitals wander, faults).'),
  rules: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Overrides of the gateway’s `rules` settings (gateway/config/rules-schema.ts).'),
  kit: kitSchema,
  initial: initialSchema,
  steps: z.array(stepSchema).default([]),
  expect: z
    .array(expectSchema)
    .default([])
    .describe('Exactly the alarm messages (raised, cleared, cancelled) the run must produce, nothing else.'),
  ignore: z
    .array(z.enum(ALARM_TYPES))
    .default([])
    .describe('Alarm types this scenario does not judge; say why in a comment next to it.'),
});

type ScenarioObject = z.output<typeof scenarioObjectSchema>;
type Issue = { path: (string | number)[]; message: string };

/** The scenario file schema; its output is {@link Scenario}. */
export const scenarioSchema = scenarioObjectSchema
  .superRefine((s, ctx) => {
    for (const issue of checkScenario(s)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .transform((s) => {
    const startMs = resolveScenarioTime(s.start, 0, s.timeZone);
    const at = (text: string) => resolveScenarioTime(text, startMs, s.timeZone);
    return {
      ...s,
      startMs,
      endMs: at(s.end),
      steps: s.steps.map((step) => ({ ...step, atMs: at(step.at) })),
      expect: s.expect.map((e) => ({ ...e, fromMs: at(e.window[0]), toMs: at(e.window[1]) })),
    };
  });

/** A validated scenario with every time resolved. */
export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioStep = Scenario['steps'][number];
export type ScenarioExpectation = Scenario['expect'][number];
/** What a scenario file may contain (before defaults). */
export type ScenarioInput = z.input<typeof scenarioSchema>;

/** Every cross-field problem: times, order, device references, rules. */
function checkScenario(s: ScenarioObject): Issue[] {
  const issues: Issue[] = [];
  const resolveAt = (text: string, path: (string | number)[], startMs: number): number | null => {
    try {
      return resolveScenarioTime(text, startMs, s.timeZone);
    } catch (err) {
      if (!(err instanceof ScenarioTimeError)) throw err;
      issues.push({ path, message: err.message });
      return null;
    }
  };
  // Field checks that failed do not stop this one (zod runs it when the shape is right); an unknown
  // zone, already reported on its own path, would make every time here throw.
  if (!timeZoneSchema.safeParse(s.timeZone).success) return issues;
  if (parseOffsetMs(s.start) !== null) {
    issues.push({
      path: ['start'],
      message: 'must be a local date-time `YYYY-MM-DD HH:MM[:SS]`, not an offset',
    });
    return issues;
  }
  const startMs = resolveAt(s.start, ['start'], 0);
  if (startMs === null) return issues;
  const endMs = resolveAt(s.end, ['end'], startMs);
  if (endMs !== null && endMs <= startMs) issues.push({ path: ['end'], message: 'must be after start' });
  const within = (ms: number, path: (string | number)[]) => {
    if (ms < startMs || (endMs !== null && ms > endMs)) {
      issues.push({ path, message: 'must be between start and end' });
    }
  };

  let previous = startMs;
  s.steps.forEach((step, i) => {
    const ms = resolveAt(step.at, ['steps', i, 'at'], startMs);
    if (ms !== null) {
      within(ms, ['steps', i, 'at']);
      if (ms < previous) issues.push({ path: ['steps', i, 'at'], message: 'steps must be in time order' });
      previous = Math.max(previous, ms);
    }
    issues.push(
      ...checkStepDevices(step, s.kit.pendant).map((e) => ({ ...e, path: ['steps', i, ...e.path] })),
    );
  });

  // Alarms name gateway devices; a serial port's id is allowed too (`serial_link_lost` is about a port).
  const deviceIds = new Set(
    STANDARD_KIT.filter((d) => !d.optional || s.kit.pendant).flatMap((d) => [
      ...(d.gateway ? [d.id] : []),
      ...(d.transport === 'serial' ? [d.port] : []),
    ]),
  );
  s.expect.forEach((e, i) => {
    const from = resolveAt(e.window[0], ['expect', i, 'window', 0], startMs);
    const to = resolveAt(e.window[1], ['expect', i, 'window', 1], startMs);
    if (from !== null) within(from, ['expect', i, 'window', 0]);
    if (to !== null) within(to, ['expect', i, 'window', 1]);
    if (from !== null && to !== null && to < from) {
      issues.push({ path: ['expect', i, 'window'], message: 'the window ends before it starts' });
    }
    if (e.deviceId !== undefined && !deviceIds.has(e.deviceId)) {
      issues.push({
        path: ['expect', i, 'deviceId'],
        message: `not in the kit; known: ${[...deviceIds].join(', ')}`,
      });
    }
    if (s.ignore.includes(e.type)) {
      issues.push({ path: ['expect', i, 'type'], message: `${e.type} is also in ignore` });
    }
  });
  const seen = new Set<string>();
  s.ignore.forEach((type, i) => {
    if (seen.has(type)) issues.push({ path: ['ignore', i], message: 'listed twice' });
    seen.add(type);
  });

  if (s.rules !== undefined) {
    const parsed = rulesConfigSchema.safeParse(s.rules);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          path: ['rules', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
          message: issue.message,
        });
      }
    } else {
      // The rules schema drops keys it does not know; a misspelt setting must not be silently ignored.
      for (const path of unknownKeys(s.rules, parsed.data)) {
        issues.push({ path: ['rules', ...path], message: 'unknown rules setting' });
      }
    }
  }
  return issues;
}

/** Does each step's device exist in the kit and can it do that? */
function checkStepDevices(step: ScenarioObject['steps'][number], pendant: boolean): Issue[] {
  const find = (id: string, path: (string | number)[], wanted: KitDevice['transport'][], what: string) => {
    const device = kitDevice(id);
    const usable = STANDARD_KIT.filter((d) => wanted.includes(d.transport) && (!d.optional || pendant));
    if (!device || (device.optional && !pendant) || !wanted.includes(device.transport)) {
      const hint = device?.optional && !pendant ? ' (set kit.pendant: true to add it)' : '';
      return {
        device: undefined,
        issue: {
          path,
          message: `not ${what} of the kit${hint}; known: ${usable.map((d) => d.id).join(', ')}`,
        },
      };
    }
    return { device, issue: undefined };
  };
  const issues: Issue[] = [];
  if (step.rf) {
    const { device, issue } = find(step.rf.device, ['rf', 'device'], ['rflink'], 'an RF transmitter');
    if (issue) issues.push(issue);
    if (device?.transport === 'rflink' && !RF_KIND_ACTIONS[device.rfKind].includes(step.rf.action)) {
      issues.push({
        path: ['rf', 'action'],
        message: `${device.id} (${device.rfKind}) can do: ${RF_KIND_ACTIONS[device.rfKind].join(', ')}`,
      });
    }
  }
  if (step.battery) {
    const { device, issue } = find(
      step.battery.device,
      ['battery', 'device'],
      ['rflink', 'zigbee2mqtt', 'native'],
      'a battery device',
    );
    if (issue) issues.push(issue);
    if (device?.transport === 'rflink') {
      if (step.battery.state === undefined) {
        issues.push({ path: ['battery'], message: `${device.id} is an RF transmitter: give state low|ok` });
      } else if (!device.reportsBattery) {
        issues.push({
          path: ['battery', 'device'],
          message: `${device.id} (${device.protocol}) has no BAT= in its RFLink lines: the gateway cannot see it`,
        });
      }
    } else if (device && step.battery.percent === undefined) {
      issues.push({ path: ['battery'], message: `${device.id} reports a level: give percent` });
    }
  }
  if (step.zigbee) {
    const { device, issue } = find(
      step.zigbee.device,
      ['zigbee', 'device'],
      ['zigbee2mqtt'],
      'a zigbee device',
    );
    if (issue) issues.push(issue);
    if (
      device?.transport === 'zigbee2mqtt' &&
      step.zigbee.action &&
      !['alarm', 'clear'].includes(step.zigbee.action)
    ) {
      issues.push({
        path: ['zigbee', 'action'],
        message: `${device.id} (${device.zigbeeKind}) can do: alarm, clear`,
      });
    }
  }
  if (step.native) {
    const { issue } = find(step.native.device, ['native', 'device'], ['native'], 'a native device');
    if (issue) issues.push(issue);
  }
  if (step.fault) {
    const { action, rate } = step.fault;
    const serial = SERIAL_FAULTS.includes(action);
    const { issue } = find(
      step.fault.device,
      ['fault', 'device'],
      serial ? ['serial'] : ['rflink', 'zigbee2mqtt', 'native'],
      serial ? 'a serial device' : 'a battery device',
    );
    if (issue) issues.push(issue);
    if (rate !== undefined && action !== 'noise' && action !== 'dying_battery') {
      issues.push({ path: ['fault', 'rate'], message: 'only noise and dying_battery take a rate' });
    }
    if (rate !== undefined && action === 'noise' && rate > 1) {
      issues.push({ path: ['fault', 'rate'], message: 'a noise rate is a share of frames, 0–1' });
    }
  }
  return issues;
}

/** Paths of keys in `input` that a parse dropped from `output` (a non-strict zod object strips them). */
function unknownKeys(input: unknown, output: unknown, path: string[] = []): string[][] {
  if (!isRecord(input) || !isRecord(output)) return [];
  return Object.entries(input).flatMap(([key, value]) =>
    key in output ? unknownKeys(value, output[key], [...path, key]) : [[...path, key]],
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scenario file that cannot be read or does not validate; lists every problem as `path: message (got …)`. */
export class ScenarioError extends ConfigError {
  constructor(source: string, problems: readonly string[]) {
    super(source, problems);
    this.message = `invalid scenario ${source}:\n  ${problems.join('\n  ')}`;
  }
}

/** Validate an already-parsed scenario object; `source` names it in errors. */
export function parseScenario(input: unknown, source = '(scenario)'): Scenario {
  try {
    return validateConfig(scenarioSchema, input, source);
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof ScenarioError))
      throw new ScenarioError(source, err.problems);
    throw err;
  }
}

/**
 * Read and validate a scenario file (YAML or JSON). Its `name` must be its
 * file name without the extension, so `scenario <name>` finds it.
 *
 * @throws ScenarioError listing every problem.
 */
export function loadScenarioFile(file: string): Scenario {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(path, [
      `(file): cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ScenarioError(path, [
      `(file): not valid ${extname(path).slice(1).toUpperCase()}: ${(err as Error).message}`,
    ]);
  }
  const scenario = parseScenario(raw ?? {}, path);
  const expected = basename(path, extname(path));
  if (scenario.name !== expected) {
    throw new ScenarioError(path, [
      `name: must be the file name, ${JSON.stringify(expected)} (got "${scenario.name}")`,
    ]);
  }
  return scenario;
}
