import {
  ALARM_TYPES,
  type AlarmType,
  RESOLUTION_OUTCOMES,
  type ResolutionOutcome,
  type Severity,
} from '../../contract/index.js';
import type { StoredAlarm } from '../alarms/alarm-store.js';
import { DEFAULT_TIME_ZONE, type Instant, localPeriodOf, type PeriodKind, toMs } from './periods.js';

/**
 * How fast the monitoring centre answers: time from the cloud storing a
 * `raised` alarm (`receivedAt`, the start of the clock) to the first person
 * taking it (`acknowledgedAt`) and to its closing (`resolvedAt`). Telecare
 * targets: 97.5 % of calls acknowledged within 60 s, 99 % within 180 s.
 * Every figure is defined in docs/statistics.md.
 */

/** The fields of a stored alarm the response-time figures read (a whole `StoredAlarm` will do). */
export type AlarmForStats = Pick<
  StoredAlarm,
  'id' | 'bedId' | 'type' | 'severity' | 'state' | 'receivedAt' | 'acknowledgedAt' | 'resolvedAt' | 'outcome'
>;

export interface ResponseTimeOptions {
  /**
   * The instant the report is "as of". Alarms received after it are left out,
   * and an acknowledgement or resolution after it counts as not (yet) happened,
   * so a report for a past period can be reproduced exactly. Also decides which
   * unacknowledged alarms are already misses (see `acknowledgedWithin`).
   */
  now: Instant;
  /**
   * Severities reported in the `separate` group instead of `calls`. Default
   * `['technical']`: device faults (battery, device offline, serial link lost)
   * are maintenance work, not calls for help.
   */
  separateSeverities?: readonly Severity[];
  /** Targets for the "acknowledged within" shares, in seconds. Default `[60, 180]`. */
  thresholdsS?: readonly number[];
}

export const DEFAULT_SEPARATE_SEVERITIES: readonly Severity[] = ['technical', 'info'];
export const DEFAULT_THRESHOLDS_S: readonly number[] = [60, 180];

/** One "acknowledged within T seconds" figure. */
export interface WithinThreshold {
  thresholdS: number;
  /** Acknowledged at most `thresholdS` after receipt (exactly at the threshold counts as within). */
  within: number;
  /**
   * The denominator: every acknowledged alarm, plus every unacknowledged one
   * older than the threshold at `now` (already a miss, whatever happens next).
   * Unacknowledged alarms not older than the threshold are left out: they can
   * still be answered in time, and counting them either way would bias the share.
   */
  eligible: number;
  /** `within / eligible`, 0..1; null when `eligible` is 0. */
  share: number | null;
}

export interface ResponseTimeStats {
  /** `raised` alarms received at or before `now`. */
  count: number;
  /** Of those, acknowledged at or before `now`. */
  acknowledged: number;
  /** `count - acknowledged`. */
  unacknowledged: number;
  /** Seconds from receipt to acknowledgement, over acknowledged alarms (nearest rank); null when none. */
  timeToAcknowledgeS: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  /** One entry per threshold, in the order given. */
  acknowledgedWithin: WithinThreshold[];
  /** Resolved at or before `now`. */
  resolved: number;
  /** Seconds from receipt (not from acknowledgement) to resolution, over resolved alarms; null when none. */
  timeToResolveS: { p50: number | null; p90: number | null };
  /** Alarms by type; every known type present, 0 when none. */
  byType: Record<AlarmType, number>;
  /** Resolved alarms by outcome; every outcome present, 0 when none. */
  byOutcome: Record<ResolutionOutcome, number>;
}

export interface ResponseTimeReport {
  /** Calls for help: every severity not in `separateSeverities`. */
  calls: ResponseTimeStats;
  /** The severities reported separately (technical by default). */
  separate: ResponseTimeStats;
  separateSeverities: Severity[];
}

export interface ResponseTimeGroup extends ResponseTimeReport {
  key: string;
  /** For period groups: the period as ISO instants, `[from, to)`. */
  from?: string;
  to?: string;
}

/**
 * Nearest-rank percentile: of `n` values sorted ascending, the one at
 * 1-based rank `ceil(p / 100 × n)` (rank 1 for p = 0). Always one of the
 * values, never an interpolation, so "p90 = 45 s" means 90 % of the alarms
 * were answered in 45 s or less. With fewer than 100 values p99 is the
 * maximum. Null for no values; `p` must be in [0, 100].
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // The epsilon keeps p × n / 100 from rounding up past an exact integer:
  // 16.1 × 1000 / 100 is 161.00000000000003 in floating point, and the rank is 161.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

function emptyStats(thresholdsS: readonly number[]): ResponseTimeStats {
  return {
    count: 0,
    acknowledged: 0,
    unacknowledged: 0,
    timeToAcknowledgeS: { p50: null, p90: null, p99: null, max: null },
    acknowledgedWithin: thresholdsS.map((thresholdS) => ({
      thresholdS,
      within: 0,
      eligible: 0,
      share: null,
    })),
    resolved: 0,
    timeToResolveS: { p50: null, p90: null },
    byType: zeros(ALARM_TYPES),
    byOutcome: zeros(RESOLUTION_OUTCOMES),
  };
}

function statsOf(
  alarms: readonly AlarmForStats[],
  nowMs: number,
  thresholdsS: readonly number[],
): ResponseTimeStats {
  const stats = emptyStats(thresholdsS);
  const ackMs: number[] = [];
  const resolveMs: number[] = [];
  /** Ages at `now` of the alarms nobody has taken yet. */
  const openAgesMs: number[] = [];
  for (const alarm of alarms) {
    const received = toMs(alarm.receivedAt, `alarm ${alarm.id} receivedAt`);
    stats.count++;
    stats.byType[alarm.type] = (stats.byType[alarm.type] ?? 0) + 1;
    // Resolving acknowledges too (the store sets both); an input with only resolvedAt is read the same way.
    const ackText = alarm.acknowledgedAt ?? alarm.resolvedAt;
    const acked = ackText === undefined ? null : toMs(ackText, `alarm ${alarm.id} acknowledgedAt`);
    if (acked !== null && acked <= nowMs) {
      // Both times come from the cloud's clock; a negative span can only be a clock step: count it as 0.
      ackMs.push(Math.max(0, acked - received));
    } else {
      openAgesMs.push(nowMs - received);
    }
    const resolved =
      alarm.resolvedAt === undefined ? null : toMs(alarm.resolvedAt, `alarm ${alarm.id} resolvedAt`);
    if (resolved !== null && resolved <= nowMs) {
      resolveMs.push(Math.max(0, resolved - received));
      if (alarm.outcome !== undefined)
        stats.byOutcome[alarm.outcome] = (stats.byOutcome[alarm.outcome] ?? 0) + 1;
    }
  }
  stats.acknowledged = ackMs.length;
  stats.unacknowledged = openAgesMs.length;
  stats.resolved = resolveMs.length;
  stats.timeToAcknowledgeS = {
    p50: seconds(percentile(ackMs, 50)),
    p90: seconds(percentile(ackMs, 90)),
    p99: seconds(percentile(ackMs, 99)),
    max: seconds(percentile(ackMs, 100)),
  };
  stats.timeToResolveS = { p50: seconds(percentile(resolveMs, 50)), p90: seconds(percentile(resolveMs, 90)) };
  stats.acknowledgedWithin = thresholdsS.map((thresholdS) => {
    const limitMs = thresholdS * 1000;
    const within = ackMs.filter((ms) => ms <= limitMs).length;
    // Unacknowledged and already older than the threshold: a miss. Younger: not yet decided, left out.
    const misses = openAgesMs.filter((age) => age > limitMs).length;
    const eligible = ackMs.length + misses;
    return { thresholdS, within, eligible, share: eligible === 0 ? null : within / eligible };
  });
  return stats;
}

/**
 * Response-time figures of a set of alarms as of `options.now`. Only
 * `raised` alarms count (`cleared`/`cancelled` are the edge's follow-ups of
 * an alarm, not calls); they are split into `calls` and `separate` by severity.
 */
export function responseTimes(
  alarms: readonly AlarmForStats[],
  options: ResponseTimeOptions,
): ResponseTimeReport {
  const nowMs = toMs(options.now, 'now');
  const separateSeverities = [...(options.separateSeverities ?? DEFAULT_SEPARATE_SEVERITIES)];
  const thresholdsS = options.thresholdsS ?? DEFAULT_THRESHOLDS_S;
  for (const t of thresholdsS) {
    if (!(Number.isFinite(t) && t >= 0))
      throw new RangeError(`threshold must be a non-negative number, got ${t}`);
  }
  const calls: AlarmForStats[] = [];
  const separate: AlarmForStats[] = [];
  for (const alarm of alarms) {
    if (alarm.state !== 'raised') continue;
    if (toMs(alarm.receivedAt, `alarm ${alarm.id} receivedAt`) > nowMs) continue;
    (separateSeverities.includes(alarm.severity) ? separate : calls).push(alarm);
  }
  return {
    calls: statsOf(calls, nowMs, thresholdsS),
    separate: statsOf(separate, nowMs, thresholdsS),
    separateSeverities,
  };
}

/** Items by key, in first-seen order of the keys. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Response-time figures per group, sorted by key. The caller names the group
 * of an alarm: `(a) => a.bedId`, `(a) => organisationOf(a.bedId)`, or a
 * combination such as `(a) => organisationOf(a.bedId) + ' ' + byPeriod('day')(a)`.
 * Alarms that do not count (not `raised`, received after `now`) still make
 * their group appear, with zero counts.
 */
export function responseTimesBy(
  alarms: readonly AlarmForStats[],
  keyOf: (alarm: AlarmForStats) => string,
  options: ResponseTimeOptions,
): ResponseTimeGroup[] {
  return [...groupBy(alarms, keyOf)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, members]) => ({ key, ...responseTimes(members, options) }));
}

/** A key function: the local day (`2026-03-05`), ISO week (`2026-W10`) or month (`2026-03`) of receipt. */
export function byPeriod(
  kind: PeriodKind,
  timeZone: string = DEFAULT_TIME_ZONE,
): (alarm: Pick<AlarmForStats, 'id' | 'receivedAt'>) => string {
  return (alarm) => localPeriodOf(toMs(alarm.receivedAt, `alarm ${alarm.id} receivedAt`), kind, timeZone).key;
}

/**
 * Response-time figures per local period of receipt (day, ISO week Monday to
 * Sunday, or month in `timeZone`, default Asia/Shanghai), oldest first, each
 * with the period's bounds. Only periods that hold an alarm appear.
 */
export function responseTimesByPeriod(
  alarms: readonly AlarmForStats[],
  kind: PeriodKind,
  options: ResponseTimeOptions & { timeZone?: string },
): ResponseTimeGroup[] {
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  const periods = new Map<string, { startMs: number; endMs: number; members: AlarmForStats[] }>();
  for (const alarm of alarms) {
    const period = localPeriodOf(toMs(alarm.receivedAt, `alarm ${alarm.id} receivedAt`), kind, timeZone);
    let entry = periods.get(period.key);
    if (!entry) {
      entry = { startMs: period.startMs, endMs: period.endMs, members: [] };
      periods.set(period.key, entry);
    }
    entry.members.push(alarm);
  }
  return [...periods]
    .sort(([, a], [, b]) => a.startMs - b.startMs)
    .map(([key, { startMs, endMs, members }]) => ({
      key,
      from: new Date(startMs).toISOString(),
      to: new Date(endMs).toISOString(),
      ...responseTimes(members, options),
    }));
}
