import type { CoverageDay } from './coverage.js';
import { localPeriodOf, type PeriodKind, toMs } from './periods.js';

/**
 * Coverage summed over local weeks or months (or kept per day), for one bed
 * from its days, and for an organisation from its beds.
 */

export interface CoveragePeriod {
  /** `2026-03-05`, `2026-W10` or `2026-03` (as in periods.ts). */
  key: string;
  /** The part of the period inside the report's range, ISO instants `[from, to)`. */
  from: string;
  to: string;
  /** Summed over the beds at organisation level. */
  periodMs: number;
  watchedMs: number;
  /** `watchedMs / periodMs`; null when `periodMs` is 0. */
  share: number | null;
}

/** A bed's coverage days grouped into local periods of `kind` in `timeZone`, oldest first. */
export function coveragePeriods(
  days: readonly CoverageDay[],
  kind: PeriodKind,
  timeZone: string,
): CoveragePeriod[] {
  return sumCoveragePeriods([
    days.map((d) => ({
      key: localPeriodOf(toMs(d.from, 'day from'), kind, timeZone).key,
      from: d.from,
      to: d.to,
      periodMs: d.periodMs,
      watchedMs: d.watchedMs,
      share: null,
    })),
  ]);
}

/** Periods with the same key added up (bounds widened to hold them all), sorted by start. */
export function sumCoveragePeriods(lists: readonly (readonly CoveragePeriod[])[]): CoveragePeriod[] {
  const byKey = new Map<string, CoveragePeriod>();
  for (const p of lists.flat()) {
    const sum = byKey.get(p.key);
    if (!sum) {
      byKey.set(p.key, { ...p });
      continue;
    }
    if (toMs(p.from) < toMs(sum.from)) sum.from = p.from;
    if (toMs(p.to) > toMs(sum.to)) sum.to = p.to;
    sum.periodMs += p.periodMs;
    sum.watchedMs += p.watchedMs;
  }
  return [...byKey.values()]
    .sort((a, b) => toMs(a.from) - toMs(b.from))
    .map((p) => ({ ...p, share: p.periodMs === 0 ? null : p.watchedMs / p.periodMs }));
}
