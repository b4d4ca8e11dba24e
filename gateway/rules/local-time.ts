/**
 * Wall-clock arithmetic in the home's time zone, with Intl only (no
 * dependency): is an instant inside a daily window, and when is the next
 * HH:MM. Correct across DST changes for zones that have them.
 */
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

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** Offset of the zone from UTC at `ms`, in ms (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of a local wall-clock time (the first one, if a DST change repeats it). */
export function localToUtc(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second = 0,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  let guess = wall - zoneOffsetMs(wall, timeZone);
  guess = wall - zoneOffsetMs(guess, timeZone);
  return guess;
}

export function parseClockTime(hhmm: string): { hour: number; minute: number } {
  const [h, m] = hhmm.split(':');
  return { hour: Number(h), minute: Number(m) };
}

/** Minutes since local midnight. */
export function localMinuteOfDay(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
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
  const p = localParts(ms, timeZone);
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
