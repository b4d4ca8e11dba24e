import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../../cloud/relay.js';
import { uuidv7 } from '../../../common/ids.js';
import { type AlarmMessage, CONTRACT_VERSION, gatewayTopic } from '../../../contract/index.js';
import { parseExposition, scrape } from '../../support/prometheus.js';
import { connectAsGateway, loginToRelay, nextMessage, startTestRelay, waitFor } from '../../support/relay.js';

const C = 'homebed_cloud_';

const sos = (seq: number, atMs: number): AlarmMessage => ({
  v: CONTRACT_VERSION,
  id: uuidv7(atMs),
  gatewayId: 'gw-m',
  bedId: 'bed-m',
  seq,
  type: 'sos_button',
  severity: 'critical',
  state: 'raised',
  at: new Date(atMs).toISOString(),
  deviceId: 'sos',
  evidence: [{ deviceId: 'sos', kind: 'button_press', at: new Date(atMs).toISOString() }],
});

/**
 * The relay's `GET /metrics` on a real relay (aedes, SQLite, HTTP) with a
 * gateway connected over MQTT: what it counts, times and reads from the
 * store, parsed as Prometheus would; and the bearer token when one is set.
 */
describe('cloud relay: GET /metrics', () => {
  let relay: Relay;
  let stop: () => Promise<void>;
  let gw: MqttClient;
  let alarm: AlarmMessage;

  beforeAll(async () => {
    ({ relay, stop } = await startTestRelay());
    const { secret } = await relay.gateways.add('gw-m');
    gw = await connectAsGateway(relay.mqttPort, 'gw-m', secret);
    await gw.subscribeAsync(gatewayTopic('gw-m', 'ack'), { qos: 1 });
    await gw.publishAsync(
      gatewayTopic('gw-m', 'status'),
      JSON.stringify({ v: CONTRACT_VERSION, state: 'online', at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
    // Raised 42 s ago by the gateway's clock: the time to acknowledge is measured from then.
    alarm = sos(1, Date.now() - 42_000);
    const ack = nextMessage(gw, gatewayTopic('gw-m', 'ack'));
    await gw.publishAsync(gatewayTopic('gw-m', 'alarm'), JSON.stringify(alarm), { qos: 1 });
    expect(JSON.parse((await ack).toString())).toMatchObject({ alarmId: alarm.id, status: 'stored' });
  });

  afterAll(async () => {
    await gw?.endAsync();
    await stop?.();
  });

  it('counts gateways, alarms and the stored-ack time, without a session', async () => {
    const url = `${relay.httpUrl}/metrics`;
    const m = await waitFor(
      async () => {
        const scraped = await scrape(url);
        return scraped.value(`${C}alarm_stored_ack_seconds_count`) === 1 &&
          scraped.value(`${C}gateways`, { status: 'online' }) === 1
          ? scraped
          : null;
      },
      5_000,
      'the stored ack observed and the gateway online',
    );
    expect(m.value(`${C}gateways_connected`)).toBe(1);
    expect(m.value(`${C}gateways`, { status: 'offline' })).toBe(0);
    expect(m.value(`${C}mqtt_up`)).toBe(1);
    expect(m.value(`${C}alarms_received_total`, { type: 'sos_button', state: 'raised' })).toBe(1);
    expect(m.types.get(`${C}alarm_stored_ack_seconds`)).toBe('histogram');
    // Commit and ack on this machine: well under a second.
    expect(m.value(`${C}alarm_stored_ack_seconds_bucket`, { le: '1' })).toBe(1);
    expect(m.value(`${C}alarm_stored_ack_seconds_sum`)).toBeLessThan(1);
    expect(m.value(`${C}alarms_open`, { severity: 'critical', state: 'unacknowledged' })).toBe(1);
    expect(m.value(`${C}alarms_open`, { severity: 'critical', state: 'acknowledged' })).toBe(0);
    expect(m.value(`${C}mqtt_messages_rejected_total`, { reason: 'schema' })).toBeUndefined();
    expect(m.value(`${C}sse_clients`)).toBe(0);
    expect(m.types.get('process_resident_memory_bytes')).toBe('gauge');
  });

  it('times acknowledgement by severity, counts rejected messages and HTTP requests by route', async () => {
    const api = await loginToRelay(relay, { role: 'admin' });
    const taken = await api.post(`/api/alarms/${alarm.id}/acknowledge`, {});
    expect(taken.status).toBe(200);
    await gw.publishAsync(gatewayTopic('gw-m', 'alarm'), '{"not":"an alarm"}', { qos: 1 });
    const m = await waitFor(
      async () => {
        const scraped = await scrape(`${relay.httpUrl}/metrics`);
        return scraped.value(`${C}mqtt_messages_rejected_total`, { reason: 'schema' }) === 1 ? scraped : null;
      },
      5_000,
      'the rejected message counted',
    );
    expect(m.value(`${C}alarm_time_to_acknowledge_seconds_count`, { severity: 'critical' })).toBe(1);
    const seconds = m.value(`${C}alarm_time_to_acknowledge_seconds_sum`, { severity: 'critical' }) ?? 0;
    expect(seconds).toBeGreaterThanOrEqual(42);
    expect(seconds).toBeLessThan(60);
    expect(m.value(`${C}alarm_time_to_acknowledge_seconds_bucket`, { severity: 'critical', le: '30' })).toBe(
      0,
    );
    expect(m.value(`${C}alarm_time_to_acknowledge_seconds_bucket`, { severity: 'critical', le: '60' })).toBe(
      1,
    );
    expect(m.value(`${C}alarms_acknowledged_total`, { type: 'sos_button' })).toBe(1);
    expect(m.value(`${C}alarms_open`, { severity: 'critical', state: 'acknowledged' })).toBe(1);
    expect(
      m.value(`${C}http_requests_total`, {
        method: 'POST',
        route: '/api/alarms/:id/acknowledge',
        status: '200',
      }),
    ).toBe(1);
    // Earlier scrapes (a request is counted once answered).
    expect(m.sum(`${C}http_requests_total`, { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it('docs/metrics.md describes every homebed metric the relay exports', async () => {
    const m = await scrape(`${relay.httpUrl}/metrics`);
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/metrics.md'), 'utf8');
    const names = [...m.types.keys()].filter((n) => n.startsWith(C));
    expect(names.length).toBeGreaterThan(40);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it('each relay has its own registry; metrics.token demands the bearer token; metrics.enabled: false removes the route', async () => {
    const guarded = await startTestRelay({ metrics: { token: 'scrape-token-0123456789' } });
    const off = await startTestRelay({ metrics: { enabled: false } });
    try {
      const url = `${guarded.relay.httpUrl}/metrics`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(await none.json()).toMatchObject({ error: 'HB_UNAUTHENTICATED' });
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      // A session token is no metrics token.
      const api = await loginToRelay(guarded.relay);
      expect((await api.get('/metrics')).status).toBe(401);
      const m = await scrape(url, { authorization: 'Bearer scrape-token-0123456789' });
      // Not the first relay's numbers: nothing arrived here.
      expect(m.value(`${C}alarms_received_total`, { type: 'sos_button', state: 'raised' })).toBeUndefined();
      expect(m.value(`${C}gateways_connected`)).toBe(0);
      expect(m.value(`${C}alarm_stored_ack_seconds_count`)).toBe(0);
      const gone = await fetch(`${off.relay.httpUrl}/metrics`);
      expect(gone.status).toBe(404);
      expect(parseExposition('').samples).toEqual([]);
    } finally {
      await guarded.stop();
      await off.stop();
    }
  });
});
