import { addDays, type LocalDate } from '../../common/local-time.js';
import { localMidnightMs } from './periods.js';

/**
 * The bounds of a statistics request: an ISO 8601 instant with its offset, or
 * a local date `YYYY-MM-DD`. A date means the organisation's own calendar
 * day, so one request (`from=2026-03-01&to=2026-03-31`) gives each
 * organisation its own local March, whatever zone it keeps; that is why the
 * bounds stay unresolved until the zone is known.
 */
export type RangeBound = string;

/** Longest range a request may cover (a leap year). */
export const MAX_RANGE_DAYS = 366;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// An offset is required: an instant without one would be read in the server's zone.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The calendar date of a `YYYY-MM-DD` bound, or null when it is not one (or no such day, like 2026-02-30). */
export function parseLocalDate(text: string): LocalDate | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const check = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const real =
    check.getUTCFullYear() === date.year &&
    check.getUTCMonth() + 1 === date.month &&
    check.getUTCDate() === date.day;
  return real ? date : null;
}

/** True for a bound this module can resolve. */
export function isRangeBound(text: string): boolean {
  return parseLocalDate(text) !== null || (INSTANT.test(text) && Number.isFinite(Date.parse(text)));
}

/**
 * `[fromMs, toMs)` of a request in `timeZone`. A date `from` starts at that
 * day's local midnight; a date `to` includes that whole day (ends at the next
 * local midnight), as people read "1 to 31 March"; an instant `to` is excluded.
 */
export function resolveRange(
  from: RangeBound,
  to: RangeBound,
  timeZone: string,
): { fromMs: number; toMs: number } {
  return { fromMs: resolveBound(from, 'start', timeZone), toMs: resolveBound(to, 'end', timeZone) };
}

function resolveBound(bound: RangeBound, side: 'start' | 'end', timeZone: string): number {
  const date = parseLocalDate(bound);
  if (date) return localMidnightMs(side === 'start' ? date : addDays(date, 1), timeZone);
  if (!isRangeBound(bound))
    throw new RangeError(`not a date or an instant with offset: ${JSON.stringify(bound)}`);
  return Date.parse(bound);
}

/**
 * Why a range is refused, or null. Checked with dates read in UTC: the
 * zones of the organisations are not known yet, and they move a mixed
 * date/instant range by less than a day.
 */
export function rangeProblem(from: RangeBound, to: RangeBound): string | null {
  const { fromMs, toMs } = resolveRange(from, to, 'UTC');
  if (!(toMs > fromMs)) return 'to must be after from';
  if (toMs - fromMs > MAX_RANGE_DAYS * 86_400_000)
    return `the range may cover at most ${MAX_RANGE_DAYS} days`;
  return null;
}
