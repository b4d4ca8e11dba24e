import { describe, expect, it } from 'vitest';
import {
  formatLocal,
  formatSpan,
  localToUtcMs,
  parseLocalDateTime,
  parseOffsetMs,
  resolveScenarioTime,
  ScenarioTimeError,
} from '../../../firmware-sim/scenarios/time.js';

const SHANGHAI = 'Asia/Shanghai';
const START = Date.UTC(2026, 10, 23, 13, 0); // 2026-11-23 21:00 in Shanghai

describe('scenario offsets', () => {
  it.each([
    ['+90s', 90_000],
    ['+2h30m', 9_000_000],
    ['+1h0m15s', 3_615_000],
    ['+45m', 2_700_000],
    ['+0s', 0],
    ['+36h', 129_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseOffsetMs(text)).toBe(ms);
  });

  it.each(['+', '2h', '+1.5h', '+30m2h', '+1d', '-5m', '+5 m', '+1h30', ''])(
    '%j is not an offset',
    (text) => {
      expect(parseOffsetMs(text)).toBeNull();
    },
  );
});

describe('scenario local date-times', () => {
  it('reads YYYY-MM-DD HH:MM and HH:MM:SS, with a space or a T', () => {
    expect(parseLocalDateTime('2026-11-24 02:00')).toEqual({
      year: 2026,
      month: 11,
      day: 24,
      hour: 2,
      minute: 0,
      second: 0,
    });
    expect(parseLocalDateTime('2026-11-24T02:00:09')?.second).toBe(9);
  });

  it.each([
    '02:00',
    '2026-11-24',
    '2026-11-24 2:00',
    '2026-11-24 02:00Z',
    '2026-11-24 02:00+08:00',
    '24/11/2026 02:00',
  ])('%j is not a local date-time', (text) => {
    expect(parseLocalDateTime(text)).toBeNull();
  });

  it.each([
    ['2026-02-29 10:00', /has no day 29/],
    ['2026-13-01 10:00', /month 13/],
    ['2026-11-24 24:00', /not a time of day/],
    ['2026-11-24 12:60', /not a time of day/],
  ])('%s does not exist', (text, message) => {
    expect(() => parseLocalDateTime(text)).toThrow(message);
  });
});

describe('local time to instant, by time zone', () => {
  it.each([
    [SHANGHAI, '2026-11-24 02:00', '2026-11-23T18:00:00.000Z'],
    ['UTC', '2026-11-24 02:00', '2026-11-24T02:00:00.000Z'],
    ['Europe/London', '2026-07-01 12:00', '2026-07-01T11:00:00.000Z'],
    ['Europe/London', '2026-12-01 12:00', '2026-12-01T12:00:00.000Z'],
    ['America/New_York', '2026-03-08 03:30', '2026-03-08T07:30:00.000Z'],
    ['Asia/Kolkata', '2026-11-24 00:00', '2026-11-23T18:30:00.000Z'],
  ])('%s %s is %s', (zone, text, iso) => {
    expect(new Date(resolveScenarioTime(text, 0, zone)).toISOString()).toBe(iso);
  });

  it('refuses a local time that spring-forward skips', () => {
    const local = parseLocalDateTime('2026-03-08 02:30')!;
    expect(() => localToUtcMs(local, 'America/New_York')).toThrow(ScenarioTimeError);
    expect(() => localToUtcMs(local, 'America/New_York')).toThrow(/does not exist/);
  });

  it('refuses a local time that fall-back repeats', () => {
    const local = parseLocalDateTime('2026-11-01 01:30')!;
    expect(() => localToUtcMs(local, 'America/New_York')).toThrow(/happens twice/);
  });

  it('an offset counts from the start, whatever the zone', () => {
    expect(resolveScenarioTime('+5h', START, SHANGHAI)).toBe(START + 5 * 3_600_000);
    expect(resolveScenarioTime('+5h', START, 'America/New_York')).toBe(START + 5 * 3_600_000);
  });

  it('an offset across a DST change is elapsed time, not wall-clock time', () => {
    const start = resolveScenarioTime('2026-03-08 00:00', 0, 'America/New_York');
    const later = resolveScenarioTime('+4h', start, 'America/New_York');
    expect(formatLocal(later, 'America/New_York')).toBe('2026-03-08 05:00:00');
  });

  it('rejects text in neither form', () => {
    expect(() => resolveScenarioTime('tomorrow', START, SHANGHAI)).toThrow(/local date-time .* or an offset/);
  });
});

describe('formatting', () => {
  it('formats instants as local date-times, with milliseconds only when there are some', () => {
    expect(formatLocal(START, SHANGHAI)).toBe('2026-11-23 21:00:00');
    expect(formatLocal(START + 1_250, SHANGHAI)).toBe('2026-11-23 21:00:01.250');
    expect(formatLocal(START, 'UTC')).toBe('2026-11-23 13:00:00');
  });

  it.each([
    [0, '+0s'],
    [59_000, '+59s'],
    [61_000, '+1m01s'],
    [3_723_000, '+1h02m03s'],
    [-90_000, '-1m30s'],
  ])('formats a span of %d ms as %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});
