import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExternalBrokerLink } from '../../../cloud/mqtt/external-broker-link.js';
import type { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import { type AlarmMessage, ackMessageSchema, gatewayTopic, parsePayload } from '../../../contract/index.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import {
  type PrivateMosquitto,
  startPrivateMosquitto,
  writeMosquittoPasswordFile,
} from '../../../tools/mosquitto.js';
import { connectAsGateway, nextMessage, startTestRelay, waitFor } from '../../support/relay.js';

const alarm = (gatewayId: string, seq: number): AlarmMessage => ({
  v: 1,
  id: uuidv7(),
  gatewayId,
  bedId: `bed-${gatewayId}`,
  seq,
  type: 'sos_button',
  severity: 'critical',
  state: 'raised',
  at: new Date().toISOString(),
  deviceId: 'sos',
  evidence: [{ deviceId: 'sos', kind: 'button_press', at: new Date().toISOString() }],
});

/** Fast reconnects, so a broker restart costs the tests little time. */
const FAST = { reconnectPeriodMs: 100, reconnectMaxMs: 500, connectTimeoutMs: 5_000 };

/** Every `stored` ack a gateway client receives, by alarm id. */
function collectAcks(client: MqttClient, gatewayId: string): Map<string, number> {
  const acks = new Map<string, number>();
  client.on('message', (topic, payload) => {
    if (topic !== gatewayTopic(gatewayId, 'ack')) return;
    const parsed = parsePayload(ackMessageSchema, payload);
    if (parsed.ok && parsed.value.status === 'stored') {
      acks.set(parsed.value.alarmId, (acks.get(parsed.value.alarmId) ?? 0) + 1);
    }
  });
  return acks;
}

async function gateway(
  port: number,
  id: string,
  secret = 'any-secret-here',
  extra = {},
): Promise<MqttClient> {
  // As the real gateway: a persistent session, subscribed to its acks before it publishes.
  const client = await connectAsGateway(port, id, secret, { clean: false, ...extra });
  await client.subscribeAsync(gatewayTopic(id, 'ack'), { qos: 1 });
  return client;
}

describe('cloud relay through an external Mosquitto', () => {
  let mosquitto: PrivateMosquitto;
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let gw: MqttClient;
  let acks: Map<string, number>;

  beforeAll(async () => {
    mosquitto = await startPrivateMosquitto({ dir: mkdtempSync(join(tmpdir(), 'homebed-mosquitto-')) });
    ({ relay, stop: stopRelay } = await startTestRelay({
      external: { url: mosquitto.url, clientId: 'relay-main', ...FAST },
    }));
    gw = await gateway(mosquitto.port, 'gw-a', 'any-secret-here', { reconnectPeriod: 100 });
    acks = collectAcks(gw, 'gw-a');
  });

  afterAll(async () => {
    await gw?.endAsync(true);
    await stopRelay?.();
    await mosquitto?.stop();
  });

  async function publishAndAwaitStored(a: AlarmMessage): Promise<void> {
    const ack = nextMessage(gw, gatewayTopic(a.gatewayId, 'ack'));
    await gw.publishAsync(gatewayTopic(a.gatewayId, 'alarm'), JSON.stringify(a), { qos: 1 });
    const parsed = parsePayload(ackMessageSchema, await ack);
    expect(parsed.ok && parsed.value).toMatchObject({ alarmId: a.id, status: 'stored' });
  }

  it('runs without the embedded broker and says so in /healthz', async () => {
    expect(relay.mqttMode).toBe('external');
    expect(relay.mqttPort).toBe(0);
    const res = await fetch(`${relay.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      mqtt: true,
      mqttMode: 'external',
      broker: mosquitto.url,
    });
  });

  it('stores an alarm, then acknowledges it as stored on the gateway’s ack topic', async () => {
    const a = alarm('gw-a', 1);
    await publishAndAwaitStored(a);
    // stored means committed: it is already in the store.
    expect(await relay.alarms.get(a.id)).toMatchObject({ id: a.id, gatewayId: 'gw-a', deliveries: 1 });
  });

  it('rejects and counts a malformed payload, and goes on with the next message', async () => {
    const before = relay.counters.total('mqtt_messages_rejected');
    await gw.publishAsync(gatewayTopic('gw-a', 'alarm'), '{"v":1,"type":"sos_button"', { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(alarm('gw-b', 7)), { qos: 1 });
    await waitFor(
      () => relay.counters.total('mqtt_messages_rejected') === before + 2,
      5_000,
      'rejects counted',
    );
    expect(relay.counters.get('mqtt_messages_rejected', { reason: 'schema' })).toBe(1);
    expect(relay.counters.get('mqtt_messages_rejected', { reason: 'gateway_mismatch' })).toBe(1);
    await publishAndAwaitStored(alarm('gw-a', 2));
  });

  it('records heartbeats and status of a provisioned gateway', async () => {
    await relay.gateways.add('gw-a');
    await gw.publishAsync(
      gatewayTopic('gw-a', 'status'),
      JSON.stringify({ v: 1, state: 'online', at: new Date().toISOString() }),
      { qos: 1 },
    );
    await waitFor(
      async () => (await relay.gateways.list()).find((g) => g.id === 'gw-a')?.status === 'online',
    );
  });

  it('a real gateway works through it: status, heartbeat, and a command from the relay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-gw-external-'));
    await relay.gateways.add('gw-real');
    const real = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-real',
        bedId: 'bed-real',
        dataDir: dir,
        // The broker, not the relay; this Mosquitto lets anyone in (the ACL test below does not).
        cloud: { url: mosquitto.url, secret: 'any-secret-here', heartbeatIntervalS: 30 },
        influx: { url: 'http://127.0.0.1:9' },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    try {
      await real.start();
      await waitFor(() => real.cloudConnected, 10_000, 'gateway connected');
      await waitFor(
        async () => (await relay.gateways.list()).find((g) => g.id === 'gw-real')?.lastHeartbeat,
        5_000,
        'heartbeat recorded',
      );
      // Published outside any message handler: resolves on the broker's PUBACK.
      await relay.ingress.sendCommand('gw-real', { v: 1, cmd: 'set_heartbeat_interval', intervalS: 9 });
      await waitFor(() => real.heartbeatIntervalS === 9, 5_000, 'command applied');
    } finally {
      await real.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives a Mosquitto restart: reconnects, and every alarm is stored exactly once', async () => {
    const lostBefore = relay.counters.get('mqtt_broker_connection_lost');
    const before = [alarm('gw-a', 10), alarm('gw-a', 11)];
    for (const a of before) await publishAndAwaitStored(a);

    await mosquitto.restart();
    await waitFor(
      () => relay.counters.get('mqtt_broker_connection_lost') === lostBefore + 1,
      5_000,
      'loss counted',
    );
    await waitFor(() => gw.connected, 10_000, 'gateway reconnected');
    await waitFor(() => relay.externalBroker?.connected, 10_000, 'relay reconnected');
    expect((await fetch(`${relay.httpUrl}/healthz`)).status).toBe(200);

    // New alarms after the restart, and a retransmission of one stored before it (the gateway never saw
    // the ack, say): each is stored once; the retransmission is acknowledged again.
    const after = [alarm('gw-a', 12), alarm('gw-a', 13)];
    for (const a of after) await publishAndAwaitStored(a);
    await publishAndAwaitStored(before[1]!);
    for (const a of [...before, ...after]) {
      expect(
        (await relay.alarms.list({ gatewayId: 'gw-a', limit: 1000 })).filter((x) => x.id === a.id),
      ).toHaveLength(1);
    }
    expect((await relay.alarms.get(before[1]!.id))?.deliveries).toBe(2);
    expect((await relay.alarms.get(after[0]!.id))?.deliveries).toBe(1);
  });

  it('alarms published while the relay is away are delivered from its persistent session', async () => {
    await stopRelay();
    // The relay's session (same client id) keeps its shared subscription; the broker queues for it.
    const queued = [alarm('gw-a', 20), alarm('gw-a', 21), alarm('gw-a', 22)];
    for (const a of queued)
      await gw.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(a), { qos: 1 });
    const again = await startTestRelay({ external: { url: mosquitto.url, clientId: 'relay-main', ...FAST } });
    relay = again.relay;
    stopRelay = again.stop;
    await waitFor(() => queued.every((a) => acks.has(a.id)), 10_000, 'queued alarms acknowledged');
    for (const a of queued) expect(await relay.alarms.get(a.id)).toMatchObject({ id: a.id, deliveries: 1 });
  });
});

describe('the external broker link acknowledges a message only after it was handled', () => {
  let mosquitto: PrivateMosquitto;
  const links: ExternalBrokerLink[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    mosquitto = await startPrivateMosquitto({ dir: mkdtempSync(join(tmpdir(), 'homebed-mosquitto-')) });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    for (const l of links.splice(0)) await l.stop();
  });

  afterAll(async () => {
    await mosquitto?.stop();
  });

  const linkWith = (
    clientId: string,
    handler: (gatewayId: string, topic: string, payload: Buffer) => Promise<void>,
    counters = new Counters(),
  ) => {
    const link = new ExternalBrokerLink(
      {
        url: mosquitto.url,
        clientId,
        shareGroup: clientId,
        keepaliveS: 30,
        sessionExpiryS: 3600,
        ...FAST,
      },
      handler,
      silentLogger(),
      counters,
    );
    links.push(link);
    link.start();
    return link;
  };

  it('a handler that fails leaves the message unacknowledged: the broker delivers it again', async () => {
    const seen: string[] = [];
    const counters = new Counters();
    const link = linkWith(
      'relay-failing',
      async (_gw, _topic, payload) => {
        seen.push(payload.toString());
        // The first attempt fails (a store that cannot commit): no PUBACK may go out.
        if (seen.length === 1) throw new Error('disk full');
      },
      counters,
    );
    expect(await link.waitUntilConnected(5_000)).toBe(true);
    const gw = await connectAsGateway(mosquitto.port, 'gw-f', 'any-secret-here');
    clients.push(gw);
    await gw.publishAsync(gatewayTopic('gw-f', 'alarm'), 'first', { qos: 1 });
    await waitFor(() => seen.length >= 2, 10_000, 'redelivery');
    expect(seen.slice(0, 2)).toEqual(['first', 'first']);
    expect(counters.get('mqtt_messages_failed', { kind: 'alarm' })).toBe(1);
    // Handled the second time: acknowledged, so never delivered again.
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toHaveLength(2);
  });

  it('a message still being handled when the connection drops is not acknowledged: the broker delivers it again', async () => {
    const seen: string[] = [];
    let release: () => void = () => {};
    const firstHandled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const link = linkWith('relay-slow', async (_gw, _topic, payload) => {
      seen.push(payload.toString());
      if (seen.length === 1) await firstHandled;
    });
    expect(await link.waitUntilConnected(5_000)).toBe(true);
    const gw = await connectAsGateway(mosquitto.port, 'gw-s', 'any-secret-here');
    await gw.publishAsync(gatewayTopic('gw-s', 'alarm'), 'slow', { qos: 1 });
    await gw.endAsync();
    await waitFor(() => seen.length === 1, 5_000, 'first delivery');
    // The broker goes away while the message is being handled (SIGTERM: it saves the session).
    await mosquitto.restart();
    release();
    await waitFor(() => seen.length === 2, 10_000, 'redelivery after the restart');
    expect(seen).toEqual(['slow', 'slow']);
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toHaveLength(2);
  });
});

describe('two relays in one share group', () => {
  let mosquitto: PrivateMosquitto;
  const relays: { relay: Relay; stop: () => Promise<void> }[] = [];
  let gw: MqttClient;

  beforeAll(async () => {
    mosquitto = await startPrivateMosquitto({ dir: mkdtempSync(join(tmpdir(), 'homebed-mosquitto-')) });
    // Separate SQLite data dirs: two relays sharing one database is not supported.
    for (const clientId of ['relay-one', 'relay-two']) {
      relays.push(
        await startTestRelay({ external: { url: mosquitto.url, clientId, shareGroup: 'ha', ...FAST } }),
      );
    }
    gw = await gateway(mosquitto.port, 'gw-h');
  });

  afterAll(async () => {
    await gw?.endAsync(true);
    for (const r of relays) await r.stop();
    await mosquitto?.stop();
  });

  it('each alarm goes to exactly one of them, and every alarm is acknowledged as stored', async () => {
    const acks = collectAcks(gw, 'gw-h');
    const sent = Array.from({ length: 20 }, (_, i) => alarm('gw-h', i + 1));
    for (const a of sent) await gw.publishAsync(gatewayTopic('gw-h', 'alarm'), JSON.stringify(a), { qos: 1 });
    await waitFor(() => sent.every((a) => acks.has(a.id)), 10_000, 'every alarm acknowledged');
    const [one, two] = await Promise.all(
      relays.map(async (r) => new Set((await r.relay.alarms.list({ limit: 1000 })).map((a) => a.id))),
    );
    expect(one!.size + two!.size).toBe(sent.length);
    expect([...one!].filter((id) => two!.has(id))).toEqual([]);
    expect(new Set([...one!, ...two!])).toEqual(new Set(sent.map((a) => a.id)));
    // Mosquitto hands the group's messages out in turn: both relays took part.
    expect(one!.size).toBeGreaterThan(0);
    expect(two!.size).toBeGreaterThan(0);
    for (const a of sent) expect(acks.get(a.id)).toBe(1);
  });
});

describe('Mosquitto ACL keeps each gateway to its own prefix', () => {
  let mosquitto: PrivateMosquitto;
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homebed-mosquitto-acl-'));
    const passwordFile = join(dir, 'passwd');
    const aclFile = join(dir, 'acl');
    await writeMosquittoPasswordFile(passwordFile, {
      'homebed-relay': 'relay-password',
      'gw-a': 'secret-of-gw-a',
      'gw-b': 'secret-of-gw-b',
    });
    writeFileSync(
      aclFile,
      [
        '# The relay reads what gateways send and writes their acks and commands.',
        'user homebed-relay',
        'topic read homebed/v1/gw/+/alarm',
        'topic read homebed/v1/gw/+/heartbeat',
        'topic read homebed/v1/gw/+/status',
        'topic read homebed/v1/gw/+/event',
        'topic write homebed/v1/gw/+/ack',
        'topic write homebed/v1/gw/+/cmd',
        '',
        '# Every gateway (user name = gateway id) only under its own prefix.',
        'pattern write homebed/v1/gw/%u/+',
        'pattern read homebed/v1/gw/%u/+',
        '',
      ].join('\n'),
    );
    mosquitto = await startPrivateMosquitto({
      dir: join(dir, 'broker'),
      allowAnonymous: false,
      passwordFile,
      aclFile,
      useUsernameAsClientId: true,
    });
    ({ relay, stop: stopRelay } = await startTestRelay({
      external: { url: mosquitto.url, username: 'homebed-relay', password: 'relay-password', ...FAST },
    }));
  });

  afterAll(async () => {
    await stopRelay?.();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password', async () => {
    await expect(connectAsGateway(mosquitto.port, 'gw-a', 'wrong-password')).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
  });

  it("gateway A cannot publish on gateway B's topic: the relay never sees it", async () => {
    expect(relay.externalBroker?.connected).toBe(true);
    const gwA = await gateway(mosquitto.port, 'gw-a', 'secret-of-gw-a');
    const rejectedBefore = relay.counters.total('mqtt_messages_rejected');
    const forged = alarm('gw-b', 1);
    // MQTT 3.1.1 has no negative PUBACK: Mosquitto acknowledges and drops the message.
    await gwA.publishAsync(gatewayTopic('gw-b', 'alarm'), JSON.stringify(forged), { qos: 1 });
    // Nor can A read B's acks.
    await gwA.subscribeAsync(gatewayTopic('gw-b', 'ack'), { qos: 1 });
    // A's own alarm, published after the forged one, is stored; so the forged one would have arrived by now.
    const own = alarm('gw-a', 1);
    const ack = nextMessage(gwA, gatewayTopic('gw-a', 'ack'));
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(own), { qos: 1 });
    expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: own.id, status: 'stored' });
    expect(await relay.alarms.get(forged.id)).toBeNull();
    expect(relay.counters.total('mqtt_messages_rejected')).toBe(rejectedBefore);

    // B itself publishes on its own prefix, and A does not get B's ack.
    const gwB = await gateway(mosquitto.port, 'gw-b', 'secret-of-gw-b');
    const seenByA: string[] = [];
    gwA.on('message', (topic) => seenByA.push(topic));
    const ackB = nextMessage(gwB, gatewayTopic('gw-b', 'ack'));
    await gwB.publishAsync(gatewayTopic('gw-b', 'alarm'), JSON.stringify(forged), { qos: 1 });
    expect(JSON.parse((await ackB).toString())).toMatchObject({ alarmId: forged.id, status: 'stored' });
    expect(await relay.alarms.get(forged.id)).toMatchObject({ gatewayId: 'gw-b', deliveries: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seenByA).not.toContain(gatewayTopic('gw-b', 'ack'));
    await gwA.endAsync(true);
    await gwB.endAsync(true);
  });
});
