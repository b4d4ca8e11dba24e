import type { AlarmState, AlarmType, Severity } from '../../contract/alarm-vocabulary.js';
import { formatLocal, formatSpan } from './time.js';

/**
 * Compare the alarms a run produced with what its scenario expects. Pure:
 * no clock, no I/O. "Exactly these and nothing else": every alarm message
 * (raised, cleared, cancelled) whose type is not ignored must match one
 * expectation, and every expectation one alarm.
 */

/** One alarm message as produced (the fields the comparison looks at). */
export interface ObservedAlarm {
  type: AlarmType;
  state: AlarmState;
  severity: Severity;
  /** Epoch ms of the alarm's `at`. */
  atMs: number;
  deviceId?: string | undefined;
  /** The alarm's id and sequence number, to find it in logs. */
  id?: string | undefined;
  seq?: number | undefined;
}

/** One expected alarm message. */
export interface ExpectedAlarm {
  type: AlarmType;
  state: AlarmState;
  deviceId?: string | undefined;
  severity?: Severity | undefined;
  /** Window of acceptable `at`, both ends included (epoch ms). */
  fromMs: number;
  toMs: number;
  /** Position in the scenario's `expect` list, for messages. */
  index?: number | undefined;
}

/** How a run differs from its scenario. */
export type Difference =
  | { kind: 'missing'; expected: ExpectedAlarm }
  | { kind: 'unexpected'; actual: ObservedAlarm }
  /** The alarm came, but outside its window; `offsetMs` < 0 early, > 0 late (distance to the window). */
  | { kind: 'outside_window'; expected: ExpectedAlarm; actual: ObservedAlarm; offsetMs: number }
  | { kind: 'wrong_severity'; expected: ExpectedAlarm; actual: ObservedAlarm };

export interface Comparison {
  /** True when there is no difference. */
  ok: boolean;
  matched: { expected: ExpectedAlarm; actual: ObservedAlarm }[];
  /** In time order. */
  differences: Difference[];
  /** Alarms of ignored types (not judged). */
  ignored: ObservedAlarm[];
}

/**
 * Match `actual` against `expected`. Pairing is by type, state and (when
 * given) device; within those, expectations are served earliest window end
 * first, each taking the earliest alarm in its window — the assignment that
 * matches the most alarms when windows overlap. Leftovers are then explained:
 * a right alarm with the wrong severity, a right alarm outside its window
 * (paired with the nearest one), or plainly missing / unexpected.
 */
export function compareAlarms(
  actual: readonly ObservedAlarm[],
  expected: readonly ExpectedAlarm[],
  options: { ignore?: readonly AlarmType[] } = {},
): Comparison {
  const ignoreSet = new Set<string>(options.ignore ?? []);
  const ignored = actual.filter((a) => ignoreSet.has(a.type));
  const free = actual.filter((a) => !ignoreSet.has(a.type)).sort(byTime);
  const open = [...expected].sort((a, b) => a.toMs - b.toMs || a.fromMs - b.fromMs);
  const matched: Comparison['matched'] = [];
  const differences: Difference[] = [];

  const take = (e: ExpectedAlarm, accept: (a: ObservedAlarm) => boolean): ObservedAlarm | undefined => {
    const i = free.findIndex((a) => sameKind(e, a) && accept(a));
    if (i < 0) return undefined;
    return free.splice(i, 1)[0];
  };
  const inWindow = (e: ExpectedAlarm) => (a: ObservedAlarm) => a.atMs >= e.fromMs && a.atMs <= e.toMs;
  const severityOk = (e: ExpectedAlarm) => (a: ObservedAlarm) =>
    e.severity === undefined || e.severity === a.severity;

  // 1. Exact matches.
  const unmatched: ExpectedAlarm[] = [];
  for (const e of open) {
    const a = take(e, (x) => inWindow(e)(x) && severityOk(e)(x));
    if (a) matched.push({ expected: e, actual: a });
    else unmatched.push(e);
  }
  // 2. In the window but with another severity.
  const stillOpen: ExpectedAlarm[] = [];
  for (const e of unmatched) {
    const a = e.severity === undefined ? undefined : take(e, inWindow(e));
    if (a) differences.push({ kind: 'wrong_severity', expected: e, actual: a });
    else stillOpen.push(e);
  }
  // 3. The same alarm outside its window: pair the closest expectation and alarm of a kind first.
  for (;;) {
    let best: { e: ExpectedAlarm; a: ObservedAlarm; d: number } | undefined;
    for (const e of stillOpen) {
      for (const a of free) {
        if (sameKind(e, a) && (!best || distance(e, a) < best.d)) best = { e, a, d: distance(e, a) };
      }
    }
    if (!best) break;
    const { e, a } = best;
    stillOpen.splice(stillOpen.indexOf(e), 1);
    free.splice(free.indexOf(a), 1);
    const offsetMs = a.atMs < e.fromMs ? a.atMs - e.fromMs : a.atMs - e.toMs;
    differences.push({ kind: 'outside_window', expected: e, actual: a, offsetMs });
  }
  for (const e of stillOpen) differences.push({ kind: 'missing', expected: e });
  for (const a of free) differences.push({ kind: 'unexpected', actual: a });
  differences.sort((x, y) => differenceTime(x) - differenceTime(y));
  matched.sort((x, y) => byTime(x.actual, y.actual));
  return { ok: differences.length === 0, matched, differences, ignored };
}

function sameKind(e: ExpectedAlarm, a: ObservedAlarm): boolean {
  return e.type === a.type && e.state === a.state && (e.deviceId === undefined || e.deviceId === a.deviceId);
}

function distance(e: ExpectedAlarm, a: ObservedAlarm): number {
  if (a.atMs < e.fromMs) return e.fromMs - a.atMs;
  if (a.atMs > e.toMs) return a.atMs - e.toMs;
  return 0;
}

function byTime(a: ObservedAlarm, b: ObservedAlarm): number {
  return a.atMs - b.atMs || (a.seq ?? 0) - (b.seq ?? 0);
}

function differenceTime(d: Difference): number {
  return d.kind === 'missing' ? d.expected.fromMs : d.actual.atMs;
}

/** `fall_confirmed raised (fall-radar, critical)`. */
export function describeAlarm(a: {
  type: string;
  state: string;
  deviceId?: string | undefined;
  severity?: string | undefined;
}): string {
  const extra = [a.deviceId, a.severity].filter((x): x is string => x !== undefined);
  return `${a.type} ${a.state}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** The window as local times, the end shortened to the time of day when on the same day. */
export function describeWindow(e: ExpectedAlarm, timeZone: string): string {
  const from = formatLocal(e.fromMs, timeZone);
  const to = formatLocal(e.toMs, timeZone);
  return `${from} … ${from.slice(0, 10) === to.slice(0, 10) ? to.slice(11) : to}`;
}

/** One line per difference, local times, for the CLI and test failures. */
export function formatDifferences(comparison: Comparison, timeZone: string): string[] {
  const label = (word: string) => word.padEnd(12);
  return comparison.differences.map((d) => {
    switch (d.kind) {
      case 'missing':
        return `${label('missing')}${describeAlarm(d.expected)}: expected ${describeWindow(d.expected, timeZone)}, none came`;
      case 'unexpected':
        return `${label('unexpected')}${describeAlarm(d.actual)} at ${formatLocal(d.actual.atMs, timeZone)}`;
      case 'outside_window':
        return (
          `${label(d.offsetMs < 0 ? 'early' : 'late')}${describeAlarm(d.expected)} at ` +
          `${formatLocal(d.actual.atMs, timeZone)} (${formatSpan(d.offsetMs)} ${d.offsetMs < 0 ? 'before' : 'after'} ` +
          `the window ${describeWindow(d.expected, timeZone)})`
        );
      case 'wrong_severity':
        return (
          `${label('severity')}${describeAlarm(d.expected)} at ${formatLocal(d.actual.atMs, timeZone)} ` +
          `came as ${d.actual.severity}`
        );
    }
    return '';
  });
}
