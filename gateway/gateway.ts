import type { Clock } from '../common/clock.js';
import { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import type { SqliteDatabase } from '../common/sqlite.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import { CONTRACT_VERSION } from '../contract/index.js';
import { DEFAULT_BAUD_RATE, type GatewayConfig } from './config/schema.js';
import type { GatewayEvents } from './devices/device-event.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { RflinkPort } from './devices/rflink-port.js';
import { SeeedRadarPort } from './devices/seeed-radar-port.js';
import { SosRule } from './rules/sos-rule.js';
import { openGatewayDb } from './store/gateway-db.js';
import { Influx1Sink } from './telemetry/influx1-sink.js';
import { TelemetryBatcher } from './telemetry/telemetry-batcher.js';
import type { TelemetrySink } from './telemetry/telemetry-sink.js';
import { SerialLink } from './transports/serial-link.js';
import { AlarmOutbox } from './uplink/alarm-outbox.js';
import { AlarmSender } from './uplink/alarm-sender.js';
import { CloudLink } from './uplink/cloud-link.js';
import { HeartbeatPublisher } from './uplink/heartbeat.js';

export const GATEWAY_SOFTWARE = 'homebed-gateway/0.1.0';

export interface GatewayDependencies {
  config: GatewayConfig;
  clock: Clock;
  logger: Logger;
  /** Defaults to InfluxDB 1.x at `config.influx`; tests may pass another sink. */
  telemetrySink?: TelemetrySink;
}

/**
 * The composition root of one home's gateway: serial links → device ports →
 * bus → (telemetry batcher, care rules) → alarm outbox → cloud link.
 * The constructor only wires; `start()` opens things; `stop()` releases
 * every timer, port, socket and file handle.
 */
export class Gateway {
  readonly counters = new Counters();
  readonly bus: TypedEmitter<GatewayEvents>;
  readonly registry: DeviceRegistry;
  private db: SqliteDatabase | null = null;
  private outbox: AlarmOutbox | null = null;
  private readonly links: SerialLink[] = [];
  private readonly ports: (SeeedRadarPort | RflinkPort)[] = [];
  private readonly cloud: CloudLink;
  private readonly telemetry: TelemetryBatcher;
  private sender: AlarmSender | null = null;
  private heartbeat: HeartbeatPublisher | null = null;
  private sos: SosRule | null = null;
  private offs: (() => void)[] = [];
  private startedAtMs = 0;

  constructor(private readonly deps: GatewayDependencies) {
    const { config, clock, logger } = deps;
    this.bus = new TypedEmitter((event, err) => logger.error({ err, event }, 'gateway listener failed'));
    this.registry = new DeviceRegistry(config.devices, clock);
    this.cloud = new CloudLink(
      {
        url: config.cloud.url,
        gatewayId: config.gatewayId,
        secret: config.cloud.secret,
        keepaliveS: config.cloud.keepaliveS,
        connectTimeoutMs: config.cloud.connectTimeoutMs,
        reconnectPeriodMs: config.cloud.reconnectPeriodMs,
      },
      logger.child({ component: 'uplink' }),
      this.counters,
    );
    const sink =
      deps.telemetrySink ??
      new Influx1Sink({
        url: config.influx.url,
        database: config.influx.database,
        ...(config.influx.username ? { username: config.influx.username } : {}),
        ...(config.influx.password ? { password: config.influx.password } : {}),
        tags: { gateway: config.gatewayId, bed: config.bedId },
      });
    this.telemetry = new TelemetryBatcher(
      sink,
      clock,
      logger.child({ component: 'telemetry' }),
      this.counters,
      {
        batchSize: config.influx.batchSize,
        flushIntervalMs: config.influx.flushIntervalMs,
        maxBufferedPoints: config.influx.maxBufferedPoints,
      },
    );
  }

  start(): void {
    const { config, clock, logger } = this.deps;
    this.startedAtMs = clock.now();
    this.db = openGatewayDb(config.dataDir);
    this.outbox = new AlarmOutbox(this.db, { gatewayId: config.gatewayId, bedId: config.bedId });
    this.sender = new AlarmSender(
      this.outbox,
      this.cloud,
      clock,
      logger.child({ component: 'alarms' }),
      this.counters,
      {
        retransmitInitialMs: config.cloud.retransmitInitialMs,
        retransmitMaxMs: config.cloud.retransmitMaxMs,
      },
    );
    this.heartbeat = new HeartbeatPublisher(
      this.cloud,
      clock,
      logger.child({ component: 'heartbeat' }),
      config.cloud.heartbeatIntervalS,
      (intervalS) => ({
        v: CONTRACT_VERSION,
        gatewayId: config.gatewayId,
        at: new Date(clock.now()).toISOString(),
        uptimeS: Math.round((clock.now() - this.startedAtMs) / 1000),
        intervalS,
        outboxDepth: this.outbox?.depth() ?? 0,
        spoolDepth: this.telemetry.depth,
        devices: this.registry.health(),
        links: this.linkStates(),
        software: GATEWAY_SOFTWARE,
      }),
    );
    this.sos = new SosRule(
      this.bus,
      this.registry,
      (draft) => this.sender?.raise(draft),
      logger.child({ component: 'rules', rule: 'sos' }),
      config.rules.sos,
    );

    this.offs.push(this.bus.on('reading', (reading) => this.telemetry.add(reading)));
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
        logger.child({ component: 'serial', link: portConfig.id }),
      );
      const portLogger = logger.child({ component: 'devices', link: portConfig.id });
      const Port = portConfig.protocol === 'seeed' ? SeeedRadarPort : RflinkPort;
      this.ports.push(new Port(portConfig, link, this.registry, this.bus, clock, portLogger, this.counters));
      this.links.push(link);
    }

    this.sos.start();
    this.telemetry.start();
    this.sender.start();
    this.heartbeat.start();
    for (const port of this.ports) port.start();
    for (const link of this.links) link.start();
    this.cloud.start();
    logger.info(
      {
        gatewayId: config.gatewayId,
        bedId: config.bedId,
        devices: config.devices.length,
        links: this.links.length,
      },
      'gateway started',
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.sos?.stop();
    this.heartbeat?.stop();
    this.sender?.stop();
    for (const port of this.ports) port.stop();
    await Promise.all(this.links.map((l) => l.stop()));
    await this.telemetry.stop();
    await this.cloud.stop();
    this.bus.removeAll();
    this.db?.close();
    this.db = null;
    this.deps.logger.info('gateway stopped');
  }

  /** Delivery state, for the status command and tests. */
  outboxDepth(): number {
    return this.outbox?.depth() ?? 0;
  }

  /** Serial link states by port id. */
  linkStates(): Record<string, 'open' | 'closed'> {
    return Object.fromEntries(this.links.map((l, i) => [this.deps.config.serialPorts[i]!.id, l.state]));
  }

  get cloudConnected(): boolean {
    return this.cloud.connected;
  }

  alarmRecord(id: string): ReturnType<AlarmOutbox['get']> {
    return this.outbox?.get(id) ?? null;
  }
}
