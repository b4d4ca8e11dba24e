import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmChange, AlarmEvent } from '../../../cloud/alarms/alarm-events.js';
import type { StoredAlarm } from '../../../cloud/alarms/alarm-store.js';
import type { EscalationTimer } from '../../../cloud/escalation/escalation-store.js';
import { verifyWebhookSignature } from '../../../cloud/notifications/webhook-channel.js';
import type { AuditEntry } from '../../../cloud/people/audit-log.js';
import type { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { NativeDeviceEmulator } from '../../../firmware-sim/devices/native-device.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { Gateway } from '../../../gateway/gateway.js';
import {
  type MonitoringCentre,
  request,
  seedBed,
  startMonitoringCentre,
  TcpProxy,
} from '../../support/monitoring-centre.js';
import { type ApiClient, loginToRelay, waitFor } from '../../support/relay.js';
import { SseClient } from '../../support/sse.js';
import { type ReceivedRequest, WebhookReceiver } from './notifications/webhook-receiver.js';

const ORG = 'centre-xuhui';
const BED = 'bed-mc-0001';
const GW = 'gw-mc-0001';
const RESIDENT = '张桂英';
const DAUGHTER = '+8613800138000';
const NEIGHBOUR = '+8613900139000';
const STAFF_NAME = '值班员 李明';

/** One webhook endpoint per tier, each with its own secret, all on the same receiver. */
const HOOKS = {
  first_tier: { path: '/first-tier', secret: 'whsec-first-tier-0123456789' },
  second_tier: { path: '/second-tier', secret: 'whsec-second-tier-0123456789' },
  supervisor: { path: '/supervisor', secret: 'whsec-supervisor-0123456789' },
} as const;

interface AlarmDetail {
  alarm: StoredAlarm;
  timeline: AlarmEvent[];
  escalations: EscalationTimer[];
  notifications: { id: string; kind: string; recipient: string; channel: string; state: string }[];
}

interface WebhookBody {
  id: string;
  kind: string;
  alarmId?: string;
  payload: { step?: number; audience?: string; tier?: string };
}

/**
 * The issue's "done when", in one process set: a pendant presses SOS on a real gateway; the relay
 * stores it, puts it in the staff queue and pushes it to their live stream; nobody answers, so it
 * escalates (1 s second tier, 2 s supervisor) and the tiers' webhooks and the family's phone hear of
 * it; staff acknowledge (the gateway hears it, the remaining step is cancelled) and resolve it (the
 * timeline tells the whole story in order, the audit log names the staff member). Then the gateway's
 * network dies: its last will raises `gateway_offline`, and its return clears it.
 */
describe('monitoring centre end to end: SOS, escalation, answer, gateway offline', () => {
  const gatewayDir = mkdtempSync(join(tmpdir(), 'homebed-centre-gw-'));
  let receiver: WebhookReceiver;
  let centre: MonitoringCentre;
  let relay: Relay;
  let proxy: TcpProxy;
  let gateway: Gateway;
  let staff: ApiClient;
  let orgAdmin: ApiClient;
  let staffStream: SseClient;
  let alarmId = '';

  const detail = async (id: string) => {
    const res = await staff.get<AlarmDetail>(`/api/alarms/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const hookBodies = (path: string): Array<{ request: ReceivedRequest; body: WebhookBody }> =>
    receiver.requests
      .filter((r) => r.url === path && r.status >= 200 && r.status < 300)
      .map((r) => ({ request: r, body: JSON.parse(r.rawBody) as WebhookBody }))
      .filter((r) => r.body.alarmId === alarmId);

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    const hook = (tier: keyof typeof HOOKS) => ({
      id: tier.replace('_', '-'),
      url: receiver.url(HOOKS[tier].path),
      secret: HOOKS[tier].secret,
      timeoutMs: 2_000,
    });
    const recipient = (tier: keyof typeof HOOKS, name: string) => [
      { name, channel: 'webhook', address: receiver.url(HOOKS[tier].path) },
    ];
    centre = await startMonitoringCentre({
      escalation: {
        pollIntervalMs: 100,
        steps: {
          critical: [
            { afterS: 1, tier: 'second_tier' },
            { afterS: 2, tier: 'supervisor' },
            // Never reached in this test: acknowledging must cancel it.
            { afterS: 60, tier: 'supervisor' },
          ],
        },
      },
      liveness: { graceS: 1, checkIntervalMs: 200 },
      notifications: {
        webhooks: [hook('first_tier'), hook('second_tier'), hook('supervisor')],
        policy: {
          tiers: {
            first_tier: recipient('first_tier', 'Care system'),
            second_tier: recipient('second_tier', 'Second-tier desk'),
            supervisor: recipient('supervisor', 'Supervisor on call'),
          },
        },
      },
    });
    relay = centre.relay;
    await relay.services.organisations.add({ id: ORG, name: '徐汇区居家养老监护中心' });
    const { secret } = await seedBed(relay, {
      organisationId: ORG,
      bedId: BED,
      gatewayId: GW,
      residentName: RESIDENT,
      contacts: [
        { name: '王芳', relation: '女儿', phone: DAUGHTER, notify: true },
        { name: '赵四', relation: '邻居', phone: NEIGHBOUR, notify: false },
      ],
    });
    staff = await loginToRelay(relay, { role: 'staff', organisationId: ORG, displayName: STAFF_NAME });
    orgAdmin = await loginToRelay(relay, { role: 'admin', organisationId: ORG, displayName: '中心主任' });

    // The gateway reaches the relay through a proxy, so the test can cut its network like a dead router.
    proxy = await new TcpProxy(relay.mqttPort).start();
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: GW,
        bedId: BED,
        dataDir: gatewayDir,
        cloud: {
          url: `mqtt://127.0.0.1:${proxy.port}`,
          secret,
          reconnectPeriodMs: 100,
          reconnectMaxMs: 400,
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
    await waitFor(() => gateway.cloudConnected, 10_000, 'gateway connected to the relay');
    await waitFor(
      async () => (await relay.gateways.list()).find((g) => g.id === GW && g.status === 'online'),
      5_000,
      'gateway online at the relay',
    );

    staffStream = new SseClient(`${relay.httpUrl}/api/alarms/stream`, {
      authorization: `Bearer ${staff.token}`,
    });
    await staffStream.connected;
  });

  afterAll(async () => {
    await staffStream?.close();
    await gateway?.stop();
    await proxy?.stop();
    await centre?.stop();
    await receiver?.stop();
    rmSync(gatewayDir, { recursive: true, force: true });
  });

  it('an SOS from the pendant is stored, queued for the organisation’s staff and pushed to their live stream', async () => {
    expect(staffStream.status).toBe(200);
    // The simulator's pendant (a native device on the gateway's local broker) declares an emergency.
    const pendant = new NativeDeviceEmulator({
      mqtt: { url: `mqtt://127.0.0.1:${gateway.localBrokerPort}`, reconnectPeriodMs: 200 },
      clock: systemClock,
      spec: { id: 'pendant', state: { battery: 90 }, stateIntervalMs: 0 },
    });
    pendant.start();
    await pendant.waitConnected();
    pendant.update({ event: 'sos' });
    await waitFor(() => pendant.state().eventsDelivered === 1, 5_000, 'the press PUBACKed by the gateway');
    await pendant.stop();

    const raised = await waitFor(() => gateway.alarmLog()[0], 5_000, 'alarm committed on the gateway');
    alarmId = raised.id;
    expect(raised).toMatchObject({ type: 'sos_button', severity: 'critical', gatewayId: GW, bedId: BED });
    await waitFor(() => gateway.alarmRecord(alarmId)?.storedAtMs, 5_000, '`stored` back at the gateway');

    const queue = await staff.get<{ alarms: StoredAlarm[] }>('/api/alarms?open=true');
    expect(queue.status).toBe(200);
    expect(queue.body.alarms.find((a) => a.id === alarmId)).toMatchObject({
      bedId: BED,
      gatewayId: GW,
      type: 'sos_button',
      state: 'raised',
    });

    // Pushed, not polled: the change arrives on the stream opened before the button was pressed.
    const stored = await waitFor(
      () => staffStream.json<AlarmChange>('alarm').find((c) => c.alarmId === alarmId && c.kind === 'stored'),
      5_000,
      '`stored` on the staff stream',
    );
    expect(stored).toMatchObject({ bedId: BED, gatewayId: GW, organisationId: ORG });

    // The family contact marked notify hears at once (SMS, and a call for an SOS); the neighbour is not told.
    const family = await waitFor(
      () => {
        const to = centre.phone.messages.filter((m) => m.to === DAUGHTER);
        return to.length >= 2 ? to : null;
      },
      5_000,
      'family SMS and call',
    );
    expect(family.map((m) => m.kind).sort()).toEqual(['sms', 'voice']);
    expect(family.find((m) => m.kind === 'sms')?.text).toContain(RESIDENT);
    expect(centre.phone.messages.some((m) => m.to === NEIGHBOUR)).toBe(false);
  });

  it('left unacknowledged, it escalates to the second tier after 1 s and the supervisor after 2 s', async () => {
    const escalated = await waitFor(
      async () => {
        const { timeline } = await detail(alarmId);
        const steps = timeline.filter((e) => e.kind === 'escalated');
        return steps.length >= 2 ? steps : null;
      },
      10_000,
      'two escalation steps in the timeline',
    );
    expect(escalated.map((e) => [e.detail.step, e.detail.tier, e.actor])).toEqual([
      [1, 'second_tier', 'system'],
      [2, 'supervisor', 'system'],
    ]);
    const stored = await relay.alarms.get(alarmId);
    const storedAtMs = Date.parse(stored?.receivedAt ?? '');
    // A step fires no earlier than it is due (and the poll is 100 ms).
    expect(Date.parse(escalated[0]!.at) - storedAtMs).toBeGreaterThanOrEqual(1_000);
    expect(Date.parse(escalated[1]!.at) - storedAtMs).toBeGreaterThanOrEqual(2_000);

    // Each tier's webhook was told, signed with its own secret; step 2 reminds those told before.
    const stepsAt = (path: string) =>
      hookBodies(path)
        .filter((r) => r.body.kind === 'alarm_escalated')
        .map((r) => r.body.payload.step)
        .sort();
    await waitFor(
      () =>
        stepsAt(HOOKS.supervisor.path).length === 1 &&
        stepsAt(HOOKS.second_tier.path).length === 2 &&
        stepsAt(HOOKS.first_tier.path).length === 2,
      10_000,
      'escalation webhooks delivered',
    );
    expect(stepsAt(HOOKS.second_tier.path)).toEqual([1, 2]);
    expect(stepsAt(HOOKS.supervisor.path)).toEqual([2]);
    expect(stepsAt(HOOKS.first_tier.path)).toEqual([1, 2]);
    expect(hookBodies(HOOKS.first_tier.path).map((r) => r.body.kind)).toContain('alarm_raised');
    const nowS = Date.now() / 1000;
    for (const [tier, { path, secret }] of Object.entries(HOOKS)) {
      for (const { request: r } of hookBodies(path)) {
        const signed = verifyWebhookSignature(
          secret,
          r.headers['x-homebed-timestamp'] as string | undefined,
          r.rawBody,
          r.headers['x-homebed-signature'] as string | undefined,
          nowS,
        );
        expect(signed, `${tier} webhook signed with its secret`).toBe(true);
        // And not with another tier's secret.
        const other = tier === 'supervisor' ? HOOKS.first_tier.secret : HOOKS.supervisor.secret;
        expect(
          verifyWebhookSignature(
            other,
            r.headers['x-homebed-timestamp'] as string | undefined,
            r.rawBody,
            r.headers['x-homebed-signature'] as string | undefined,
            nowS,
          ),
        ).toBe(false);
      }
    }

    // Every delivery is on the timeline as `notified` (family SMS and call, the raise and both steps).
    const { timeline, notifications } = await waitFor(
      async () => {
        const d = await detail(alarmId);
        const escalationsNotified = d.timeline.filter(
          (e) => e.kind === 'notified' && e.detail.notificationKind === 'alarm_escalated',
        );
        return escalationsNotified.length >= 5 ? d : null;
      },
      10_000,
      '`notified` events for the escalation deliveries',
    );
    const notified = timeline.filter((e) => e.kind === 'notified');
    expect(
      notified.filter((e) => e.detail.notificationKind === 'alarm_raised').map((e) => e.detail.channel),
    ).toEqual(expect.arrayContaining(['sms', 'voice', 'webhook']));
    expect(
      notifications.filter((n) => n.kind === 'alarm_escalated').every((n) => n.state === 'delivered'),
    ).toBe(true);
  });

  it('staff acknowledge through the API: the gateway hears it and no further step fires', async () => {
    const firedBefore = relay.counters.total('escalations_fired');
    const ack = await staff.post<{ alarm: StoredAlarm; changed: boolean }>(
      `/api/alarms/${alarmId}/acknowledge`,
      {},
    );
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ changed: true, alarm: { id: alarmId, acknowledgedBy: STAFF_NAME } });
    await waitFor(
      () => gateway.alarmRecord(alarmId)?.acknowledgedAtMs,
      5_000,
      '`acknowledged` back at the gateway',
    );
    // The gateway keeps when the status reached it: after the relay committed the acknowledgement.
    expect(gateway.alarmRecord(alarmId)?.acknowledgedAtMs).toBeGreaterThanOrEqual(
      Date.parse(ack.body.alarm.acknowledgedAt!),
    );

    const { escalations } = await detail(alarmId);
    expect(escalations.map((s) => [s.step, s.firedAt !== null, s.cancelledAt !== null])).toEqual([
      [1, true, false],
      [2, true, false],
      [3, false, true],
    ]);
    // Nothing due any more: a few polls later the escalator has fired nothing new.
    await waitFor(
      async () =>
        (await relay.services.escalations.forAlarm(alarmId)).every((s) => s.firedAt || s.cancelledAt),
      2_000,
      'every step fired or cancelled',
    );
    expect(relay.counters.total('escalations_fired')).toBe(firedBefore);
    const ackedOnStream = await waitFor(
      () =>
        staffStream
          .json<AlarmChange>('alarm')
          .find((c) => c.alarmId === alarmId && c.kind === 'acknowledged'),
      5_000,
      '`acknowledged` on the staff stream',
    );
    expect(ackedOnStream.bedId).toBe(BED);
  });

  it('staff resolve with outcome and notes: the timeline tells the story in order, the audit log names them', async () => {
    const resolved = await staff.post<{ alarm: StoredAlarm }>(`/api/alarms/${alarmId}/resolve`, {
      outcome: 'staff_visited',
      notes: '上门查看，老人起夜摔倒，无外伤',
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.alarm).toMatchObject({
      outcome: 'staff_visited',
      notes: '上门查看，老人起夜摔倒，无外伤',
      resolvedBy: STAFF_NAME,
    });
    const open = await staff.get<{ alarms: StoredAlarm[] }>('/api/alarms?open=true');
    expect(open.body.alarms.some((a) => a.id === alarmId)).toBe(false);

    // Those told of the alarm hear it was resolved (the family by SMS, never a call to say all is well).
    const { timeline } = await waitFor(
      async () => {
        const d = await detail(alarmId);
        const resolvedNotified = d.timeline.filter(
          (e) => e.kind === 'notified' && e.detail.notificationKind === 'alarm_resolved',
        );
        return resolvedNotified.length >= 4 ? d : null;
      },
      10_000,
      '`notified` for the resolution (three tiers and the family)',
    );
    const familyMessages = centre.phone.messages.filter((m) => m.to === DAUGHTER);
    expect(familyMessages.map((m) => m.kind)).toEqual(expect.arrayContaining(['sms', 'voice']));
    expect(familyMessages.filter((m) => m.kind === 'voice')).toHaveLength(1);

    const story = timeline
      .filter((e) => e.kind !== 'notified' && e.kind !== 'notification_failed')
      .map((e) => (e.kind === 'escalated' ? `escalated(${e.detail.step})` : e.kind));
    expect(story).toEqual(['raised', 'stored', 'escalated(1)', 'escalated(2)', 'acknowledged', 'resolved']);
    expect(timeline.filter((e) => e.kind === 'notification_failed')).toEqual([]);
    const resolvedEvent = timeline.find((e) => e.kind === 'resolved');
    expect(resolvedEvent?.detail).toMatchObject({ outcome: 'staff_visited' });

    // Each `notified` comes after the event it tells of.
    const indexOf = (pred: (e: AlarmEvent) => boolean) => timeline.findIndex(pred);
    const storedAt = indexOf((e) => e.kind === 'stored');
    const resolvedAt = indexOf((e) => e.kind === 'resolved');
    const stepOfDelivery = new Map(
      Object.values(HOOKS).flatMap(({ path }) =>
        hookBodies(path).map((r) => [r.body.id, r.body.payload.step]),
      ),
    );
    for (const [i, e] of timeline.entries()) {
      if (e.kind !== 'notified') continue;
      const kind = e.detail.notificationKind;
      if (kind === 'alarm_raised') expect(i).toBeGreaterThan(storedAt);
      if (kind === 'alarm_resolved') expect(i).toBeGreaterThan(resolvedAt);
      if (kind === 'alarm_escalated') {
        const step = stepOfDelivery.get(String(e.detail.deliveryId));
        // Only steps 1 and 2 fired (step 3 was cancelled by the acknowledgement).
        expect([1, 2], `step of delivery ${String(e.detail.deliveryId)}`).toContain(step);
        expect(i).toBeGreaterThan(indexOf((x) => x.kind === 'escalated' && x.detail.step === step));
      }
    }

    const audit = await orgAdmin.get<{ entries: AuditEntry[] }>(`/api/audit?bedId=${BED}`);
    expect(audit.status).toBe(200);
    const answered = audit.body.entries.filter((e) => e.action.startsWith('alarm.'));
    expect(answered.map((e) => e.action).sort()).toEqual(['alarm.acknowledge', 'alarm.resolve']);
    for (const entry of answered) {
      expect(entry).toMatchObject({
        actorId: staff.userId,
        actorRole: 'staff',
        targetType: 'alarm',
        targetId: alarmId,
        bedId: BED,
      });
    }
    expect(answered.find((e) => e.action === 'alarm.resolve')?.detail).toMatchObject({
      outcome: 'staff_visited',
    });
  });

  it('a gateway whose network dies raises gateway_offline (its last will); its return clears it', async () => {
    proxy.cut();
    const offline = await waitFor(
      async () => {
        const res = await staff.get<{ alarms: StoredAlarm[] }>(`/api/alarms?bedId=${BED}&open=true`);
        return res.body.alarms.find((a) => a.type === 'gateway_offline');
      },
      10_000,
      'gateway_offline for the bed',
    );
    expect(offline).toMatchObject({
      gatewayId: GW,
      bedId: BED,
      state: 'raised',
      seq: 0,
      severity: 'warning',
    });
    const history = await relay.gateways.statusHistory(GW);
    expect(history.some((h) => h.state === 'offline' && h.reason === 'last_will')).toBe(true);
    await waitFor(
      () =>
        staffStream
          .json<AlarmChange>('alarm')
          .find((c) => c.alarmId === offline.id && c.kind === 'stored' && c.organisationId === ORG),
      5_000,
      'gateway_offline on the staff stream',
    );

    proxy.restore();
    await waitFor(() => gateway.cloudConnected, 10_000, 'gateway reconnected');
    const { timeline } = await waitFor(
      async () => {
        const d = await detail(offline.id);
        return d.timeline.some((e) => e.kind === 'cleared') ? d : null;
      },
      10_000,
      '`cleared` on the gateway_offline timeline',
    );
    expect(timeline.map((e) => e.kind).filter((k) => k !== 'notified')).toEqual([
      'raised',
      'stored',
      'cleared',
    ]);
    const { escalations } = await detail(offline.id);
    // The clear stops its escalation; the alarm itself still waits for a person.
    expect(escalations.every((s) => s.firedAt === null && s.cancelledAt !== null)).toBe(true);
    const open = await staff.get<{ alarms: StoredAlarm[] }>(`/api/alarms?bedId=${BED}&open=true`);
    expect(open.body.alarms.map((a) => a.id)).toContain(offline.id);
    expect((await request(relay.httpUrl, staff.token, 'GET', `/api/gateways`)).body).toMatchObject({
      gateways: [{ id: GW, status: 'online', offlineAlarmId: null }],
    });
  });
});
