import cron from 'node-cron';
import {
  addDays,
  daysInMonth,
  isValidTimeZone,
  type LocalDate,
  localDateTime,
  localToUtcMs,
  weekday,
} from '../../common/local-time.js';

/**
 * Cron expressions, read by node-cron's own parser (`cron.parse`: 5 fields
 * `minute hour day month weekday`, or 6 with seconds first; names, ranges,
 * steps, `L`, `nW`, `L-n`, `d#n`, `dL`, `@daily`, …) and walked here to the
 * next fire time in an IANA zone. The walk follows node-cron 4's matcher
 * rule for rule, so a job driven by an injected clock fires at exactly the
 * instants the production scheduler would:
 * - day of month and day of week must BOTH match (node-cron's rule; classic
 *   Vixie cron ORs them when both are restricted);
 * - a local time that does not exist (the spring DST gap, e.g. 02:30 in
 *   Europe/Berlin on the last Sunday of March) does not fire that day;
 * - a local time that happens twice (autumn) fires once, at the occurrence
 *   after the clocks went back.
 * Jobs of this gateway run at 10:00 and 12:00, far from any DST change.
 */

interface CompiledCron {
  seconds: number[];
  minutes: number[];
  hours: number[];
  daysOfMonth: readonly (number | string)[];
  months: ReadonlySet<number>;
  weekdays: readonly (number | string)[];
  secondSet: ReadonlySet<number>;
  minuteSet: ReadonlySet<number>;
  hourSet: ReadonlySet<number>;
}

/** A cron expression or a time zone that cannot be scheduled. */
export class CronExpressionError extends Error {
  readonly code = 'HB_CRON_INVALID';
}

const compiled = new Map<string, CompiledCron>();

/** Why `expression` is not a valid cron expression for node-cron, or null when it is. */
export function cronExpressionProblem(expression: string): string | null {
  const result = cron.validateDetailed(expression);
  if (result.valid) return null;
  return result.errors.map((e) => e.message).join('; ') || 'invalid cron expression';
}

function compile(expression: string): CompiledCron {
  let c = compiled.get(expression);
  if (c) return c;
  const problem = cronExpressionProblem(expression);
  if (problem)
    throw new CronExpressionError(`invalid cron expression ${JSON.stringify(expression)}: ${problem}`);
  const f = cron.parse(expression);
  const sorted = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
  c = {
    seconds: sorted(f.second),
    minutes: sorted(f.minute),
    hours: sorted(f.hour),
    daysOfMonth: f.dayOfMonth,
    months: new Set(f.month),
    weekdays: f.dayOfWeek,
    secondSet: new Set(f.second),
    minuteSet: new Set(f.minute),
    hourSet: new Set(f.hour),
  };
  compiled.set(expression, c);
  return c;
}

function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysInMonth(year, month);
  if (target < 1 || target > last) return -1;
  const wd = weekday({ year, month, day: target });
  if (wd === 6) return target === 1 ? target + 2 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: readonly (number | string)[], d: LocalDate): boolean {
  const last = daysInMonth(d.year, d.month);
  for (const value of field) {
    if (value === d.day) return true;
    if (typeof value !== 'string') continue;
    if (value === 'L' && d.day === last) return true;
    const w = /^(\d{1,2}|L)W$/.exec(value);
    if (w && nearestWeekday(d.year, d.month, w[1] === 'L' ? last : Number(w[1])) === d.day) return true;
    const offset = /^L-(\d{1,2})$/.exec(value);
    if (offset && last - Number(offset[1]) >= 1 && last - Number(offset[1]) === d.day) return true;
  }
  return false;
}

function matchesDayOfWeek(field: readonly (number | string)[], d: LocalDate): boolean {
  const wd = weekday(d);
  for (const value of field) {
    if (value === wd) return true;
    if (typeof value !== 'string') continue;
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) {
      if (Number(nth[1]) % 7 === wd && Math.floor((d.day - 1) / 7) + 1 === Number(nth[2])) return true;
      continue;
    }
    const lastOf = /^([0-7])L$/i.exec(value);
    if (lastOf && Number(lastOf[1]) % 7 === wd && d.day + 7 > daysInMonth(d.year, d.month)) return true;
  }
  return false;
}

function dayMatches(c: CompiledCron, d: LocalDate): boolean {
  return c.months.has(d.month) && matchesDayOfMonth(c.daysOfMonth, d) && matchesDayOfWeek(c.weekdays, d);
}

/** Whether the expression fires at the (whole-second) instant `ms`, read in `timeZone`. */
export function cronMatches(expression: string, timeZone: string, ms: number): boolean {
  const c = compile(expression);
  const t = localDateTime(ms, timeZone);
  return c.secondSet.has(t.second) && c.minuteSet.has(t.minute) && c.hourSet.has(t.hour) && dayMatches(c, t);
}

/** Enough for any valid expression: `0 0 29 2 1` (29 February on a Monday) recurs within 28 years. */
const MAX_DAYS = 366 * 30;

/**
 * The first instant strictly after `afterMs` (compared at whole seconds, as
 * node-cron does) at which `expression` fires in `timeZone`.
 *
 * @throws CronExpressionError for an invalid expression or time zone, or one that never fires.
 */
export function nextCronFire(expression: string, timeZone: string, afterMs: number): number {
  const c = compile(expression);
  if (!isValidTimeZone(timeZone))
    throw new CronExpressionError(`unknown time zone ${JSON.stringify(timeZone)}`);
  const baseMs = Math.floor(afterMs / 1000) * 1000;
  const base = localDateTime(baseMs, timeZone);
  const baseSecondOfDay = base.hour * 3600 + base.minute * 60 + base.second;
  let date: LocalDate = { year: base.year, month: base.month, day: base.day };
  for (let i = 0; i < MAX_DAYS; i++, date = addDays(date, 1)) {
    if (!dayMatches(c, date)) continue;
    for (const hour of c.hours) {
      if (i === 0 && hour * 3600 + 3599 <= baseSecondOfDay) continue;
      for (const minute of c.minutes) {
        for (const second of c.seconds) {
          if (i === 0 && hour * 3600 + minute * 60 + second <= baseSecondOfDay) continue;
          const ms = localToUtcMs({ ...date, hour, minute, second }, timeZone);
          // The re-check drops local times that do not exist on this day (the DST gap).
          if (ms > baseMs && cronMatches(expression, timeZone, ms)) return ms;
        }
      }
    }
  }
  throw new CronExpressionError(`cron expression ${JSON.stringify(expression)} never fires`);
}
