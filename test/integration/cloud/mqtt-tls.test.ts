import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';
import { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { ConfigError } from '../../../common/errors.js';
import { createLogger, type Logger, silentLogger } from '../../../common/logger.js';
import type { AlarmMessage } from '../../../contract/index.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import { CloudLink, type CloudLinkOptions } from '../../../gateway/uplink/cloud-link.js';
import { loginToRelay, waitFor } from '../../support/relay.js';
import { makeTestPki, type TestPki } from '../../support/tls.js';

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { logger: Logger; lines: { level: number; msg: string; reason?: string }[] } {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** A port nothing listens on (bound and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

describe('MQTT over TLS between gateways and the relay’s embedded broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-tls-'));
  let pki: TestPki;
  const relays: Relay[] = [];
  let relay: Relay;
  let secret: string;

  async function startRelay(mqttConfig: Record<string, unknown>): Promise<Relay> {
    const config = cloudConfigSchema.parse({
      dataDir: mkdtempSync(join(dir, 'relay-')),
      mqtt: { port: 0, ...mqttConfig },
      http: { port: 0 },
    });
    const r = new Relay({ config, clock: systemClock, logger: silentLogger() });
    await r.start();
    relays.push(r);
    return r;
  }

  beforeAll(async () => {
    pki = makeTestPki(dir);
    relay = await startRelay({ tls: { port: 0, certFile: pki.certFile, keyFile: pki.keyFile } });
    ({ secret } = await relay.gateways.add('gw-tls'));
  });

  afterAll(async () => {
    for (const r of relays) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A CloudLink as the gateway builds it, over mqtts to the relay, retrying quickly. */
  function tlsLink(
    extra: Partial<CloudLinkOptions>,
    logger: Logger = silentLogger(),
  ): { link: CloudLink; counters: Counters; connects: () => number } {
    const counters = new Counters();
    const link = new CloudLink(
      {
        url: `mqtts://127.0.0.1:${relay.mqttTlsPort}`,
        gatewayId: 'gw-tls',
        secret,
        keepaliveS: 30,
        connectTimeoutMs: 2_000,
        reconnectPeriodMs: 100,
        reconnectMaxMs: 10_000,
        caFile: pki.caFile,
        ...extra,
      },
      logger,
      counters,
    );
    let connects = 0;
    link.events.on('connected', () => {
      connects++;
    });
    return { link, counters, connects: () => connects };
  }

  it('serves TLS beside plain TCP and reports the TLS port in /healthz', async () => {
    expect(relay.mqttTlsPort).toBeGreaterThan(0);
    expect(relay.mqttPort).toBeGreaterThan(0);
    const res = await fetch(`${relay.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      mqttMode: 'embedded',
      mqttTlsPort: relay.mqttTlsPort,
    });
  });

  it('a gateway trusting the relay’s CA connects over mqtts and its SOS alarm is stored', async () => {
    const gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-tls',
        bedId: 'bed-tls',
        dataDir: join(dir, 'gw'),
        cloud: {
          url: `mqtts://127.0.0.1:${relay.mqttTlsPort}`,
          secret,
          caFile: pki.caFile,
          reconnectPeriodMs: 100,
          retransmitInitialMs: 500,
        },
        influx: { url: 'http://127.0.0.1:9' },
        localBroker: { port: 0 },
        devices: [{ id: 'pendant', kind: 'native', role: 'sos_button' }],
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    try {
      await waitFor(() => gateway.cloudConnected, 10_000, 'connected over TLS');
      // The pendant (a native device on the gateway's local broker) declares an emergency.
      const pendant = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.localBrokerPort}`, {
        clientId: 'pendant',
        reconnectPeriod: 0,
      });
      await pendant.publishAsync('homebed/v1/dev/pendant/event', JSON.stringify({ v: 1, action: 'sos' }), {
        qos: 1,
      });
      await pendant.endAsync();
      const alarm = await waitFor(() => gateway.alarmLog()[0], 5_000, 'alarm committed');
      expect(alarm).toMatchObject({ type: 'sos_button', gatewayId: 'gw-tls' });
      await waitFor(() => gateway.alarmRecord(alarm.id)?.storedAtMs, 5_000, '`stored` from the relay');
      const api = await loginToRelay(relay);
      const { alarms } = (await api.get<{ alarms: AlarmMessage[] }>('/api/alarms?gatewayId=gw-tls')).body;
      expect(alarms.map((a) => a.id)).toContain(alarm.id);
      expect(gateway.counters.total('cloud_tls_failures')).toBe(0);
    } finally {
      await gateway.stop();
    }
  });

  it('verifies the name given as cloud.serverName when it is on the certificate (localhost)', async () => {
    const { link, counters, connects } = tlsLink({ serverName: 'localhost' });
    link.start();
    try {
      await waitFor(() => connects() === 1, 5_000, 'connected with serverName localhost');
      expect(counters.total('cloud_tls_failures')).toBe(0);
    } finally {
      await link.stop();
    }
  });

  it('with the wrong CA never connects: logs what to check, counts each failure, retries with backoff', async () => {
    const { logger, lines } = capturingLogger();
    const { link, counters, connects } = tlsLink({ caFile: pki.otherCaFile }, logger);
    const handshakeFailuresBefore = relay.counters.total('mqtt_tls_handshake_failures');
    link.start();
    await new Promise((r) => setTimeout(r, 1_500));
    await link.stop();
    expect(connects()).toBe(0);
    expect(link.connected).toBe(false);
    // Doubling from 100 ms (±20 %) allows at least 3 and at most 6 attempts in 1.5 s; a fixed period ~15.
    const failures = counters.get('cloud_tls_failures', { reason: 'untrusted' });
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(failures).toBeLessThanOrEqual(6);
    expect(counters.total('cloud_tls_failures')).toBe(failures);
    const errors = lines.filter((l) => l.level === 50 && l.reason === 'untrusted');
    expect(errors).toHaveLength(failures);
    expect(errors[0]?.msg).toMatch(/wrong CA/);
    expect(errors[0]?.msg).toMatch(/cloud\.caFile/);
    // The relay saw the handshakes fail too.
    await waitFor(
      () => relay.counters.total('mqtt_tls_handshake_failures') > handshakeFailuresBefore,
      2_000,
      'relay counts failed handshakes',
    );
  });

  it('a certificate not issued for cloud.serverName fails as a hostname mismatch', async () => {
    const { logger, lines } = capturingLogger();
    const { link, counters, connects } = tlsLink({ serverName: 'relay.example' }, logger);
    link.start();
    try {
      await waitFor(
        () => counters.get('cloud_tls_failures', { reason: 'hostname' }) >= 2,
        5_000,
        'hostname failures, retried',
      );
    } finally {
      await link.stop();
    }
    expect(connects()).toBe(0);
    const error = lines.find((l) => l.level === 50 && l.reason === 'hostname');
    expect(error?.msg).toMatch(/hostname mismatch/);
    expect(error?.msg).toMatch(/relay\.example/);
  });

  it('mqtts to the plain port fails as a handshake failure that names the TLS port', async () => {
    const { logger, lines } = capturingLogger();
    const { link, counters } = tlsLink({ url: `mqtts://127.0.0.1:${relay.mqttPort}` }, logger);
    link.start();
    try {
      await waitFor(
        () => counters.get('cloud_tls_failures', { reason: 'handshake' }) >= 1,
        5_000,
        'handshake failure',
      );
    } finally {
      await link.stop();
    }
    expect(lines.find((l) => l.level === 50 && l.reason === 'handshake')?.msg).toMatch(/mqtt\.tls\.port/);
  });

  it('an expired relay certificate fails as expired', async () => {
    const expired = await startRelay({
      tls: { port: 0, certFile: pki.expiredCertFile, keyFile: pki.keyFile },
    });
    const { logger, lines } = capturingLogger();
    const { link, counters, connects } = tlsLink({ url: `mqtts://127.0.0.1:${expired.mqttTlsPort}` }, logger);
    link.start();
    try {
      await waitFor(
        () => counters.get('cloud_tls_failures', { reason: 'expired' }) >= 1,
        5_000,
        'expired certificate failure',
      );
    } finally {
      await link.stop();
    }
    expect(connects()).toBe(0);
    expect(lines.find((l) => l.level === 50 && l.reason === 'expired')?.msg).toMatch(/expired/);
  });

  it('with mqtt.plain false only the TLS port is open', async () => {
    const plainPort = await freePort();
    const tlsOnly = await startRelay({
      port: plainPort,
      plain: false,
      tls: { port: 0, certFile: pki.certFile, keyFile: pki.keyFile, minVersion: 'TLSv1.3' },
    });
    expect(tlsOnly.mqttPort).toBe(0);
    expect(tlsOnly.mqttTlsPort).toBeGreaterThan(0);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(plainPort, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    // Over TLS the same gateway gets in.
    await tlsOnly.gateways.add('gw-tls-only', 'secret-of-tls-only');
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsOnly.mqttTlsPort}`, {
      clientId: 'gw-tls-only',
      username: 'gw-tls-only',
      password: 'secret-of-tls-only',
      ca: readFileSync(pki.caFile),
      rejectUnauthorized: true,
      reconnectPeriod: 0,
    });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('a missing certificate file stops start-up with an error naming the file', async () => {
    const missing = join(dir, 'no-such-cert.pem');
    const config = cloudConfigSchema.parse({
      dataDir: mkdtempSync(join(dir, 'relay-')),
      mqtt: { port: 0, tls: { port: 0, certFile: missing, keyFile: pki.keyFile } },
      http: { port: 0 },
    });
    const broken = new Relay({ config, clock: systemClock, logger: silentLogger() });
    const err = await broken.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`mqtt.tls.certFile: cannot read ${missing}`);
    expect((err as Error).message).toMatch(/ENOENT/);
  });

  it('a key that does not belong to the certificate stops start-up too', async () => {
    const config = cloudConfigSchema.parse({
      dataDir: mkdtempSync(join(dir, 'relay-')),
      mqtt: { port: 0, tls: { port: 0, certFile: pki.certFile, keyFile: join(dir, 'other-ca.key') } },
      http: { port: 0 },
    });
    await expect(new Relay({ config, clock: systemClock, logger: silentLogger() }).start()).rejects.toThrow(
      /mqtt\.tls: certificate .*relay\.pem and key .*other-ca\.key are not usable together/,
    );
  });

  it('a gateway whose cloud.caFile is missing fails when it is built, naming the file', () => {
    expect(() => tlsLink({ caFile: join(dir, 'missing-ca.pem') })).toThrow(
      /cloud\.caFile: cannot read .*missing-ca\.pem/,
    );
  });

  it('validates the TLS settings of both configurations', () => {
    expect(cloudConfigSchema.safeParse({ mqtt: { plain: false } }).success).toBe(false);
    const cloud = cloudConfigSchema.parse({ mqtt: { tls: { certFile: 'c.pem', keyFile: 'k.pem' } } });
    expect(cloud.mqtt).toMatchObject({ plain: true, tls: { port: 8883, minVersion: 'TLSv1.2' } });
    const gateway = (cloudSection: Record<string, unknown>) =>
      gatewayConfigSchema.safeParse({
        gatewayId: 'gw-1',
        bedId: 'bed-1',
        cloud: { secret: 'a-long-secret', ...cloudSection },
      });
    expect(
      gateway({ url: 'mqtts://relay.example:8883', caFile: 'ca.pem', serverName: 'relay.example' }).success,
    ).toBe(true);
    // TLS settings with a plain URL would do nothing: refused.
    expect(gateway({ url: 'mqtt://relay.example:1884', caFile: 'ca.pem' }).success).toBe(false);
    // There is no switch to turn verification off.
    const parsed = gatewayConfigSchema.parse({
      gatewayId: 'gw-1',
      bedId: 'bed-1',
      cloud: { secret: 'a-long-secret', url: 'mqtts://relay.example', rejectUnauthorized: false },
    });
    expect(parsed.cloud).not.toHaveProperty('rejectUnauthorized');
  });
});
