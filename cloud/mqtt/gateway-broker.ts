import type { Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { closeAedes, listenAedes } from '../../common/aedes-server.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { CLOUD_TO_GATEWAY, gatewayTopic, isGatewayToCloud, parseGatewayTopic } from '../../contract/index.js';

export interface GatewayBrokerOptions {
  host: string;
  port: number;
}

/** Checks a gateway's id and secret; the broker knows nothing about how they are stored. */
export type GatewayAuthenticator = (gatewayId: string, secret: string) => Promise<boolean>;

/** Called for every message a gateway publishes, after authorization and before its PUBACK. */
export type GatewayMessageHandler = (
  gatewayId: string,
  topic: string,
  payload: Buffer,
) => void | Promise<void>;

const authenticatedId = new WeakMap<Client, string>();

/**
 * The relay's embedded MQTT broker (aedes). Every client is a gateway that
 * logs in with its id as client id and user name and its secret as the
 * password; it may publish only `alarm|heartbeat|status|event` under its own
 * prefix and subscribe only to its own `ack` and `cmd`. Everything else is
 * refused and counted; the broker and the other gateways carry on.
 */
export class GatewayBroker {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private boundPort = 0;

  constructor(
    private readonly options: GatewayBrokerOptions,
    private readonly authenticateGateway: GatewayAuthenticator,
    private readonly onMessage: GatewayMessageHandler,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  get connectedClients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const secret = password ? Buffer.from(password).toString('utf8') : '';
        const refuse = (reason: string, returnCode: number) => {
          this.counters.inc('mqtt_auth_failures', { reason });
          this.logger.warn({ clientId: client.id, username, reason }, 'gateway login refused');
          const err = new Error(reason) as AuthenticateError;
          err.returnCode = returnCode;
          done(err, false);
        };
        if (!username || !secret) return refuse('missing_credentials', 4);
        // The client id must be the gateway id, so one gateway cannot take over another's session.
        if (client.id !== username) return refuse('client_id_mismatch', 5);
        this.authenticateGateway(username, secret).then(
          (ok) => {
            if (!ok) return refuse('bad_credentials', 4);
            authenticatedId.set(client, username);
            done(null, true);
          },
          (err: unknown) => {
            this.logger.error({ err }, 'gateway authentication failed with an error');
            refuse('error', 3);
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        const gatewayId = client ? authenticatedId.get(client) : undefined;
        const parsed = parseGatewayTopic(packet.topic);
        if (!gatewayId || !parsed || parsed.gatewayId !== gatewayId || !isGatewayToCloud(parsed.kind)) {
          this.counters.inc('mqtt_publish_denied');
          this.logger.warn({ gatewayId, topic: packet.topic }, 'publish outside the gateway prefix refused');
          // MQTT 3.1.1 has no negative PUBACK: the offending connection is closed.
          return done(new Error('not authorized'));
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        const gatewayId = client ? authenticatedId.get(client) : undefined;
        const allowed = gatewayId
          ? CLOUD_TO_GATEWAY.map((kind) => gatewayTopic(gatewayId, kind)).includes(sub.topic)
          : false;
        if (!allowed) {
          this.counters.inc('mqtt_subscribe_denied');
          this.logger.warn(
            { gatewayId, topic: sub.topic },
            'subscription outside the gateway prefix refused',
          );
          // A null subscription is granted as 0x80 (failure) without dropping the connection.
          return done(null, null);
        }
        done(null, sub);
      },
      published: (packet, client, done) => {
        const gatewayId = client ? authenticatedId.get(client) : undefined;
        if (!gatewayId) return done();
        Promise.resolve(this.onMessage(gatewayId, packet.topic, packet.payload as Buffer)).then(
          () => done(),
          (err: unknown) => {
            this.logger.error({ err, topic: packet.topic }, 'message handler failed');
            done();
          },
        );
      },
    });
    broker.on('clientError', (client, err) => {
      this.logger.debug({ clientId: client?.id, err: err.message }, 'gateway connection error');
    });
    broker.on('client', (client) => this.logger.info({ gatewayId: client.id }, 'gateway connected'));
    broker.on('clientDisconnect', (client) =>
      this.logger.info({ gatewayId: client.id }, 'gateway disconnected'),
    );
    this.broker = broker;
    const { server, port } = await listenAedes(broker, this.options.host, this.options.port);
    this.server = server;
    this.boundPort = port;
    this.logger.info({ host: this.options.host, port: this.boundPort }, 'gateway MQTT broker listening');
  }

  /** Publish to a gateway (QoS 1); bypasses authorization because the relay is the author. */
  publish(topic: string, payload: string): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve, reject) =>
      broker.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    const server = this.server;
    this.broker = null;
    this.server = null;
    await closeAedes(broker, server);
  }
}
