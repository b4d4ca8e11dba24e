import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';
import { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import {
  type AckMessage,
  type AlarmMessage,
  ackMessageSchema,
  gatewayTopic,
  parsePayload,
} from '../../../contract/index.js';
import { type ApiClient, connectAsGateway, loginToRelay, waitFor } from '../../support/relay.js';

const GW = 'gw-life';

function alarm(seq: number, state: AlarmMessage['state'] = 'raised', refersTo?: string): AlarmMessage {
  const at = new Date().toISOString();
  return {
    v: 1,
    id: uuidv7(),
    gatewayId: GW,
    bedId: 'bed-l',
    seq,
    type: 'sos_button',
    severity: 'critical',
    state,
    at,
    deviceId: 'sos',
    ...(refersTo ? { refersTo } : {}),
    evidence: [{ deviceId: 'sos', kind: 'button_press', at }],
  };
}

/**
 * Staff take and close an alarm through the HTTP API; the gateway hears
 * `acknowledged` and `resolved`, and hears them again after it reconnects to
 * a relay that was restarted in between (the broker's sessions are gone,
 * the store is not).
 */
describe('alarm lifecycle: acknowledged and resolved reach the gateway', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'homebed-lifecycle-'));
  let relay: Relay | null = null;
  let gateway: MqttClient | null = null;
  let secret = '';
  const received: AckMessage[] = [];

  async function startRelay(mqttPort = 0): Promise<Relay> {
    const config = cloudConfigSchema.parse({ dataDir, mqtt: { port: mqttPort }, http: { port: 0 } });
    const r = new Relay({ config, clock: systemClock, logger: silentLogger() });
    await r.start();
    return r;
  }

  /** Connect as the real gateway does: subscribe to acks, then say online. */
  async function connectGateway(port: number): Promise<MqttClient> {
    const client = await connectAsGateway(port, GW, secret);
    client.on('message', (_topic, payload) => {
      const parsed = parsePayload(ackMessageSchema, payload);
      if (parsed.ok) received.push(parsed.value);
    });
    await client.subscribeAsync(gatewayTopic(GW, 'ack'), { qos: 1 });
    await client.publishAsync(gatewayTopic(GW, 'status'), JSON.stringify({ v: 1, state: 'online' }), {
      qos: 1,
      retain: true,
    });
    return client;
  }

  afterAll(async () => {
    await gateway?.endAsync();
    await relay?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // One logged-in staff member per display name: who acknowledged is the session's user, not a body field.
  const staff = new Map<string, ApiClient>();
  const post = async (path: string, body: Record<string, unknown>, as = 'operator 7') => {
    let client = staff.get(as);
    if (!client) {
      client = await loginToRelay(relay!, { role: 'admin', displayName: as });
      staff.set(as, client);
    }
    return client.post(path, body);
  };
  const statuses = (alarmId: string) =>
    received.filter((a) => a.alarmId === alarmId).map((a) => `${a.status}:${a.by ?? ''}`);

  const raised = alarm(1);
  const cleared = alarm(2, 'cleared', raised.id);

  it('acknowledges once, tells the gateway once, and records who and when', async () => {
    relay = await startRelay();
    ({ secret } = await relay.gateways.add(GW));
    gateway = await connectGateway(relay.mqttPort);
    for (const a of [raised, cleared]) {
      await gateway.publishAsync(gatewayTopic(GW, 'alarm'), JSON.stringify(a), { qos: 1 });
    }
    await waitFor(() => statuses(cleared.id).includes('stored:'), 5_000, 'both stored');

    const clickedAt = Date.now();
    const first = await post(`/api/alarms/${raised.id}/acknowledge`, {});
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      changed: true,
      alarm: { id: raised.id, acknowledgedBy: 'operator 7' },
    });
    const again = await post(`/api/alarms/${raised.id}/acknowledge`, {}, 'operator 9');
    expect(again.body).toMatchObject({ changed: false, alarm: { acknowledgedBy: 'operator 7' } });

    await waitFor(() => statuses(raised.id).includes('acknowledged:operator 7'), 5_000, 'acknowledged');
    await new Promise((r) => setTimeout(r, 200));
    expect(statuses(raised.id)).toEqual(['stored:', 'acknowledged:operator 7']);
    // Stored: the time of the first click (the repeat kept it), and the same time the gateway was told.
    const ackedAt = (await relay.alarms.get(raised.id))?.acknowledgedAt;
    const bodyAt = (body: Record<string, unknown>) =>
      (body.alarm as { acknowledgedAt?: string }).acknowledgedAt;
    expect(Date.parse(ackedAt ?? '')).toBeGreaterThanOrEqual(clickedAt);
    expect(bodyAt(first.body)).toBe(ackedAt);
    expect(bodyAt(again.body)).toBe(ackedAt);
    expect(received.find((a) => a.alarmId === raised.id && a.status === 'acknowledged')?.at).toBe(ackedAt);
  });

  it('refuses what makes no sense, with stable error codes', async () => {
    expect(await post(`/api/alarms/${uuidv7()}/acknowledge`, {})).toMatchObject({
      status: 404,
      body: { error: 'HB_ALARM_NOT_FOUND' },
    });
    expect(await post(`/api/alarms/${cleared.id}/acknowledge`, {})).toMatchObject({
      status: 409,
      body: { error: 'HB_ALARM_NOT_RAISED' },
    });
    const bad = await post(`/api/alarms/${raised.id}/resolve`, { outcome: 'went_fishing' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('HB_BAD_REQUEST');
    expect(String(bad.body.message)).toMatch(/outcome/);
    // The person is the logged-in user: a body naming someone else is refused.
    expect((await post(`/api/alarms/${raised.id}/acknowledge`, { by: 'someone else' })).status).toBe(400);
    expect((await relay!.alarms.get(raised.id))?.resolvedAt).toBeUndefined();
  });

  it('resolves with an outcome and notes; the gateway hears it; resolving twice is refused', async () => {
    const done = await post(`/api/alarms/${raised.id}/resolve`, {
      outcome: 'resident_fine_by_phone',
      notes: 'pressed by mistake while dusting',
    });
    expect(done).toMatchObject({
      status: 200,
      body: { alarm: { outcome: 'resident_fine_by_phone', notes: 'pressed by mistake while dusting' } },
    });
    await waitFor(() => statuses(raised.id).includes('resolved:operator 7'), 5_000, 'resolved');
    expect(await post(`/api/alarms/${raised.id}/resolve`, { outcome: 'other' }, 'nurse li')).toMatchObject({
      status: 409,
      body: { error: 'HB_ALARM_ALREADY_RESOLVED' },
    });
  });

  it('resolving an alarm nobody acknowledged tells the gateway both, in order', async () => {
    const second = alarm(3);
    await gateway!.publishAsync(gatewayTopic(GW, 'alarm'), JSON.stringify(second), { qos: 1 });
    await waitFor(() => statuses(second.id).includes('stored:'), 5_000, 'stored');
    await post(`/api/alarms/${second.id}/resolve`, { outcome: 'staff_visited' }, 'nurse li');
    await waitFor(() => statuses(second.id).length === 3, 5_000, 'three statuses');
    expect(statuses(second.id)).toEqual(['stored:', 'acknowledged:nurse li', 'resolved:nurse li']);
  });

  it('after a relay restart, a reconnecting gateway is told again (its session died with the relay)', async () => {
    const port = relay!.mqttPort;
    await gateway!.endAsync(true);
    await relay!.stop();
    received.length = 0;
    relay = await startRelay(port);
    staff.clear();
    gateway = await connectGateway(port);
    await waitFor(() => statuses(raised.id).includes('resolved:operator 7'), 5_000, 'replay');
    expect(statuses(raised.id)).toEqual(['acknowledged:operator 7', 'resolved:operator 7']);
    // Replayed with the original times: the gateway's feedback ignores stale acks by their age.
    const replayed = received.find((a) => a.alarmId === raised.id && a.status === 'acknowledged');
    expect(replayed?.at).toBe((await relay.alarms.get(raised.id))?.acknowledgedAt);
    expect(relay.counters.get('alarm_statuses_replayed')).toBe(2);
  });
});
