/**
 * Wall-clock arithmetic in an IANA time zone with nothing but `Intl`: the
 * gateway's jobs and summaries follow the home's local time (night window,
 * noon summary, Monday reminder), whatever zone the box itself runs in.
 */

/** A local date and time of day in some time zone (month 1-12, day 1-31, hour 0-23). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A local calendar date (month 1-12). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this Node's ICU knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time (to the second) of an instant in `timeZone`. */
export function localDateTime(ms: number, timeZone: string): LocalDateTime {
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    switch (part.type) {
      case 'year':
      case 'month':
      case 'day':
      case 'minute':
      case 'second':
        out[part.type] = Number(part.value);
        break;
      case 'hour':
        // Some ICU versions print midnight as 24 even with h23.
        out.hour = Number(part.value) % 24;
        break;
      default:
        break;
    }
  }
  return out;
}

/** The zone's offset from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
export function utcOffsetMs(ms: number, timeZone: string): number {
  const p = localDateTime(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

function sameLocal(ms: number, t: LocalDateTime, timeZone: string): boolean {
  const p = localDateTime(ms, timeZone);
  return (
    p.year === t.year &&
    p.month === t.month &&
    p.day === t.day &&
    p.hour === t.hour &&
    p.minute === t.minute &&
    p.second === t.second
  );
}

/**
 * The instant a local wall-clock time happens in `timeZone`. Around a DST
 * change it answers as node-cron does, so the clock-driven scheduler and the
 * production one agree: a time that occurs twice (autumn) maps to the
 * occurrence that uses the offset valid at the naive UTC reading (in Europe
 * the later, winter-time one); a time that does not exist (spring gap) maps
 * to the later of the two candidates, which reads back as a different local
 * time (callers that need an exact match check it).
 */
export function localToUtcMs(t: LocalDateTime, timeZone: string): number {
  const guess = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  const firstOffset = utcOffsetMs(guess, timeZone);
  const candidate1 = guess - firstOffset;
  const secondOffset = utcOffsetMs(candidate1, timeZone);
  if (secondOffset === firstOffset) return candidate1;
  const candidate2 = guess - secondOffset;
  if (sameLocal(candidate1, t, timeZone)) return candidate1;
  if (sameLocal(candidate2, t, timeZone)) return candidate2;
  return Math.max(candidate1, candidate2);
}

/** The local date `days` after (or before, when negative) `date`. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day of the week of a calendar date, 0 = Sunday (as in cron). */
export function weekday(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** Number of days in a month (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `YYYY-MM-DD` of a local date. */
export function formatLocalDate(date: LocalDate): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(date.year).padStart(4, '0')}-${pad(date.month)}-${pad(date.day)}`;
}

/** Minutes after local midnight of an `HH:MM` time of day; throws RangeError on anything else. */
export function parseClockTime(text: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new RangeError(`not a time of day HH:MM: ${JSON.stringify(text)}`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** A daily local window such as a night `22:00`–`06:00`, as UTC instants. */
export interface DailyWindow {
  start: string;
  end: string;
}

/**
 * Every occurrence of a daily local window that overlaps `[fromMs, toMs)`, as
 * `[startMs, endMs)` UTC pairs, clipped to the span. A window whose end is not
 * after its start crosses midnight (22:00–06:00 ends the next day); equal start
 * and end means the whole day. DST is honoured: the 22:00–06:00 window on the
 * night the clocks go back lasts 9 h.
 */
export function windowOccurrences(
  fromMs: number,
  toMs: number,
  window: DailyWindow,
  timeZone: string,
): [number, number][] {
  if (toMs <= fromMs) return [];
  const start = parseClockTime(window.start);
  const end = parseClockTime(window.end);
  const crosses = end.hour * 60 + end.minute <= start.hour * 60 + start.minute;
  const out: [number, number][] = [];
  // Start one day early: the window that began yesterday evening may still be open at `fromMs`.
  let date: LocalDate = addDays(localDateTime(fromMs, timeZone), -1);
  for (let i = 0; i < 10_000; i++) {
    const a = localToUtcMs({ ...date, ...start, second: 0 }, timeZone);
    // Window starts only grow from day to day: once one starts after the span, none later overlaps it.
    if (a >= toMs) break;
    const endDate = crosses ? addDays(date, 1) : date;
    const b = localToUtcMs({ ...endDate, ...end, second: 0 }, timeZone);
    const lo = Math.max(a, fromMs);
    const hi = Math.min(b, toMs);
    if (hi > lo) out.push([lo, hi]);
    date = addDays(date, 1);
  }
  return out;
}
