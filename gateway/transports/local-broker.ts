import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { closeAedes, listenAedes } from '../../common/aedes-server.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';

export interface LocalBrokerOptions {
  host: string;
  port: number;
  /** When set, every client must log in with these (zigbee2mqtt's `mqtt.user` / `mqtt.password`). */
  username?: string;
  password?: string;
}

/** Receives every message a local client publishes, before its PUBACK. */
export type LocalMessageHandler = (topic: string, payload: Buffer, clientId: string) => void;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The gateway's own MQTT broker (aedes) on the home LAN: zigbee2mqtt and
 * native Wi-Fi/4G devices publish to it. A transport: it moves messages and
 * knows nothing of devices; subscribers inside the gateway get every publish.
 */
export class LocalBroker {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private handlers: LocalMessageHandler[] = [];
  private boundPort = 0;

  constructor(
    private readonly options: LocalBrokerOptions,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  onMessage(handler: LocalMessageHandler): () => void {
    this.handlers.push(handler);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }

  async start(): Promise<void> {
    const { username, password } = this.options;
    const broker = await Aedes.createBroker({
      authenticate: (client, user, pass, done) => {
        if (username === undefined) return done(null, true);
        const ok =
          user === username && sameSecret(pass ? Buffer.from(pass).toString('utf8') : '', password ?? '');
        if (ok) return done(null, true);
        this.counters.inc('local_mqtt_auth_failures');
        this.logger.warn({ clientId: client.id, username: user }, 'local MQTT login refused');
        const err = new Error('bad username or password') as AuthenticateError;
        err.returnCode = 4;
        done(err, false);
      },
      published: (packet, client, done) => {
        if (client && !packet.topic.startsWith('$SYS')) {
          const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
          for (const handler of this.handlers) {
            try {
              handler(packet.topic, payload, client.id);
            } catch (err) {
              this.logger.error({ err, topic: packet.topic }, 'local message handler failed');
            }
          }
        }
        done();
      },
    });
    broker.on('client', (client) => this.logger.info({ clientId: client.id }, 'local MQTT client connected'));
    broker.on('clientDisconnect', (client) =>
      this.logger.info({ clientId: client.id }, 'local MQTT client disconnected'),
    );
    this.broker = broker;
    const { server, port } = await listenAedes(broker, this.options.host, this.options.port);
    this.server = server;
    this.boundPort = port;
    this.logger.info(
      { host: this.options.host, port: this.boundPort, auth: username !== undefined },
      'local MQTT broker listening',
    );
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    const server = this.server;
    this.broker = null;
    this.server = null;
    this.handlers = [];
    await closeAedes(broker, server);
  }
}
