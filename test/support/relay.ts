import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { z } from 'zod';
import { cloudConfigSchema, type externalBrokerSchema } from '../../cloud/config/schema.js';
import { Relay } from '../../cloud/relay.js';
import { systemClock } from '../../common/clock.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import { type ApiClient, loginOverHttp } from '../../tools/api-client.js';

export { type ApiClient, loginOverHttp };

/** Options of {@link startTestRelay}; without any, the relay runs its embedded broker. */
export interface TestRelayOptions {
  /** Consume the gateways through this external broker (`mqtt.external`) instead of the embedded aedes. */
  external?: z.input<typeof externalBrokerSchema>;
  /** Where the relay logs; default nowhere. */
  logger?: Logger;
  /** The InfluxDB the relay reads readings from (`influx`); default none (vitals answer 503). */
  influx?: { url: string; database: string };
  /** The `metrics` section (GET /metrics); default on, no token. */
  metrics?: { enabled?: boolean; token?: string };
}

/** A real relay (aedes or an external broker + SQLite + HTTP) on free ports in a temp dir. */
export async function startTestRelay(options: TestRelayOptions = {}): Promise<{
  relay: Relay;
  dataDir: string;
  stop: () => Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'homebed-relay-'));
  const config = cloudConfigSchema.parse({
    dataDir,
    mqtt: { port: 0, ...(options.external ? { external: options.external } : {}) },
    http: { port: 0 },
    ...(options.influx ? { influx: options.influx } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const relay = new Relay({ config, clock: systemClock, logger: options.logger ?? silentLogger() });
  await relay.start();
  return {
    relay,
    dataDir,
    stop: async () => {
      await relay.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Connect a raw MQTT client as a gateway; resolves on CONNACK or rejects with the broker's refusal. */
export function connectAsGateway(
  port: number,
  id: string,
  secret: string,
  extra: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...extra,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Resolve with the next message on `topic` (subscribing first). */
export async function nextMessage(client: MqttClient, topic: string, timeoutMs = 5_000): Promise<Buffer> {
  await client.subscribeAsync(topic, { qos: 1 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload);
    };
    client.on('message', onMessage);
  });
}

/** Poll `fn` (sync or async) until it returns something truthy; rejects after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let apiUserCounter = 0;

/**
 * Add a user to a running relay's store and log in through the real
 * `POST /api/auth/login`. Default: a platform admin (sees everything), so
 * tests about other things do not trip over permissions.
 */
export async function loginToRelay(
  relay: Relay,
  user: {
    role?: 'admin' | 'operator' | 'staff' | 'family' | 'regulator';
    organisationId?: string;
    displayName?: string;
    username?: string;
  } = {},
): Promise<ApiClient> {
  const username = user.username ?? `test-user-${process.pid}-${++apiUserCounter}`;
  const password = 'correct horse battery staple';
  const added = await relay.services.users.add({
    username,
    displayName: user.displayName ?? username,
    role: user.role ?? 'admin',
    ...(user.organisationId ? { organisationId: user.organisationId } : {}),
    password,
  });
  return loginOverHttp(relay.httpUrl, username, password, added.id);
}
