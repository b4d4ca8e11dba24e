import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { SEVERITIES } from '../../contract/index.js';
import type { StoredAlarm } from '../alarms/alarm-store.js';
import { type AlarmRow, toStoredAlarm } from '../alarms/sql-alarm-store.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { BedEventRepository } from './bed-events.js';
import type { VitalsSource } from './vitals-source.js';

/** An in-bed reading older than this says nothing about now. */
export const IN_BED_READING_MAX_AGE_MS = 10 * 60_000;
/** How many of the bed's raised alarms the status lists. */
export const RECENT_ALARMS = 10;

export type BedNowState = 'alarm' | 'in_bed' | 'out_of_bed' | 'unknown';

export interface BedActiveAlarm {
  id: string;
  type: StoredAlarm['type'];
  severity: StoredAlarm['severity'];
  receivedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

export interface BedRecentAlarm extends BedActiveAlarm {
  resolvedAt: string | null;
  resolvedBy: string | null;
  outcome: StoredAlarm['outcome'] | null;
}

/** What a bed's page shows at the top: how the resident is now, last night, recent alarms, the gateway. */
export interface BedStatus {
  bedId: string;
  now: {
    state: BedNowState;
    /** When the state began, when known. */
    since: string | null;
    /** With `alarm`: the most severe unresolved raised alarm (the newest of equals). */
    activeAlarm: BedActiveAlarm | null;
  };
  /** The newest daily summary's fields (contract/events.ts) and its `at`; null before the first. */
  lastNight: (Record<string, unknown> & { at: string }) | null;
  /** The bed's last raised alarms, newest first (by receipt). */
  recentAlarms: BedRecentAlarm[];
  /** The gateway on the bed; null when it has none. */
  gateway: { id: string; status: 'online' | 'offline' | null; lastSeenAt: string | null } | null;
}

export interface BedStatusDependencies {
  db: SqlDatabase;
  events: BedEventRepository;
  /** InfluxDB, when configured: its in-bed readings count next to the bed exit/return events. */
  vitals: VitalsSource | null;
  clock: Clock;
  logger: Logger;
}

function activeAlarmOf(a: StoredAlarm): BedActiveAlarm {
  return {
    id: a.id,
    type: a.type,
    severity: a.severity,
    receivedAt: a.receivedAt,
    acknowledgedAt: a.acknowledgedAt ?? null,
    acknowledgedBy: a.acknowledgedBy ?? null,
  };
}

function recentAlarmOf(a: StoredAlarm): BedRecentAlarm {
  return {
    ...activeAlarmOf(a),
    resolvedAt: a.resolvedAt ?? null,
    resolvedBy: a.resolvedBy ?? null,
    outcome: a.outcome ?? null,
  };
}

const severityRank = (a: StoredAlarm) => SEVERITIES.indexOf(a.severity);

/** One bed's status, from the store (alarms, events, gateway) and InfluxDB when there is one. */
export class BedStatusSource {
  constructor(private readonly deps: BedStatusDependencies) {}

  async status(bedId: string): Promise<BedStatus> {
    const { db, events } = this.deps;
    const [open, recent, gatewayRow, summary] = await Promise.all([
      db.all<AlarmRow>(
        // An installer's test alarm is not something happening to the resident: the family's "now" ignores it.
        `SELECT * FROM alarms WHERE bed_id = ? AND state = 'raised' AND resolved_at IS NULL AND type <> 'test_alarm'
          ORDER BY received_at DESC, id DESC LIMIT 100`,
        [bedId],
      ),
      db.all<AlarmRow>(
        `SELECT * FROM alarms WHERE bed_id = ? AND state = 'raised' ORDER BY received_at DESC, id DESC LIMIT ?`,
        [bedId, RECENT_ALARMS],
      ),
      db.get<{ id: string; status: string | null; last_seen_at: string | null }>(
        `SELECT id, status, last_seen_at FROM gateways WHERE bed_id = ? ORDER BY id LIMIT 1`,
        [bedId],
      ),
      events.latest(bedId, ['daily_summary']),
    ]);
    const gateway = gatewayRow
      ? {
          id: gatewayRow.id,
          status: (gatewayRow.status as 'online' | 'offline' | null) ?? null,
          lastSeenAt: gatewayRow.last_seen_at,
        }
      : null;
    // Rows come newest first; a stable sort keeps that order among equal severities.
    const active = open.map(toStoredAlarm).sort((a, b) => severityRank(a) - severityRank(b))[0];
    const now: BedStatus['now'] = active
      ? { state: 'alarm', since: active.receivedAt, activeAlarm: activeAlarmOf(active) }
      : { ...(await this.presence(bedId, gateway?.status ?? null)), activeAlarm: null };
    return {
      bedId,
      now,
      lastNight: summary ? { ...summary.detail, at: summary.at } : null,
      recentAlarms: recent.map(toStoredAlarm).map(recentAlarmOf),
      gateway,
    };
  }

  /**
   * In or out of bed: the newer of the last bed exit/return event and the
   * last in-bed reading of the past 10 minutes. Events mark transitions, so
   * they stay true however old, except while the gateway is offline (the
   * resident may have moved unseen; its queued events arrive on reconnect).
   */
  private async presence(
    bedId: string,
    gatewayStatus: 'online' | 'offline' | null,
  ): Promise<{ state: BedNowState; since: string | null }> {
    const event =
      gatewayStatus === 'offline' ? null : await this.deps.events.latest(bedId, ['bed_exit', 'bed_return']);
    const fromEvent = event
      ? {
          state: event.kind === 'bed_return' ? ('in_bed' as const) : ('out_of_bed' as const),
          since: event.at,
        }
      : null;
    const reading = await this.reading(bedId);
    if (!reading) return fromEvent ?? { state: 'unknown', since: null };
    const fromReading = { state: reading.inBed ? ('in_bed' as const) : ('out_of_bed' as const) };
    if (!fromEvent) return { ...fromReading, since: reading.since };
    if (fromEvent.state === fromReading.state) {
      // They agree: the run began at the later of the two starts (a flip the events missed would be later).
      const since = reading.since && reading.since > fromEvent.since ? reading.since : fromEvent.since;
      return { state: fromEvent.state, since };
    }
    return reading.at > fromEvent.since ? { ...fromReading, since: reading.since } : fromEvent;
  }

  /** The last in-bed reading, if InfluxDB is configured and answers; its failure leaves the events to speak. */
  private async reading(bedId: string) {
    const vitals = this.deps.vitals;
    if (!vitals) return null;
    try {
      return await vitals.latestInBed(bedId, this.deps.clock.now(), IN_BED_READING_MAX_AGE_MS);
    } catch (err) {
      this.deps.logger.warn({ bedId, err: (err as Error).message }, 'in-bed reading unavailable');
      return null;
    }
  }
}
