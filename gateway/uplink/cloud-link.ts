import mqtt, { type MqttClient } from 'mqtt';
import { withTimeout } from '../../common/async.js';
import { backoffDelayMs } from '../../common/backoff.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import {
  type AckMessage,
  ackMessageSchema,
  CONTRACT_VERSION,
  type CommandMessage,
  commandMessageSchema,
  encodePayload,
  type GatewayToCloudKind,
  gatewayTopic,
  parseGatewayTopic,
  parsePayload,
  statusMessageSchema,
} from '../../contract/index.js';

export interface CloudLinkOptions {
  url: string;
  gatewayId: string;
  secret: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  /** First reconnect delay; doubles on every failed attempt up to `reconnectMaxMs`, ±20 % jitter. */
  reconnectPeriodMs: number;
  reconnectMaxMs?: number;
  random?: () => number;
}

export interface CloudLinkEvents {
  connected: undefined;
  disconnected: undefined;
  ack: AckMessage;
  cmd: CommandMessage;
}

/**
 * The gateway's MQTT connection to the cloud relay. It owns the session
 * (persistent, so QoS 1 acks queued while we were away still arrive),
 * the retained `online` status and its `offline` last will, and validates
 * everything that comes down. It knows nothing about outboxes or rules.
 */
export class CloudLink {
  readonly events: TypedEmitter<CloudLinkEvents>;
  private client: MqttClient | null = null;

  constructor(
    private readonly options: CloudLinkOptions,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.events = new TypedEmitter((event, err) =>
      logger.error({ err, event }, 'cloud link listener failed'),
    );
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const { gatewayId } = this.options;
    const client = mqtt.connect(this.options.url, {
      clientId: gatewayId,
      username: gatewayId,
      password: this.options.secret,
      protocolVersion: 4,
      clean: false,
      keepalive: this.options.keepaliveS,
      connectTimeout: this.options.connectTimeoutMs,
      reconnectPeriod: this.options.reconnectPeriodMs,
      will: {
        topic: gatewayTopic(gatewayId, 'status'),
        payload: Buffer.from(encodePayload(statusMessageSchema, { v: CONTRACT_VERSION, state: 'offline' })),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    // mqtt.js retries at a fixed period; a fleet of gateways reconnecting after a cloud outage must not
    // stampede, so the period grows with each failure (with jitter). Prepended: mqtt.js schedules its
    // reconnect in its own 'close' listener, which must see the new period.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = this.nextReconnectDelay();
    });
    client.on('connect', (connack) => {
      this.reconnectAttempts = 0;
      this.logger.info(
        { url: this.options.url, sessionPresent: connack.sessionPresent },
        'connected to cloud',
      );
      this.counters.inc('cloud_connects');
      void this.onConnect(client);
    });
    client.on('close', () => {
      if (this.wasConnected) {
        this.wasConnected = false;
        this.logger.warn('cloud connection closed; reconnecting');
        this.events.emit('disconnected', undefined);
      }
    });
    client.on('error', (err) => {
      this.counters.inc('cloud_errors');
      // Bad credentials are a configuration problem that retrying will not fix; say so plainly.
      const code = (err as { code?: number }).code;
      if (code === 4 || code === 5) {
        this.logger.error({ code }, 'cloud refused our credentials (check gatewayId and cloud.secret)');
      } else {
        this.logger.warn({ err: err.message }, 'cloud connection error');
      }
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private wasConnected = false;
  private reconnectAttempts = 0;

  /** The delay before the next reconnect attempt (exported for tests through `reconnectDelays`). */
  nextReconnectDelay(): number {
    return backoffDelayMs(this.reconnectAttempts++, {
      initialMs: this.options.reconnectPeriodMs,
      maxMs: this.options.reconnectMaxMs ?? 60_000,
      random: this.options.random,
    });
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const { gatewayId } = this.options;
    try {
      await client.subscribeAsync([gatewayTopic(gatewayId, 'ack'), gatewayTopic(gatewayId, 'cmd')], {
        qos: 1,
      });
      await client.publishAsync(
        gatewayTopic(gatewayId, 'status'),
        encodePayload(statusMessageSchema, {
          v: CONTRACT_VERSION,
          state: 'online',
          at: new Date().toISOString(),
        }),
        { qos: 1, retain: true },
      );
      this.wasConnected = true;
      this.events.emit('connected', undefined);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'cloud session set-up failed; will retry on reconnect',
      );
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseGatewayTopic(topic);
    if (!parsed || parsed.gatewayId !== this.options.gatewayId) {
      this.counters.inc('cloud_messages_rejected', { reason: 'topic' });
      this.logger.warn({ topic }, 'message on an unexpected topic ignored');
      return;
    }
    if (parsed.kind === 'ack') {
      const result = parsePayload(ackMessageSchema, payload);
      if (!result.ok) {
        this.counters.inc('cloud_messages_rejected', { reason: 'schema' });
        this.logger.warn({ topic, error: result.error }, 'invalid ack from cloud ignored');
        return;
      }
      this.events.emit('ack', result.value);
      return;
    }
    if (parsed.kind === 'cmd') {
      const result = parsePayload(commandMessageSchema, payload);
      if (!result.ok) {
        this.counters.inc('cloud_messages_rejected', { reason: 'command' });
        this.logger.warn({ topic, error: result.error }, 'command not understood; ignored');
        return;
      }
      this.counters.inc('commands_received', { cmd: result.value.cmd });
      this.events.emit('cmd', result.value);
    }
  }

  /** Publish with QoS 1; resolves when the broker has acknowledged (PUBACK). */
  async publish(
    kind: GatewayToCloudKind,
    payload: string,
    options: { retain?: boolean } = {},
  ): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the cloud');
    await client.publishAsync(gatewayTopic(this.options.gatewayId, kind), payload, {
      qos: 1,
      retain: options.retain ?? false,
    });
  }

  /** Say `offline` ourselves (a clean disconnect does not fire the will), then close. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    this.wasConnected = false;
    if (client.connected) {
      try {
        await withTimeout(
          client.publishAsync(
            gatewayTopic(this.options.gatewayId, 'status'),
            encodePayload(statusMessageSchema, {
              v: CONTRACT_VERSION,
              state: 'offline',
              at: new Date().toISOString(),
            }),
            { qos: 1, retain: true },
          ),
          1_000,
          undefined,
        );
      } catch {
        // Best effort: the last will covers us if this does not get through.
      }
    }
    // A clean DISCONNECT (not a forced close), so the broker discards the last will: we already said offline.
    await withTimeout(client.endAsync(false), 2_000, undefined);
    if (!client.disconnected) await client.endAsync(true);
    this.events.removeAll();
  }
}
