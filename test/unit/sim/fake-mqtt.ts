import { EventEmitter } from 'node:events';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { MqttConnectFn } from '../../../firmware-sim/links/mqtt-client.js';

/** One message the fake client was asked to publish. */
export interface FakePublished {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

/**
 * An in-memory stand-in for an `mqtt` client, for unit tests of the MQTT
 * emulators: records what they publish and lets the test say when the
 * "broker" accepts the connection. Integration tests use a real broker.
 */
export class FakeMqttClient extends EventEmitter {
  connected = false;
  ended = false;
  readonly published: FakePublished[] = [];

  constructor(
    readonly url: string,
    readonly options: IClientOptions,
  ) {
    super();
  }

  /** The broker accepts the connection. */
  acceptConnection(): void {
    this.connected = true;
    this.emit('connect');
  }

  publish(topic: string, payload: string, opts: IClientPublishOptions, cb?: (err?: Error) => void): this {
    this.published.push({ topic, payload, retain: opts.retain ?? false, qos: opts.qos ?? 0 });
    cb?.();
    return this;
  }

  async publishAsync(topic: string, payload: string, opts: IClientPublishOptions): Promise<undefined> {
    this.publish(topic, payload, opts);
    return undefined;
  }

  async endAsync(): Promise<void> {
    this.connected = false;
    this.ended = true;
  }

  /** Messages on `topic`, payloads parsed as JSON where they are JSON. */
  messagesOn(topic: string): unknown[] {
    return this.published
      .filter((m) => m.topic === topic)
      .map((m) => {
        try {
          return JSON.parse(m.payload) as unknown;
        } catch {
          return m.payload;
        }
      });
  }
}

/** A connect function handing out fake clients, and the clients it made. */
export function fakeConnect(): { connect: MqttConnectFn; clients: FakeMqttClient[] } {
  const clients: FakeMqttClient[] = [];
  const connect: MqttConnectFn = (url, options) => {
    const client = new FakeMqttClient(url, options);
    clients.push(client);
    return client as unknown as MqttClient;
  };
  return { connect, clients };
}
