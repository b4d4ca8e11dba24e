import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../cloud/alarms/alarm-events.js';
import { uuidv7 } from '../../common/ids.js';
import { type AlarmMessage, ackMessageSchema, gatewayTopic, parsePayload } from '../../contract/index.js';
import { type ApiClient, loginOverHttp } from '../../tools/api-client.js';
import {
  type ManagedChild,
  REPO_ROOT,
  startChild,
  TSX_BIN,
  waitForLine,
} from '../../tools/child-processes.js';
import { freePort } from '../../tools/free-port.js';
import { TEST_POSTGRES_URL } from '../support/cloud-stores.js';
import { waitFor } from '../support/relay.js';
import { SseClient } from '../support/sse.js';

const run = promisify(execFile);

/** The Mosquitto this machine runs on 1883 (a required test service), as a production broker would be. */
const BROKER = 'mqtt://127.0.0.1:1883';
const ALARMS = 150;
const STAFF_PASSWORD = 'scale-out staff password';

/**
 * Two relay processes behind one external broker (MQTT 5 shared
 * subscription) and one PostgreSQL: one is SIGKILLed in the middle of a
 * burst. Every alarm is stored once with one timeline, every escalation
 * step fires once, and a console on the surviving process saw every
 * change, including those the killed one committed.
 */
describe('scale-out: two relay processes, shared subscription, shared PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-scale-'));
  const tag = randomBytes(4).toString('hex');
  const schema = `hb_scale_${tag}`;
  const gatewayId = `gw-scale-${tag}`;
  const bedId = `bed-scale-${tag}`;
  const relays: Record<'a' | 'b', { child: ManagedChild; httpUrl: string; stored: number }> = {} as never;
  let gateway: MqttClient;
  let staffB: ApiClient;
  let sseB: SseClient;
  const stored = new Set<string>();
  const acknowledged = new Set<string>();
  const sent: AlarmMessage[] = [];

  const env = (name: string, httpPort: number): Record<string, string> => ({
    HOMEBED_CLOUD__DATA_DIR: join(dir, name),
    HOMEBED_CLOUD__HTTP__PORT: String(httpPort),
    HOMEBED_CLOUD__STORE__POSTGRES__URL: TEST_POSTGRES_URL,
    HOMEBED_CLOUD__STORE__POSTGRES__SCHEMA: schema,
    HOMEBED_CLOUD__MQTT__EXTERNAL__URL: BROKER,
    HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENT_ID: `relay-${name}-${tag}`,
    HOMEBED_CLOUD__MQTT__EXTERNAL__SHARE_GROUP: `scale-${tag}`,
    // Short sessions: this broker is shared with the rest of the machine.
    HOMEBED_CLOUD__MQTT__EXTERNAL__SESSION_EXPIRY_S: '60',
    HOMEBED_CLOUD__ESCALATION__STEPS__CRITICAL: JSON.stringify([
      { afterS: 3, tier: 'second_tier' },
      { afterS: 6, tier: 'supervisor' },
    ]),
    HOMEBED_CLOUD__ESCALATION__POLL_INTERVAL_MS: '200',
    HOMEBED_CLOUD__LOG__LEVEL: 'info',
  });

  const cli = (...args: string[]) =>
    run(process.execPath, [TSX_BIN, 'cloud/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env('cli', 0) },
    });

  async function startRelay(name: 'a' | 'b'): Promise<void> {
    const httpPort = await freePort();
    const entry = {
      child: null as unknown as ManagedChild,
      httpUrl: `http://127.0.0.1:${httpPort}`,
      stored: 0,
    };
    entry.child = startChild(`relay-${name}`, process.execPath, [TSX_BIN, 'cloud/cli.ts', 'run'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env(name, httpPort) },
      onLine: (line) => {
        if (line.includes('"msg":"alarm stored"')) entry.stored++;
      },
    });
    relays[name] = entry;
    await waitForLine(entry.child, /cloud relay started/, 30_000);
  }

  beforeAll(async () => {
    // The home and a staff member, through the CLI, into the shared store (it migrates it first).
    await cli('org', 'add', '扩容测试中心', '--id', `org-${tag}`);
    await cli('bed', 'add', bedId, '--org', `org-${tag}`, '--resident', '李四', '--address', '扩容路 2 号');
    await cli('gateway', 'add', gatewayId, '--bed', bedId);
    await cli(
      'user',
      'add',
      `staff-${tag}`,
      '--role',
      'staff',
      '--name',
      '值班员',
      '--org',
      `org-${tag}`,
      '--password',
      STAFF_PASSWORD,
    );
    await Promise.all([startRelay('a'), startRelay('b')]);

    staffB = await loginOverHttp(relays.b.httpUrl, `staff-${tag}`, STAFF_PASSWORD);
    sseB = new SseClient(`${relays.b.httpUrl}/api/alarms/stream`, {
      authorization: `Bearer ${staffB.token}`,
    });
    await sseB.connected;
    expect(sseB.status).toBe(200);

    // The broker authenticates nobody here; the gateway is a plain MQTT 5 client, as the real one.
    gateway = await mqtt.connectAsync(BROKER, { clientId: gatewayId, protocolVersion: 5, clean: true });
    gateway.on('message', (topic, payload) => {
      if (topic !== gatewayTopic(gatewayId, 'ack')) return;
      const ack = parsePayload(ackMessageSchema, payload);
      if (!ack.ok) return;
      if (ack.value.status === 'stored') stored.add(ack.value.alarmId);
      if (ack.value.status === 'acknowledged') acknowledged.add(ack.value.alarmId);
    });
    await gateway.subscribeAsync(gatewayTopic(gatewayId, 'ack'), { qos: 1 });
  }, 120_000);

  afterAll(async () => {
    await sseB?.close();
    await gateway?.endAsync();
    for (const r of Object.values(relays)) await r.child.stop('SIGTERM', 8_000);
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a burst survives one relay SIGKILLed halfway: every alarm stored once, both relays took a share', async () => {
    const publish = (a: AlarmMessage) =>
      gateway.publishAsync(gatewayTopic(gatewayId, 'alarm'), JSON.stringify(a), { qos: 1 });
    for (let seq = 1; seq <= ALARMS; seq++) {
      const at = new Date().toISOString();
      sent.push({
        v: 1,
        id: uuidv7(),
        gatewayId,
        bedId,
        seq,
        type: 'sos_button',
        severity: 'critical',
        state: 'raised',
        at,
        deviceId: 'sos',
        evidence: [{ deviceId: 'sos', kind: 'button_press', at }],
      });
    }
    let killed = false;
    const burst = (async () => {
      for (const a of sent) {
        await publish(a);
        if (!killed && relays.a.stored >= 20) {
          killed = true;
          await relays.a.child.stop('SIGKILL', 1_000);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await burst;
    expect(killed).toBe(true);
    // As the real gateway: what has no `stored` yet is sent again until it has (the killed relay took some).
    await waitFor(
      async () => {
        const missing = sent.filter((a) => !stored.has(a.id));
        for (const a of missing) await publish(a);
        return missing.length === 0;
      },
      60_000,
      'every alarm stored',
    );

    const db = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await db.connect();
    try {
      const rows = await db.query(
        `SELECT a.id, (SELECT COUNT(*) FROM ${schema}.alarm_events e WHERE e.alarm_id = a.id AND e.kind = 'stored') AS stored_events
           FROM ${schema}.alarms a WHERE a.gateway_id = $1`,
        [gatewayId],
      );
      expect(rows.rows.map((r) => r.id).sort()).toEqual(sent.map((a) => a.id).sort());
      expect(rows.rows.filter((r) => Number(r.stored_events) !== 1)).toEqual([]);
    } finally {
      await db.end();
    }
    // Both processes stored alarms: the share group split the work until one died.
    expect(relays.a.stored).toBeGreaterThan(0);
    expect(relays.b.stored).toBeGreaterThan(0);
    // Relay A comes back (same client id, same store) before the escalation steps fall due: both race for them.
    await startRelay('a');
  }, 120_000);

  it('each escalation step fires exactly once, and the surviving console saw every change', async () => {
    const db = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await db.connect();
    try {
      await waitFor(
        async () => {
          const r = await db.query(
            `SELECT COUNT(*) AS n FROM ${schema}.escalations WHERE fired_at IS NOT NULL`,
          );
          return Number(r.rows[0].n) === ALARMS * 2;
        },
        60_000,
        'both steps fired for every alarm',
      );
      const events = await db.query(
        `SELECT alarm_id, detail FROM ${schema}.alarm_events WHERE kind = 'escalated'`,
      );
      const perStep = new Map<string, number>();
      for (const e of events.rows) {
        const key = `${e.alarm_id}/${JSON.parse(e.detail).step}`;
        perStep.set(key, (perStep.get(key) ?? 0) + 1);
      }
      expect(perStep.size).toBe(ALARMS * 2);
      expect([...perStep.values()].every((n) => n === 1)).toBe(true);
      const owners = await db.query(
        `SELECT fired_by, COUNT(*) AS n FROM ${schema}.escalations GROUP BY fired_by`,
      );
      console.info(`escalation steps fired per process: ${JSON.stringify(owners.rows)}`);
    } finally {
      await db.end();
    }
    // The console on relay B heard of every alarm, those relay A stored before it died included.
    await waitFor(
      () => {
        const changes = sseB.json<AlarmChange>('alarm');
        const storedSeen = new Set(changes.filter((c) => c.kind === 'stored').map((c) => c.alarmId));
        const escalatedSeen = changes.filter((c) => c.kind === 'escalated').length;
        return sent.every((a) => storedSeen.has(a.id)) && escalatedSeen >= ALARMS * 2;
      },
      20_000,
      'every stored and escalated change on the console of relay B',
    );
  }, 120_000);

  it('an alarm the killed relay stored is acknowledged through the other, and the gateway hears it', async () => {
    const first = sent[0]!;
    const res = await staffB.post(`/api/alarms/${first.id}/acknowledge`);
    expect(res.status).toBe(200);
    await waitFor(() => acknowledged.has(first.id), 10_000, '`acknowledged` at the gateway');
    const detail = await staffB.get<{ timeline: { kind: string }[] }>(`/api/alarms/${first.id}`);
    expect(detail.body.timeline.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['raised', 'stored', 'escalated', 'acknowledged']),
    );
  }, 60_000);
});
