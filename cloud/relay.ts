import type { Clock } from '../common/clock.js';
import { Counters } from '../common/counters.js';
import type { Logger } from '../common/logger.js';
import type { SqliteDatabase } from '../common/sqlite.js';
import type { AlarmStore } from './alarms/alarm-store.js';
import { SqliteAlarmStore } from './alarms/sqlite-alarm-store.js';
import type { CloudConfig } from './config/schema.js';
import { GatewayRegistry } from './gateways/gateway-registry.js';
import { buildHttpServer } from './http/http-server.js';
import { GatewayBroker } from './mqtt/gateway-broker.js';
import { GatewayIngress } from './mqtt/gateway-ingress.js';
import { openCloudDb } from './store/cloud-db.js';

export interface RelayDependencies {
  config: CloudConfig;
  clock: Clock;
  logger: Logger;
}

/**
 * The cloud relay's composition root: store → registry/alarm store →
 * ingress (validate, commit, ack) ← embedded broker; HTTP API beside it.
 */
export class Relay {
  readonly counters = new Counters();
  private db: SqliteDatabase | null = null;
  private broker: GatewayBroker | null = null;
  private http: ReturnType<typeof buildHttpServer> | null = null;
  private _ingress: GatewayIngress | null = null;
  private _gateways: GatewayRegistry | null = null;
  private _alarms: AlarmStore | null = null;
  private httpPort = 0;

  constructor(private readonly deps: RelayDependencies) {}

  async start(): Promise<void> {
    const { config, clock, logger } = this.deps;
    this.db = openCloudDb(config.dataDir);
    const alarms = new SqliteAlarmStore(this.db);
    this._alarms = alarms;
    const gateways = new GatewayRegistry(this.db);
    this._gateways = gateways;
    let broker: GatewayBroker | null = null;
    const ingress = new GatewayIngress(
      alarms,
      gateways,
      (topic, payload) =>
        broker ? broker.publish(topic, payload) : Promise.reject(new Error('broker stopped')),
      clock,
      logger.child({ component: 'ingress' }),
      this.counters,
    );
    this._ingress = ingress;
    broker = new GatewayBroker(
      config.mqtt,
      (id, secret) => gateways.verify(id, secret),
      (gatewayId, topic, payload) => ingress.handle(gatewayId, topic, payload),
      logger.child({ component: 'mqtt' }),
      this.counters,
    );
    this.broker = broker;
    await broker.start();
    this.http = buildHttpServer({
      alarms,
      gateways,
      counters: this.counters,
      logger,
      health: () => ({ mqtt: this.broker !== null, connectedGateways: this.broker?.connectedClients ?? 0 }),
    });
    await this.http.listen({ host: config.http.host, port: config.http.port });
    const address = this.http.server.address();
    this.httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    logger.info({ url: this.httpUrl, mqttPort: broker.port }, 'cloud relay started');
  }

  get httpUrl(): string {
    return `http://${this.deps.config.http.host}:${this.httpPort}`;
  }

  get mqttPort(): number {
    return this.broker?.port ?? 0;
  }

  get gateways(): GatewayRegistry {
    if (!this._gateways) throw new Error('relay not started');
    return this._gateways;
  }

  get alarms(): AlarmStore {
    if (!this._alarms) throw new Error('relay not started');
    return this._alarms;
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
    this._ingress?.events.removeAll();
    this.db?.close();
    this.db = null;
    this.deps.logger.info('cloud relay stopped');
  }
}
