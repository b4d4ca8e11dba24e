import { describe, expect, it } from 'vitest';
import { isoWeek, localDaysBetween, localPeriodOf, toMs } from '../../../../cloud/stats/periods.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();
const H = 3_600_000;

describe('local periods', () => {
  it('cuts days at local midnight in Asia/Shanghai by default (UTC+8)', () => {
    // 2026-03-04T15:59:59Z is 23:59:59 on 4 March in Shanghai; one second later it is 5 March.
    expect(localPeriodOf(ms('2026-03-04T15:59:59Z'), 'day').key).toBe('2026-03-04');
    const day = localPeriodOf(ms('2026-03-04T16:00:00Z'), 'day');
    expect(day.key).toBe('2026-03-05');
    expect([iso(day.startMs), iso(day.endMs)]).toEqual([
      '2026-03-04T16:00:00.000Z',
      '2026-03-05T16:00:00.000Z',
    ]);
    // The same instants in UTC are both on 4 March.
    expect(localPeriodOf(ms('2026-03-04T16:00:00Z'), 'day', 'UTC').key).toBe('2026-03-04');
  });

  it('numbers ISO weeks (Monday to Sunday, week 1 holds the first Thursday)', () => {
    // 2026-01-01 is a Thursday, so week 1 is Mon 2025-12-29 .. Sun 2026-01-04. 5 March 2026 is a Thursday
    // 63 days = 9 weeks later: week 10, Monday 2 March.
    const week = localPeriodOf(ms('2026-03-05T04:00:00Z'), 'week');
    expect(week.key).toBe('2026-W10');
    // Monday 2 March 00:00 in Shanghai = 1 March 16:00Z; seven days later.
    expect([iso(week.startMs), iso(week.endMs)]).toEqual([
      '2026-03-01T16:00:00.000Z',
      '2026-03-08T16:00:00.000Z',
    ]);
    // Year ends: 2026 starts on a Thursday and has 53 weeks, so Friday 1 January 2027 is in 2026-W53;
    // Monday 30 December 2024 is already in 2025-W01.
    expect(isoWeek({ year: 2027, month: 1, day: 1 }).year).toBe(2026);
    expect(isoWeek({ year: 2027, month: 1, day: 1 }).week).toBe(53);
    expect(isoWeek({ year: 2024, month: 12, day: 30 })).toMatchObject({ year: 2025, week: 1 });
    expect(localPeriodOf(ms('2027-01-01T04:00:00Z'), 'week').key).toBe('2026-W53');
  });

  it('cuts months at local midnight of the first', () => {
    const month = localPeriodOf(ms('2026-03-31T15:59:59Z'), 'month');
    expect(month.key).toBe('2026-03');
    expect([iso(month.startMs), iso(month.endMs)]).toEqual([
      '2026-02-28T16:00:00.000Z',
      '2026-03-31T16:00:00.000Z',
    ]);
    expect(localPeriodOf(ms('2026-03-31T16:00:00Z'), 'month').key).toBe('2026-04');
  });

  it('gives DST change days in Europe/Berlin their real length (23 h, 25 h)', () => {
    // 29 March 2026: clocks go 02:00 CET → 03:00 CEST. The day runs 28 March 23:00Z .. 29 March 22:00Z.
    const spring = localPeriodOf(ms('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(spring.key).toBe('2026-03-29');
    expect([iso(spring.startMs), iso(spring.endMs)]).toEqual([
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(spring.endMs - spring.startMs).toBe(23 * H);
    // 25 October 2026: 03:00 CEST → 02:00 CET; 24 October 22:00Z .. 25 October 23:00Z.
    const autumn = localPeriodOf(ms('2026-10-25T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(autumn.endMs - autumn.startMs).toBe(25 * H);
    // The March 2026 month in Berlin is one hour short of 31 × 24 h.
    const march = localPeriodOf(ms('2026-03-15T12:00:00Z'), 'month', 'Europe/Berlin');
    expect(march.endMs - march.startMs).toBe(31 * 24 * H - H);
  });

  it('lists the local days a span touches, whole', () => {
    // 5 March 18:00 .. 6 March 06:00 in Shanghai touches two days.
    const days = localDaysBetween(ms('2026-03-05T10:00:00Z'), ms('2026-03-05T22:00:00Z'), 'Asia/Shanghai');
    expect(days.map((d) => d.key)).toEqual(['2026-03-05', '2026-03-06']);
    // A span that ends exactly at local midnight does not touch the next day.
    expect(
      localDaysBetween(ms('2026-03-04T16:00:00Z'), ms('2026-03-05T16:00:00Z'), 'Asia/Shanghai').map(
        (d) => d.key,
      ),
    ).toEqual(['2026-03-05']);
    expect(localDaysBetween(5, 5)).toEqual([]);
  });

  it('refuses an unknown zone and an unparseable instant', () => {
    expect(() => localPeriodOf(0, 'day', 'Mars/Olympus')).toThrow(RangeError);
    expect(() => toMs('yesterday', 'receivedAt')).toThrow(/receivedAt/);
    expect(toMs('2026-03-05T12:00:00+08:00')).toBe(ms('2026-03-05T04:00:00Z'));
    expect(toMs(new Date(42))).toBe(42);
  });
});
