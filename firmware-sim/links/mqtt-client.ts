import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../common/logger.js';

/** Where the MQTT emulators connect (the gateway's own broker). */
export interface SimMqttConfig {
  url: string;
  username?: string;
  password?: string;
  /** Pause between connection attempts while the broker is down. */
  reconnectPeriodMs: number;
}

/** `mqtt.connect`, injectable so a test can hand out a client of its own. */
export type MqttConnectFn = (url: string, options: IClientOptions) => MqttClient;

/** A last will, as the real device registers it. */
export interface MqttWill {
  topic: string;
  payload: string;
  retain: boolean;
  qos: 0 | 1;
}

const END_TIMEOUT_MS = 2_000;

/**
 * One MQTT connection of an emulated device or bridge. It does not wait for
 * the broker: the client keeps retrying every `reconnectPeriodMs` (the
 * simulator usually starts before the gateway and its broker), and
 * `onConnect` runs on every (re)connection, which is when real devices and
 * zigbee2mqtt republish their retained state.
 */
export class SimMqttConnection {
  private client: MqttClient | undefined;
  private published = 0;

  constructor(
    private readonly options: {
      config: SimMqttConfig;
      clientId: string;
      will?: MqttWill;
      onConnect: () => void;
      connect?: MqttConnectFn;
      logger?: Logger;
    },
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Messages handed to the client so far. */
  get messagesPublished(): number {
    return this.published;
  }

  /** Start connecting (and keep retrying). */
  start(): void {
    if (this.client) return;
    const { config, clientId, will, logger } = this.options;
    const connect = this.options.connect ?? mqtt.connect;
    const client = connect(config.url, {
      clientId,
      username: config.username,
      password: config.password,
      reconnectPeriod: config.reconnectPeriodMs,
      connectTimeout: 5_000,
      clean: true,
      ...(will
        ? {
            will: {
              topic: will.topic,
              payload: Buffer.from(will.payload),
              retain: will.retain,
              qos: will.qos,
            },
          }
        : {}),
    });
    const url = withoutCredentials(config.url);
    client.on('connect', () => {
      logger?.info({ url, clientId }, 'connected to MQTT broker');
      this.options.onConnect();
    });
    // A broker that is not up yet is normal at start (the demo starts the simulator first): say so once, briefly.
    let lastError = '';
    client.on('error', (err) => {
      if (err.message === lastError) return;
      lastError = err.message;
      logger?.warn({ url, clientId, err: err.message }, 'MQTT broker not reachable; retrying');
    });
    client.on('connect', () => {
      lastError = '';
    });
    client.on('offline', () =>
      logger?.debug({ url: config.url, clientId }, 'MQTT broker unreachable; retrying'),
    );
    this.client = client;
  }

  /** Wait until connected; rejects after `timeoutMs`. For tests and scripts. */
  async waitConnected(timeoutMs = 5_000): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('MQTT connection not started');
    if (client.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('connect', onConnect);
        reject(
          new Error(`not connected to ${withoutCredentials(this.options.config.url)} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      client.once('connect', onConnect);
    });
  }

  /**
   * Publish (queued by the client while disconnected). Errors are logged, not thrown: a device
   * cannot report that its message was lost.
   */
  publish(
    topic: string,
    payload: string,
    options: IClientPublishOptions = {},
    onDelivered?: () => void,
  ): void {
    const client = this.client;
    if (!client) return;
    this.published++;
    this.options.logger?.trace({ topic, payload: payload.slice(0, 200) }, 'mqtt publish');
    client.publish(topic, payload, options, (err) => {
      if (err) this.options.logger?.warn({ err, topic }, 'MQTT publish failed');
      // For QoS 1 this is the broker's PUBACK: the gateway has taken the message.
      else onDelivered?.();
    });
  }

  /**
   * Disconnect. When connected, `farewell` messages are sent first (what a device says when it is
   * switched off cleanly); otherwise the client is dropped at once. Idempotent; never throws.
   */
  async stop(
    farewell: Array<{ topic: string; payload: string; options: IClientPublishOptions }> = [],
  ): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const bounded = async (p: Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, END_TIMEOUT_MS);
      });
      try {
        await Promise.race([p, timeout]);
      } catch {
        // Logged by the client's error handler; stopping goes on.
      } finally {
        clearTimeout(timer);
      }
    };
    if (client.connected) {
      for (const m of farewell) await bounded(client.publishAsync(m.topic, m.payload, m.options));
      await bounded(client.endAsync());
    } else {
      await bounded(client.endAsync(true));
    }
    client.removeAllListeners();
    // A late socket error after end() must not become an unhandled 'error' event.
    client.on('error', () => {});
  }
}

/** The URL without `user:password@`, for logs and messages. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
