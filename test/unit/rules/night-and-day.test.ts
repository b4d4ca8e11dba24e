import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleHarness } from '../../support/rule-harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('bed exit, no return (night window 22:00–06:00, 30 min)', () => {
  it.each([
    {
      name: 'short bathroom trip at night: nothing',
      script: (h: RuleHarness) =>
        h
          .until('02:00')
          .reading('bed', 'in_bed', false)
          .advance(10 * MIN)
          .reading('bed', 'in_bed', true)
          .advance(HOUR),
      expected: [],
    },
    {
      name: 'out at 02:00 and not back: raised at 02:30, cleared on return',
      script: (h: RuleHarness) =>
        h.until('02:00').reading('bed', 'in_bed', false).until('02:45').reading('bed', 'in_bed', true),
      expected: ['bed_exit_no_return:raised@02:30:00', 'bed_exit_no_return:cleared@02:45:00'],
    },
    {
      name: 'out at 21:00 (before the night window): nothing',
      script: (h: RuleHarness) => h.until('21:00').reading('bed', 'in_bed', false).advance(HOUR),
      expected: [],
    },
    {
      name: 'repeated out-of-bed reports do not move the deadline',
      script: (h: RuleHarness) =>
        h
          .until('23:00')
          .reading('bed', 'in_bed', false)
          .advance(20 * MIN)
          .reading('bed', 'in_bed', false)
          .advance(11 * MIN),
      expected: ['bed_exit_no_return:raised@23:30:00'],
    },
  ])('$name', ({ script, expected }) => {
    const h = new RuleHarness('2026-11-23 20:00', {
      notUpInMorning: { enabled: false },
      inactivity: { enabled: false },
    });
    h.reading('bed', 'in_bed', true);
    script(h);
    expect(h.summary()).toEqual(expected);
  });
});

describe('bed exit and return events', () => {
  it('reports each exit and return once, with the time out of bed, by day too', () => {
    const h = new RuleHarness('2026-11-23 14:00', {
      inactivity: { enabled: false },
      notUpInMorning: { enabled: false },
    });
    h.reading('bed', 'in_bed', true)
      .advance(MIN)
      .reading('bed', 'in_bed', false)
      .reading('bed', 'in_bed', false);
    h.advance(7 * MIN)
      .reading('bed', 'in_bed', true)
      .reading('bed', 'in_bed', true);
    expect(h.events.map((e) => [e.kind, e.deviceId, e.outOfBedS])).toEqual([
      ['bed_exit', 'bed', undefined],
      ['bed_return', 'bed', 420],
    ]);
    expect(h.summary()).toEqual([]);
  });
});

describe('not up in the morning (10:00)', () => {
  it.each([
    {
      name: 'still in bed at 10:00: raised, cleared when up',
      upAt: '10:20',
      expected: ['not_up_in_morning:raised@10:00:00', 'not_up_in_morning:cleared@10:20:00'],
    },
    { name: 'up at 07:30: nothing', upAt: '07:30', expected: [] },
  ])('$name', ({ upAt, expected }) => {
    const h = new RuleHarness('2026-11-23 22:00', {
      inactivity: { enabled: false },
      bedExit: { enabled: false },
    });
    h.reading('bed', 'in_bed', true).until(upAt).reading('bed', 'in_bed', false).until('11:00');
    expect(h.summary()).toEqual(expected);
  });

  it('checks again the next morning', () => {
    const h = new RuleHarness('2026-11-23 22:00', {
      inactivity: { enabled: false },
      bedExit: { enabled: false },
    });
    h.reading('bed', 'in_bed', true)
      .until('10:05')
      .reading('bed', 'in_bed', false)
      .until('22:00')
      .reading('bed', 'in_bed', true);
    h.until('10:00');
    expect(h.summary()).toEqual([
      'not_up_in_morning:raised@10:00:00',
      'not_up_in_morning:cleared@10:05:00',
      'not_up_in_morning:raised@10:00:00',
    ]);
  });
});

describe('prolonged inactivity (4 h by day, off at night)', () => {
  const rules = { notUpInMorning: { enabled: false }, bedExit: { enabled: false } };

  it('no activity from 09:00 raises at 13:00, activity clears it', () => {
    const h = new RuleHarness('2026-11-23 09:00', rules);
    h.reading('pir', 'occupancy', true).until('13:30').reading('pir', 'occupancy', true);
    expect(h.summary()).toEqual([
      'prolonged_inactivity:raised@13:00:00',
      'prolonged_inactivity:cleared@13:30:00',
    ]);
  });

  it('activity every hour keeps it quiet', () => {
    const h = new RuleHarness('2026-11-23 09:00', rules);
    for (let i = 0; i < 8; i++) h.reading('floor', 'motion', 'active').advance(HOUR);
    expect(h.summary()).toEqual([]);
  });

  it('is off at night: quiet from 21:00 raises at 06:00 + 4 h, not at 01:00', () => {
    const h = new RuleHarness('2026-11-23 21:00', rules);
    h.reading('pir', 'occupancy', true).until('09:59');
    expect(h.summary()).toEqual([]);
    h.until('10:01');
    expect(h.summary()).toEqual(['prolonged_inactivity:raised@10:00:00']);
  });

  it('after the front door opens and nobody is seen for 10 min, the resident is out: no alarm until back', () => {
    const h = new RuleHarness('2026-11-23 09:00', rules);
    h.reading('pir', 'occupancy', true)
      .advance(HOUR)
      .reading('door', 'contact_open', true)
      .advance(MIN)
      .reading('door', 'contact_open', false);
    h.advance(6 * HOUR);
    expect(h.summary()).toEqual([]);
    h.reading('pir', 'occupancy', true).advance(4 * HOUR + MIN);
    expect(h.summary()).toEqual(['prolonged_inactivity:raised@20:01:00']);
  });
});

describe('door open at night', () => {
  it.each([
    { at: '02:00', expected: ['door_open_at_night:raised@02:00:00', 'door_open_at_night:cleared@02:03:00'] },
    { at: '15:00', expected: [] },
  ])('front door at $at', ({ at, expected }) => {
    const h = new RuleHarness('2026-11-23 12:00', {
      inactivity: { enabled: false },
      notUpInMorning: { enabled: false },
    });
    h.until(at)
      .reading('door', 'contact_open', true)
      .advance(3 * MIN)
      .reading('door', 'contact_open', false);
    expect(h.summary()).toEqual(expected);
  });

  it('another contact (not the front door) at night raises nothing', () => {
    const h = new RuleHarness('2026-11-24 02:00', {
      inactivity: { enabled: false },
      notUpInMorning: { enabled: false },
    });
    h.reading('pir', 'contact_open', true);
    expect(h.summary()).toEqual([]);
  });
});

describe('smoke, gas, water', () => {
  it('raise at once with their severities and clear when the detector does', () => {
    const h = new RuleHarness('2026-11-24 03:00', {
      inactivity: { enabled: false },
      notUpInMorning: { enabled: false },
    });
    h.reading('smoke', 'smoke', true)
      .reading('leak', 'water_leak', true)
      .advance(MIN)
      .reading('smoke', 'smoke', false);
    h.reading('smoke', 'gas', true);
    expect(h.all().map((a) => `${a.type}:${a.state}:${a.severity}`)).toEqual([
      'smoke:raised:critical',
      'water_leak:raised:warning',
      'smoke:cleared:critical',
      'gas:raised:critical',
    ]);
  });
});

describe('two rules at once', () => {
  it('a fall during a bed exit gives two alarms, each correct', () => {
    const h = new RuleHarness('2026-11-24 02:00', {
      inactivity: { enabled: false },
      notUpInMorning: { enabled: false },
    });
    h.reading('bed', 'in_bed', true)
      .reading('bed', 'in_bed', false)
      .advance(5 * MIN);
    h.reading('floor', 'fall', true).advance(26 * MIN);
    expect(h.summary()).toEqual([
      'fall_suspected:raised@02:05:00',
      'fall_suspected:cleared@02:06:00',
      'fall_confirmed:raised@02:06:00',
      'bed_exit_no_return:raised@02:30:00',
    ]);
    const [suspected, , confirmed, exit] = h.all();
    expect([suspected?.deviceId, confirmed?.deviceId, exit?.deviceId]).toEqual(['floor', 'floor', 'bed']);
    expect(exit?.severity).toBe('warning');
  });
});

describe('timers survive a restart', () => {
  it('a bed-exit wait interrupted by a crash fires at its original deadline, exactly once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-rules-'));
    const h = new RuleHarness(
      '2026-11-24 02:00',
      { inactivity: { enabled: false }, notUpInMorning: { enabled: false } },
      dir,
    );
    h.reading('bed', 'in_bed', true)
      .reading('bed', 'in_bed', false)
      .advance(10 * MIN);
    h.restart();
    h.advance(19 * MIN);
    expect(h.summary()).toEqual([]);
    h.advance(MIN);
    expect(h.summary()).toEqual(['bed_exit_no_return:raised@02:30:00']);
    h.restart();
    h.advance(HOUR);
    expect(h.summary()).toEqual(['bed_exit_no_return:raised@02:30:00']);
    h.stop();
  });

  it('a deadline that passed while the gateway was down fires at once on start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-rules-'));
    const h = new RuleHarness(
      '2026-11-24 03:00',
      { inactivity: { enabled: false }, notUpInMorning: { enabled: false } },
      dir,
    );
    h.reading('floor', 'fall', true);
    // Down for five minutes: the clock moves on while nothing runs.
    h.restart();
    h.clock.advance(0);
    expect(h.summary()).toEqual(['fall_suspected:raised@03:00:00']);
    h.stop();
    const later = new RuleHarness(
      '2026-11-24 03:05',
      { inactivity: { enabled: false }, notUpInMorning: { enabled: false } },
      dir,
    );
    later.advance(0);
    expect(later.summary()).toEqual([
      'fall_suspected:raised@03:00:00',
      'fall_suspected:cleared@03:01:00',
      'fall_confirmed:raised@03:01:00',
    ]);
    later.stop();
  });
});
