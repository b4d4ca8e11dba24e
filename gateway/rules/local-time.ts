import {
  type LocalDateTime,
  localDateTime,
  localToUtcMs,
  parseClockTime,
  utcOffsetMs,
} from '../../common/local-time.js';

/**
 * What the care rules ask of the home's local time: is an instant inside a
 * daily window (22:00–06:00 wraps past midnight), and when is the next
 * HH:MM. Built on common/local-time.ts (Intl only, correct across DST).
 */
export { parseClockTime };
export type LocalParts = LocalDateTime;

export function localParts(ms: number, timeZone: string): LocalParts {
  return localDateTime(ms, timeZone);
}

/** Offset of the zone from UTC at `ms`, in ms (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  return utcOffsetMs(ms, timeZone);
}

/** The instant of a local wall-clock time. */
export function localToUtc(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
): number {
  return localToUtcMs({ year, month, day, hour, minute, second }, timeZone);
}

/** Minutes since local midnight. */
export function localMinuteOfDay(ms: number, timeZone: string): number {
  const p = localDateTime(ms, timeZone);
  return p.hour * 60 + p.minute;
}

/** Whether `ms` falls in a daily window such as 22:00–06:00 (windows may wrap past midnight). */
export function inDailyWindow(ms: number, timeZone: string, start: string, end: string): boolean {
  const s = parseClockTime(start);
  const e = parseClockTime(end);
  const from = s.hour * 60 + s.minute;
  const to = e.hour * 60 + e.minute;
  const now = localMinuteOfDay(ms, timeZone);
  if (from === to) return false;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** The next instant strictly after `ms` at which the local clock shows `hhmm`. */
export function nextLocalTime(ms: number, timeZone: string, hhmm: string): number {
  const { hour, minute } = parseClockTime(hhmm);
  const p = localDateTime(ms, timeZone);
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const base = new Date(Date.UTC(p.year, p.month - 1, p.day + dayOffset));
    const candidate = localToUtc(
      timeZone,
      base.getUTCFullYear(),
      base.getUTCMonth() + 1,
      base.getUTCDate(),
      hour,
      minute,
    );
    if (candidate > ms) return candidate;
  }
  throw new Error(`no next ${hhmm} after ${new Date(ms).toISOString()} in ${timeZone}`);
}
