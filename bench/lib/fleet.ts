/**
 * A fleet of simulated gateways in one process, for the cloud capacity benchmark (bench/capacity.ts).
 * Each gateway speaks the contract as gateway/uplink does (docs/contract.md): it logs in with client
 * id = user name = its id and its secret, persistent session, 30 s keepalive, an `offline` last will;
 * on connect it subscribes to its `ack` and `cmd` topics, publishes a retained `online` and a heartbeat,
 * then a heartbeat every 30 s. The fleet raises `sos_button` alarms from random gateways at a set rate
 * (open loop: the schedule does not wait for acks, so a slow relay cannot slow its own load down) and
 * times each one from its publish to the `stored` ack the relay sends that gateway.
 *
 * Also: provisioning thousands of gateways in one go (the relay's SQLite store, a Mosquitto password
 * file), and a seeded random source.
 */
import { execFile } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { GatewayRegistry } from '../../cloud/gateways/gateway-registry.js';
import { openCloudStore } from '../../cloud/store/cloud-db.js';
import { uuidv7 } from '../../common/ids.js';
import {
  type AlarmMessage,
  ackMessageSchema,
  alarmMessageSchema,
  CONTRACT_VERSION,
  encodePayload,
  type HeartbeatMessage,
  heartbeatMessageSchema,
  parsePayload,
  statusMessageSchema,
} from '../../contract/index.js';
import { findServerBinary } from '../../tools/private-server.js';
import { roundSummary, type Summary, summarize } from './stats.js';

/** mulberry32: a small seeded generator, so a run's choice of gateways can be repeated with `--seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `gw-cap-000001` …: plain ids (they are client ids and topic levels). */
export function fleetIds(count: number, prefix = 'gw-cap', from = 1): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(from + i).padStart(6, '0')}`);
}

/**
 * scrypt work factor of the bulk-provisioned fleet's secrets. The product hashes with N = 2^15 (about
 * 100 ms of CPU per first login, common/secrets.ts), which would make the login of 8,000 gateways alone
 * take minutes on two cores; the fleet is stored with N = 2^10 (1/32 of the work) in the same
 * `scrypt$N$r$p$salt$hash` format the relay reads, and the production cost is measured separately on a
 * few gateways provisioned through the registry.
 */
export const FLEET_SCRYPT_N = 2 ** 10;

/**
 * Provision gateways straight into the relay's SQLite store (before the relay starts; it migrates the
 * file if needed): `fleet` with one shared secret hashed once at {@link FLEET_SCRYPT_N} (the relay still
 * runs one scrypt per gateway's first login, whatever the hash is shared with), `sampled` through
 * {@link GatewayRegistry.add} at the product's own cost. One transaction: thousands of rows in well under
 * a second, where one CLI process per gateway would take minutes.
 */
export async function provisionRelayStore(
  dataDir: string,
  fleet: readonly string[],
  sampled: readonly string[],
  secret: string,
): Promise<void> {
  const db = await openCloudStore({ dataDir });
  try {
    const salt = randomBytes(16);
    const key = scryptSync(secret, salt, 32, { N: FLEET_SCRYPT_N, r: 8, p: 1 });
    const hash = ['scrypt', FLEET_SCRYPT_N, 8, 1, salt.toString('base64url'), key.toString('base64url')].join(
      '$',
    );
    const createdAt = new Date().toISOString();
    await db.transaction(async (tx) => {
      // The columns GatewayRegistry.add writes; a gateway on no bed and in no organisation (a platform admin's).
      for (const id of fleet) {
        await tx.run(
          `INSERT INTO gateways (id, secret_hash, created_at, organisation_id) VALUES (?, ?, ?, ?)`,
          [id, hash, createdAt, null],
        );
      }
    });
    const registry = new GatewayRegistry(db);
    await Promise.all(sampled.map((id) => registry.add(id, secret)));
  } finally {
    await db.close();
  }
}

/**
 * A Mosquitto password file for `users` (name → password) in one go: the plain `user:password` file is
 * hashed in place by one `mosquitto_passwd -U` (tools/mosquitto.ts's writeMosquittoPasswordFile runs one
 * process per user, too slow for thousands).
 */
export async function writeBulkPasswordFile(file: string, users: ReadonlyMap<string, string>): Promise<void> {
  const binary = findServerBinary(['mosquitto_passwd'], process.env.HOMEBED_MOSQUITTO_PASSWD, process.env, [
    '/usr/sbin',
    '/usr/bin',
  ]);
  if (!binary) throw new Error('mosquitto_passwd not found: install the Debian package mosquitto');
  const lines = [...users].map(([user, password]) => `${user}:${password}`);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  await promisify(execFile)(binary, ['-U', file]);
}

export interface FleetOptions {
  /** Broker the gateways connect to (the relay's aedes, or Mosquitto). */
  url: string;
  /** Password (the gateway's secret) of each gateway. */
  secretOf: (gatewayId: string) => string;
  random: () => number;
  heartbeatIntervalS?: number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  /** An alarm without its `stored` ack after this long is counted missing (the gateway's first retransmission, 3 s). */
  ackTimeoutMs?: number;
}

/** What one round of connections came to. */
export interface ConnectReport {
  attempted: number;
  /** The deadline passed before every gateway was tried. */
  stoppedEarly: boolean;
  connected: number;
  /** CONNACK with a refusal code (bad credentials, not authorized, server unavailable). */
  refused: number;
  /** No CONNACK within the connect timeout, or the socket failed. */
  failed: number;
  /** connect() → CONNACK, per gateway that connected. */
  connackMs: Summary | null;
  /** connect() → status `online` and first heartbeat acknowledged by the broker (the gateway is up). */
  readyMs: Summary | null;
  wallS: number;
  /** Gateways up per second of wall time. */
  perSecond: number;
  /** CPU of this process while connecting (100 = one core): near 100, the generator limited the rate. */
  generatorCpuPercent: number;
}

/** One load step's samples. */
export interface LoadReport {
  targetRateHz: number;
  durationS: number;
  sent: number;
  /** Alarms with a `stored` ack within the ack timeout. */
  acked: number;
  /** Alarms without one: counted against the step, never left out of the figures. */
  missing: number;
  publishErrors: number;
  /** Connections that closed during the step (the relay or broker dropped a gateway). */
  dropped: number;
  achievedRateHz: number;
  /** publish → `stored` received, of the acked alarms. */
  ackMs: Summary | null;
  /** The load generator itself: its event-loop delay and CPU (100 = one core), to tell whether it kept up. */
  generator: { loopDelayMs: { p50: number; p99: number; max: number }; cpuPercent: number };
}

interface Gateway {
  id: string;
  client: MqttClient;
  seq: number;
  ready: boolean;
  startedAt: number;
  heartbeat: HeartbeatMessage;
  timers: NodeJS.Timeout[];
}

interface Pending {
  sentAt: number;
  /** performance.now() after which the alarm counts as missing. */
  deadline: number;
  step: StepState;
}

interface StepState {
  outstanding: number;
  latencies: number[];
  missing: number;
  publishErrors: number;
  onSettled: (() => void) | null;
}

/** Sampling interval of the load generator's event-loop delay histogram. */
const LOOP_RESOLUTION_MS = 5;
const SOS_RAW = '20;02;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;';

/** The simulated fleet; see the file comment. */
export class Fleet {
  private readonly gateways = new Map<string, Gateway>();
  private readyList: Gateway[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly heartbeatIntervalMs: number;
  private readonly keepaliveS: number;
  private readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
  /** Connections closed while up, since the fleet was made. */
  dropped = 0;
  /** Heartbeats published, and those the broker did not acknowledge. */
  heartbeats = { sent: 0, failed: 0 };
  private closing = false;

  constructor(private readonly options: FleetOptions) {
    this.heartbeatIntervalMs = (options.heartbeatIntervalS ?? 30) * 1000;
    this.keepaliveS = options.keepaliveS ?? 30;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 3_000;
    // Alarms still without `stored` after the timeout are counted missing and forgotten.
    this.sweeper = setInterval(() => this.sweep(), 100);
    this.sweeper.unref();
  }

  /** Gateways connected and up now. */
  get size(): number {
    return this.readyList.length;
  }

  /**
   * Connect `ids` in batches of `batchSize` (each batch waits for the one before to be up, so a step is
   * not one thundering herd of thousands of simultaneous logins), starting no batch after `deadline`.
   */
  async connect(
    ids: readonly string[],
    batchSize: number,
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<ConnectReport> {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const connack: number[] = [];
    const ready: number[] = [];
    let refused = 0;
    let failed = 0;
    let attempted = 0;
    for (let i = 0; i < ids.length; i += batchSize) {
      // Past the deadline (performance.now()) no new batch starts: the caller has a time budget to keep.
      if (performance.now() > deadline) break;
      const batch = ids.slice(i, i + batchSize);
      attempted += batch.length;
      const results = await Promise.all(batch.map((id) => this.connectOne(id)));
      for (const r of results) {
        if (r.kind === 'up') {
          connack.push(r.connackMs);
          ready.push(r.readyMs);
        } else if (r.kind === 'refused') refused++;
        else failed++;
      }
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      attempted,
      stoppedEarly: attempted < ids.length,
      connected: ready.length,
      refused,
      failed,
      connackMs: connack.length ? roundSummary(summarize(connack)) : null,
      readyMs: ready.length ? roundSummary(summarize(ready)) : null,
      wallS: Math.round(wallS * 100) / 100,
      perSecond: Math.round((ready.length / wallS) * 10) / 10,
      generatorCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 1000) / 10,
    };
  }

  private connectOne(
    id: string,
  ): Promise<{ kind: 'up'; connackMs: number; readyMs: number } | { kind: 'refused' | 'failed' }> {
    const t0 = performance.now();
    const ackTopic = `homebed/v1/gw/${id}/ack`;
    // As gateway/uplink/cloud-link.ts connects, except that a lost gateway is not reconnected: the
    // benchmark counts it instead.
    const client = mqtt.connect(this.options.url, {
      clientId: id,
      username: id,
      password: this.options.secretOf(id),
      protocolVersion: 4,
      clean: false,
      keepalive: this.keepaliveS,
      connectTimeout: this.connectTimeoutMs,
      reconnectPeriod: 0,
      will: {
        topic: `homebed/v1/gw/${id}/status`,
        payload: Buffer.from(encodePayload(statusMessageSchema, { v: CONTRACT_VERSION, state: 'offline' })),
        qos: 1,
        retain: true,
      },
    });
    const gateway: Gateway = {
      id,
      client,
      seq: 0,
      ready: false,
      startedAt: Date.now(),
      heartbeat: heartbeatTemplate(id, this.heartbeatIntervalMs / 1000),
      timers: [],
    };
    this.gateways.set(id, gateway);
    client.on('message', (topic, payload) => {
      if (topic === ackTopic) this.onAck(payload);
    });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (
        result: { kind: 'up'; connackMs: number; readyMs: number } | { kind: 'refused' | 'failed' },
      ) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (result.kind !== 'up') {
          this.gateways.delete(id);
          client.end(true);
        }
        resolve(result);
      };
      const deadline = setTimeout(() => finish({ kind: 'failed' }), this.connectTimeoutMs + 1_000);
      client.on('error', (err) => {
        const code = (err as { code?: unknown }).code;
        finish({ kind: typeof code === 'number' ? 'refused' : 'failed' });
      });
      client.on('close', () => {
        if (gateway.ready && !this.closing) {
          this.dropped++;
          this.setReady(gateway, false);
        }
        finish({ kind: 'failed' });
      });
      client.once('connect', () => {
        const connackMs = performance.now() - t0;
        void (async () => {
          try {
            await client.subscribeAsync([ackTopic, `homebed/v1/gw/${id}/cmd`], { qos: 1 });
            await client.publishAsync(
              `homebed/v1/gw/${id}/status`,
              encodePayload(statusMessageSchema, {
                v: CONTRACT_VERSION,
                state: 'online',
                at: new Date().toISOString(),
              }),
              { qos: 1, retain: true },
            );
            await this.beat(gateway);
            this.setReady(gateway, true);
            // A heartbeat on connect (above), then every interval from a random phase: a fleet connected for a
            // while has its heartbeats spread over the interval, not bunched where the benchmark connected it.
            const first = setTimeout(
              () => {
                void this.beat(gateway);
                gateway.timers.push(setInterval(() => void this.beat(gateway), this.heartbeatIntervalMs));
              },
              Math.floor(this.options.random() * this.heartbeatIntervalMs),
            );
            gateway.timers.push(first);
            finish({ kind: 'up', connackMs, readyMs: performance.now() - t0 });
          } catch {
            finish({ kind: 'failed' });
          }
        })();
      });
    });
  }

  private setReady(gateway: Gateway, ready: boolean): void {
    if (gateway.ready === ready) return;
    gateway.ready = ready;
    if (ready) this.readyList.push(gateway);
    else {
      this.readyList = this.readyList.filter((g) => g !== gateway);
      for (const t of gateway.timers) clearTimeout(t);
      gateway.timers = [];
    }
  }

  private async beat(gateway: Gateway): Promise<void> {
    if (!gateway.client.connected) return;
    const hb = gateway.heartbeat;
    hb.at = new Date().toISOString();
    hb.uptimeS = Math.round((Date.now() - gateway.startedAt) / 1000);
    this.heartbeats.sent++;
    try {
      // The template was validated once (heartbeatTemplate); only the time and uptime change.
      await gateway.client.publishAsync(`homebed/v1/gw/${gateway.id}/heartbeat`, JSON.stringify(hb), {
        qos: 1,
      });
    } catch {
      this.heartbeats.failed++;
    }
  }

  private onAck(payload: Buffer): void {
    const receivedAt = performance.now();
    const ack = parsePayload(ackMessageSchema, payload);
    if (!ack.ok || ack.value.status !== 'stored') return;
    const entry = this.pending.get(ack.value.alarmId);
    // A repeated `stored` (a redelivery) or one after the timeout counted it missing: nothing more to count.
    if (!entry) return;
    this.pending.delete(ack.value.alarmId);
    entry.step.latencies.push(receivedAt - entry.sentAt);
    this.settleOne(entry.step);
  }

  private settleOne(step: StepState): void {
    step.outstanding--;
    if (step.outstanding === 0 && step.onSettled) step.onSettled();
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, entry] of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(id);
      entry.step.missing++;
      this.settleOne(entry.step);
    }
  }

  /** Publish one `sos_button` alarm from a random gateway that is up, timed in `step`. */
  private sendAlarm(step: StepState, timeoutMs = this.ackTimeoutMs): void {
    const gateway = this.readyList[Math.floor(this.options.random() * this.readyList.length)];
    if (!gateway) {
      step.publishErrors++;
      return;
    }
    const at = new Date().toISOString();
    const alarm: AlarmMessage = {
      v: CONTRACT_VERSION,
      id: uuidv7(),
      gatewayId: gateway.id,
      bedId: `bed-${gateway.id}`,
      seq: ++gateway.seq,
      type: 'sos_button',
      severity: 'critical',
      state: 'raised',
      at,
      deviceId: 'sos-button',
      message: 'SOS button pressed (bedroom)',
      evidence: [{ deviceId: 'sos-button', kind: 'button_press', at, raw: SOS_RAW }],
    };
    const payload = JSON.stringify(alarm);
    step.outstanding++;
    const sentAt = performance.now();
    this.pending.set(alarm.id, { sentAt, deadline: sentAt + timeoutMs, step });
    gateway.client.publish(`homebed/v1/gw/${gateway.id}/alarm`, payload, { qos: 1 }, (err) => {
      if (err) step.publishErrors++;
    });
  }

  /**
   * Raise alarms at `rateHz` for `durationMs` (open loop), then wait until each has its `stored` ack or
   * has timed out. Latency is measured from the publish call to the ack's arrival in this process.
   */
  async load(rateHz: number, durationMs: number): Promise<LoadReport> {
    const step: StepState = { outstanding: 0, latencies: [], missing: 0, publishErrors: 0, onSettled: null };
    const droppedBefore = this.dropped;
    const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    delay.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const total = Math.round((rateHz * durationMs) / 1000);
    let sent = 0;
    await new Promise<void>((resolve) => {
      // Every 5 ms: send what is due by now, so a late tick catches up instead of lowering the rate.
      const tick = setInterval(() => {
        const elapsed = performance.now() - t0;
        const due = Math.min(total, Math.floor((rateHz * elapsed) / 1000));
        while (sent < due) {
          this.sendAlarm(step);
          sent++;
        }
        if (sent >= total) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    const sendingS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    delay.disable();
    if (step.outstanding > 0) {
      await new Promise<void>((resolve) => {
        step.onSettled = resolve;
      });
    }
    // The histogram records the whole interval between checks: the delay is what exceeds the resolution.
    const ms = (ns: number) => Math.max(0, Math.round((ns - LOOP_RESOLUTION_MS * 1e6) / 1e4) / 100);
    return {
      targetRateHz: rateHz,
      durationS: Math.round(sendingS * 100) / 100,
      sent,
      acked: step.latencies.length,
      missing: step.missing,
      publishErrors: step.publishErrors,
      dropped: this.dropped - droppedBefore,
      achievedRateHz: Math.round((sent / sendingS) * 10) / 10,
      ackMs: step.latencies.length ? roundSummary(summarize(step.latencies)) : null,
      generator: {
        loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
        cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (sendingS * 1000)) * 1000) / 10,
      },
    };
  }

  /**
   * One alarm, waiting for its `stored` ack (up to `timeoutMs`): after a connect burst the relay may still
   * be working through thousands of statuses and heartbeats, and alarms would queue behind them. Returns the
   * ack latency in ms, or null on timeout.
   */
  async probe(timeoutMs: number): Promise<number | null> {
    const step: StepState = { outstanding: 0, latencies: [], missing: 0, publishErrors: 0, onSettled: null };
    const settled = new Promise<void>((resolve) => {
      step.onSettled = resolve;
    });
    this.sendAlarm(step, timeoutMs);
    if (step.outstanding === 0) return null;
    await settled;
    return step.latencies[0] ?? null;
  }

  /** Disconnect (cleanly) the gateways connected last, down to `size`. */
  async shrink(size: number): Promise<void> {
    const extra = this.readyList.slice(size);
    for (const g of extra) {
      this.setReady(g, false);
      this.gateways.delete(g.id);
    }
    await Promise.all(extra.map((g) => endClient(g.client)));
  }

  /** Disconnect every gateway (a clean DISCONNECT: no last will) and stop every timer. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const all = [...this.gateways.values()];
    this.gateways.clear();
    this.readyList = [];
    for (const g of all) for (const t of g.timers) clearTimeout(t);
    await Promise.all(all.map((g) => endClient(g.client)));
  }
}

/** A clean DISCONNECT, forced after 2 s. */
function endClient(client: MqttClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.end(true);
      resolve();
    }, 2_000);
    client.end(false, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A heartbeat as a home with a bed radar, an SOS button and an RF receiver sends it; validated once. */
function heartbeatTemplate(gatewayId: string, intervalS: number): HeartbeatMessage {
  const now = new Date().toISOString();
  const template: HeartbeatMessage = {
    v: CONTRACT_VERSION,
    gatewayId,
    at: now,
    uptimeS: 0,
    intervalS,
    outboxDepth: 0,
    spoolDepth: 0,
    readingsDropped: 0,
    devices: [
      { id: 'bed-radar', kind: 'seeed_mr60bha1', lastSeenAt: now, online: true, model: 'MR60BHA1' },
      { id: 'sos-button', kind: 'ev1527_button', lastSeenAt: now, online: true, battery: 90 },
      { id: 'rflink', kind: 'rflink', lastSeenAt: now, online: true, firmware: 'R48' },
    ],
    unpaired: [],
    links: { 'bed-radar': 'open', rflink: 'open' },
    software: 'homebed-gateway bench',
  };
  return heartbeatMessageSchema.parse(template);
}

/** An alarm as the fleet sends it, checked against the contract once (the fleet then sends this shape). */
export function checkAlarmShape(): void {
  const at = new Date().toISOString();
  alarmMessageSchema.parse({
    v: CONTRACT_VERSION,
    id: uuidv7(),
    gatewayId: 'gw-cap-000001',
    bedId: 'bed-gw-cap-000001',
    seq: 1,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at,
    deviceId: 'sos-button',
    message: 'SOS button pressed (bedroom)',
    evidence: [{ deviceId: 'sos-button', kind: 'button_press', at, raw: SOS_RAW }],
  });
}
