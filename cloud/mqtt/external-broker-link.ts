import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { withTimeout } from '../../common/async.js';
import { Backoff } from '../../common/backoff.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import {
  allGatewaysFilter,
  GATEWAY_TO_CLOUD,
  isGatewayToCloud,
  parseGatewayTopic,
} from '../../contract/index.js';
import type { GatewayMessageHandler } from './gateway-broker.js';

export interface ExternalBrokerLinkOptions {
  /** `mqtt://host:port` of the broker. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Fixed, so the broker keeps our session (and the messages we have not acknowledged) across restarts. */
  clientId: string;
  /** Shared-subscription group: each message goes to one relay of the group. */
  shareGroup: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  /** First reconnect delay; doubles on every failed attempt up to `reconnectMaxMs`, ±20 % jitter. */
  reconnectPeriodMs: number;
  reconnectMaxMs: number;
  /** MQTT 5 session expiry: how long the broker keeps our session while we are away. */
  sessionExpiryS: number;
  random?: () => number;
}

/** The client id a relay uses when the configuration names none. */
export function defaultRelayClientId(): string {
  return `homebed-relay-${hostname()}`.slice(0, 64);
}

/** The broker URL without user name or password, for logs and /healthz. */
export function displayBrokerUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable url)';
  }
}

/** The relay's subscriptions: every kind a gateway sends, from every gateway, shared within the group. */
export function relaySubscriptions(shareGroup: string): string[] {
  return GATEWAY_TO_CLOUD.map((kind) => `$share/${shareGroup}/${allGatewaysFilter(kind)}`);
}

/**
 * The relay's client of an external MQTT 5 broker (Mosquitto, …) that the gateways connect to
 * instead of the embedded aedes. The broker authenticates the gateways and its ACL keeps each to its
 * own prefix, so the gateway id is the one in the topic.
 *
 * Every message is handed to the handler (the ingress: validate, commit, publish `stored`) and its
 * PUBACK goes back to the broker only after the handler has resolved, on the connection it came
 * in on: mqtt.js sends the PUBACK of a QoS 1 message when `handleMessage`'s callback is called. A
 * message whose handling failed, or whose connection was lost meanwhile, is not acknowledged; the
 * broker delivers it again on the next connection of our persistent session (`clean: false`, fixed
 * client id), and the ingress stores it once whatever the number of deliveries.
 *
 * mqtt.js hands messages to `handleMessage` one at a time and reads nothing else from the socket
 * until its callback is called, so messages are handled in the order the broker sends them; and a
 * publish made by the handler (the `stored` ack) cannot wait for its own PUBACK, which is queued
 * behind the message being handled: such a publish resolves once mqtt.js has it (see `publish`).
 */
export class ExternalBrokerLink {
  private client: MqttClient | null = null;
  private readonly backoff: Backoff;
  private subscribed = false;
  private wasConnected = false;
  private stopping = false;
  /** Streams we have given up on (a handler failed): nothing more on them is acknowledged. */
  private readonly abandoned = new WeakSet<object>();
  /** Set while the handler runs, so `publish` can tell a call from the handler. */
  private readonly inHandler = new AsyncLocalStorage<true>();
  private handling: Promise<void> = Promise.resolve();
  private readyWaiters = new Set<() => void>();

  constructor(
    private readonly options: ExternalBrokerLinkOptions,
    private readonly onMessage: GatewayMessageHandler,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.backoff = new Backoff({
      initialMs: options.reconnectPeriodMs,
      maxMs: options.reconnectMaxMs,
      random: options.random,
    });
  }

  /** Connected to the broker and subscribed: gateways' messages reach the relay. */
  get connected(): boolean {
    return (this.client?.connected ?? false) && this.subscribed;
  }

  get url(): string {
    return displayBrokerUrl(this.options.url);
  }

  /** Connect (and keep reconnecting) in the background; see {@link waitUntilConnected}. */
  start(): void {
    if (this.client) throw new Error('external broker link already started');
    this.stopping = false;
    const { options } = this;
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: options.sessionExpiryS },
      keepalive: options.keepaliveS,
      connectTimeout: options.connectTimeoutMs,
      reconnectPeriod: options.reconnectPeriodMs,
      // We subscribe ourselves on every connection (also when the broker kept the session).
      resubscribe: false,
    });
    this.client = client;
    client.handleMessage = (packet, callback) => this.handlePublish(client, packet, callback);
    // mqtt.js retries at a fixed period; back off instead. Prepended: mqtt.js schedules its reconnect in
    // its own 'close' listener, which must see the new period.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = this.backoff.next();
    });
    client.on('connect', (connack) => {
      this.backoff.reset();
      this.wasConnected = true;
      this.counters.inc('mqtt_broker_connects');
      this.logger.info(
        { url: this.url, clientId: options.clientId, sessionPresent: connack.sessionPresent },
        'connected to the external MQTT broker',
      );
      void this.subscribe(client);
    });
    client.on('close', () => {
      this.subscribed = false;
      if (this.wasConnected) {
        this.wasConnected = false;
        if (!this.stopping) {
          this.counters.inc('mqtt_broker_connection_lost');
          this.logger.warn(
            { url: this.url, lost: this.counters.get('mqtt_broker_connection_lost') },
            'connection to the external MQTT broker lost; reconnecting',
          );
        }
      }
    });
    client.on('error', (err) => {
      this.counters.inc('mqtt_broker_errors');
      const code = (err as { code?: number }).code;
      // 4/5: MQTT 3.1.1 bad credentials / not authorized; 134/135: the same in MQTT 5.
      if (code === 4 || code === 5 || code === 134 || code === 135) {
        this.logger.error(
          { url: this.url, code },
          'the external MQTT broker refused our credentials (check mqtt.external.username/password)',
        );
      } else {
        this.logger.warn({ url: this.url, err: err.message }, 'external MQTT broker connection error');
      }
    });
  }

  /** Resolves true once connected and subscribed, false if that has not happened within `timeoutMs`. */
  waitUntilConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    let waiter: () => void = () => {};
    const ready = new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.readyWaiters.add(waiter);
    });
    return withTimeout(ready, timeoutMs, false).finally(() => this.readyWaiters.delete(waiter));
  }

  /**
   * Publish with QoS 1 (acks and commands to gateways). Resolves on the broker's PUBACK; rejects at
   * once when not connected (the caller decides; a gateway retransmits an alarm it has no `stored`
   * for). Called from the message handler it resolves as soon as mqtt.js has the message, because the
   * PUBACK could only be read after the handler returns: the `stored` ack then goes out after the commit
   * and just before the alarm's own PUBACK, and one that is lost is made good by the gateway's retransmission.
   */
  publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('external broker link not started'));
    const fromHandler = this.inHandler.getStore() === true;
    if (!client.connected) return Promise.reject(new Error('not connected to the external MQTT broker'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain: false }, (err) => {
        if (!err) return resolve();
        if (fromHandler) {
          this.logger.warn(
            { topic, err: err.message },
            'publish to a gateway not acknowledged by the broker',
          );
        }
        reject(err);
      });
      if (fromHandler) resolve();
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return;
    this.stopping = true;
    // Let a message being handled finish (its ack and PUBACK then go out before the DISCONNECT); no new one
    // is started, those stay in our session for the next start.
    await withTimeout(this.handling, 5_000, undefined);
    this.client = null;
    // A clean DISCONNECT; the session stays (sessionExpiryS) so a restart picks up what was queued meanwhile.
    await withTimeout(client.endAsync(false), 2_000, undefined);
    if (!client.disconnected) await client.endAsync(true);
    this.subscribed = false;
    this.wasConnected = false;
    this.readyWaiters.clear();
  }

  private async subscribe(client: MqttClient): Promise<void> {
    const filters = relaySubscriptions(this.options.shareGroup);
    try {
      const granted = await client.subscribeAsync(filters, { qos: 1 });
      if (client !== this.client || !client.connected) return;
      const downgraded = granted.filter((g) => g.qos !== 1);
      if (downgraded.length) {
        // A QoS 0 delivery is acknowledged by nobody: the gateways' retransmissions are then all there is.
        this.counters.inc('mqtt_broker_qos_downgraded');
        this.logger.error(
          { granted: downgraded.map((g) => ({ topic: g.topic, qos: g.qos })) },
          'the external MQTT broker did not grant QoS 1 on every subscription',
        );
      }
      this.subscribed = true;
      this.logger.info({ filters }, 'subscribed to the gateways through the external MQTT broker');
      for (const waiter of this.readyWaiters) waiter();
    } catch (err) {
      if (client !== this.client) return;
      this.counters.inc('mqtt_broker_subscribe_failures');
      this.logger.error(
        { err: (err as Error).message, filters },
        'subscribing at the external MQTT broker failed (check its ACL for the relay user); reconnecting',
      );
      // Start over on a new connection, after the backoff.
      client.stream?.destroy();
    }
  }

  /** mqtt.js's hook for an incoming PUBLISH; for QoS 1 the PUBACK is sent when `done` is called without error. */
  private handlePublish(client: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    const stream = client.stream;
    if (this.abandoned.has(stream) || this.stopping) {
      // Not acknowledged: the broker delivers it again on our session's next connection.
      done(new Error(this.stopping ? 'stopping' : 'connection abandoned'));
      return;
    }
    const topic = packet.topic;
    const parsed = parseGatewayTopic(topic);
    if (!parsed || !isGatewayToCloud(parsed.kind)) {
      // Our filters match nothing else; a message that is not the contract's will never be, so it is acknowledged.
      this.counters.inc('mqtt_messages_rejected', { reason: 'topic' });
      this.logger.warn({ topic }, 'message on a topic outside the contract ignored');
      done();
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const handled = this.inHandler.run(true, async () => this.onMessage(parsed.gatewayId, topic, payload));
    this.handling = handled.then(
      () => {
        // Only on the connection the message came in on: mqtt.js would queue a PUBACK while offline and
        // send it on the next connection, where that packet id may name another message.
        if (client.connected && client.stream === stream && !this.abandoned.has(stream)) {
          done();
        } else {
          this.logger.info(
            { topic },
            'connection lost while handling a message; the broker delivers it again',
          );
          done(new Error('connection lost before the message was handled'));
        }
      },
      (err: unknown) => {
        // Not acknowledged: drop this connection so the broker delivers the message again on the next one.
        this.counters.inc('mqtt_messages_failed', { kind: parsed.kind });
        this.logger.error(
          { err, topic, gatewayId: parsed.gatewayId },
          'handling a gateway message failed; not acknowledged, reconnecting for a redelivery',
        );
        this.abandoned.add(stream);
        stream.destroy();
        done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }
}
