import { clip, complement, type Interval, intersectAll, normalize, total } from './intervals.js';
import { DEFAULT_TIME_ZONE, type Instant, localDaysBetween, toMs } from './periods.js';

/**
 * Monitoring coverage of one bed: the share of each local day the bed was
 * actually watched, i.e. its gateway was online AND every required device
 * was reporting. This is what "24-hour remote guardianship" promises. Every
 * figure is defined in docs/statistics.md.
 */

/** A `status` message as the cloud received it (`at` = receipt time; the last will carries none). */
export interface GatewayStatusChange {
  at: Instant;
  state: 'online' | 'offline';
}

/** A heartbeat's receipt time, with its own interval when known (`intervalS × 1000` of the message). */
export type HeartbeatMark = Instant | { at: Instant; intervalMs: number };

export interface GatewayTimeline {
  statuses: readonly GatewayStatusChange[];
  heartbeats: readonly HeartbeatMark[];
  /** Interval of heartbeats that do not carry their own, ms. */
  heartbeatIntervalMs: number;
  /** Heartbeat intervals after the last sign of life at which the gateway counts as gone. Default 3. */
  missedHeartbeats?: number;
}

/**
 * A device the bed cannot be watched without (the bed radar, the SOS button,
 * …). Give its reporting intervals, the times it was heard, or both (they are
 * united).
 */
export interface RequiredDevice {
  id: string;
  /** Spans it is known to have been reporting, `[from, to)`. */
  reporting?: readonly (readonly [Instant, Instant])[];
  /** Times it was heard (messages, or `lastSeenAt` samples from heartbeats). */
  seenAt?: readonly Instant[];
  /**
   * Its class's supervision timeout (care-rules: radars 90 s, buttons and
   * contacts 25 h): each time in `seenAt` counts as reporting until it plus
   * this. Required when `seenAt` is not empty.
   */
  supervisionTimeoutMs?: number;
}

export interface CoverageInput {
  /**
   * Start of the period (inclusive). The timeline should also hold the events
   * just before it (the last status, and the heartbeats and device times of
   * the preceding timeouts), or the bed counts as unwatched at the start.
   */
  from: Instant;
  /** End of the period (exclusive). */
  to: Instant;
  /** Zone of the calendar days. Default Asia/Shanghai. */
  timeZone?: string;
  gateway: GatewayTimeline;
  /** May be empty: then watched = gateway online. */
  devices: readonly RequiredDevice[];
}

/** Why the bed was not watched. */
export type GapCause = 'gateway_offline' | `device_silent:${string}`;

export interface CoverageGap {
  from: string;
  to: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Every cause that held throughout the gap: `gateway_offline` first, then devices by id. */
  causes: GapCause[];
}

export interface CoverageDay {
  /** Local date `YYYY-MM-DD`. */
  date: string;
  /** The part of the local day inside the period, as ISO instants `[from, to)`. */
  from: string;
  to: string;
  /** Length of that part (a whole day: 24 h, or 23/25 h on a DST change day). */
  periodMs: number;
  watchedMs: number;
  unwatchedMs: number;
  /** `watchedMs / periodMs`, 0..1. */
  share: number;
  /** Time the gateway counted as offline (overlaps with device silence are counted in both). */
  gatewayOfflineMs: number;
  /** Time each required device counted as silent, by id. */
  deviceSilentMs: Record<string, number>;
}

export interface CoverageReport {
  from: string;
  to: string;
  timeZone: string;
  periodMs: number;
  watchedMs: number;
  unwatchedMs: number;
  /** `watchedMs / periodMs` over the whole period. */
  share: number;
  days: CoverageDay[];
  /** Unwatched spans, oldest first, split wherever the set of causes changes. */
  gaps: CoverageGap[];
  /** The watched spans themselves. */
  watched: Interval[];
}

function positive(value: number, what: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${what} must be a positive number, got ${value}`);
  return value;
}

/**
 * When the gateway counted as online. Each sign of life (an `online` status
 * or a heartbeat) at `t` makes it online from `t` until the earlier of the
 * first `offline` status after `t` and `t + missedHeartbeats × interval`
 * (the heartbeat's own interval, or `heartbeatIntervalMs`; an `online` status
 * uses `heartbeatIntervalMs`); the result is the union of these spans. So
 * the gateway is online from an `online` status or heartbeat until `offline`,
 * or until 3 intervals after its last heartbeat, whichever comes first. An
 * `offline` status at the same millisecond as a sign of life does not end it.
 */
export function gatewayOnlineIntervals(timeline: GatewayTimeline): Interval[] {
  const defaultIntervalMs = positive(timeline.heartbeatIntervalMs, 'heartbeatIntervalMs');
  const missed = positive(timeline.missedHeartbeats ?? 3, 'missedHeartbeats');
  const offlines = timeline.statuses
    .filter((s) => s.state === 'offline')
    .map((s) => toMs(s.at, 'status at'))
    .sort((a, b) => a - b);
  const signs: { at: number; intervalMs: number }[] = [];
  for (const s of timeline.statuses) {
    if (s.state === 'online') signs.push({ at: toMs(s.at, 'status at'), intervalMs: defaultIntervalMs });
  }
  for (const h of timeline.heartbeats) {
    if (typeof h === 'object' && !(h instanceof Date)) {
      signs.push({
        at: toMs(h.at, 'heartbeat at'),
        intervalMs: positive(h.intervalMs, 'heartbeat intervalMs'),
      });
    } else {
      signs.push({ at: toMs(h, 'heartbeat at'), intervalMs: defaultIntervalMs });
    }
  }
  signs.sort((a, b) => a.at - b.at);
  const spans: Interval[] = [];
  let next = 0; // index of the first offline status after the current sign of life
  for (const { at, intervalMs } of signs) {
    while (next < offlines.length && offlines[next]! <= at) next++;
    const offlineAt = offlines[next] ?? Number.POSITIVE_INFINITY;
    spans.push([at, Math.min(offlineAt, at + missed * intervalMs)]);
  }
  return normalize(spans);
}

/**
 * When a device counted as reporting: its `reporting` spans united with
 * `[t, t + timeout)` for each `seenAt` t.
 */
export function deviceReportingIntervals(device: RequiredDevice): Interval[] {
  const spans: Interval[] = (device.reporting ?? []).map(([a, b]) => [
    toMs(a, `device ${device.id} reporting from`),
    toMs(b, `device ${device.id} reporting to`),
  ]);
  const seen = device.seenAt ?? [];
  if (seen.length > 0) {
    if (device.supervisionTimeoutMs === undefined) {
      throw new RangeError(`device ${device.id}: seenAt needs supervisionTimeoutMs`);
    }
    const timeout = positive(device.supervisionTimeoutMs, `device ${device.id} supervisionTimeoutMs`);
    for (const t of seen) {
      const ms = toMs(t, `device ${device.id} seenAt`);
      spans.push([ms, ms + timeout]);
    }
  }
  return normalize(spans);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Split the unwatched time into spans with a constant set of causes. Each
 * cause is a normalised list of intervals inside the period; a span none of
 * them covers is watched and skipped.
 */
function gapsByCause(causes: readonly { cause: GapCause; intervals: Interval[] }[]): CoverageGap[] {
  const edges = [...new Set(causes.flatMap((c) => c.intervals.flat()))].sort((a, b) => a - b);
  const cursors = causes.map(() => 0);
  const gaps: CoverageGap[] = [];
  for (let e = 0; e + 1 < edges.length; e++) {
    const lo = edges[e]!;
    const hi = edges[e + 1]!;
    const active: GapCause[] = [];
    causes.forEach(({ cause, intervals }, c) => {
      // Every edge is an interval end point, so [lo, hi) lies wholly inside or outside each interval.
      while (cursors[c]! < intervals.length && intervals[cursors[c]!]![1] <= lo) cursors[c]!++;
      const current = intervals[cursors[c]!];
      if (current && current[0] <= lo) active.push(cause);
    });
    if (active.length === 0) continue;
    const last = gaps[gaps.length - 1];
    if (last && last.endMs === lo && last.causes.join('\n') === active.join('\n')) {
      last.endMs = hi;
      last.to = iso(hi);
      last.durationMs = hi - last.startMs;
    } else {
      gaps.push({ from: iso(lo), to: iso(hi), startMs: lo, endMs: hi, durationMs: hi - lo, causes: active });
    }
  }
  return gaps;
}

/** Coverage of one bed over `[from, to)`, per local calendar day and in total, with the unwatched gaps. */
export function coverage(input: CoverageInput): CoverageReport {
  const fromMs = toMs(input.from, 'from');
  const toMsValue = toMs(input.to, 'to');
  if (!(toMsValue > fromMs))
    throw new RangeError(`coverage period is empty: ${iso(fromMs)} … ${iso(toMsValue)}`);
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  const ids = input.devices.map((d) => d.id);
  if (new Set(ids).size !== ids.length)
    throw new RangeError(`required devices repeat an id: ${ids.join(', ')}`);

  const gatewayOnline = gatewayOnlineIntervals(input.gateway);
  const devices = [...input.devices]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((d) => ({ id: d.id, reporting: deviceReportingIntervals(d) }));
  const watched = intersectAll([[[fromMs, toMsValue]], gatewayOnline, ...devices.map((d) => d.reporting)]);

  const gatewayOffline = complement(gatewayOnline, fromMs, toMsValue);
  const silent = devices.map((d) => ({ id: d.id, intervals: complement(d.reporting, fromMs, toMsValue) }));
  const gaps = gapsByCause([
    { cause: 'gateway_offline', intervals: gatewayOffline },
    ...silent.map((s) => ({ cause: `device_silent:${s.id}` as GapCause, intervals: s.intervals })),
  ]);

  const within = (list: readonly Interval[], lo: number, hi: number) => total(clip(list, lo, hi));
  const days = localDaysBetween(fromMs, toMsValue, timeZone).map((day): CoverageDay => {
    const lo = Math.max(day.startMs, fromMs);
    const hi = Math.min(day.endMs, toMsValue);
    const periodMs = hi - lo;
    const watchedMs = within(watched, lo, hi);
    return {
      date: day.key,
      from: iso(lo),
      to: iso(hi),
      periodMs,
      watchedMs,
      unwatchedMs: periodMs - watchedMs,
      share: watchedMs / periodMs,
      gatewayOfflineMs: within(gatewayOffline, lo, hi),
      deviceSilentMs: Object.fromEntries(silent.map((s) => [s.id, within(s.intervals, lo, hi)])),
    };
  });

  const periodMs = toMsValue - fromMs;
  const watchedMs = total(watched);
  return {
    from: iso(fromMs),
    to: iso(toMsValue),
    timeZone,
    periodMs,
    watchedMs,
    unwatchedMs: periodMs - watchedMs,
    share: watchedMs / periodMs,
    days,
    gaps,
    watched,
  };
}
