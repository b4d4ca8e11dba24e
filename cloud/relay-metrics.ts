import { Counter, Histogram, Registry } from 'prom-client';
import type { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import {
  type CounterMetricSpec,
  type GaugeSeries,
  registerCounters,
  registerGauge,
  renderMetrics,
} from '../common/metrics.js';
import { SEVERITIES } from '../contract/index.js';
import type { StoredAlarm } from './alarms/alarm-store.js';
import { num, type SqlDatabase } from './store/sql-database.js';

export const CLOUD_METRIC_PREFIX = 'homebed_cloud_';

/**
 * The relay's counters as Prometheus counters (`homebed_cloud_<name>_total`),
 * read from {@link Counters} at scrape time. A unit test checks every
 * counter the code increments is listed, and docs/metrics.md describes each.
 */
export const CLOUD_COUNTER_METRICS: readonly CounterMetricSpec[] = [
  // Gateways' messages.
  {
    name: 'alarms_received',
    help: 'Alarms from gateways stored for the first time, by type and state (raised, cleared).',
    labelNames: ['type', 'state'],
    from: [{ counter: 'alarms_stored' }],
  },
  {
    name: 'alarm_redeliveries',
    help: 'Alarms a gateway sent again (already stored: acknowledged again, no second row).',
    labelNames: ['type'],
    from: [{ counter: 'alarms_duplicate' }],
  },
  { name: 'alarms_bed_mismatch', help: 'Alarms naming a bed their gateway is not on (filed under its own).' },
  { name: 'heartbeats_received', help: 'Gateway heartbeats recorded.' },
  { name: 'events_received', help: 'Gateway events received, by kind.', labelNames: ['kind'] },
  { name: 'events_stored', help: 'Gateway events stored, by kind.', labelNames: ['kind'] },
  { name: 'events_duplicate', help: 'Gateway events received again, by kind.', labelNames: ['kind'] },
  {
    name: 'mqtt_messages_rejected',
    help: 'Gateway messages rejected, by reason (topic, schema, gateway_mismatch, direction).',
    labelNames: ['reason'],
  },
  {
    name: 'mqtt_messages_failed',
    help: 'External broker: messages whose handling failed (not acknowledged, delivered again), by kind.',
    labelNames: ['kind'],
  },
  {
    name: 'mqtt_auth_failures',
    help: 'Gateway logins refused by the embedded broker, by reason.',
    labelNames: ['reason'],
  },
  { name: 'mqtt_publish_denied', help: 'Publications outside a gateway’s own topics refused.' },
  { name: 'mqtt_subscribe_denied', help: 'Subscriptions outside a gateway’s own topics refused.' },
  { name: 'mqtt_tls_handshake_failures', help: 'Failed TLS handshakes on the MQTT-over-TLS port.' },
  { name: 'mqtt_broker_connects', help: 'External broker: connections established.' },
  { name: 'mqtt_broker_connection_lost', help: 'External broker: connections lost.' },
  { name: 'mqtt_broker_errors', help: 'External broker: connection errors.' },
  { name: 'mqtt_broker_qos_downgraded', help: 'External broker: subscriptions granted below QoS 1.' },
  { name: 'mqtt_broker_subscribe_failures', help: 'External broker: subscriptions refused.' },
  // Liveness.
  { name: 'gateway_offline_raised', help: '`gateway_offline` alarms raised.' },
  {
    name: 'gateway_offline_cleared',
    help: '`gateway_offline` alarms cleared (the gateway was heard again).',
  },
  { name: 'gateway_flaps_suppressed', help: 'Gateways back within the grace period (no alarm raised).' },
  { name: 'liveness_check_failures', help: 'Liveness sweeps that failed (retried).' },
  {
    name: 'liveness_failures',
    help: 'Liveness updates that failed on a heartbeat or status, by message.',
    labelNames: ['on'],
  },
  // Alarm lifecycle and escalation.
  { name: 'alarms_acknowledged', help: 'Alarms taken by a person, by type.', labelNames: ['type'] },
  {
    name: 'alarms_resolved',
    help: 'Alarms closed, by type and outcome.',
    labelNames: ['type', 'outcome'],
  },
  { name: 'alarm_statuses_replayed', help: 'Alarm statuses sent again to reconnected gateways.' },
  {
    name: 'escalations_fired',
    help: 'Escalation steps fired (nobody took the alarm in time), by severity, tier and step.',
    labelNames: ['severity', 'tier', 'step'],
  },
  { name: 'escalation_claim_failures', help: 'Escalation sweeps that failed (retried).' },
  {
    name: 'escalation_hook_failures',
    help: 'Escalations whose notifications could not be started, by tier.',
    labelNames: ['tier'],
  },
  // Notifications.
  { name: 'notifications_enqueued', help: 'Notifications queued, by kind.', labelNames: ['kind'] },
  {
    name: 'notification_attempts',
    help: 'Delivery attempts, by channel and status.',
    labelNames: ['channel', 'status'],
  },
  { name: 'notifications_sent', help: 'Notifications delivered, by channel.', labelNames: ['channel'] },
  {
    name: 'notifications_failed',
    help: 'Notifications given up on (not delivered), by channel.',
    labelNames: ['channel'],
  },
  { name: 'notifications_retried', help: 'Delivery attempts to be retried.' },
  {
    name: 'notification_store_errors',
    help: 'Delivery store operations that failed, by operation.',
    labelNames: ['op'],
  },
  // Console.
  { name: 'sse_connections', help: 'Event-stream connections opened.' },
  { name: 'sse_sessions_ended', help: 'Event streams closed because their session ended.' },
  { name: 'sse_slow_clients_dropped', help: 'Event streams closed because the client read too slowly.' },
  {
    name: 'metrics_read_failures',
    help: 'Scrapes in which a store-backed gauge could not be read (left out of that scrape), by metric.',
    labelNames: ['metric'],
  },
];

/** Seconds from an alarm arriving at the relay to its `stored` ack being published: commit + ack, normally ms. */
export const STORED_ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from an alarm being raised to a person taking it; escalation steps are at 60 s and 180 s by default. */
export const TIME_TO_ACKNOWLEDGE_BUCKETS = [10, 30, 60, 120, 180, 300, 600, 1800, 3600, 14_400];

export interface RelayMetricsSource {
  counters: Counters;
  db: SqlDatabase;
  logger: Logger;
  /** MQTT up (embedded broker running, or external broker connected) and, embedded only, clients connected. */
  health(): { mqtt: boolean; connectedGateways?: number };
  /** `embedded` (aedes in the relay: it can count connected gateways) or `external`. */
  mqttMode: 'embedded' | 'external';
}

/**
 * One relay's Prometheus registry: its counters, gauges read at scrape time
 * (from the broker, the event streams and the store) and the two
 * histograms the relay observes itself. The store-backed gauges are the
 * same on every relay sharing a PostgreSQL: aggregate them with max(), not sum().
 */
export class RelayMetrics {
  readonly registry = new Registry();
  private readonly storedAck: Histogram;
  private readonly timeToAcknowledge: Histogram<'severity'>;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private sseClients: () => number = () => 0;

  constructor(source: RelayMetricsSource) {
    const r = this.registry;
    const p = CLOUD_METRIC_PREFIX;
    registerCounters(r, source.counters, p, CLOUD_COUNTER_METRICS);
    const onError = (what: string) => (err: unknown) => {
      source.counters.inc('metrics_read_failures', { metric: what });
      source.logger.warn({ err: (err as Error).message, metric: what }, 'metrics: reading the store failed');
    };
    registerGauge(r, { name: `${p}mqtt_up`, help: '1 while gateways can reach the relay over MQTT.' }, () => [
      { value: source.health().mqtt ? 1 : 0 },
    ]);
    if (source.mqttMode === 'embedded') {
      registerGauge(
        r,
        {
          name: `${p}gateways_connected`,
          help: 'Gateways connected to the embedded MQTT broker now (not exported with mqtt.external).',
        },
        () => [{ value: source.health().connectedGateways ?? 0 }],
      );
    }
    registerGauge(
      r,
      {
        name: `${p}gateways`,
        help: 'Gateways heard at least once, by liveness status (online, offline) as in the store.',
        labelNames: ['status'],
        onError: onError('gateways'),
      },
      async () => {
        const rows = await source.db.all<{ status: string; n: unknown }>(
          `SELECT status, COUNT(*) AS n FROM gateways WHERE status IS NOT NULL GROUP BY status`,
        );
        const counts = new Map<string, number>([
          ['online', 0],
          ['offline', 0],
        ]);
        for (const row of rows) counts.set(row.status, num(row.n));
        return [...counts].map(([status, value]) => ({ labels: { status }, value }));
      },
    );
    registerGauge(
      r,
      {
        name: `${p}alarms_open`,
        help: 'Raised alarms not resolved yet, by severity and state (unacknowledged, acknowledged).',
        labelNames: ['severity', 'state'],
        onError: onError('alarms_open'),
      },
      async () => {
        const rows = await source.db.all<{ severity: string; acked: unknown; n: unknown }>(
          `SELECT severity, CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END AS acked, COUNT(*) AS n
             FROM alarms WHERE state = 'raised' AND resolved_at IS NULL
            GROUP BY severity, CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END`,
        );
        const series: GaugeSeries[] = [];
        for (const severity of SEVERITIES) {
          for (const acked of [0, 1]) {
            const row = rows.find((x) => x.severity === severity && num(x.acked) === acked);
            series.push({
              labels: { severity, state: acked ? 'acknowledged' : 'unacknowledged' },
              value: row ? num(row.n) : 0,
            });
          }
        }
        return series;
      },
    );
    registerGauge(
      r,
      { name: `${p}sse_clients`, help: 'Consoles connected to the alarm event stream now.' },
      () => [{ value: this.sseClients() }],
    );
    this.storedAck = new Histogram({
      name: `${p}alarm_stored_ack_seconds`,
      help: 'From an alarm arriving at the relay to its `stored` ack having been published (commit included).',
      buckets: STORED_ACK_BUCKETS,
      registers: [r],
    });
    this.timeToAcknowledge = new Histogram({
      name: `${p}alarm_time_to_acknowledge_seconds`,
      help: 'From an alarm being raised (its `at`) to a person taking it, by severity.',
      labelNames: ['severity'],
      buckets: TIME_TO_ACKNOWLEDGE_BUCKETS,
      registers: [r],
    });
    this.httpRequests = new Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [r],
    });
  }

  /** The relay's alarm event stream tells how many consoles are connected. */
  countSseClientsWith(read: () => number): void {
    this.sseClients = read;
  }

  observeStoredAck(seconds: number): void {
    this.storedAck.observe(seconds);
  }

  /** A person took an alarm: how long after it was raised (gateway clock vs the relay's; never below 0). */
  observeAcknowledged(alarm: StoredAlarm): void {
    if (!alarm.acknowledgedAt) return;
    const seconds = (Date.parse(alarm.acknowledgedAt) - Date.parse(alarm.at)) / 1000;
    if (!Number.isFinite(seconds)) return;
    this.timeToAcknowledge.observe({ severity: alarm.severity }, Math.max(0, seconds));
  }

  countHttpRequest(method: string, route: string | undefined, status: number): void {
    this.httpRequests.inc({ method, route: route ?? 'unmatched', status: String(status) });
  }

  /** The text exposition: this relay's metrics, then the process's. */
  render(): Promise<string> {
    return renderMetrics(this.registry);
  }
}
