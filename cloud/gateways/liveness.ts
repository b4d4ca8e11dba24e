import { z } from 'zod';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { uuidv7 } from '../../common/ids.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import { type AlarmMessage, SEVERITIES } from '../../contract/index.js';
import { type AlarmStore, CLOUD_RAISED_SEQ, type StoredAlarm } from '../alarms/alarm-store.js';
import type { GatewayPresenceListener } from '../mqtt/gateway-ingress.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import type { GatewayPresence, GatewayRegistry, GatewayStatusReason } from './gateway-registry.js';

/**
 * When the cloud decides a gateway is offline and raises `gateway_offline`
 * (docs/alarm-lifecycle.md). Meant to be mounted into the cloud config as `liveness`.
 */
export const livenessConfigSchema = z
  .object({
    missedHeartbeats: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .describe('A gateway not heard for this many of its heartbeat intervals is offline.'),
    defaultHeartbeatIntervalS: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(30)
      .describe('Heartbeat interval assumed for a gateway whose heartbeat has not said its own yet.'),
    graceS: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(30)
      .describe(
        'A gateway offline for less than this raises nothing (a router reboot, a reconnect): flapping is counted, not alarmed.',
      ),
    checkIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(5_000)
      .describe(
        'How often each relay process looks for gateways gone silent; an alarm comes at most this late.',
      ),
    severity: z
      .enum(SEVERITIES)
      .default('warning')
      .describe(
        'Severity of `gateway_offline`. `warning`: the home is unmonitored, so staff check soon and it escalates; not `critical`, which is kept for a person in danger (an ISP outage would otherwise page supervisors for every home at once).',
      ),
  })
  .prefault({})
  .describe(
    'Gateway liveness: offline on its last will or after missed heartbeats; `gateway_offline` raised after a grace period, cleared when it is heard again.',
  );

export type LivenessConfig = z.output<typeof livenessConfigSchema>;

export interface LivenessEvents {
  /** The cloud raised (and committed) a `gateway_offline` alarm. */
  offlineRaised: StoredAlarm;
  /** The gateway was heard again: the clear that ends its `gateway_offline` alarm. */
  offlineCleared: StoredAlarm;
}

export interface GatewayLivenessOptions {
  db: SqlDatabase;
  alarms: AlarmStore;
  registry: GatewayRegistry;
  config: LivenessConfig;
  clock: Clock;
  logger: Logger;
  counters: Counters;
}

interface LivenessRow {
  id: string;
  bed_id: string | null;
  status: string | null;
  last_seen_at: string;
  heartbeat_interval_ms: number | null;
  offline_alarm_id: string | null;
}

/**
 * Whether each provisioned gateway is alive. Offline when its last will
 * arrives or when nothing is heard for `missedHeartbeats` × its interval;
 * after `graceS` offline the cloud raises `gateway_offline` itself through
 * the alarm store (timeline, escalation), and clears it when the gateway is
 * heard again. All state is in the store (gateways row, status history), and
 * every change is a conditional UPDATE, so several relay processes agree and
 * raise each alarm once; the periodic check also repairs what a crash or a
 * race left half done.
 */
export class GatewayLiveness implements GatewayPresenceListener {
  readonly events: TypedEmitter<LivenessEvents>;
  private startedAtMs: number;
  private timer: TimerHandle | null = null;
  private checking: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly options: GatewayLivenessOptions) {
    this.events = new TypedEmitter((event, err) =>
      options.logger.error({ err, event }, 'liveness listener failed'),
    );
    this.startedAtMs = options.clock.now();
  }

  start(): void {
    if (this.timer) return;
    this.startedAtMs = this.options.clock.now();
    this.timer = this.options.clock.setInterval(() => {
      void this.check();
    }, this.options.config.checkIntervalMs);
    // Offline gateways whose grace ran out while no relay was looking get their alarm now.
    void this.check();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await (this.queued ?? this.checking);
  }

  async onHeartbeat(presence: GatewayPresence, receivedAt: string): Promise<void> {
    await this.heard(presence, receivedAt);
  }

  async onStatus(presence: GatewayPresence, receivedAt: string): Promise<void> {
    if (presence.state === 'online') return this.heard(presence, receivedAt);
    if (presence.change) {
      this.options.logger.warn(
        { gatewayId: presence.gatewayId, reason: presence.change.reason, graceS: this.options.config.graceS },
        'gateway offline; gateway_offline is raised unless it is back within the grace period',
      );
    }
  }

  /**
   * One look at every gateway: time out the silent, raise for those offline
   * past the grace, clear for those back. While a look runs, calls share one
   * follow-up look after it, so each caller's "now" is covered and looks never pile up.
   */
  check(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.checking) return this.launch();
    this.queued = this.checking.then(() => {
      this.queued = null;
      return this.launch();
    });
    return this.queued;
  }

  private launch(): Promise<void> {
    const run = this.checkAll().finally(() => {
      if (this.checking === run) this.checking = null;
    });
    this.checking = run;
    return run;
  }

  private async checkAll(): Promise<void> {
    const { db, logger, counters } = this.options;
    let rows: LivenessRow[];
    try {
      // Only gateways heard at least once: one provisioned but never installed is not "offline".
      rows = await db.all<LivenessRow>(
        `SELECT id, bed_id, status, last_seen_at, heartbeat_interval_ms, offline_alarm_id
           FROM gateways WHERE last_seen_at IS NOT NULL`,
      );
    } catch (err) {
      counters.inc('liveness_check_failures');
      logger.error({ err }, 'gateway liveness check failed; retrying at the next look');
      return;
    }
    for (const row of rows) {
      try {
        await this.checkGateway(row);
      } catch (err) {
        counters.inc('liveness_check_failures');
        logger.error({ err, gatewayId: row.id }, 'gateway liveness check failed; retrying at the next look');
      }
    }
  }

  private async checkGateway(row: LivenessRow): Promise<void> {
    const { config, registry, clock, logger } = this.options;
    const now = clock.now();
    if (row.status !== 'offline') {
      // Back (or never gone) but an alarm still open: a clear that did not happen (a crash, a race).
      if (row.offline_alarm_id) return this.clearOffline(row.id, row.offline_alarm_id, iso(now));
      const intervalMs = row.heartbeat_interval_ms ?? config.defaultHeartbeatIntervalS * 1000;
      // Silence before this process started does not count: a relay that was down heard nothing,
      // and its gateways need time to reconnect before they are judged.
      const deadline =
        Math.max(Date.parse(row.last_seen_at), this.startedAtMs) + config.missedHeartbeats * intervalMs;
      if (now < deadline) return;
      const change = await registry.markTimedOut(row.id, row.last_seen_at, iso(deadline));
      if (!change) return;
      logger.warn(
        {
          gatewayId: row.id,
          lastSeenAt: row.last_seen_at,
          missedHeartbeats: config.missedHeartbeats,
          intervalMs,
        },
        'gateway missed its heartbeats: offline',
      );
      return this.raiseWhenGraceIsOver(row, change.at, change.reason, now);
    }
    if (row.offline_alarm_id) return;
    const [latest] = await registry.statusHistory(row.id, 1);
    const went =
      latest?.state === 'offline'
        ? { at: latest.at, reason: latest.reason }
        : { at: row.last_seen_at, reason: 'status' as const };
    return this.raiseWhenGraceIsOver(row, went.at, went.reason, now);
  }

  private async raiseWhenGraceIsOver(
    row: LivenessRow,
    offlineSince: string,
    reason: GatewayStatusReason,
    now: number,
  ): Promise<void> {
    if (now < Date.parse(offlineSince) + this.options.config.graceS * 1000) return;
    const { alarms, config, counters, logger } = this.options;
    const alarm: AlarmMessage = {
      v: 1,
      id: uuidv7(now),
      gatewayId: row.id,
      // Unlinked gateways have no bed yet: the gateway id stands in, so the alarm is still shown.
      bedId: row.bed_id ?? row.id,
      seq: CLOUD_RAISED_SEQ,
      type: 'gateway_offline',
      severity: config.severity,
      state: 'raised',
      at: offlineSince,
      deviceId: row.id,
      evidence: [{ deviceId: row.id, kind: 'last_seen', at: row.last_seen_at }],
      message: `Gateway ${row.id} offline since ${offlineSince} (${REASON_TEXT[reason]}); last heard ${row.last_seen_at}.`,
    };
    // The claim and the alarm commit together: one relay process raises it, and a crash leaves neither.
    const claim = async (tx: SqlExecutor) =>
      (
        await tx.run(
          `UPDATE gateways SET offline_alarm_id = ?
            WHERE id = ? AND status = 'offline' AND offline_alarm_id IS NULL`,
          [alarm.id, row.id],
        )
      ).changes === 1;
    const { inserted } = await alarms.ingest(alarm, iso(now), { guard: claim });
    if (!inserted) return;
    counters.inc('gateway_offline_raised');
    logger.warn(
      {
        alarmId: alarm.id,
        gatewayId: row.id,
        bedId: alarm.bedId,
        offlineSince,
        reason,
        severity: alarm.severity,
      },
      'gateway offline: gateway_offline raised',
    );
    const stored = await alarms.get(alarm.id);
    if (stored) this.events.emit('offlineRaised', stored);
  }

  /** The gateway was heard: end its offline alarm, or count a flap the grace absorbed. */
  private async heard(presence: GatewayPresence, at: string): Promise<void> {
    if (!presence.provisioned) return;
    if (presence.offlineAlarmId) return this.clearOffline(presence.gatewayId, presence.offlineAlarmId, at);
    if (presence.change?.state === 'online' && presence.previous?.state === 'offline') {
      this.options.counters.inc('gateway_flaps_suppressed');
      this.options.logger.info(
        {
          gatewayId: presence.gatewayId,
          offlineForS: Math.round((Date.parse(at) - Date.parse(presence.previous.at)) / 1000),
          reason: presence.previous.reason,
        },
        'gateway back before its offline alarm was raised: flap suppressed',
      );
    }
  }

  private async clearOffline(gatewayId: string, offlineAlarmId: string, heardAt: string): Promise<void> {
    const { alarms, config, clock, counters, logger } = this.options;
    const raised = await alarms.get(offlineAlarmId);
    const now = clock.now();
    const cleared: AlarmMessage = {
      v: 1,
      id: uuidv7(now),
      gatewayId,
      bedId: raised?.bedId ?? gatewayId,
      seq: CLOUD_RAISED_SEQ,
      type: 'gateway_offline',
      severity: raised?.severity ?? config.severity,
      state: 'cleared',
      at: heardAt,
      deviceId: gatewayId,
      refersTo: offlineAlarmId,
      evidence: [{ deviceId: gatewayId, kind: 'last_seen', at: heardAt }],
      message: `Gateway ${gatewayId} heard again at ${heardAt}.`,
    };
    // Only the process that empties offline_alarm_id files the clear: one clear per alarm.
    const release = async (tx: SqlExecutor) =>
      (
        await tx.run(`UPDATE gateways SET offline_alarm_id = NULL WHERE id = ? AND offline_alarm_id = ?`, [
          gatewayId,
          offlineAlarmId,
        ])
      ).changes === 1;
    const { inserted } = await alarms.ingest(cleared, iso(now), { guard: release });
    if (!inserted) return;
    counters.inc('gateway_offline_cleared');
    logger.info(
      { alarmId: cleared.id, refersTo: offlineAlarmId, gatewayId },
      'gateway back: gateway_offline cleared',
    );
    const stored = await alarms.get(cleared.id);
    if (stored) this.events.emit('offlineCleared', stored);
  }
}

const REASON_TEXT: Record<GatewayStatusReason, string> = {
  last_will: 'its connection dropped: last will',
  heartbeat_timeout: 'missed heartbeats',
  status: 'it said offline',
  heartbeat: 'heartbeat',
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
