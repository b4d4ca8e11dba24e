import { num, type SqlDatabase, type SqlValue } from '../store/sql-database.js';
import { type CoverageInput, type CoverageReport, coverage, type GatewayStatusChange } from './coverage.js';
import { type CoveragePeriod, coveragePeriods, sumCoveragePeriods } from './coverage-periods.js';
import {
  type HeartbeatDevice,
  type HeartbeatSample,
  requiredDevicesFromHeartbeats,
} from './heartbeat-devices.js';
import { DEFAULT_TIME_ZONE, type Instant, type PeriodKind, toMs } from './periods.js';
import { type RangeBound, resolveRange } from './range.js';
import {
  type AlarmForStats,
  groupBy,
  type ResponseTimeGroup,
  type ResponseTimeReport,
  responseTimes,
  responseTimesByPeriod,
} from './response-times.js';

/**
 * Reads the relay's store for the statistics and runs the pure functions of
 * this folder over it. Read-only: the alarm, gateway and people code fill the
 * tables. Reports name beds and organisations by id only; the beds table's
 * names, addresses and contacts are never selected.
 */

/** Which beds a report covers: every organisation when `organisationId` is absent; all its beds unless `bedIds`. */
export interface StatsScope {
  organisationId?: string;
  bedIds?: readonly string[];
}

export interface StatsReportQuery {
  scope: StatsScope;
  /** Local dates (`YYYY-MM-DD`, in each organisation's zone; `to` included) or instants with offset (`to` excluded). */
  from: RangeBound;
  to: RangeBound;
  period: PeriodKind;
  /** The instant the report is as of: later acknowledgements do not count, coverage stops here. */
  now: Instant;
}

/** A bed's coverage with its days also summed per report period. */
export type BedCoverageStats = CoverageReport & { periods: CoveragePeriod[] };

export interface BedStats {
  bedId: string;
  /** The gateway now assigned to the bed (its history is the bed's), or null when none is. */
  gatewayId: string | null;
  responseTimes: ResponseTimeReport;
  /** Per local period of receipt; only periods with an alarm appear. */
  periods: ResponseTimeGroup[];
  /** Null without a gateway, or when the range starts after `now`. */
  coverage: BedCoverageStats | null;
}

export interface OrganisationStats {
  organisationId: string;
  timeZone: string;
  /** The range resolved in the organisation's zone, ISO instants `[from, to)`. */
  from: string;
  to: string;
  responseTimes: ResponseTimeReport;
  periods: ResponseTimeGroup[];
  /** Summed over the beds that have coverage (the others are left out, not counted as unwatched). */
  coverage: {
    beds: number;
    periodMs: number;
    watchedMs: number;
    share: number | null;
    periods: CoveragePeriod[];
  };
  beds: BedStats[];
}

export interface StatsReport {
  from: RangeBound;
  to: RangeBound;
  period: PeriodKind;
  now: string;
  organisations: OrganisationStats[];
}

export interface StatsSourceOptions {
  /**
   * How far before a coverage period the gateway's history is read, so the
   * state at its start is known: 25 h, the longest device timeout (a button
   * heard 24 h before midnight still counts at midnight).
   */
  lookbackMs?: number;
  /** Heartbeat intervals of silence after which the gateway counts as gone. Default 3 (as the relay). */
  missedHeartbeats?: number;
  /** For `online` statuses of a gateway whose row has no interval and that sent no heartbeat: the gateway's default, 30 s. */
  defaultHeartbeatIntervalMs?: number;
}

/** A bed's coverage input, with the gateway it was read from. */
export type BedCoverageInput = CoverageInput & { bedId: string; gatewayId: string };

/**
 * Times are ISO 8601 text in the store, compared as text in SQL. Text order
 * is time order only for one format (UTC, milliseconds), and the rows come
 * from several writers; so SQL selects this much more on both sides and the
 * exact bounds are applied to the parsed times.
 */
const TEXT_MARGIN_MS = 86_400_000;

interface AlarmRow {
  id: string;
  bed_id: string;
  type: string;
  severity: string;
  state: string;
  received_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  outcome: string | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

function toAlarm(r: AlarmRow): AlarmForStats {
  return {
    id: r.id,
    bedId: r.bed_id,
    type: r.type as AlarmForStats['type'],
    severity: r.severity as AlarmForStats['severity'],
    state: r.state as AlarmForStats['state'],
    receivedAt: r.received_at,
    ...(r.acknowledged_at ? { acknowledgedAt: r.acknowledged_at } : {}),
    ...(r.resolved_at ? { resolvedAt: r.resolved_at } : {}),
    ...(r.outcome ? { outcome: r.outcome as NonNullable<AlarmForStats['outcome']> } : {}),
  };
}

/** Device list of a stored heartbeat; entries without an id and a kind are skipped (nothing to require). */
function parseDevices(text: string): HeartbeatDevice[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((d): HeartbeatDevice[] => {
    if (typeof d !== 'object' || d === null) return [];
    const { id, kind, lastSeenAt } = d as Record<string, unknown>;
    if (typeof id !== 'string' || typeof kind !== 'string') return [];
    return [{ id, kind, ...(typeof lastSeenAt === 'string' ? { lastSeenAt } : {}) }];
  });
}

export class StatsSource {
  private readonly lookbackMs: number;
  private readonly missedHeartbeats: number;
  private readonly defaultHeartbeatIntervalMs: number;

  constructor(
    private readonly db: SqlDatabase,
    options: StatsSourceOptions = {},
  ) {
    this.lookbackMs = options.lookbackMs ?? 25 * 3600_000;
    this.missedHeartbeats = options.missedHeartbeats ?? 3;
    this.defaultHeartbeatIntervalMs = options.defaultHeartbeatIntervalMs ?? 30_000;
  }

  /**
   * Raised alarms received in `[from, to)`, oldest first, of beds registered
   * in the beds table (of one organisation, and of some beds, when asked).
   * Alarms of a bed id nobody registered belong to no organisation and are left out.
   */
  async alarmsFor(q: {
    organisationId?: string;
    bedIds?: readonly string[];
    from: Instant;
    to: Instant;
  }): Promise<AlarmForStats[]> {
    const fromMs = toMs(q.from, 'from');
    const toMsValue = toMs(q.to, 'to');
    if (q.bedIds && q.bedIds.length === 0) return [];
    const where = [`a.state = 'raised'`, 'a.received_at >= ?', 'a.received_at < ?'];
    const params: SqlValue[] = [iso(fromMs - TEXT_MARGIN_MS), iso(toMsValue + TEXT_MARGIN_MS)];
    if (q.organisationId !== undefined) {
      where.push('b.organisation_id = ?');
      params.push(q.organisationId);
    }
    if (q.bedIds) {
      where.push(`a.bed_id IN (${placeholders(q.bedIds.length)})`);
      params.push(...q.bedIds);
    }
    const rows = await this.db.all<AlarmRow>(
      `SELECT a.id, a.bed_id, a.type, a.severity, a.state, a.received_at, a.acknowledged_at, a.resolved_at, a.outcome
       FROM alarms a JOIN beds b ON b.id = a.bed_id
       WHERE ${where.join(' AND ')}
       ORDER BY a.received_at, a.id`,
      params,
    );
    // Ordered again by the parsed time: text order is not time order across formats.
    return rows
      .map((r) => ({ row: r, ms: toMs(r.received_at, `alarm ${r.id} received_at`) }))
      .filter(({ ms }) => ms >= fromMs && ms < toMsValue)
      .sort((a, b) => a.ms - b.ms || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0))
      .map(({ row }) => toAlarm(row));
  }

  /**
   * What `coverage()` needs for one bed over `[from, to)`: the statuses and
   * heartbeats of the bed's gateway from `from − lookback` to `to`, the
   * devices its heartbeats list (see heartbeat-devices.ts), and the zone of
   * the bed's organisation. Null when the bed is unknown or has no gateway.
   * A bed with several gateways rows (a replaced box) is read from the one
   * created last.
   */
  async coverageInputFor(bedId: string, from: Instant, to: Instant): Promise<BedCoverageInput | null> {
    const fromMs = toMs(from, 'from');
    const toMsValue = toMs(to, 'to');
    const bed = await this.db.get<{ time_zone: string }>(
      `SELECT o.time_zone FROM beds b JOIN organisations o ON o.id = b.organisation_id WHERE b.id = ?`,
      [bedId],
    );
    if (!bed) return null;
    const gateway = await this.db.get<{ id: string; heartbeat_interval_ms: unknown }>(
      `SELECT id, heartbeat_interval_ms FROM gateways WHERE bed_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
      [bedId],
    );
    if (!gateway) return null;

    const lo = fromMs - this.lookbackMs;
    const inWindow = (at: string) => {
      const t = Date.parse(at);
      return Number.isFinite(t) && t >= lo && t < toMsValue;
    };
    const sqlBounds = [gateway.id, iso(lo - TEXT_MARGIN_MS), iso(toMsValue + TEXT_MARGIN_MS)];
    const statusRows = await this.db.all<{ state: string; at: string }>(
      `SELECT state, at FROM gateway_status_history WHERE gateway_id = ? AND at >= ? AND at < ? ORDER BY at, id`,
      sqlBounds,
    );
    const heartbeatRows = await this.db.all<{ at: string; interval_ms: unknown; devices: string }>(
      `SELECT at, interval_ms, devices FROM gateway_heartbeats WHERE gateway_id = ? AND at >= ? AND at < ? ORDER BY at`,
      sqlBounds,
    );

    const statuses: GatewayStatusChange[] = statusRows
      .filter((r) => inWindow(r.at) && (r.state === 'online' || r.state === 'offline'))
      .map((r) => ({ at: r.at, state: r.state as GatewayStatusChange['state'] }));
    const samples: HeartbeatSample[] = heartbeatRows
      .filter((r) => inWindow(r.at) && num(r.interval_ms) > 0)
      .map((r) => ({
        atMs: Date.parse(r.at),
        intervalMs: num(r.interval_ms),
        devices: parseDevices(r.devices),
      }));
    const rowInterval =
      gateway.heartbeat_interval_ms === null ? Number.NaN : num(gateway.heartbeat_interval_ms);
    const lastInterval = samples[samples.length - 1]?.intervalMs;
    const heartbeatIntervalMs =
      rowInterval > 0 ? rowInterval : (lastInterval ?? this.defaultHeartbeatIntervalMs);

    return {
      bedId,
      gatewayId: gateway.id,
      from: iso(fromMs),
      to: iso(toMsValue),
      timeZone: bed.time_zone || DEFAULT_TIME_ZONE,
      gateway: {
        statuses,
        heartbeats: samples.map((s) => ({ at: s.atMs, intervalMs: s.intervalMs })),
        heartbeatIntervalMs,
        missedHeartbeats: this.missedHeartbeats,
      },
      devices: requiredDevicesFromHeartbeats(samples, { missedHeartbeats: this.missedHeartbeats }),
    };
  }

  /**
   * Response times and coverage per organisation and per bed. Each
   * organisation's range is resolved in its own zone; coverage runs to the
   * earlier of `to` and `now`. Beds are read one at a time: a bed's heartbeats
   * over a year are many rows.
   */
  async report(q: StatsReportQuery): Promise<StatsReport> {
    const nowMs = toMs(q.now, 'now');
    const organisations: OrganisationStats[] = [];
    for (const org of await this.organisations(q.scope.organisationId)) {
      const bedIds = await this.bedsOf(org.id, q.scope.bedIds);
      // Asked for some beds: an organisation holding none of them is not part of the answer.
      if (q.scope.bedIds && bedIds.length === 0) continue;
      organisations.push(await this.organisationReport(org, bedIds, q, nowMs));
    }
    return { from: q.from, to: q.to, period: q.period, now: iso(nowMs), organisations };
  }

  private async organisations(id?: string): Promise<{ id: string; timeZone: string }[]> {
    const rows = await this.db.all<{ id: string; time_zone: string }>(
      id === undefined
        ? `SELECT id, time_zone FROM organisations ORDER BY id`
        : `SELECT id, time_zone FROM organisations WHERE id = ?`,
      id === undefined ? [] : [id],
    );
    return rows.map((r) => ({ id: r.id, timeZone: r.time_zone || DEFAULT_TIME_ZONE }));
  }

  private async bedsOf(organisationId: string, only?: readonly string[]): Promise<string[]> {
    if (only && only.length === 0) return [];
    const rows = await this.db.all<{ id: string }>(
      only
        ? `SELECT id FROM beds WHERE organisation_id = ? AND id IN (${placeholders(only.length)}) ORDER BY id`
        : `SELECT id FROM beds WHERE organisation_id = ? ORDER BY id`,
      [organisationId, ...(only ?? [])],
    );
    return rows.map((r) => r.id);
  }

  private async organisationReport(
    org: { id: string; timeZone: string },
    bedIds: readonly string[],
    q: StatsReportQuery,
    nowMs: number,
  ): Promise<OrganisationStats> {
    const { fromMs, toMs: toMsValue } = resolveRange(q.from, q.to, org.timeZone);
    const options = { now: nowMs, timeZone: org.timeZone };
    const alarms = await this.alarmsFor({
      organisationId: org.id,
      ...(q.scope.bedIds ? { bedIds } : {}),
      from: fromMs,
      to: toMsValue,
    });
    const alarmsByBed = groupBy(alarms, (a) => a.bedId);
    const coverTo = Math.min(toMsValue, nowMs);

    const beds: BedStats[] = [];
    for (const bedId of bedIds) {
      const own = alarmsByBed.get(bedId) ?? [];
      const input = coverTo > fromMs ? await this.coverageInputFor(bedId, fromMs, coverTo) : null;
      let bedCoverage: BedCoverageStats | null = null;
      if (input) {
        const report = coverage(input);
        bedCoverage = { ...report, periods: coveragePeriods(report.days, q.period, report.timeZone) };
      }
      beds.push({
        bedId,
        gatewayId: input?.gatewayId ?? null,
        responseTimes: responseTimes(own, options),
        periods: responseTimesByPeriod(own, q.period, options),
        coverage: bedCoverage,
      });
    }

    const covered = beds.flatMap((b) => (b.coverage ? [b.coverage] : []));
    const periodMs = covered.reduce((sum, c) => sum + c.periodMs, 0);
    const watchedMs = covered.reduce((sum, c) => sum + c.watchedMs, 0);
    return {
      organisationId: org.id,
      timeZone: org.timeZone,
      from: iso(fromMs),
      to: iso(toMsValue),
      responseTimes: responseTimes(alarms, options),
      periods: responseTimesByPeriod(alarms, q.period, options),
      coverage: {
        beds: covered.length,
        periodMs,
        watchedMs,
        share: periodMs === 0 ? null : watchedMs / periodMs,
        periods: sumCoveragePeriods(covered.map((c) => c.periods)),
      },
      beds,
    };
  }
}
