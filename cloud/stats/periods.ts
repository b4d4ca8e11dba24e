import {
  addDays,
  daysInMonth,
  formatLocalDate,
  isValidTimeZone,
  type LocalDate,
  localDateTime,
  localToUtcMs,
  weekday,
} from '../../common/local-time.js';

/**
 * Instants and local calendar periods for the statistics. Periods follow the
 * wall clock of an IANA time zone (the monitoring centre's, by default China
 * Standard Time), so a "day" is local midnight to local midnight and lasts
 * 23 or 25 h on a DST change day where the zone has DST.
 */

/** The zone periods are cut in unless the caller names another. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** An instant: an ISO 8601 string with offset (as stored), epoch ms, or a Date. */
export type Instant = string | number | Date;

/** Epoch ms of an instant; throws RangeError on an unparseable one, naming `what`. */
export function toMs(t: Instant, what = 'time'): number {
  const ms = typeof t === 'number' ? t : t instanceof Date ? t.getTime() : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid instant: ${JSON.stringify(t)}`);
  return ms;
}

export type PeriodKind = 'day' | 'week' | 'month';
export const PERIOD_KINDS: readonly PeriodKind[] = ['day', 'week', 'month'];

/** One local calendar period, `[startMs, endMs)`. */
export interface LocalPeriod {
  kind: PeriodKind;
  /** `2026-03-05` (day), `2026-W10` (ISO week, Monday to Sunday), `2026-03` (month); sorts by time. */
  key: string;
  startMs: number;
  endMs: number;
}

function checkZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);
}

/**
 * First instant of a local date. Where a zone skips local midnight (DST at
 * 00:00) that is the instant the day begins, which `localToUtcMs` returns
 * for a time in the spring gap.
 */
export function localMidnightMs(date: LocalDate, timeZone: string): number {
  return localToUtcMs({ ...date, hour: 0, minute: 0, second: 0 }, timeZone);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ISO 8601 week-numbering year and week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(date: LocalDate): { year: number; week: number; monday: LocalDate } {
  const mondayOffset = (weekday(date) + 6) % 7;
  const monday = addDays(date, -mondayOffset);
  const thursday = addDays(monday, 3);
  const dayOfYear =
    (Date.UTC(thursday.year, thursday.month - 1, thursday.day) - Date.UTC(thursday.year, 0, 1)) / 86_400_000;
  return { year: thursday.year, week: Math.floor(dayOfYear / 7) + 1, monday };
}

/** The local day, ISO week or month that contains the instant `ms`. */
export function localPeriodOf(
  ms: number,
  kind: PeriodKind,
  timeZone: string = DEFAULT_TIME_ZONE,
): LocalPeriod {
  checkZone(timeZone);
  const t = localDateTime(ms, timeZone);
  const date: LocalDate = { year: t.year, month: t.month, day: t.day };
  switch (kind) {
    case 'day':
      return {
        kind,
        key: formatLocalDate(date),
        startMs: localMidnightMs(date, timeZone),
        endMs: localMidnightMs(addDays(date, 1), timeZone),
      };
    case 'week': {
      const { year, week, monday } = isoWeek(date);
      return {
        kind,
        key: `${year}-W${pad2(week)}`,
        startMs: localMidnightMs(monday, timeZone),
        endMs: localMidnightMs(addDays(monday, 7), timeZone),
      };
    }
    case 'month': {
      const first: LocalDate = { year: date.year, month: date.month, day: 1 };
      return {
        kind,
        key: `${String(date.year).padStart(4, '0')}-${pad2(date.month)}`,
        startMs: localMidnightMs(first, timeZone),
        endMs: localMidnightMs(addDays(first, daysInMonth(date.year, date.month)), timeZone),
      };
    }
  }
}

/** Every local day that overlaps `[fromMs, toMs)`, whole (not clipped), oldest first. */
export function localDaysBetween(
  fromMs: number,
  toMs: number,
  timeZone: string = DEFAULT_TIME_ZONE,
): LocalPeriod[] {
  const out: LocalPeriod[] = [];
  if (toMs <= fromMs) return out;
  let day = localPeriodOf(fromMs, 'day', timeZone);
  while (day.startMs < toMs) {
    out.push(day);
    day = localPeriodOf(day.endMs, 'day', timeZone);
  }
  return out;
}
