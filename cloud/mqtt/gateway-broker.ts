import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { resolve } from 'node:path';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContextOptions,
  type Server as TlsServer,
} from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { closeAedes, listenAedes } from '../../common/aedes-server.js';
import type { Counters } from '../../common/counters.js';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { CLOUD_TO_GATEWAY, gatewayTopic, isGatewayToCloud, parseGatewayTopic } from '../../contract/index.js';

/** MQTT over TLS beside (or instead of) plain TCP; the files are read when the broker starts. */
export interface GatewayBrokerTlsOptions {
  port: number;
  certFile: string;
  keyFile: string;
  /** Intermediate CA certificates to send with the relay's certificate. */
  caFile?: string | undefined;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface GatewayBrokerOptions {
  host: string;
  /** Plain TCP port (0 = any free port); unused when `plain` is false. */
  port: number;
  /** Listen on plain TCP too; default true. */
  plain?: boolean;
  tls?: GatewayBrokerTlsOptions | undefined;
}

/** Read one PEM file named by the configuration key `key`; a clear ConfigError naming the file otherwise. */
function readPemFile(file: string, key: string): Buffer {
  const path = resolve(file);
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(path, [`${key}: cannot read ${path} (${errorMessage(err)})`]);
  }
  if (!pem.includes('-----BEGIN ')) {
    throw new ConfigError(path, [`${key}: ${path} is not a PEM file (no "-----BEGIN" line)`]);
  }
  return pem;
}

/**
 * The relay's certificate, key and chain, read and checked (the key must match the certificate)
 * before anything listens, so a bad file stops start-up with the file's name.
 */
export function loadBrokerTls(tls: GatewayBrokerTlsOptions): SecureContextOptions {
  const material: SecureContextOptions = {
    cert: readPemFile(tls.certFile, 'mqtt.tls.certFile'),
    key: readPemFile(tls.keyFile, 'mqtt.tls.keyFile'),
    ...(tls.caFile ? { ca: readPemFile(tls.caFile, 'mqtt.tls.caFile') } : {}),
    minVersion: tls.minVersion,
  };
  try {
    createSecureContext(material);
  } catch (err) {
    throw new ConfigError(resolve(tls.certFile), [
      `mqtt.tls: certificate ${resolve(tls.certFile)} and key ${resolve(tls.keyFile)} are not usable together (${errorMessage(err)})`,
    ]);
  }
  return material;
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
  private tlsServer: TlsServer | null = null;
  private boundPort = 0;
  private boundTlsPort = 0;

  constructor(
    private readonly options: GatewayBrokerOptions,
    private readonly authenticateGateway: GatewayAuthenticator,
    private readonly onMessage: GatewayMessageHandler,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  /** The plain TCP port; 0 when plain TCP is off. */
  get port(): number {
    return this.boundPort;
  }

  /** The MQTT-over-TLS port; 0 without TLS. */
  get tlsPort(): number {
    return this.boundTlsPort;
  }

  get connectedClients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  async start(): Promise<void> {
    // Before anything else: a missing or bad certificate must stop start-up, naming the file.
    const tls = this.options.tls ? loadBrokerTls(this.options.tls) : null;
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
    try {
      if (this.options.plain ?? true) {
        const { server, port } = await listenAedes(broker, this.options.host, this.options.port);
        this.server = server;
        this.boundPort = port;
        this.logger.info({ host: this.options.host, port: this.boundPort }, 'gateway MQTT broker listening');
      }
      if (tls && this.options.tls) {
        this.tlsServer = await this.listenTls(broker, tls, this.options.tls.port);
        this.logger.info(
          { host: this.options.host, port: this.boundTlsPort, minVersion: this.options.tls.minVersion },
          'gateway MQTT broker listening over TLS',
        );
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async listenTls(broker: Aedes, material: SecureContextOptions, port: number): Promise<TlsServer> {
    // No Nagle (see common/aedes-server.ts): a `stored` ack must not wait for the gateway's delayed ACK.
    const server = createTlsServer({ ...material, noDelay: true }, broker.handle);
    // A gateway that does not trust our certificate (wrong CA, name) aborts the handshake; so do port scanners.
    server.on('tlsClientError', (err, socket) => {
      this.counters.inc('mqtt_tls_handshake_failures');
      this.logger.debug(
        { remote: socket.remoteAddress, err: err.message },
        'TLS handshake with a client failed',
      );
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    const address = server.address();
    this.boundTlsPort = typeof address === 'object' && address ? address.port : port;
    return server;
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
    const tlsServer = this.tlsServer;
    this.broker = null;
    this.server = null;
    this.tlsServer = null;
    await closeAedes(broker, server);
    if (tlsServer) await closeAedes(null, tlsServer);
  }
}
