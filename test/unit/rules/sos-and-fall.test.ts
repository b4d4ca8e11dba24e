import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleHarness } from '../../support/rule-harness.js';

describe('SOS rule', () => {
  it.each([
    { name: 'one press', presses: [0], expected: ['sos_button:raised@10:00:00'] },
    {
      name: 'repeats within 3 s are one call',
      presses: [0, 1_000, 2_900],
      expected: ['sos_button:raised@10:00:00'],
    },
    {
      name: 'a press after 3 s is a new call',
      presses: [0, 5_000],
      expected: ['sos_button:raised@10:00:00', 'sos_button:raised@10:00:05'],
    },
  ])('$name', ({ presses, expected }) => {
    const h = new RuleHarness('2026-11-23 10:00');
    let t = 0;
    for (const at of presses) {
      h.advance(at - t).event('sos');
      t = at;
    }
    expect(h.summary()).toEqual(expected);
  });

  it('an explicit emergency from any device raises it; a plain press of a non-SOS button does not', () => {
    const h = new RuleHarness('2026-11-23 10:00');
    h.event('pir', 'button_press');
    h.event('leak', 'sos');
    expect(h.summary()).toEqual(['sos_button:raised@10:00:00']);
    expect(h.all()[0]?.severity).toBe('critical');
    expect(h.all()[0]?.deviceId).toBe('leak');
  });
});

describe('SOS rule across a gateway crash', () => {
  it('a press delivered again after a restart (same press time) is not a second call; a later press is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-sos-'));
    try {
      const h = new RuleHarness('2026-11-23 10:00', { sos: { repeatWindowMs: 0 } }, dir);
      h.event('sos');
      // The gateway dies after committing the alarm but before its broker's PUBACK: the pendant sends again.
      h.restart();
      h.event('sos');
      expect(h.summary()).toEqual(['sos_button:raised@10:00:00']);
      h.advance(1).event('sos');
      expect(h.summary()).toEqual(['sos_button:raised@10:00:00', 'sos_button:raised@10:00:00']);
      h.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the repeat window still holds after a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-sos-'));
    try {
      const h = new RuleHarness('2026-11-23 10:00', {}, dir);
      h.event('sos');
      h.restart();
      h.advance(1_000).event('sos');
      h.advance(5_000).event('sos');
      expect(h.summary()).toEqual(['sos_button:raised@10:00:00', 'sos_button:raised@10:00:06']);
      h.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fall rule', () => {
  const fall = (h: RuleHarness) => h.reading('floor', 'fall', true);

  it.each([
    {
      name: 'no recovery: suspected at once, confirmed after 60 s',
      script: (h: RuleHarness) => fall(h).advance(60_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'fall_suspected:cleared@03:01:00',
        'fall_confirmed:raised@03:01:00',
      ],
    },
    {
      name: 'stationary residency confirms before the 60 s',
      script: (h: RuleHarness) =>
        fall(h).advance(20_000).reading('floor', 'stationary_residency', true).advance(120_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'fall_suspected:cleared@03:00:20',
        'fall_confirmed:raised@03:00:20',
      ],
    },
    {
      name: 'gets up within 60 s: suspected cleared, nothing confirmed',
      script: (h: RuleHarness) => fall(h).advance(40_000).reading('floor', 'fall', false).advance(120_000),
      expected: ['fall_suspected:raised@03:00:00', 'fall_suspected:cleared@03:00:40'],
    },
    {
      name: 'gets up after confirmation: confirmed cleared',
      script: (h: RuleHarness) => fall(h).advance(90_000).reading('floor', 'fall', false),
      expected: [
        'fall_suspected:raised@03:00:00',
        'fall_suspected:cleared@03:01:00',
        'fall_confirmed:raised@03:01:00',
        'fall_confirmed:cleared@03:01:30',
      ],
    },
    {
      name: 'cancel button within 30 s: cancelled, never confirmed',
      script: (h: RuleHarness) => fall(h).advance(10_000).event('cancel').advance(120_000),
      expected: ['fall_suspected:raised@03:00:00', 'fall_suspected:cancelled@03:00:10'],
    },
    {
      name: 'native cancel event within 30 s',
      script: (h: RuleHarness) => fall(h).advance(29_000).event('leak', 'cancel').advance(120_000),
      expected: ['fall_suspected:raised@03:00:00', 'fall_suspected:cancelled@03:00:29'],
    },
    {
      name: 'SOS pressed twice within 30 s: fall and the first SOS cancelled',
      script: (h: RuleHarness) =>
        fall(h).advance(10_000).event('sos').advance(1_500).event('sos').advance(120_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'sos_button:raised@03:00:10',
        'fall_suspected:cancelled@03:00:11',
        'sos_button:cancelled@03:00:11',
      ],
    },
    {
      name: 'SOS pressed twice 6 s apart: the second press cancels, it is not a new call',
      script: (h: RuleHarness) =>
        fall(h).advance(10_000).event('sos').advance(6_000).event('sos').advance(120_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'sos_button:raised@03:00:10',
        'fall_suspected:cancelled@03:00:16',
        'sos_button:cancelled@03:00:16',
      ],
    },
    {
      name: 'SOS pressed once after a fall is a call for help, and the fall still confirms',
      script: (h: RuleHarness) => fall(h).advance(10_000).event('sos').advance(120_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'sos_button:raised@03:00:10',
        'fall_suspected:cleared@03:01:00',
        'fall_confirmed:raised@03:01:00',
      ],
    },
    {
      name: 'cancel after the 30 s window does nothing',
      script: (h: RuleHarness) => fall(h).advance(31_000).event('cancel').advance(60_000),
      expected: [
        'fall_suspected:raised@03:00:00',
        'fall_suspected:cleared@03:01:00',
        'fall_confirmed:raised@03:01:00',
      ],
    },
    {
      name: 'a repeated fall report does not raise twice',
      script: (h: RuleHarness) => fall(h).advance(5_000).reading('floor', 'fall', true).advance(1_000),
      expected: ['fall_suspected:raised@03:00:00'],
    },
  ])('$name', ({ script, expected }) => {
    const h = new RuleHarness('2026-11-24 03:00');
    script(h);
    expect(h.summary()).toEqual(expected);
  });

  it('fall alarms are critical and carry the radar reading as evidence', () => {
    const h = new RuleHarness('2026-11-24 03:00');
    h.reading('floor', 'fall', true);
    const [alarm] = h.all();
    expect(alarm).toMatchObject({
      severity: 'critical',
      deviceId: 'floor',
      message: 'possible fall (bathroom)',
    });
    expect(alarm?.evidence).toEqual([{ deviceId: 'floor', kind: 'fall', value: true, at: alarm?.at }]);
  });
});
