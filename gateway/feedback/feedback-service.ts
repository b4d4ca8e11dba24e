import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { AckMessage, AlarmMessage, Severity } from '../../contract/index.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { AcknowledgedAlarm, ResidentNotifier } from './resident-notifier.js';

/** What the service needs to know about an alarm to decide whether to announce it. */
export interface AlarmInfo {
  type: string;
  severity: Severity;
  deviceId?: string;
}

export interface FeedbackServiceOptions {
  /** Limit for one output that declares none; default 5 000 ms. */
  timeoutMs: number;
  /** Announce only alarms of these severities; default critical and warning. */
  severities: readonly Severity[];
  /** Acknowledgements older than this on arrival are not announced; default 10 min. */
  maxAckAgeMs: number;
}

export const DEFAULT_FEEDBACK_OPTIONS: FeedbackServiceOptions = {
  timeoutMs: 5_000,
  severities: ['critical', 'warning'],
  maxAckAgeMs: 600_000,
};

export interface FeedbackServiceDeps {
  bus: TypedEmitter<GatewayEvents>;
  /** The gateway's store: the alarms already announced are kept there, so a restart never repeats one. */
  db: SqliteDatabase;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  notifiers: readonly ResidentNotifier[];
  /**
   * Finds an alarm this gateway raised before the service last started (the
   * ack can come after a restart), e.g. `(id) => outbox.get(id)?.message ?? null`.
   * Alarms raised while running are known from `alarmCommitted`.
   */
  lookupAlarm?: (alarmId: string) => AlarmInfo | null;
}

/** Alarms remembered from `alarmCommitted`; beyond this the oldest are forgotten (the lookup finds them). */
const REMEMBERED_ALARMS = 1_000;
/** Rows of `feedback_notified` older than this are pruned at start (acks never come that late). */
const KEEP_NOTIFIED_MS = 30 * 24 * 3600_000;

/**
 * Tells the resident that help is coming when a person at the monitoring
 * centre acknowledges one of this gateway's alarms (`alarmAck` with status
 * `acknowledged`): every configured output is called at once, each within
 * its own timeout, at most once per alarm id (persisted, so a redelivered
 * ack after a restart stays silent). Failures and timeouts are logged and
 * counted (`feedback_failures{notifier}`); successes count
 * `feedback_notified{notifier}`; acks that are not announced count
 * `feedback_skipped{reason}` (`status`, `severity`, `stale`, `duplicate`).
 * Nothing here blocks the bus: the listener only starts the work.
 */
export class FeedbackService {
  private offs: (() => void)[] = [];
  private readonly alarms = new Map<string, AlarmInfo>();
  private readonly inFlight = new Set<{ promise: Promise<void>; cancel: () => void }>();
  private stopped = true;

  constructor(
    private readonly deps: FeedbackServiceDeps,
    private readonly options: FeedbackServiceOptions = DEFAULT_FEEDBACK_OPTIONS,
  ) {}

  start(): void {
    const { db, bus, clock } = this.deps;
    db.exec(
      `CREATE TABLE IF NOT EXISTS feedback_notified (alarm_id TEXT PRIMARY KEY, notified_at_ms INTEGER NOT NULL)`,
    );
    db.prepare(`DELETE FROM feedback_notified WHERE notified_at_ms < ?`).run(clock.now() - KEEP_NOTIFIED_MS);
    this.stopped = false;
    this.offs.push(
      bus.on('alarmCommitted', (alarm) => this.remember(alarm)),
      bus.on('alarmAck', (ack) => this.onAck(ack)),
    );
  }

  /** Stop listening and abandon outputs still running (a sound player is killed). */
  stop(): void {
    this.stopped = true;
    for (const off of this.offs) off();
    this.offs = [];
    for (const call of [...this.inFlight]) call.cancel();
  }

  /** Resolves when every output started so far has finished or been abandoned (tests, orderly shutdown). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight].map((c) => c.promise));
  }

  private remember(alarm: AlarmMessage): void {
    if (alarm.state !== 'raised') return;
    this.alarms.set(alarm.id, {
      type: alarm.type,
      severity: alarm.severity,
      ...(alarm.deviceId ? { deviceId: alarm.deviceId } : {}),
    });
    if (this.alarms.size > REMEMBERED_ALARMS) {
      const oldest = this.alarms.keys().next().value;
      if (oldest !== undefined) this.alarms.delete(oldest);
    }
  }

  private skip(reason: string, ack: AckMessage, extra: Record<string, unknown> = {}): void {
    this.deps.counters.inc('feedback_skipped', { reason });
    this.deps.logger.debug({ alarmId: ack.alarmId, reason, ...extra }, 'acknowledgement not announced');
  }

  private onAck(ack: AckMessage): void {
    if (ack.status !== 'acknowledged') return;
    const { clock, logger, db } = this.deps;
    const ageMs = clock.now() - Date.parse(ack.at);
    if (ageMs > this.options.maxAckAgeMs) {
      this.skip('stale', ack, { ageS: Math.round(ageMs / 1000) });
      return;
    }
    let info = this.alarms.get(ack.alarmId) ?? null;
    if (!info && this.deps.lookupAlarm) {
      try {
        info = this.deps.lookupAlarm(ack.alarmId);
      } catch (err) {
        logger.warn({ alarmId: ack.alarmId, err: errorMessage(err) }, 'alarm lookup failed');
      }
    }
    // An unknown alarm is still announced: a missed reassurance in an emergency costs more than a
    // stray chime.
    if (info && !this.options.severities.includes(info.severity)) {
      this.skip('severity', ack, { severity: info.severity });
      return;
    }
    const inserted = db
      .prepare(`INSERT OR IGNORE INTO feedback_notified (alarm_id, notified_at_ms) VALUES (?, ?)`)
      .run(ack.alarmId, clock.now());
    if (inserted.changes === 0) {
      this.skip('duplicate', ack);
      return;
    }
    const alarm: AcknowledgedAlarm = {
      alarmId: ack.alarmId,
      type: info?.type ?? 'unknown',
      ...(info?.deviceId ? { deviceId: info.deviceId } : {}),
    };
    logger.info(
      { alarmId: alarm.alarmId, type: alarm.type, by: ack.by },
      'alarm acknowledged: telling the resident',
    );
    for (const notifier of this.deps.notifiers) this.call(notifier, alarm);
  }

  /** One output, bounded by its timeout; never rejects, never throws. */
  private call(notifier: ResidentNotifier, alarm: AcknowledgedAlarm): void {
    const { clock, counters, logger } = this.deps;
    const labels = { notifier: notifier.name };
    const timeoutMs = notifier.timeoutMs ?? this.options.timeoutMs;
    const controller = new AbortController();
    let settled = false;
    let settle: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry = {
      promise,
      cancel: () => finish(null, true),
    };
    const timer = clock.setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs} ms; abandoned`), false),
      timeoutMs,
    );
    const finish = (err: Error | null, cancelled: boolean) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      this.inFlight.delete(entry);
      if (err || cancelled) controller.abort();
      if (cancelled) {
        // Stopping: neither a success nor the output's fault.
      } else if (err) {
        counters.inc('feedback_failures', labels);
        logger.warn(
          { notifier: notifier.name, alarmId: alarm.alarmId, err: err.message },
          'resident feedback failed',
        );
      } else {
        counters.inc('feedback_notified', labels);
        logger.debug({ notifier: notifier.name, alarmId: alarm.alarmId }, 'resident feedback given');
      }
      settle();
    };
    this.inFlight.add(entry);
    let result: Promise<void>;
    try {
      result = notifier.helpIsComing(alarm, controller.signal);
    } catch (err) {
      result = Promise.reject(err);
    }
    void result.then(
      () => finish(null, this.stopped),
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err)), this.stopped),
    );
  }
}
