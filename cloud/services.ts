import type { Clock, TimerHandle } from '../common/clock.js';
import type { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import type { ChangeAnnouncer } from './alarms/alarm-events.js';
import { AlarmTimeline, SYSTEM_ACTOR, timelineEvent } from './alarms/alarm-timeline.js';
import { SqlAlarmStore } from './alarms/sql-alarm-store.js';
import { BedEventRepository } from './beds/bed-events.js';
import { BedStatusSource } from './beds/bed-status.js';
import { VitalsSource } from './beds/vitals-source.js';
import type { CloudConfig } from './config/schema.js';
import { EscalationStore } from './escalation/escalation-store.js';
import { Escalator } from './escalation/escalator.js';
import type { ChangeFeed } from './events/change-feed.js';
import { GatewayRegistry } from './gateways/gateway-registry.js';
import { GatewayLiveness } from './gateways/liveness.js';
import { AlarmNotifier } from './notifications/alarm-notifier.js';
import { NotificationDispatcher } from './notifications/delivery-queue.js';
import type { DeliveryRecord } from './notifications/delivery-store.js';
import type { NotificationChannel } from './notifications/notification.js';
import { type PhoneProvider, SmsChannel, VoiceChannel } from './notifications/phone-channel.js';
import { SqlDeliveryStore } from './notifications/sql-delivery-store.js';
import { WebhookChannel } from './notifications/webhook-channel.js';
import { AuditLog } from './people/audit-log.js';
import { BedRepository } from './people/beds.js';
import { LoginLimiter } from './people/login-limiter.js';
import { OrganisationRepository } from './people/organisations.js';
import { SessionStore } from './people/sessions.js';
import { UserRepository } from './people/users.js';
import { StatsSource } from './stats/stats-source.js';
import type { SqlDatabase } from './store/sql-database.js';

const HOUSEKEEPING_INTERVAL_MS = 3600_000;
/** Statistics cover at most 366 days (plus a day of look-back): heartbeats are kept a little longer. */
const HEARTBEAT_RETENTION_MS = 400 * 24 * 3600_000;

export interface ServiceDependencies {
  db: SqlDatabase;
  config: CloudConfig;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  feed: ChangeFeed;
  /** Where SMS and calls go; the relay logs them when no vendor adapter is configured. */
  phone: PhoneProvider;
}

/**
 * Everything the relay keeps in its store, and the workers that act on it
 * (escalator, liveness, notification dispatcher), built once over one
 * database. MQTT and HTTP sit on top (relay.ts, http/http-server.ts).
 */
export class CloudServices {
  readonly alarms: SqlAlarmStore;
  readonly timeline: AlarmTimeline;
  readonly escalations: EscalationStore;
  readonly escalator: Escalator;
  readonly gateways: GatewayRegistry;
  readonly liveness: GatewayLiveness;
  readonly deliveries: SqlDeliveryStore;
  readonly dispatcher: NotificationDispatcher;
  readonly notifier: AlarmNotifier;
  readonly organisations: OrganisationRepository;
  readonly beds: BedRepository;
  readonly users: UserRepository;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  readonly audit: AuditLog;
  readonly stats: StatsSource;
  /** The gateways' non-alarm events, by bed. */
  readonly bedEvents: BedEventRepository;
  /** The configured InfluxDB's readings; null without `influx`. */
  readonly vitals: VitalsSource | null;
  readonly bedStatus: BedStatusSource;
  private readonly announcer: ChangeAnnouncer;
  private housekeeping: TimerHandle | null = null;

  constructor(private readonly deps: ServiceDependencies) {
    const { db, config, clock, logger, counters, feed } = deps;
    this.announcer = feed;
    this.timeline = new AlarmTimeline(db);
    this.escalations = new EscalationStore(db, config.escalation);
    this.alarms = new SqlAlarmStore(db, {
      announcer: feed,
      escalations: this.escalations,
      logger: logger.child({ component: 'alarms' }),
    });
    this.gateways = new GatewayRegistry(db);
    this.organisations = new OrganisationRepository(db, clock);
    this.beds = new BedRepository(db, clock);
    this.users = new UserRepository(db, clock);
    this.sessions = new SessionStore(db, { ...config.auth, clock });
    this.limiter = new LoginLimiter(db, { ...config.auth, clock });
    this.audit = new AuditLog(db, clock);
    this.stats = new StatsSource(db, {
      missedHeartbeats: config.liveness.missedHeartbeats,
      defaultHeartbeatIntervalMs: config.liveness.defaultHeartbeatIntervalS * 1000,
    });
    this.bedEvents = new BedEventRepository(db);
    this.vitals = config.influx ? new VitalsSource(config.influx) : null;
    this.bedStatus = new BedStatusSource({
      db,
      events: this.bedEvents,
      vitals: this.vitals,
      clock,
      logger: logger.child({ component: 'beds' }),
    });

    this.deliveries = new SqlDeliveryStore(db);
    const channels: Partial<Record<'webhook' | 'sms' | 'voice', NotificationChannel>> = {
      sms: new SmsChannel(deps.phone),
      voice: new VoiceChannel(deps.phone),
    };
    if (config.notifications.webhooks.length > 0) {
      channels.webhook = new WebhookChannel({ endpoints: config.notifications.webhooks, clock });
    }
    const { policy: _policy, webhooks: _webhooks, ...retries } = config.notifications;
    this.dispatcher = new NotificationDispatcher({
      ...retries,
      store: this.deliveries,
      channels,
      clock,
      logger: logger.child({ component: 'notifications' }),
      counters,
    });
    this.notifier = new AlarmNotifier({
      dispatcher: this.dispatcher,
      store: this.deliveries,
      policy: config.notifications.policy,
      loadBed: (bedId) => this.beds.get(bedId),
      onOutcome: (record, final) => this.recordNotificationOutcome(record, final),
      clock,
      logger: logger.child({ component: 'notifications' }),
    });
    this.escalator = new Escalator({
      store: this.escalations,
      config: config.escalation,
      clock,
      logger: logger.child({ component: 'escalation' }),
      counters,
      announcer: feed,
      onEscalated: async (alarm, step) => {
        await this.notifier.onEscalated(alarm, step);
      },
    });
    this.liveness = new GatewayLiveness({
      db,
      alarms: this.alarms,
      registry: this.gateways,
      config: config.liveness,
      clock,
      logger: logger.child({ component: 'liveness' }),
      counters,
    });
    // The cloud's own gateway_offline alarms never pass the ingress: notify from here.
    this.liveness.events.on('offlineRaised', (alarm) => {
      void this.notifier.onAlarmStored(alarm);
    });
  }

  /** Start the workers (each process runs its own; the store makes them agree). */
  async start(): Promise<void> {
    await this.dispatcher.start();
    this.escalator.start();
    this.liveness.start();
    this.housekeeping = this.deps.clock.setInterval(() => {
      void this.prune();
    }, HOUSEKEEPING_INTERVAL_MS);
  }

  /** Drop what nobody needs any more: ended sessions, and heartbeats older than any statistics period. */
  async prune(): Promise<void> {
    try {
      await this.sessions.prune();
      const before = new Date(this.deps.clock.now() - HEARTBEAT_RETENTION_MS).toISOString();
      await this.gateways.pruneHeartbeats(before);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'housekeeping failed; tried again in an hour');
    }
  }

  async stop(): Promise<void> {
    this.housekeeping?.cancel();
    await this.escalator.stop();
    await this.liveness.stop();
    await this.dispatcher.stop();
    await this.notifier.close();
  }

  /** A delivery settled: the alarm's timeline says who was told, or who could not be. */
  private async recordNotificationOutcome(
    record: DeliveryRecord,
    final: 'delivered' | 'failed',
  ): Promise<void> {
    const n = record.notification;
    if (!n.alarmId) return;
    const alarm = await this.alarms.get(n.alarmId);
    if (!alarm) return;
    // A clear's notifications belong on the raised alarm's timeline, like the clear itself.
    const alarmId = alarm.refersTo ?? alarm.id;
    const event = timelineEvent(
      alarmId,
      final === 'delivered' ? 'notified' : 'notification_failed',
      record.lastAttemptAt ?? new Date(this.deps.clock.now()).toISOString(),
      SYSTEM_ACTOR,
      {
        notificationKind: n.kind,
        channel: n.recipient.channel,
        recipient: n.recipient.name,
        deliveryId: n.id,
        attempts: record.attemptCount,
        ...(final === 'failed' ? { reason: record.lastDetail ?? 'unknown' } : {}),
      },
    );
    await this.deps.db.transaction((tx) => this.timeline.append(tx, [event]));
    const link = await this.gateways.link(alarm.gatewayId);
    this.announcer.announce([
      {
        ...event,
        bedId: alarm.bedId,
        gatewayId: alarm.gatewayId,
        organisationId: link?.organisationId ?? null,
      },
    ]);
  }
}
