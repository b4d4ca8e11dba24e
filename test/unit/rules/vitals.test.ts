import { describe, expect, it } from 'vitest';
import { RuleHarness } from '../../support/rule-harness.js';

const OFF = {
  inactivity: { enabled: false },
  notUpInMorning: { enabled: false },
  bedExit: { enabled: false },
};

/** Feed a series of values every 3 s (the MR60BHA1's rate) from 03:00, in bed. */
function play(metric: 'heart_rate' | 'breath_rate', values: number[], inBed = true): RuleHarness {
  const h = new RuleHarness('2026-11-24 03:00', OFF);
  h.reading('bed', 'in_bed', inBed);
  for (const v of values) h.reading('bed', metric, v).advance(3_000);
  return h;
}

const repeat = (value: number, seconds: number) =>
  Array.from({ length: Math.ceil(seconds / 3) }, () => value);

describe('heart rate (40–120 bpm, 60 s, 5 bpm hysteresis, critical below 40 or above 130)', () => {
  it.each([
    { name: 'normal', values: repeat(70, 300), expected: [] },
    { name: 'low for 59 s: not sustained', values: [...repeat(35, 57), ...repeat(70, 60)], expected: [] },
    {
      name: 'low for 60 s: heart_rate_low, critical',
      values: repeat(35, 63),
      expected: ['heart_rate_low:raised@03:01:00:critical'],
    },
    {
      name: 'high (125) for 60 s: warning',
      values: repeat(125, 63),
      expected: ['heart_rate_high:raised@03:01:00:warning'],
    },
    {
      name: 'high reaching 135: critical',
      values: [...repeat(125, 30), ...repeat(135, 33)],
      expected: ['heart_rate_high:raised@03:01:00:critical'],
    },
    {
      name: 'clears only past the hysteresis margin',
      values: [...repeat(35, 63), ...repeat(42, 30), ...repeat(46, 3)],
      expected: ['heart_rate_low:raised@03:01:00:critical', 'heart_rate_low:cleared@03:01:33:critical'],
    },
    { name: 'not in bed: ignored', values: repeat(30, 120), inBed: false, expected: [] },
  ])('$name', ({ values, inBed, expected }) => {
    const h = play('heart_rate', values, inBed ?? true);
    const severities = h.all().map((a) => a.severity);
    expect(h.summary().map((s, i) => `${s}:${severities[i]}`)).toEqual(expected);
  });

  it('leaving the bed clears a heart-rate alarm and cancels a pending one', () => {
    const h = play('heart_rate', repeat(35, 63));
    h.reading('bed', 'in_bed', false);
    h.reading('bed', 'in_bed', true);
    for (const v of repeat(35, 30)) h.reading('bed', 'heart_rate', v).advance(3_000);
    h.reading('bed', 'in_bed', false).advance(120_000);
    expect(h.summary()).toEqual(['heart_rate_low:raised@03:01:00', 'heart_rate_low:cleared@03:01:03']);
  });

  it('the alarm carries the out-of-range readings as evidence', () => {
    const h = play('heart_rate', repeat(36, 63));
    const alarm = h.all()[0];
    expect(alarm?.evidence.length).toBeGreaterThanOrEqual(20);
    expect(alarm?.evidence.every((e) => e.kind === 'heart_rate' && e.value === 36)).toBe(true);
  });
});

describe('breath rate (8–30 /min, 60 s) and breathing absent', () => {
  it.each([
    { name: 'normal', values: repeat(15, 300), expected: [] },
    { name: 'low (6) for 60 s: warning', values: repeat(6, 63), expected: ['breath_rate_low:warning'] },
    { name: 'high (34) for 60 s: warning', values: repeat(34, 63), expected: ['breath_rate_high:warning'] },
    { name: 'absent (0) for 60 s: critical', values: repeat(0, 63), expected: ['breath_rate_low:critical'] },
  ])('$name', ({ values, expected }) => {
    const h = play('breath_rate', values);
    expect(h.all().map((a) => `${a.type}:${a.severity}`)).toEqual(expected);
  });

  it('breath status "none" in bed for 60 s is breathing absent', () => {
    const h = new RuleHarness('2026-11-24 03:00', OFF);
    h.reading('bed', 'in_bed', true);
    for (let i = 0; i < 21; i++) h.reading('bed', 'breath_status', 'none').advance(3_000);
    expect(h.all().map((a) => `${a.type}:${a.severity}:${a.message}`)).toEqual([
      'breath_rate_low:critical:no breathing detected in bed',
    ]);
    h.reading('bed', 'breath_rate', 14);
    expect(h.summary()).toEqual(['breath_rate_low:raised@03:01:00', 'breath_rate_low:cleared@03:01:03']);
  });
});
