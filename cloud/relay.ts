import type { Clock } from '../common/clock.js';
import { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import { AlarmLifecycle } from './alarms/alarm-lifecycle.js';
import type { AlarmStore } from './alarms/alarm-store.js';
import type { CloudConfig } from './config/schema.js';
import { type ChangeFeed, LocalChangeFeed } from './events/change-feed.js';
import { PostgresChangeFeed } from './events/postgres-change-feed.js';
import type { GatewayRegistry } from './gateways/gateway-registry.js';
import { buildHttpServer } from './http/http-server.js';
import { defaultRelayClientId, ExternalBrokerLink } from './mqtt/external-broker-link.js';
import { GatewayBroker } from './mqtt/gateway-broker.js';
import { GatewayIngress } from './mqtt/gateway-ingress.js';
import { LoggingPhoneProvider, type PhoneProvider } from './notifications/phone-channel.js';
import { RelayMetrics } from './relay-metrics.js';
import { CloudServices } from './services.js';
import { openConfiguredStore } from './store/cloud-db.js';
import type { SqlDatabase } from './store/sql-database.js';

export interface RelayDependencies {
  config: CloudConfig;
  clock: Clock;
  logger: Logger;
  /** Where SMS and calls go; default: logged and recorded, nothing sent (no vendor adapter yet). */
  phone?: PhoneProvider;
}

/** Where gateways connect: the relay's own aedes, or an external broker the relay subscribes to. */
export type MqttMode = 'embedded' | 'external';

/**
 * The cloud relay's composition root: store → registry/alarm store →
 * ingress (validate, commit, ack) ← embedded broker or external broker link;
 * HTTP API beside it.
 */
export class Relay {
  readonly counters = new Counters();
  private db: SqlDatabase | null = null;
  private broker: GatewayBroker | null = null;
  private link: ExternalBrokerLink | null = null;
  private http: ReturnType<typeof buildHttpServer> | null = null;
  private _ingress: GatewayIngress | null = null;
  private _lifecycle: AlarmLifecycle | null = null;
  private _services: CloudServices | null = null;
  private feed: ChangeFeed | null = null;
  private httpPort = 0;
  private _metrics: RelayMetrics | null = null;

  constructor(private readonly deps: RelayDependencies) {}

  async start(): Promise<void> {
    const { config, clock, logger } = this.deps;
    this.db = await openConfiguredStore(config);
    const postgres = config.store.postgres;
    // Several relay processes share one PostgreSQL: each hears the others' changes through LISTEN/NOTIFY.
    this.feed = postgres
      ? new PostgresChangeFeed(postgres.url, postgres.schema, logger.child({ component: 'changes' }))
      : new LocalChangeFeed((err) => logger.error({ err }, 'change listener failed'));
    await this.feed.start();
    const services = new CloudServices({
      db: this.db,
      config,
      clock,
      logger,
      counters: this.counters,
      feed: this.feed,
      phone: this.deps.phone ?? new LoggingPhoneProvider(logger.child({ component: 'phone' })),
    });
    this._services = services;
    const metrics = new RelayMetrics({
      counters: this.counters,
      db: this.db,
      logger: logger.child({ component: 'metrics' }),
      health: () => this.health(),
      mqttMode: this.mqttMode,
    });
    this._metrics = metrics;
    const ingress = new GatewayIngress(
      services.alarms,
      services.gateways,
      (topic, payload) => {
        if (this.broker) return this.broker.publish(topic, payload);
        if (this.link) return this.link.publish(topic, payload);
        return Promise.reject(new Error('broker stopped'));
      },
      clock,
      logger.child({ component: 'ingress' }),
      this.counters,
      {
        liveness: services.liveness,
        events: services.bedEvents,
        observeStoredAck: (seconds) => metrics.observeStoredAck(seconds),
      },
    );
    this._ingress = ingress;
    const lifecycle = new AlarmLifecycle(
      services.alarms,
      ingress,
      clock,
      logger.child({ component: 'alarms' }),
      this.counters,
    );
    this._lifecycle = lifecycle;
    ingress.events.on('gatewayOnline', (gatewayId) => {
      lifecycle.replayTo(gatewayId).catch((err: Error) => {
        logger.error({ gatewayId, err: err.message }, 'replaying alarm statuses failed');
      });
    });
    ingress.events.on('alarmStored', (alarm) => {
      void services.notifier.onAlarmStored(alarm);
    });
    lifecycle.events.on('acknowledged', (alarm) => metrics.observeAcknowledged(alarm));
    lifecycle.events.on('resolved', (alarm) => {
      void services.notifier.onResolved(alarm);
    });
    await services.start();
    const onMessage = (gatewayId: string, topic: string, payload: Buffer) =>
      ingress.handle(gatewayId, topic, payload);
    const external = config.mqtt.external;
    if (external) {
      const link = new ExternalBrokerLink(
        { ...external, clientId: external.clientId ?? defaultRelayClientId() },
        onMessage,
        logger.child({ component: 'mqtt' }),
        this.counters,
      );
      this.link = link;
      link.start();
      // A broker that is down at start-up must not keep the relay (and its HTTP API) down: go on, keep trying.
      if (!(await link.waitUntilConnected(external.connectTimeoutMs))) {
        logger.error(
          { url: link.url },
          'external MQTT broker not reachable yet; the relay keeps trying (GET /healthz says degraded)',
        );
      }
    } else {
      const broker = new GatewayBroker(
        config.mqtt,
        (id, secret) => services.gateways.verify(id, secret),
        onMessage,
        logger.child({ component: 'mqtt' }),
        this.counters,
      );
      this.broker = broker;
      try {
        await broker.start();
      } catch (err) {
        // Nothing listens (a missing certificate, a port in use): leave nothing open behind.
        this.broker = null;
        await this.stop();
        throw err;
      }
    }
    this.http = buildHttpServer({
      services,
      lifecycle,
      feed: this.feed,
      clock,
      counters: this.counters,
      logger,
      trustProxy: config.http.trustProxy,
      metrics,
      metricsConfig: config.metrics,
      health: () => this.health(),
    });
    await this.http.listen({ host: config.http.host, port: config.http.port });
    const address = this.http.server.address();
    this.httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    logger.info(
      {
        url: this.httpUrl,
        mqttMode: this.mqttMode,
        mqttPort: this.mqttPort,
        ...(this.broker?.tlsPort ? { mqttTlsPort: this.mqttTlsPort } : {}),
        ...(this.link ? { broker: this.link.url } : {}),
      },
      'cloud relay started',
    );
  }

  get mqttMode(): MqttMode {
    return this.deps.config.mqtt.external ? 'external' : 'embedded';
  }

  /** What GET /healthz reports: MQTT is up when the embedded broker runs, or the external one is connected. */
  health(): {
    mqtt: boolean;
    mqttMode: MqttMode;
    connectedGateways?: number;
    broker?: string;
    /** Embedded mode with `mqtt.tls`: the MQTT-over-TLS port. */
    mqttTlsPort?: number;
  } {
    if (this.link) return { mqtt: this.link.connected, mqttMode: 'external', broker: this.link.url };
    return {
      mqtt: this.broker !== null,
      mqttMode: 'embedded',
      connectedGateways: this.broker?.connectedClients ?? 0,
      ...(this.broker?.tlsPort ? { mqttTlsPort: this.broker.tlsPort } : {}),
    };
  }

  /** The external broker link (external mode), for tests and diagnostics. */
  get externalBroker(): ExternalBrokerLink | null {
    return this.link;
  }

  /** This relay's Prometheus registry (GET /metrics). */
  get metrics(): RelayMetrics {
    if (!this._metrics) throw new Error('relay not started');
    return this._metrics;
  }

  get lifecycle(): AlarmLifecycle {
    if (!this._lifecycle) throw new Error('relay not started');
    return this._lifecycle;
  }

  get httpUrl(): string {
    return `http://${this.deps.config.http.host}:${this.httpPort}`;
  }

  /** The embedded broker's plain TCP port; 0 in external mode or with `mqtt.plain: false`. */
  get mqttPort(): number {
    return this.broker?.port ?? 0;
  }

  /** The embedded broker's MQTT-over-TLS port; 0 without `mqtt.tls` or in external mode. */
  get mqttTlsPort(): number {
    return this.broker?.tlsPort ?? 0;
  }

  /** Stores and workers (people, alarms, escalation, notifications, statistics). */
  get services(): CloudServices {
    if (!this._services) throw new Error('relay not started');
    return this._services;
  }

  get gateways(): GatewayRegistry {
    return this.services.gateways;
  }

  get alarms(): AlarmStore {
    return this.services.alarms;
  }

  get ingress(): GatewayIngress {
    if (!this._ingress) throw new Error('relay not started');
    return this._ingress;
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.http = null;
    await this.broker?.stop();
    this.broker = null;
    await this.link?.stop();
    this.link = null;
    this._ingress?.events.removeAll();
    this._lifecycle?.events.removeAll();
    // Workers first: an escalation or a delivery must not start on a store about to close.
    await this._services?.stop();
    this._services = null;
    await this.feed?.stop();
    this.feed = null;
    await this.db?.close();
    this.db = null;
    this.deps.logger.info('cloud relay stopped');
  }
}
