/**
 * Times in scenario files. Two written forms, told apart by their first character:
 *
 * - a local date-time in the scenario's time zone, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS`
 *   (what a carer would write: "the door opens at 2026-11-24 02:00");
 * - an offset from the scenario's start, `+` then hours, minutes and seconds in that order, each
 *   optional but at least one: `+90s`, `+2h30m`, `+1h0m15s`.
 *
 * Nothing else is accepted: no bare `HH:MM` (which day, when a night crosses midnight?), no ISO
 * offsets or `Z` (the home's zone is the scenario's), and a local time that a daylight-saving
 * change skips or repeats is refused rather than guessed.
 */

import { type LocalDateTime, localDateTime, utcOffsetMs } from '../../common/local-time.js';

/** `YYYY-MM-DD HH:MM[:SS]`; a `T` between date and time is accepted too. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
/** `+1h30m15s`, every part optional but in this order. */
const OFFSET = /^\+(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$/;

/** What the schema says when a time is written in neither form. */
export const TIME_FORMS =
  'a local date-time `YYYY-MM-DD HH:MM[:SS]` or an offset from start such as `+2h30m`';

/** A wall-clock reading in some time zone. */
export type { LocalDateTime };

/** A time that is well-formed but does not name one instant (bad date, skipped or repeated by DST). */
export class ScenarioTimeError extends Error {}

/** Parse `+2h30m` into milliseconds; null when the text is not an offset. */
export function parseOffsetMs(text: string): number | null {
  const m = OFFSET.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  const [h, min, s] = [m[1], m[2], m[3]].map((part) => Number(part ?? 0)) as [number, number, number];
  return ((h * 60 + min) * 60 + s) * 1000;
}

/**
 * Parse `YYYY-MM-DD HH:MM[:SS]`; null when the text does not have that shape.
 *
 * @throws ScenarioTimeError for a date or time of day that does not exist (`2026-02-30`, `24:00`).
 */
export function parseLocalDateTime(text: string): LocalDateTime | null {
  const m = LOCAL_DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((p) => Number(p ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) throw new ScenarioTimeError(`month ${month} does not exist`);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) {
    throw new ScenarioTimeError(`${year}-${pad(month)} has no day ${day}`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new ScenarioTimeError(`${pad(hour)}:${pad(minute)}:${pad(second)} is not a time of day`);
  }
  return { year, month, day, hour, minute, second };
}

/** The wall-clock reading of instant `ms` in `timeZone`. */
export function toLocal(ms: number, timeZone: string): LocalDateTime {
  return localDateTime(ms, timeZone);
}

const zoneOffsetMs = utcOffsetMs;

/**
 * The instant a wall-clock reading names in `timeZone`.
 *
 * @throws ScenarioTimeError when daylight saving skips that reading (spring forward) or makes it
 *   happen twice (fall back): a scenario must say which instant it means.
 */
export function localToUtcMs(local: LocalDateTime, timeZone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  // The offset a day either side covers any DST change near the reading; try both.
  const candidates = new Set<number>();
  for (const probe of [naive - 86_400_000, naive, naive + 86_400_000]) {
    candidates.add(naive - zoneOffsetMs(probe, timeZone));
  }
  const matching = [...candidates]
    .filter((ms) => sameLocal(toLocal(ms, timeZone), local))
    .sort((a, b) => a - b);
  const text = formatLocalParts(local);
  if (matching.length === 0) {
    throw new ScenarioTimeError(
      `${text} does not exist in ${timeZone} (skipped by a daylight-saving change)`,
    );
  }
  if (matching.length > 1) {
    throw new ScenarioTimeError(
      `${text} happens twice in ${timeZone} (a daylight-saving change repeats it); pick another time`,
    );
  }
  return matching[0]!;
}

/**
 * Resolve a scenario time to epoch ms: a local date-time in `timeZone`, or an offset from `startMs`.
 *
 * @throws ScenarioTimeError when the text is in neither form or names no single instant.
 */
export function resolveScenarioTime(text: string, startMs: number, timeZone: string): number {
  const offset = parseOffsetMs(text);
  if (offset !== null) return startMs + offset;
  const local = parseLocalDateTime(text);
  if (local) return localToUtcMs(local, timeZone);
  throw new ScenarioTimeError(`must be ${TIME_FORMS}`);
}

/** `2026-11-24 02:00:05` in `timeZone` (the form scenario files use), for messages. */
export function formatLocal(ms: number, timeZone: string): string {
  const whole = formatLocalParts(toLocal(ms, timeZone));
  const frac = ((ms % 1000) + 1000) % 1000;
  return frac === 0 ? whole : `${whole}.${String(frac).padStart(3, '0')}`;
}

/** `+1h02m03s` (`-` for negative spans), for messages about offsets and lateness. */
export function formatSpan(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${sign}${h}h${pad(m)}m${pad(s)}s`;
  if (m > 0) return `${sign}${m}m${pad(s)}s`;
  return `${sign}${s}s`;
}

function sameLocal(a: LocalDateTime, b: LocalDateTime): boolean {
  return (
    a.year === b.year &&
    a.month === b.month &&
    a.day === b.day &&
    a.hour === b.hour &&
    a.minute === b.minute &&
    a.second === b.second
  );
}

function formatLocalParts(l: LocalDateTime): string {
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
