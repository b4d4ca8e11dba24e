import { describe, expect, it } from 'vitest';
import type { CoverageDay } from '../../../../cloud/stats/coverage.js';
import { coveragePeriods, sumCoveragePeriods } from '../../../../cloud/stats/coverage-periods.js';

const H = 3_600_000;

function day(date: string, from: string, to: string, watchedMs: number): CoverageDay {
  const periodMs = Date.parse(to) - Date.parse(from);
  return {
    date,
    from,
    to,
    periodMs,
    watchedMs,
    unwatchedMs: periodMs - watchedMs,
    share: watchedMs / periodMs,
    gatewayOfflineMs: 0,
    deviceSilentMs: {},
  };
}

describe('coverage per period', () => {
  // Sunday 8 and Monday 9 March 2026 (Shanghai): two ISO weeks, one month.
  const days = [
    day('2026-03-08', '2026-03-07T16:00:00.000Z', '2026-03-08T16:00:00.000Z', 18 * H),
    day('2026-03-09', '2026-03-08T16:00:00.000Z', '2026-03-09T04:00:00.000Z', 12 * H),
  ];

  it('groups days into weeks and months in the zone', () => {
    expect(coveragePeriods(days, 'week', 'Asia/Shanghai').map((p) => [p.key, p.watchedMs, p.share])).toEqual([
      ['2026-W10', 18 * H, 18 / 24],
      ['2026-W11', 12 * H, 1],
    ]);
    expect(coveragePeriods(days, 'month', 'Asia/Shanghai')).toEqual([
      {
        key: '2026-03',
        from: '2026-03-07T16:00:00.000Z',
        to: '2026-03-09T04:00:00.000Z',
        periodMs: 36 * H,
        watchedMs: 30 * H,
        share: 30 / 36,
      },
    ]);
  });

  it('adds beds up by key', () => {
    const a = coveragePeriods(days, 'month', 'Asia/Shanghai');
    expect(sumCoveragePeriods([a, a])).toMatchObject([
      { key: '2026-03', periodMs: 72 * H, watchedMs: 60 * H, share: 30 / 36 },
    ]);
    expect(sumCoveragePeriods([])).toEqual([]);
  });
});
