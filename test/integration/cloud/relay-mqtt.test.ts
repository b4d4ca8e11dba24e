import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../../cloud/relay.js';
import { uuidv7 } from '../../../common/ids.js';
import { type AlarmMessage, ackMessageSchema, gatewayTopic, parsePayload } from '../../../contract/index.js';
import { connectAsGateway, loginToRelay, nextMessage, startTestRelay, waitFor } from '../../support/relay.js';

const alarm = (gatewayId: string, seq: number): AlarmMessage => ({
  v: 1,
  id: uuidv7(),
  gatewayId,
  bedId: 'bed-a',
  seq,
  type: 'sos_button',
  severity: 'critical',
  state: 'raised',
  at: new Date().toISOString(),
  deviceId: 'sos',
  evidence: [{ deviceId: 'sos', kind: 'button_press', at: new Date().toISOString() }],
});

describe('cloud relay over real MQTT (aedes)', () => {
  let relay: Relay;
  let stop: () => Promise<void>;
  let gwA: MqttClient;
  let secretA: string;

  beforeAll(async () => {
    ({ relay, stop } = await startTestRelay());
    ({ secret: secretA } = await relay.gateways.add('gw-a'));
    await relay.gateways.add('gw-b', 'secret-of-gateway-b');
    gwA = await connectAsGateway(relay.mqttPort, 'gw-a', secretA);
    // As the real gateway does: subscribe to our acks before publishing anything.
    await gwA.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
  });

  afterAll(async () => {
    await gwA?.endAsync();
    await stop();
  });

  async function httpAlarms(): Promise<AlarmMessage[]> {
    const api = await loginToRelay(relay);
    return (await api.get<{ alarms: AlarmMessage[] }>('/api/alarms')).body.alarms;
  }

  it('stores an alarm, then acknowledges it as stored', async () => {
    const a = alarm('gw-a', 1);
    const ack = nextMessage(gwA, gatewayTopic('gw-a', 'ack'));
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(a), { qos: 1 });
    const parsed = parsePayload(ackMessageSchema, await ack);
    expect(parsed.ok && parsed.value).toMatchObject({ alarmId: a.id, status: 'stored' });
    // stored means committed: it is already visible through the API.
    const listed = await httpAlarms();
    expect(listed[0]).toMatchObject({ id: a.id, type: 'sos_button', deliveries: 1 });
  });

  it('treats a retransmitted alarm as the same alarm: acked again, one row', async () => {
    const a = alarm('gw-a', 2);
    for (let i = 0; i < 3; i++) {
      const ack = nextMessage(gwA, gatewayTopic('gw-a', 'ack'));
      await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(a), { qos: 1 });
      expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: a.id, status: 'stored' });
    }
    const rows = (await httpAlarms()).filter((x) => x.id === a.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ deliveries: 3 });
    expect(relay.counters.get('alarms_duplicate', { type: 'sos_button' })).toBe(2);
  });

  it('rejects and counts a malformed payload, and the connection keeps working', async () => {
    const before = relay.counters.total('mqtt_messages_rejected');
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), '{"v":1,"type":"sos_button"', { qos: 1 });
    await gwA.publishAsync(
      gatewayTopic('gw-a', 'alarm'),
      JSON.stringify({ ...alarm('gw-a', 3), severity: 'apocalyptic' }),
      { qos: 1 },
    );
    await waitFor(
      () => relay.counters.total('mqtt_messages_rejected') === before + 2,
      5_000,
      'rejects counted',
    );
    expect(relay.counters.get('mqtt_messages_rejected', { reason: 'schema' })).toBeGreaterThanOrEqual(2);
    // The same connection still delivers a good alarm.
    const good = alarm('gw-a', 4);
    const ack = nextMessage(gwA, gatewayTopic('gw-a', 'ack'));
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(good), { qos: 1 });
    expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: good.id });
  });

  it("refuses a publish on another gateway's topic, counts it, and other gateways carry on", async () => {
    const intruder = await connectAsGateway(relay.mqttPort, 'gw-b', 'secret-of-gateway-b');
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    const forged = alarm('gw-a', 99);
    intruder.publish(gatewayTopic('gw-a', 'alarm'), JSON.stringify(forged), { qos: 1 });
    await closed;
    intruder.end(true);
    expect(relay.counters.get('mqtt_publish_denied')).toBe(1);
    expect((await httpAlarms()).some((x) => x.id === forged.id)).toBe(false);
    // gw-a is unaffected.
    const ok = alarm('gw-a', 5);
    const ack = nextMessage(gwA, gatewayTopic('gw-a', 'ack'));
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(ok), { qos: 1 });
    expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: ok.id });
  });

  it("an alarm whose body claims another gateway is rejected even on the sender's own topic", async () => {
    await gwA.publishAsync(gatewayTopic('gw-a', 'alarm'), JSON.stringify(alarm('gw-b', 1)), { qos: 1 });
    await waitFor(() => relay.counters.get('mqtt_messages_rejected', { reason: 'gateway_mismatch' }) === 1);
  });

  it("refuses a subscription to another gateway's acks without dropping the connection", async () => {
    // SUBACK 0x80: mqtt.js turns the refusal into a rejected promise.
    await expect(gwA.subscribeAsync(gatewayTopic('gw-b', 'ack'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(gwA.connected).toBe(true);
    expect(relay.counters.get('mqtt_subscribe_denied')).toBe(1);
  });

  it('refuses a wrong secret, an unknown gateway and a mismatched client id, counting each', async () => {
    await expect(connectAsGateway(relay.mqttPort, 'gw-a', 'wrong-secret')).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connectAsGateway(relay.mqttPort, 'gw-zzz', 'whatever-secret')).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      connectAsGateway(relay.mqttPort, 'gw-a', secretA, { clientId: 'someone-else' }),
    ).rejects.toThrow(/Not authorized/i);
    expect(relay.counters.get('mqtt_auth_failures', { reason: 'bad_credentials' })).toBe(2);
    expect(relay.counters.get('mqtt_auth_failures', { reason: 'client_id_mismatch' })).toBe(1);
    const health = await fetch(`${relay.httpUrl}/healthz`);
    expect(health.status).toBe(200);
  });

  it('records status and heartbeats per gateway', async () => {
    await gwA.publishAsync(
      gatewayTopic('gw-a', 'status'),
      JSON.stringify({ v: 1, state: 'online', at: new Date().toISOString() }),
      { qos: 1 },
    );
    await gwA.publishAsync(
      gatewayTopic('gw-a', 'heartbeat'),
      JSON.stringify({
        v: 1,
        gatewayId: 'gw-a',
        at: new Date().toISOString(),
        uptimeS: 5,
        intervalS: 30,
        outboxDepth: 0,
        spoolDepth: 2,
        devices: [],
      }),
      { qos: 1 },
    );
    const gw = await waitFor(
      async () => (await relay.gateways.list()).find((g) => g.id === 'gw-a' && g.lastHeartbeat),
      5_000,
      'heartbeat',
    );
    expect(gw.status).toBe('online');
    expect(gw.lastHeartbeat?.spoolDepth).toBe(2);
  });
});
