import { Registry } from 'prom-client';
import type { Counters } from '../../common/counters.js';
import {
  type CounterMetricSpec,
  registerCounters,
  registerGauge,
  renderMetrics,
} from '../../common/metrics.js';
import type { GatewayStatus } from './gateway-status.js';

export const GATEWAY_METRIC_PREFIX = 'homebed_gateway_';

const link = ['link'] as const;

/**
 * The gateway's counters as Prometheus counters (`homebed_gateway_<name>_total`).
 * A unit test checks every counter the code increments is listed here, and
 * that docs/metrics.md describes every metric.
 */
export const GATEWAY_COUNTER_METRICS: readonly CounterMetricSpec[] = [
  // Serial ports: Seeed frames and RFLink lines alike.
  {
    name: 'frames_decoded',
    help: 'Frames decoded on a serial port (Seeed radar frames; RFLink lines).',
    labelNames: ['link', 'protocol'],
    from: [
      { counter: 'frames_decoded', labels: { protocol: 'seeed' } },
      { counter: 'lines_decoded', labels: { protocol: 'rflink' } },
    ],
  },
  {
    name: 'frames_dropped',
    help: 'Frames (Seeed) or lines (RFLink) dropped on a serial port, by reason (checksum, tail, length, timeout, RFLink parse reasons).',
    labelNames: ['link', 'protocol', 'reason'],
    from: [
      { counter: 'frames_dropped', labels: { protocol: 'seeed' } },
      { counter: 'lines_dropped', labels: { protocol: 'rflink' } },
    ],
  },
  {
    name: 'frames_unpaired',
    help: 'Radar frames on a port no configured device is on (counted, not decoded further).',
    labelNames: link,
  },
  {
    name: 'reports_invalid',
    help: 'Radar frames whose report could not be decoded (malformed or out-of-range values).',
    labelNames: link,
  },
  {
    name: 'radar_model_mismatch',
    help: 'A radar reported another model than the configured kind.',
    labelNames: link,
  },
  { name: 'rflink_pongs', help: 'RFLink answers to the gateway’s PING.', labelNames: link },
  {
    name: 'rflink_repeats_collapsed',
    help: 'RFLink repeats of one transmission within the repeat window, ignored.',
    labelNames: link,
  },
  {
    name: 'rflink_unresponsive',
    help: 'Times an RFLink receiver did not answer its PING in time.',
    labelNames: link,
  },
  {
    name: 'devices_unpaired_seen',
    help: 'Messages from transmitters nobody configured, by transport.',
    labelNames: ['transport'],
  },
  {
    name: 'native_messages_rejected',
    help: 'Native device messages rejected, by reason.',
    labelNames: ['reason'],
  },
  { name: 'zigbee_messages', help: 'zigbee2mqtt messages handled, by kind.', labelNames: ['kind'] },
  {
    name: 'zigbee_messages_rejected',
    help: 'zigbee2mqtt messages rejected, by reason.',
    labelNames: ['reason'],
  },
  { name: 'zigbee_properties_invalid', help: 'zigbee2mqtt properties with an invalid value.' },
  { name: 'local_mqtt_auth_failures', help: 'Clients refused by the local MQTT broker.' },
  { name: 'local_mqtt_start_failures', help: 'Times the local MQTT broker could not start.' },
  // Telemetry.
  { name: 'readings_written', help: 'Readings written to InfluxDB (live and from the spool).' },
  { name: 'readings_unspooled', help: 'Readings written to InfluxDB from the spool.' },
  {
    name: 'readings_dropped',
    help: 'Readings lost: spool or memory buffer full (the oldest go).',
    labelNames: ['reason'],
  },
  { name: 'readings_rejected', help: 'Readings InfluxDB rejected for good (quarantined).' },
  { name: 'readings_quarantined', help: 'Readings moved to the quarantine table.' },
  { name: 'telemetry_write_failures', help: 'InfluxDB write attempts that failed (retried, spooled).' },
  // Alarms and the cloud.
  {
    name: 'alarms_committed',
    help: 'Alarms committed to the outbox, by type and state (raised, cleared).',
    labelNames: ['type', 'state'],
  },
  { name: 'alarms_sent', help: 'First publications of alarms to the cloud.' },
  { name: 'alarms_retransmitted', help: 'Alarm retransmissions (no `stored` ack yet).' },
  { name: 'alarm_puback_timeouts', help: 'Alarm publications without a broker PUBACK in time.' },
  { name: 'alarm_publish_failures', help: 'Alarm publications that failed.' },
  {
    name: 'acks_received',
    help: 'Alarm statuses from the cloud, by status (stored, acknowledged, resolved).',
    labelNames: ['status'],
  },
  { name: 'acks_unknown_alarm', help: 'Statuses for an alarm id this gateway never sent.' },
  { name: 'cloud_connects', help: 'MQTT connections to the cloud established.' },
  { name: 'cloud_errors', help: 'MQTT connection errors towards the cloud.' },
  {
    name: 'cloud_tls_failures',
    help: 'TLS failures towards the cloud, by reason (expired, untrusted, hostname, handshake).',
    labelNames: ['reason'],
  },
  {
    name: 'cloud_messages_rejected',
    help: 'Messages from the cloud rejected, by reason (topic, schema, command).',
    labelNames: ['reason'],
  },
  { name: 'commands_received', help: 'Commands from the cloud, by command.', labelNames: ['cmd'] },
  { name: 'events_published', help: 'Events (daily summary, reminders) published.', labelNames: ['kind'] },
  { name: 'events_publish_failures', help: 'Event publications that failed (retried).' },
  { name: 'events_dropped', help: 'Events dropped from a full event outbox.' },
  // Resident feedback and jobs.
  {
    name: 'feedback_notified',
    help: 'Resident told help is coming, by notifier.',
    labelNames: ['notifier'],
  },
  {
    name: 'feedback_failures',
    help: 'Resident feedback that failed, by notifier.',
    labelNames: ['notifier'],
  },
  { name: 'feedback_skipped', help: 'Acknowledgements not announced, by reason.', labelNames: ['reason'] },
  { name: 'cron_job_runs', help: 'Scheduled job runs, by job.', labelNames: ['job'] },
  { name: 'cron_job_overlaps', help: 'Scheduled runs skipped: the last still ran.', labelNames: ['job'] },
  { name: 'cron_job_failures', help: 'Scheduled job runs that failed, by job.', labelNames: ['job'] },
  { name: 'daily_summaries', help: 'Daily summaries made.' },
  { name: 'daily_summary_failures', help: 'Daily summaries that failed.' },
  { name: 'sos_test_reminders', help: 'SOS-button test reminders sent.' },
  { name: 'home_assistant_errors', help: 'Errors talking to the Home Assistant broker (homeAssistant).' },
  { name: 'sos_test_reminder_failures', help: 'SOS-button test reminders that failed.' },
];

/** What the metrics read from the running gateway at scrape time. */
export interface GatewayMetricsSource {
  readonly counters: Counters;
  status(): GatewayStatus;
}

/**
 * One gateway's Prometheus registry: its counters, and gauges read from
 * the gateway's state when scraped (one status snapshot per scrape).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private snapshot: { atMs: number; status: GatewayStatus } | null = null;

  constructor(private readonly source: GatewayMetricsSource) {
    const r = this.registry;
    const p = GATEWAY_METRIC_PREFIX;
    registerCounters(r, source.counters, p, GATEWAY_COUNTER_METRICS);
    const s = () => this.status();
    registerGauge(
      r,
      {
        name: `${p}info`,
        help: 'Always 1; the labels say which gateway and bed this is and its software.',
        labelNames: ['gateway', 'bed', 'software'],
      },
      () => [{ labels: { gateway: s().gatewayId, bed: s().bedId, software: s().software }, value: 1 }],
    );
    registerGauge(r, { name: `${p}uptime_seconds`, help: 'Seconds since the gateway started.' }, () => [
      { value: s().uptimeS },
    ]);
    registerGauge(
      r,
      { name: `${p}cloud_connected`, help: '1 while the MQTT session with the cloud relay is up.' },
      () => [{ value: s().cloud.connected ? 1 : 0 }],
    );
    registerGauge(
      r,
      {
        name: `${p}cloud_last_heartbeat_timestamp_seconds`,
        help: 'When the last heartbeat reached the cloud’s broker (Unix time).',
      },
      () => timestampSeries(s().cloud.lastHeartbeatAt),
    );
    registerGauge(
      r,
      { name: `${p}serial_link_open`, help: '1 while a serial port is open.', labelNames: ['link'] },
      () => s().links.map((l) => ({ labels: { link: l.id }, value: l.state === 'open' ? 1 : 0 })),
    );
    registerGauge(
      r,
      {
        name: `${p}device_online`,
        help: '1 while a configured device is online (heard within its reporting time).',
        labelNames: ['device', 'kind', 'role'],
      },
      () =>
        s().devices.map((d) => ({
          labels: { device: d.id, kind: d.kind, role: d.role },
          value: d.online ? 1 : 0,
        })),
    );
    registerGauge(
      r,
      {
        name: `${p}device_battery_percent`,
        help: 'Battery level a device last reported (only devices that report one).',
        labelNames: ['device'],
      },
      () =>
        s().devices.flatMap((d) =>
          d.battery === undefined ? [] : [{ labels: { device: d.id }, value: d.battery }],
        ),
    );
    registerGauge(
      r,
      {
        name: `${p}device_last_seen_timestamp_seconds`,
        help: 'When a device was last heard (Unix time); no series for a device never heard.',
        labelNames: ['device'],
      },
      () =>
        s().devices.flatMap((d) =>
          d.lastSeenAt ? [{ labels: { device: d.id }, value: Date.parse(d.lastSeenAt) / 1000 }] : [],
        ),
    );
    registerGauge(
      r,
      {
        name: `${p}alarm_outbox_depth`,
        help: 'Alarms the cloud has not stored yet: unsent (never published) and unacked (published, no `stored` ack).',
        labelNames: ['stage'],
      },
      () => {
        const { unsent, unacked } = s().alarms.outbox;
        return [
          { labels: { stage: 'unsent' }, value: unsent },
          { labels: { stage: 'unacked' }, value: unacked },
        ];
      },
    );
    registerGauge(
      r,
      {
        name: `${p}condition_alarms_active`,
        help: 'Condition alarms raised and not cleared (device offline, link lost, …).',
      },
      () => [{ value: s().alarms.active.length }],
    );
    registerGauge(
      r,
      {
        name: `${p}telemetry_spool_readings`,
        help: 'Readings waiting in the SQLite spool for InfluxDB.',
      },
      () => [{ value: s().telemetry.spooled }],
    );
    registerGauge(
      r,
      {
        name: `${p}telemetry_buffered_readings`,
        help: 'Readings waiting in memory for the next write.',
      },
      () => [{ value: s().telemetry.buffered }],
    );
    registerGauge(
      r,
      {
        name: `${p}telemetry_write_ok`,
        help: '1 while InfluxDB takes writes; 0 from a failed write until one succeeds again.',
      },
      () => [{ value: s().telemetry.influx.state === 'ok' ? 1 : 0 }],
    );
  }

  /** The text exposition (this gateway's metrics, then the process's). */
  render(): Promise<string> {
    this.snapshot = null;
    return renderMetrics(this.registry);
  }

  /** One status per scrape: the gauges above are collected together, within milliseconds. */
  private status(): GatewayStatus {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.atMs > 1_000) {
      this.snapshot = { atMs: now, status: this.source.status() };
    }
    return this.snapshot.status;
  }
}

function timestampSeries(iso: string | null): { value: number }[] {
  return iso ? [{ value: Date.parse(iso) / 1000 }] : [];
}
