import type { Clock, TimerHandle } from '../common/clock.js';
import { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import type { SqliteDatabase } from '../common/sqlite.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { type AlarmMessage, CONTRACT_VERSION } from '../contract/index.js';
import { DEFAULT_BAUD_RATE, type GatewayConfig } from './config/schema.js';
import type { GatewayEvents } from './devices/device-event.js';
import { DEVICE_KINDS } from './devices/device-kinds.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { NativeDevices } from './devices/native-devices.js';
import { RflinkPort } from './devices/rflink-port.js';
import { SeeedRadarPort } from './devices/seeed-radar-port.js';
import { Zigbee2mqttBridge } from './devices/zigbee2mqtt-bridge.js';
import { createNotifiers } from './feedback/create-notifiers.js';
import { FeedbackService } from './feedback/feedback-service.js';
import { HomeAssistantAnnouncer } from './integrations/home-assistant.js';
import { type CronScheduler, createCronScheduler } from './jobs/cron-scheduler.js';
import { bedSensorsOf, DailySummary, summaryToReadings } from './jobs/daily-summary.js';
import { EventOutbox } from './jobs/event-outbox.js';
import { SosTestReminder, sosButtonsOf } from './jobs/sos-test-reminder.js';
import { GatewayMetrics } from './ops/gateway-metrics.js';
import { type GatewayStatus, isoOrNull, withoutUserInfo } from './ops/gateway-status.js';
import { OpsServer } from './ops/ops-server.js';
import { AlarmBook } from './rules/alarm-book.js';
import { DeadlineScheduler } from './rules/deadlines.js';
import { LatestState } from './rules/latest-state.js';
import { RuleEngine } from './rules/rule-engine.js';
import { openGatewayDb } from './store/gateway-db.js';
import { DeviceSupervisor } from './supervision/device-supervisor.js';
import { LinkSupervisor } from './supervision/link-supervisor.js';
import { Influx1Sink } from './telemetry/influx1-sink.js';
import { Influx2Sink } from './telemetry/influx2-sink.js';
import { TelemetryBatcher } from './telemetry/telemetry-batcher.js';
import type { TelemetrySink } from './telemetry/telemetry-sink.js';
import { TelemetrySpool } from './telemetry/telemetry-spool.js';
import { LocalBroker } from './transports/local-broker.js';
import { SerialLink } from './transports/serial-link.js';
import { AlarmOutbox } from './uplink/alarm-outbox.js';
import { AlarmSender } from './uplink/alarm-sender.js';
import { CloudLink } from './uplink/cloud-link.js';
import { HeartbeatPublisher } from './uplink/heartbeat.js';

export const GATEWAY_SOFTWARE = 'homebed-gateway/0.1.0';

/** Retry delay when the local broker's or the ops server's port cannot be bound (another broker, a stale process). */
const LOCAL_BROKER_RETRY_MS = 10_000;
const OPS_RETRY_MS = 10_000;

export interface GatewayDependencies {
  config: GatewayConfig;
  clock: Clock;
  logger: Logger;
  /** Defaults to InfluxDB 1.x at `config.influx`; tests may pass another sink. */
  telemetrySink?: TelemetrySink;
  /**
   * Commissioning (`gateway test`): devices are read and readings written, but no care rule, supervisor or
   * scheduled job runs, so an installer pressing buttons and walking past sensors pages nobody. Only
   * {@link Gateway.raiseTestAlarm} reaches the cloud.
   */
  commissioning?: boolean;
}

interface Service {
  start(): void;
  stop(): void | Promise<void>;
}

/**
 * The composition root of one home's gateway:
 * transports (serial links, local MQTT broker) → devices (ports, bridges,
 * definitions) → bus → telemetry, rules, supervision → alarm outbox → cloud.
 * The constructor only wires; `start()` opens things; `stop()` releases
 * every timer, port, socket and file handle.
 */
export class Gateway {
  readonly counters = new Counters();
  readonly bus: TypedEmitter<GatewayEvents>;
  readonly registry: DeviceRegistry;
  /** Prometheus metrics of this gateway (served by the ops server at GET /metrics). */
  readonly metrics: GatewayMetrics;
  private db: SqliteDatabase | null = null;
  private outbox: AlarmOutbox | null = null;
  private book: AlarmBook | null = null;
  private sender: AlarmSender | null = null;
  private deadlines: DeadlineScheduler | null = null;
  private scheduler: CronScheduler | null = null;
  private readonly links = new Map<string, SerialLink>();
  private readonly cloud: CloudLink;
  private telemetry!: TelemetryBatcher;
  private localBroker: LocalBroker | null = null;
  private localBrokerRetry: TimerHandle | null = null;
  private ops: OpsServer | null = null;
  private opsRetry: TimerHandle | null = null;
  private heartbeat: HeartbeatPublisher | null = null;
  private zigbee: Zigbee2mqttBridge | null = null;
  private services: Service[] = [];
  private offs: (() => void)[] = [];
  private startedAtMs = 0;
  private stopped = false;

  constructor(private readonly deps: GatewayDependencies) {
    const { config, clock, logger } = deps;
    this.bus = new TypedEmitter((event, err) => logger.error({ err, event }, 'gateway listener failed'));
    this.registry = new DeviceRegistry(
      config.devices,
      clock,
      logger.child({ component: 'devices' }),
      this.counters,
    );
    this.cloud = new CloudLink(
      {
        url: config.cloud.url,
        gatewayId: config.gatewayId,
        secret: config.cloud.secret,
        keepaliveS: config.cloud.keepaliveS,
        connectTimeoutMs: config.cloud.connectTimeoutMs,
        reconnectPeriodMs: config.cloud.reconnectPeriodMs,
        reconnectMaxMs: config.cloud.reconnectMaxMs,
        caFile: config.cloud.caFile,
        serverName: config.cloud.serverName,
      },
      logger.child({ component: 'uplink' }),
      this.counters,
    );
    this.metrics = new GatewayMetrics(this);
  }

  async start(): Promise<void> {
    const { config, clock, logger } = this.deps;
    this.startedAtMs = clock.now();
    this.db = openGatewayDb(config.dataDir);
    const influx = config.influx;
    const sink =
      this.deps.telemetrySink ??
      (influx.version === '2'
        ? new Influx2Sink({
            url: influx.url,
            org: influx.org!,
            bucket: influx.bucket!,
            ...(influx.token ? { token: influx.token } : {}),
            tags: { gateway: config.gatewayId, bed: config.bedId },
          })
        : new Influx1Sink({
            url: config.influx.url,
            database: config.influx.database,
            ...(config.influx.username ? { username: config.influx.username } : {}),
            ...(config.influx.password ? { password: config.influx.password } : {}),
            tags: { gateway: config.gatewayId, bed: config.bedId },
          }));
    this.telemetry = new TelemetryBatcher(
      sink,
      clock,
      logger.child({ component: 'telemetry' }),
      this.counters,
      {
        batchSize: config.influx.batchSize,
        flushIntervalMs: config.influx.flushIntervalMs,
        retryMaxMs: config.influx.retryMaxMs,
        maxBufferedPoints: config.influx.maxBufferedPoints,
      },
      new TelemetrySpool(this.db, config.influx.maxSpoolPoints, this.counters),
    );
    const outbox = new AlarmOutbox(this.db, { gatewayId: config.gatewayId, bedId: config.bedId });
    this.outbox = outbox;
    const sender = new AlarmSender(
      outbox,
      this.cloud,
      clock,
      logger.child({ component: 'alarms' }),
      this.counters,
      {
        retransmitInitialMs: config.cloud.retransmitInitialMs,
        retransmitMaxMs: config.cloud.retransmitMaxMs,
      },
      (ack) => this.bus.emit('alarmAck', ack),
      (alarm) => this.bus.emit('alarmCommitted', alarm),
    );
    this.sender = sender;
    const book = new AlarmBook(this.db, (draft) => sender.raise(draft));
    this.book = book;
    const deadlines = new DeadlineScheduler(this.db, clock, logger.child({ component: 'rules' }), () =>
      book.resync(),
    );
    this.deadlines = deadlines;
    const child = (component: string, extra: Record<string, string> = {}) =>
      logger.child({ component, ...extra });

    for (const portConfig of config.serialPorts) {
      const link = new SerialLink(
        {
          id: portConfig.id,
          path: portConfig.path,
          baudRate: portConfig.baudRate ?? DEFAULT_BAUD_RATE[portConfig.protocol],
          reconnectInitialMs: portConfig.reconnectInitialMs,
          reconnectMaxMs: portConfig.reconnectMaxMs,
        },
        clock,
        child('serial', { link: portConfig.id }),
      );
      this.links.set(portConfig.id, link);
      const Port = portConfig.protocol === 'seeed' ? SeeedRadarPort : RflinkPort;
      this.services.push(
        new Port(
          portConfig,
          link,
          this.registry,
          this.bus,
          clock,
          child('devices', { link: portConfig.id }),
          this.counters,
        ),
      );
    }

    // The cloud may have set another heartbeat interval (`set_heartbeat_interval`); it outlives restarts.
    const storedInterval = this.db
      .prepare(`SELECT value FROM meta WHERE key = 'heartbeat_interval_s'`)
      .get() as { value: string } | undefined;
    const heartbeatIntervalS = storedInterval
      ? Number(storedInterval.value)
      : config.cloud.heartbeatIntervalS;
    const scheduler = createCronScheduler(clock, child('jobs'), this.counters);
    this.scheduler = scheduler;
    const db = this.db;
    // Events (daily summary, SOS test reminder) wait in SQLite while the cloud is away.
    const events = new EventOutbox(
      db,
      (p) => this.cloud.publish('event', p),
      clock,
      child('events'),
      this.counters,
    );
    this.offs.push(this.cloud.events.on('connected', () => events.kick()));
    this.services.push(events);
    if (config.jobs.dailySummary.enabled) {
      this.services.push(
        new DailySummary(
          {
            db,
            bus: this.bus,
            scheduler,
            clock,
            logger: child('jobs', { job: 'daily-summary' }),
            counters: this.counters,
            onSummary: (s) => {
              for (const r of summaryToReadings(s)) this.telemetry.add(r);
              events.enqueue(s);
            },
          },
          {
            gatewayId: config.gatewayId,
            bedId: config.bedId,
            timeZone: config.timeZone,
            cron: config.jobs.dailySummary.cron,
            nightWindow: config.rules.nightWindow,
            bedSensors: bedSensorsOf(config.devices),
          },
        ),
      );
    }
    if (config.jobs.sosTestReminder.enabled) {
      this.services.push(
        new SosTestReminder(
          {
            db,
            bus: this.bus,
            scheduler,
            clock,
            logger: child('jobs', { job: 'sos-test-reminder' }),
            counters: this.counters,
            onReminder: (e) => events.enqueue(e),
          },
          {
            gatewayId: config.gatewayId,
            bedId: config.bedId,
            timeZone: config.timeZone,
            cron: config.jobs.sosTestReminder.cron,
            windowDays: config.jobs.sosTestReminder.windowDays,
            buttons: sosButtonsOf(config.devices),
          },
        ),
      );
    }
    this.services.push(
      new FeedbackService(
        {
          bus: this.bus,
          db,
          clock,
          logger: child('feedback'),
          counters: this.counters,
          notifiers: createNotifiers(config.feedback.notifiers, this.links, child('feedback')),
          lookupAlarm: (id) => outbox.get(id)?.message ?? null,
        },
        {
          timeoutMs: config.feedback.timeoutMs,
          severities: config.feedback.severities,
          maxAckAgeMs: config.feedback.maxAckAgeS * 1000,
        },
      ),
    );

    this.services.push(
      new RuleEngine(
        {
          bus: this.bus,
          clock,
          registry: this.registry,
          book,
          deadlines,
          state: new LatestState(this.db),
          raise: (draft) => sender.raise(draft),
          rules: config.rules,
          timeZone: config.timeZone,
          logger: child('rules'),
          emitEvent: (e) =>
            events.enqueue({
              v: CONTRACT_VERSION,
              gatewayId: config.gatewayId,
              bedId: config.bedId,
              at: new Date(e.atMs).toISOString(),
              kind: e.kind,
              deviceId: e.deviceId,
              ...(e.kind === 'bed_return' && e.outOfBedS !== undefined ? { outOfBedS: e.outOfBedS } : {}),
            }),
        },
        deadlines,
      ),
      new DeviceSupervisor(this.registry, this.bus, book, clock, child('supervision'), {
        checkIntervalMs: config.supervision.checkIntervalS * 1000,
        healthIntervalMs: config.supervision.healthIntervalS * 1000,
        batteryLowPercent: config.supervision.batteryLowPercent,
        batteryAlarmMinIntervalMs: config.supervision.batteryAlarmMinIntervalH * 3600_000,
      }),
      new LinkSupervisor(this.links, book, this.bus, clock, child('supervision'), this.counters, {
        lostAfterMs: config.supervision.linkLostAfterMs,
        healthIntervalMs: config.supervision.healthIntervalS * 1000,
        deviceOf: (linkId) => this.registry.onLink(linkId)[0]?.id,
      }),
      this.telemetry,
      sender,
      new HeartbeatPublisher(this.cloud, clock, child('heartbeat'), heartbeatIntervalS, (intervalS) => ({
        v: CONTRACT_VERSION,
        gatewayId: config.gatewayId,
        at: new Date(clock.now()).toISOString(),
        uptimeS: Math.round((clock.now() - this.startedAtMs) / 1000),
        intervalS,
        outboxDepth: outbox.depth(),
        spoolDepth: this.telemetry.depth,
        readingsDropped: this.telemetry.dropped,
        devices: this.registry.health(),
        unpaired: this.registry.unpairedDevices(),
        links: this.linkStates(),
        software: GATEWAY_SOFTWARE,
      })),
    );

    const mqttDevices = config.devices.some((d) =>
      ['zigbee2mqtt', 'native'].includes(DEVICE_KINDS[d.kind].transport),
    );
    if (config.localBroker.enabled ?? mqttDevices) {
      const broker = new LocalBroker(
        {
          host: config.localBroker.host,
          port: config.localBroker.port,
          ...(config.localBroker.username ? { username: config.localBroker.username } : {}),
          ...(config.localBroker.password ? { password: config.localBroker.password } : {}),
        },
        child('local-mqtt'),
        this.counters,
      );
      this.localBroker = broker;
      this.zigbee = new Zigbee2mqttBridge(
        config.zigbee2mqtt.baseTopic,
        broker,
        this.registry,
        this.bus,
        clock,
        child('zigbee2mqtt'),
        this.counters,
      );
      this.services.push(
        this.zigbee,
        new NativeDevices(broker, this.registry, this.bus, clock, child('native'), this.counters),
      );
    }

    if (this.deps.commissioning) {
      const paging = [RuleEngine, DeviceSupervisor, LinkSupervisor, DailySummary, SosTestReminder];
      this.services = this.services.filter((x) => !paging.some((kind) => x instanceof kind));
    }
    if (config.homeAssistant.enabled) {
      this.services.push(
        new HomeAssistantAnnouncer({
          config,
          bus: this.bus,
          clock,
          logger: child('home-assistant'),
          counters: this.counters,
        }),
      );
    }
    const heartbeat = this.services.find((x): x is HeartbeatPublisher => x instanceof HeartbeatPublisher);
    this.heartbeat = heartbeat ?? null;
    this.offs.push(
      this.cloud.events.on('cmd', (cmd) => {
        if (cmd.cmd === 'set_heartbeat_interval') {
          this.db
            ?.prepare(
              `INSERT INTO meta (key, value) VALUES ('heartbeat_interval_s', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
            )
            .run(String(cmd.intervalS));
          heartbeat?.setIntervalS(cmd.intervalS);
          logger.info({ intervalS: cmd.intervalS }, 'heartbeat interval set by the cloud');
        }
      }),
      this.bus.on('reading', (reading) => this.telemetry.add(reading)),
      // Events go to InfluxDB too, so a press shows on the timeline beside the vitals.
      this.bus.on('deviceEvent', (e) =>
        this.telemetry.add({ deviceId: e.deviceId, metric: 'action', value: e.kind, atMs: e.atMs }),
      ),
    );
    for (const service of this.services) service.start();
    for (const link of this.links.values()) link.start();
    await this.startLocalBroker();
    this.cloud.start();
    if (config.ops.enabled) {
      this.ops = new OpsServer(
        { host: config.ops.host, port: config.ops.port, token: config.ops.token },
        { metrics: () => this.metrics.render(), status: () => this.status() },
        child('ops'),
      );
      await this.startOps();
    }
    logger.info(
      {
        gatewayId: config.gatewayId,
        bedId: config.bedId,
        devices: config.devices.length,
        links: this.links.size,
      },
      'gateway started',
    );
  }

  /** The local broker failing to bind must not stop the serial side (an SOS button still works): retry. */
  private async startLocalBroker(): Promise<void> {
    const broker = this.localBroker;
    if (!broker || this.stopped) return;
    try {
      await broker.start();
    } catch (err) {
      this.counters.inc('local_mqtt_start_failures');
      this.deps.logger.error(
        { err: (err as Error).message, port: this.deps.config.localBroker.port },
        'local MQTT broker cannot start; zigbee and native devices are unreachable until it does (retrying)',
      );
      this.localBrokerRetry = this.deps.clock.setTimeout(
        () => void this.startLocalBroker(),
        LOCAL_BROKER_RETRY_MS,
      );
    }
  }

  /** The ops server failing to bind must not stop the gateway either: log, retry. */
  private async startOps(): Promise<void> {
    const ops = this.ops;
    if (!ops || this.stopped) return;
    try {
      await ops.start();
    } catch (err) {
      const { host, port } = this.deps.config.ops;
      this.deps.logger.error(
        { err: (err as Error).message, host, port },
        'ops server cannot listen; GET /metrics and /status are unavailable until it does (retrying)',
      );
      this.opsRetry = this.deps.clock.setTimeout(() => void this.startOps(), OPS_RETRY_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs) off();
    this.offs = [];
    this.localBrokerRetry?.cancel();
    this.opsRetry?.cancel();
    await this.ops?.stop();
    for (const service of [...this.services].reverse()) {
      if (service !== this.telemetry) await service.stop();
    }
    this.scheduler?.stop();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    await this.localBroker?.stop();
    await this.telemetry.stop();
    await this.cloud.stop();
    this.bus.removeAll();
    this.db?.close();
    this.db = null;
    this.deps.logger.info('gateway stopped');
  }

  /** Every alarm this gateway has committed, oldest first. */
  /**
   * A `test_alarm` (severity info) through the same outbox and uplink as every alarm: committed here, then
   * sent until the cloud answers `stored` (watch `bus` for `alarmAck`). For commissioning and routine checks.
   */
  raiseTestAlarm(message = 'installer test'): AlarmMessage {
    if (!this.sender) throw new Error('gateway not started');
    return this.sender.raise({
      type: 'test_alarm',
      severity: 'info',
      state: 'raised',
      atMs: this.deps.clock.now(),
      evidence: [],
      message,
    });
  }

  alarmLog(): AlarmMessage[] {
    return this.outbox?.all() ?? [];
  }

  outboxDepth(): number {
    return this.outbox?.depth() ?? 0;
  }

  /** Condition alarms active now (keys such as `device_offline:bed-radar`). */
  activeAlarms(): string[] {
    return this.book?.activeKeys() ?? [];
  }

  /** Rule timers waiting in the store (key, kind, due time). */
  pendingDeadlines(): { key: string; kind: string; dueAtMs: number }[] {
    return this.deadlines?.pending() ?? [];
  }

  /** Serial link states by port id. */
  linkStates(): Record<string, 'open' | 'closed'> {
    return Object.fromEntries([...this.links].map(([id, l]) => [id, l.state]));
  }

  /** The ops server's port (0 when it is off or not listening). */
  get opsPort(): number {
    return this.ops?.port ?? 0;
  }

  /** Base URL of the ops server, e.g. http://127.0.0.1:9464; null when it is off or not listening. */
  get opsUrl(): string | null {
    return this.ops?.port ? this.ops.url : null;
  }

  /** What GET /status answers: identity, cloud link, ports, devices, queues, InfluxDB, counters. */
  status(): GatewayStatus {
    const { config, clock } = this.deps;
    const now = clock.now();
    const telemetry = this.telemetry as TelemetryBatcher | undefined;
    const write = telemetry?.writeState();
    const links = this.linkStates();
    return {
      gatewayId: config.gatewayId,
      bedId: config.bedId,
      software: GATEWAY_SOFTWARE,
      startedAt: new Date(this.startedAtMs || now).toISOString(),
      now: new Date(now).toISOString(),
      uptimeS: this.startedAtMs ? Math.round((now - this.startedAtMs) / 1000) : 0,
      cloud: {
        url: withoutUserInfo(config.cloud.url),
        connected: this.cloud.connected,
        lastConnectedAt: isoOrNull(this.cloud.lastConnectedAtMs),
        lastDisconnectedAt: isoOrNull(this.cloud.lastDisconnectedAtMs),
        lastHeartbeatAt: isoOrNull(this.heartbeat?.lastSentAtMs ?? null),
        heartbeatIntervalS: this.heartbeatIntervalS,
      },
      links: config.serialPorts.map((p) => ({
        id: p.id,
        path: p.path,
        protocol: p.protocol,
        state: links[p.id] ?? 'closed',
      })),
      devices: this.registry.health().map((h) => {
        const device = this.registry.get(h.id);
        return {
          ...h,
          role: device?.role ?? '',
          ...(device?.room ? { room: device.room } : {}),
          ...(device?.link ? { link: device.link } : {}),
        };
      }),
      unpaired: this.registry.unpairedDevices(),
      alarms: {
        outbox: this.outbox?.depthByStage() ?? { unsent: 0, unacked: 0 },
        active: this.activeAlarms(),
      },
      telemetry: {
        buffered: telemetry?.bufferedPoints ?? 0,
        spooled: telemetry?.spoolDepth ?? 0,
        dropped: telemetry?.dropped ?? 0,
        influx: {
          url: withoutUserInfo(config.influx.url),
          version: config.influx.version,
          state: write?.state ?? 'ok',
          failingSince: isoOrNull(write?.failingSinceMs ?? null),
          consecutiveFailures: write?.consecutiveFailures ?? 0,
          lastWriteAt: isoOrNull(write?.lastWriteAtMs ?? null),
        },
      },
      localBroker: { enabled: this.localBroker !== null, port: this.localBrokerPort },
      counters: this.counters.snapshot(),
    };
  }

  get localBrokerPort(): number {
    return this.localBroker?.port ?? 0;
  }

  get zigbeeBridge(): Zigbee2mqttBridge | null {
    return this.zigbee;
  }

  /** The heartbeat interval in force (config, or as last set by the cloud). */
  get heartbeatIntervalS(): number {
    return this.services.find((x): x is HeartbeatPublisher => x instanceof HeartbeatPublisher)?.interval ?? 0;
  }

  get cloudConnected(): boolean {
    return this.cloud.connected;
  }

  alarmRecord(id: string): ReturnType<AlarmOutbox['get']> {
    return this.outbox?.get(id) ?? null;
  }
}
