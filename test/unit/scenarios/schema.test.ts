import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findScenario,
  listScenarioFiles,
  listScenarioNames,
} from '../../../firmware-sim/scenarios/catalog.js';
import {
  loadScenarioFile,
  parseScenario,
  ScenarioError,
  type ScenarioInput,
} from '../../../firmware-sim/scenarios/schema.js';

const BASE: ScenarioInput = {
  name: 'example',
  description: 'a test scenario',
  start: '2026-11-23 21:00',
  end: '2026-11-24 07:00',
};

function problems(input: unknown): readonly string[] {
  try {
    parseScenario(input, 'test');
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenarioSchema', () => {
  it('fills the defaults and resolves every time', () => {
    const s = parseScenario({
      ...BASE,
      steps: [
        { at: '+1h', bedRadar: { inBed: false } },
        { at: '2026-11-23 22:30', rf: { device: 'front-door', action: 'open' } },
      ],
      expect: [{ type: 'door_open_at_night', window: ['+1h30m', '2026-11-23 22:30:05'] }],
    });
    expect(s.timeZone).toBe('Asia/Shanghai');
    expect(s.startMs).toBe(Date.UTC(2026, 10, 23, 13, 0));
    expect(s.endMs).toBe(Date.UTC(2026, 10, 23, 23, 0));
    expect(s.steps.map((st) => st.atMs - s.startMs)).toEqual([3_600_000, 5_400_000]);
    expect(s.expect[0]).toMatchObject({
      state: 'raised',
      fromMs: s.startMs + 5_400_000,
      toMs: s.startMs + 5_405_000,
    });
    expect(s.kit).toEqual({ pendant: false, bedRadar: { observationSetupMs: 20_000 }, fallRadar: {} });
    expect(s.initial).toEqual({
      bedRadar: { inBed: true, present: true, heartRateBpm: 68, breathRatePerMin: 15 },
      fallRadar: { present: false },
    });
    expect(s.ignore).toEqual([]);
  });

  it('local times follow the scenario’s time zone', () => {
    const s = parseScenario({ ...BASE, timeZone: 'Europe/Berlin' });
    expect(new Date(s.startMs).toISOString()).toBe('2026-11-23T20:00:00.000Z');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing description', { description: undefined }, 'description: Invalid input'],
    ['an unknown key', { colour: 'blue' }, '(root): Unrecognized key: "colour"'],
    ['a name that is not a file name', { name: 'Night 1' }, 'name: must be lower-case letters'],
    ['a start given as an offset', { start: '+1h' }, 'start: must be a local date-time'],
    [
      'a time without a date',
      { start: '21:00' },
      'start: must be a local date-time `YYYY-MM-DD HH:MM[:SS]` or an offset',
    ],
    [
      'an impossible date',
      { start: '2026-11-31 21:00' },
      'start: 2026-11 has no day 31 (got "2026-11-31 21:00")',
    ],
    ['an end before the start', { end: '2026-11-23 20:00' }, 'end: must be after start'],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'timeZone: must be an IANA time zone'],
    [
      'a local time skipped by DST',
      { timeZone: 'America/New_York', start: '2026-03-08 02:30', end: '+1h' },
      'start: 2026-03-08 02:30:00 does not exist in America/New_York',
    ],
    ['a step without an action', { steps: [{ at: '+1h' }] }, 'steps.0: a step needs one action'],
    [
      'a step with two actions',
      { steps: [{ at: '+1h', fallRadar: 'fall', rf: { device: 'sos-button', action: 'press' } }] },
      'steps.0: one action per step (got fallRadar and rf)',
    ],
    [
      'a step after the end',
      { steps: [{ at: '+11h', fallRadar: 'fall' }] },
      'steps.0.at: must be between start and end',
    ],
    [
      'steps out of order',
      {
        steps: [
          { at: '+2h', fallRadar: 'fall' },
          { at: '+1h', fallRadar: 'get_up' },
        ],
      },
      'steps.1.at: steps must be in time order',
    ],
    [
      'a bad time form',
      { steps: [{ at: 'later', fallRadar: 'fall' }] },
      'steps.0.at: must be a local date-time',
    ],
    [
      'an unknown fall radar action',
      { steps: [{ at: '+1h', fallRadar: 'trip' }] },
      'steps.0.fallRadar: Invalid option',
    ],
    [
      'an empty bed radar change',
      { steps: [{ at: '+1h', bedRadar: {} }] },
      'steps.0.bedRadar: give at least one of inBed',
    ],
    [
      'breath absent and a breath rate together',
      { steps: [{ at: '+1h', bedRadar: { breathAbsent: true, breathRatePerMin: 12 } }] },
      'steps.0.bedRadar: breathAbsent and breathRatePerMin together',
    ],
    [
      'a device not in the kit',
      { steps: [{ at: '+1h', rf: { device: 'doorbell', action: 'press' } }] },
      'steps.0.rf.device: not an RF transmitter of the kit; known: sos-button, cancel-button, front-door',
    ],
    [
      'an action the device cannot do',
      { steps: [{ at: '+1h', rf: { device: 'front-door', action: 'press' } }] },
      'steps.0.rf.action: front-door (contact) can do: open, close',
    ],
    [
      'the pendant without kit.pendant',
      { steps: [{ at: '+1h', native: { device: 'pendant', event: 'cancel' } }] },
      'steps.0.native.device: not a native device of the kit (set kit.pendant: true to add it)',
    ],
    [
      'a battery the gateway cannot see',
      { steps: [{ at: '+1h', battery: { device: 'front-door', state: 'low' } }] },
      'steps.0.battery.device: front-door (EV1527) has no BAT= in its RFLink lines',
    ],
    [
      'a level for an RF transmitter',
      { steps: [{ at: '+1h', battery: { device: 'sos-button', percent: 10 } }] },
      'steps.0.battery: sos-button is an RF transmitter: give state low|ok',
    ],
    [
      'unplugging a radio device',
      { steps: [{ at: '+1h', fault: { device: 'sos-button', action: 'unplug' } }] },
      'steps.0.fault.device: not a serial device of the kit; known: bed-radar, fall-radar, rflink',
    ],
    [
      'a rate on a fault that takes none',
      { steps: [{ at: '+1h', fault: { device: 'bed-radar', action: 'silent', rate: 0.5 } }] },
      'steps.0.fault.rate: only noise and dying_battery take a rate',
    ],
    [
      'an unknown alarm type',
      { expect: [{ type: 'fire', window: ['+1h', '+2h'] }] },
      'expect.0.type: Invalid option',
    ],
    [
      'an unknown alarm state',
      { expect: [{ type: 'smoke', state: 'resolved', window: ['+1h', '+2h'] }] },
      'expect.0.state: Invalid option',
    ],
    [
      'a window that ends before it starts',
      { expect: [{ type: 'smoke', window: ['+2h', '+1h'] }] },
      'expect.0.window: the window ends before it starts',
    ],
    [
      'a window past the end',
      { expect: [{ type: 'smoke', window: ['+9h', '+12h'] }] },
      'expect.0.window.1: must be between start and end',
    ],
    ['a window of one time', { expect: [{ type: 'smoke', window: ['+1h'] }] }, 'expect.0.window'],
    [
      'an unknown device id',
      { expect: [{ type: 'smoke', deviceId: 'toaster', window: ['+1h', '+2h'] }] },
      'expect.0.deviceId: not in the kit',
    ],
    [
      'a type both expected and ignored',
      { expect: [{ type: 'smoke', window: ['+1h', '+2h'] }], ignore: ['smoke'] },
      'expect.0.type: smoke is also in ignore',
    ],
    ['an ignored type twice', { ignore: ['device_offline', 'device_offline'] }, 'ignore.1: listed twice'],
    [
      'a misspelt rules setting',
      { rules: { fall: { confirmAfterSec: 30 } } },
      'rules.fall.confirmAfterSec: unknown rules setting (got 30)',
    ],
    [
      'a bad rules value',
      { rules: { nightWindow: { start: '10pm' } } },
      'rules.nightWindow.start: must be a time of day HH:MM',
    ],
  ])('reports %s with its path', (_what, patch, message) => {
    const found = problems({ ...BASE, ...patch });
    expect(
      found.some((p) => p.startsWith(message)),
      `${message}\nin:\n${found.join('\n')}`,
    ).toBe(true);
  });

  it('lists every problem at once', () => {
    const found = problems({
      ...BASE,
      end: '+0s',
      steps: [{ at: 'soon', fallRadar: 'fall' }],
      ignore: ['nope'],
    });
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(found.join('\n')).toMatch(/steps\.0\.at/);
    expect(found.join('\n')).toMatch(/ignore\.0/);
  });

  it('accepts the pendant once the kit has it, and rules overrides the gateway knows', () => {
    const s = parseScenario({
      ...BASE,
      kit: { pendant: true, fallRadar: { residencyDelayMs: 30_000 } },
      rules: { fall: { confirmAfterMs: 30_000 }, nightWindow: { start: '21:30' } },
      steps: [{ at: '+1h', native: { device: 'pendant', event: 'cancel' } }],
    });
    expect(s.rules).toEqual({ fall: { confirmAfterMs: 30_000 }, nightWindow: { start: '21:30' } });
  });
});

describe('scenario files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-scenario-schema-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every bundled scenario validates and is named after its file', () => {
    const names = listScenarioNames();
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const file of listScenarioFiles()) expect(() => loadScenarioFile(file), file).not.toThrow();
    for (const name of names) expect(findScenario(name).name).toBe(name);
  });

  it('a bad file names the file, then each problem as path: message (got …)', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      [
        'name: broken',
        'description: x',
        'start: 2026-11-23 21:00',
        'end: +1h',
        'steps:',
        '  - at: +2h',
        '    fallRadar: fall',
      ].join('\n'),
    );
    expect(() => loadScenarioFile(file)).toThrow(ScenarioError);
    expect(() => loadScenarioFile(file)).toThrow(
      `invalid scenario ${file}:\n  steps.0.at: must be between start and end (got "+2h")`,
    );
  });

  it('a file whose name differs from its `name`', () => {
    const file = join(dir, 'other.yaml');
    writeFileSync(file, 'name: something\ndescription: x\nstart: 2026-11-23 21:00\nend: +1h\n');
    expect(() => loadScenarioFile(file)).toThrow(/name: must be the file name, "other"/);
  });

  it('a file that is not YAML, or not there', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    expect(() => loadScenarioFile(file)).toThrow(/\(file\): not valid YAML/);
    expect(() => loadScenarioFile(join(dir, 'missing.yaml'))).toThrow(/\(file\): cannot read \(ENOENT\)/);
  });

  it('an unknown scenario name lists the known ones', () => {
    expect(() => findScenario('no-such-scenario')).toThrow(
      /no scenario named "no-such-scenario"; known: .*normal-night/,
    );
  });
});
