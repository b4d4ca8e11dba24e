import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localDateTime, localToUtcMs, windowOccurrences } from '../../../common/local-time.js';
import {
  CronExpressionError,
  cronExpressionProblem,
  cronMatches,
  nextCronFire,
} from '../../../gateway/jobs/cron-expression.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('nextCronFire', () => {
  // [expression, zone, after, expected next fire (UTC)]
  const cases: [string, string, string, string][] = [
    // DST-free zones
    ['0 12 * * *', 'Asia/Shanghai', '2026-01-01T00:00:00.000Z', '2026-01-01T04:00:00.000Z'],
    ['0 12 * * *', 'Asia/Shanghai', '2026-01-01T04:00:00.000Z', '2026-01-02T04:00:00.000Z'],
    ['0 12 * * *', 'Asia/Shanghai', '2026-01-01T03:59:59.999Z', '2026-01-01T04:00:00.000Z'],
    ['0 12 * * *', 'Asia/Shanghai', '2026-01-01T04:00:00.400Z', '2026-01-02T04:00:00.000Z'],
    ['0 12 * * *', 'Asia/Kolkata', '2026-01-01T00:00:00.000Z', '2026-01-01T06:30:00.000Z'],
    ['0 10 * * 1', 'Asia/Shanghai', '2026-01-01T00:00:00.000Z', '2026-01-05T02:00:00.000Z'],
    ['0 10 * * mon', 'Asia/Shanghai', '2026-01-05T02:00:00.000Z', '2026-01-12T02:00:00.000Z'],
    // local midnight is the previous UTC day in Shanghai
    ['0 0 * * *', 'Asia/Shanghai', '2026-01-01T12:00:00.000Z', '2026-01-01T16:00:00.000Z'],
    ['0 9 L * *', 'Asia/Shanghai', '2026-02-01T00:00:00.000Z', '2026-02-28T01:00:00.000Z'],
    ['0 9 * * 1#2', 'Asia/Shanghai', '2026-01-01T00:00:00.000Z', '2026-01-12T01:00:00.000Z'],
    ['0 8 * * 5L', 'Asia/Shanghai', '2026-01-01T00:00:00.000Z', '2026-01-30T00:00:00.000Z'],
    ['*/15 * * * * *', 'UTC', '2026-01-01T00:00:07.500Z', '2026-01-01T00:00:15.000Z'],
    ['@daily', 'UTC', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
    ['0 0 29 2 *', 'UTC', '2026-03-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    // Europe/Berlin, spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST)
    ['0 12 * * *', 'Europe/Berlin', '2026-03-27T12:00:00.000Z', '2026-03-28T11:00:00.000Z'],
    ['0 12 * * *', 'Europe/Berlin', '2026-03-28T12:00:00.000Z', '2026-03-29T10:00:00.000Z'],
    ['0 1 * * *', 'Europe/Berlin', '2026-03-28T12:00:00.000Z', '2026-03-29T00:00:00.000Z'],
    ['0 3 * * *', 'Europe/Berlin', '2026-03-28T12:00:00.000Z', '2026-03-29T01:00:00.000Z'],
    // 02:30 does not exist on 29 March: like node-cron, the job skips that day
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    // Europe/Berlin, fall back on 2026-10-25 (03:00 CEST -> 02:00 CET)
    ['0 12 * * *', 'Europe/Berlin', '2026-10-24T12:00:00.000Z', '2026-10-25T11:00:00.000Z'],
    ['0 12 * * *', 'Europe/Berlin', '2026-10-23T12:00:00.000Z', '2026-10-24T10:00:00.000Z'],
    // 02:30 happens twice: it fires once, at the winter-time occurrence (as node-cron does)
    ['30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00.000Z', '2026-10-25T01:30:00.000Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    // America/New_York, spring forward 2026-03-08
    ['0 0 * * *', 'America/New_York', '2026-03-07T12:00:00.000Z', '2026-03-08T05:00:00.000Z'],
    ['0 0 * * *', 'America/New_York', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
  ];

  it.each(cases)('%s in %s after %s is %s', (expression, zone, after, expected) => {
    expect(iso(nextCronFire(expression, zone, at(after)))).toBe(expected);
  });

  it('rejects invalid expressions and zones with a named error', () => {
    expect(cronExpressionProblem('0 12 * * *')).toBeNull();
    expect(cronExpressionProblem('61 12 * * *')).toMatch(/minute/);
    expect(cronExpressionProblem('0 12 * *')).toMatch(/5 or 6 fields/);
    expect(() => nextCronFire('0 25 * * *', 'UTC', 0)).toThrow(CronExpressionError);
    expect(() => nextCronFire('0 12 * * *', 'Mars/Olympus', 0)).toThrow(/time zone/);
  });

  it('matches node-cron itself on DST days in several zones (its walker is the reference)', () => {
    const expressions = [
      '0 12 * * *',
      '30 2 * * *',
      '0 10 * * 1',
      '*/7 * * * *',
      '15 1-3 * * 0',
      '0 0 L * *',
      '0 9 * * 1#2',
      '*/20 * * * * *',
      '0 */2 * * *',
    ];
    const zones: [string, string][] = [
      ['Asia/Shanghai', '2026-03-29T00:00:00Z'],
      ['Europe/Berlin', '2026-03-28T22:00:00Z'],
      ['Europe/Berlin', '2026-10-24T22:00:00Z'],
      ['America/New_York', '2026-03-08T04:00:00Z'],
      ['America/New_York', '2026-11-01T03:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T13:00:00Z'],
    ];
    vi.useFakeTimers({ toFake: ['Date'] });
    let compared = 0;
    for (const [zone, start] of zones) {
      for (const expression of expressions) {
        const task = cron.createTask(expression, () => {}, { timezone: zone });
        try {
          for (let t = at(start); t < at(start) + 8 * 3600_000; t += 23 * 60_000 + 17_000) {
            vi.setSystemTime(t);
            const [reference] = task.getNextRuns(1);
            expect(iso(nextCronFire(expression, zone, t)), `${expression} in ${zone} after ${iso(t)}`).toBe(
              iso(reference?.getTime() ?? Number.NaN),
            );
            compared++;
          }
        } finally {
          void task.destroy();
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('cronMatches reads the instant in the zone', () => {
    expect(cronMatches('0 12 * * *', 'Asia/Shanghai', at('2026-01-01T04:00:00Z'))).toBe(true);
    expect(cronMatches('0 12 * * *', 'UTC', at('2026-01-01T04:00:00Z'))).toBe(false);
  });
});

describe('local time', () => {
  it('converts both ways in zones with and without DST', () => {
    expect(localDateTime(at('2026-01-01T16:30:05Z'), 'Asia/Shanghai')).toEqual({
      year: 2026,
      month: 1,
      day: 2,
      hour: 0,
      minute: 30,
      second: 5,
    });
    const t = { year: 2026, month: 7, day: 1, hour: 12, minute: 0, second: 0 };
    expect(iso(localToUtcMs(t, 'Europe/Berlin'))).toBe('2026-07-01T10:00:00.000Z');
    expect(iso(localToUtcMs({ ...t, month: 1 }, 'Europe/Berlin'))).toBe('2026-01-01T11:00:00.000Z');
  });

  it('gives the night window its real length on DST nights', () => {
    const night = { start: '22:00', end: '06:00' };
    const hours = (from: string, to: string, zone: string) =>
      windowOccurrences(at(from), at(to), night, zone).map(([a, b]) => (b - a) / 3600_000);
    expect(hours('2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z', 'Europe/Berlin')).toEqual([7]);
    expect(hours('2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z', 'Europe/Berlin')).toEqual([9]);
    expect(hours('2026-01-01T04:00:00Z', '2026-01-02T04:00:00Z', 'Asia/Shanghai')).toEqual([8]);
    // clipped to the span, and a span starting inside last night's window sees its end
    expect(hours('2026-01-01T20:00:00Z', '2026-01-01T21:00:00Z', 'Asia/Shanghai')).toEqual([1]);
    expect(hours('2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z', 'Asia/Shanghai')).toEqual([8, 8]);
  });
});
