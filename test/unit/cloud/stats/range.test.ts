import { describe, expect, it } from 'vitest';
import { isRangeBound, parseLocalDate, rangeProblem, resolveRange } from '../../../../cloud/stats/range.js';

describe('statistics ranges', () => {
  it('accepts local dates and instants with an offset only', () => {
    expect(parseLocalDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseLocalDate('2026-02-29')).toBeNull();
    for (const ok of [
      '2026-03-05',
      '2026-03-05T10:00:00Z',
      '2026-03-05T10:00:00.123+08:00',
      '2026-03-05T10:00Z',
    ])
      expect(isRangeBound(ok), ok).toBe(true);
    for (const bad of ['2026-3-5', '2026-03-05T10:00:00', '2026-03-05 10:00:00Z', 'yesterday', '2026-13-01'])
      expect(isRangeBound(bad), bad).toBe(false);
  });

  it('reads dates in the zone, the `to` date included; instants as they are', () => {
    expect(resolveRange('2026-03-05', '2026-03-06', 'Asia/Shanghai')).toEqual({
      fromMs: Date.parse('2026-03-04T16:00:00Z'),
      toMs: Date.parse('2026-03-06T16:00:00Z'),
    });
    // Berlin's 29 March 2026 lasts 23 h.
    expect(resolveRange('2026-03-29', '2026-03-29', 'Europe/Berlin')).toEqual({
      fromMs: Date.parse('2026-03-28T23:00:00Z'),
      toMs: Date.parse('2026-03-29T22:00:00Z'),
    });
    expect(resolveRange('2026-03-05T10:00:00+08:00', '2026-03-05', 'UTC')).toEqual({
      fromMs: Date.parse('2026-03-05T02:00:00Z'),
      toMs: Date.parse('2026-03-06T00:00:00Z'),
    });
  });

  it('refuses an empty or reversed range and one longer than 366 days', () => {
    expect(rangeProblem('2026-03-05', '2026-03-05')).toBeNull();
    expect(rangeProblem('2026-03-05T00:00:00Z', '2026-03-05T00:00:00Z')).toMatch(/after/);
    expect(rangeProblem('2026-03-06', '2026-03-05')).toMatch(/after/);
    expect(rangeProblem('2024-01-01', '2024-12-31')).toBeNull();
    expect(rangeProblem('2025-01-01', '2026-01-02')).toMatch(/366/);
  });
});
