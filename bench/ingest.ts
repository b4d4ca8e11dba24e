/**
 * Telemetry ingest: how many points per second one gateway takes from MQTT
 * devices into InfluxDB, and at what CPU and memory, beside InfluxDB's own
 * write ceiling and Node-RED doing the same job.
 *
 * Load: 200 simulated beds as native devices (contract/native-device.ts), each
 * its own MQTT connection, publishing `homebed/v1/dev/<id>/state` with
 * `{v:1, at, heart_rate, breath_rate, in_bed}` (3 points) at QoS 0 — zigbee2mqtt's
 * default, and what a device does when a reading may be superseded by the next.
 * The payloads are built before each step so that the generator only paces and
 * sends. Every message carries its own `at`, one millisecond apart per device,
 * and each step uses its own 10-minute window of timestamps: what lands in
 * InfluxDB is counted by step with a time-bounded `count()`, and no point can
 * overwrite another.
 *
 * A step offers a fixed rate for a fixed time; it is kept up with when at least
 * 98 % of the offered points are in InfluxDB within a short grace after the
 * last send, and the backlog (offered − written) did not grow during the step.
 * Steps go up until one is not kept up with; "sustained" is the offered rate of
 * the highest step kept up with, and the highest rate at which points were
 * written in any step is reported beside it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { gatewayConfigSchema } from '../gateway/config/schema.js';
import { freePort } from '../tools/free-port.js';
import { type PrivateInfluxd, startPrivateInfluxd } from '../tools/influxd.js';
import { findMosquitto, type PrivateMosquitto, startPrivateMosquitto } from '../tools/mosquitto.js';
import type { BenchContext, Benchmark } from './lib/context.js';
import { startResult } from './lib/context.js';
import { programVersion } from './lib/machine.js';
import {
  ensureNodeRed,
  flowTab,
  functionNode,
  influxWriterNodes,
  mqttBrokerNode,
  mqttInNode,
  nodeRedVersions,
  type RunningNodeRed,
  startNodeRed,
} from './lib/node-red.js';
import { UsageMonitor, type UsageReport } from './lib/process-usage.js';
import { startProgram } from './lib/programs.js';
import type { Comparison } from './lib/results.js';
import { round } from './lib/stats.js';

const DEVICES = 200;
const POINTS_PER_MESSAGE = 3;
const MEASUREMENTS = ['heart_rate', 'breath_rate', 'in_bed'] as const;
/** Offered rates, points/s. */
const FULL_STEPS = [1_000, 2_000, 5_000, 10_000, 20_000];
const QUICK_STEPS = [1_000];
/** A step is kept up with when this share of its points is in InfluxDB within the grace… */
const KEPT_UP_SHARE = 0.98;
/** …and the backlog grew by at most this share of the step's points between its start and its end. */
const MAX_BACKLOG_GROWTH_SHARE = 0.05;
/** Each step's timestamps live in their own window, so counts never mix steps. */
const STEP_WINDOW_MS = 10 * 60_000;
/** Samples before this many seconds into a step are ramp-up (connections, first flush), not trend. */
const RAMP_S = 2;
/** Ceiling: line-protocol batches of this many points… */
const CEILING_BATCH_POINTS = 5_000;
/** …with this many requests in flight (one per core of the 2-core machines we run on). */
const CEILING_CONCURRENCY = 2;
const GATEWAY_ID = 'gw-bench-ingest';
const BED_ID = 'bed-bench-ingest';

interface Timing {
  steps: number[];
  stepS: number;
  graceS: number;
  warmupS: number;
  ceilingS: number;
}

const FULL: Timing = { steps: FULL_STEPS, stepS: 10, graceS: 3, warmupS: 4, ceilingS: 10 };
const QUICK: Timing = { steps: QUICK_STEPS, stepS: 5, graceS: 2, warmupS: 2, ceilingS: 3 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// InfluxDB over plain HTTP: the benchmark counts what landed without any client library in between.

type InfluxSeries = { name: string; values: [number, number][] };

/** Run `q` (one or more `;`-separated statements); the series of each statement, in order. */
async function influxQuery(url: string, db: string, q: string, method: 'GET' | 'POST' = 'GET') {
  const params = new URLSearchParams({ db, q, epoch: 'ms' });
  const response = await fetch(`${url}/query?${params}`, { method });
  const body = (await response.json()) as {
    results?: { error?: string; series?: InfluxSeries[] }[];
    error?: string;
  };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!response.ok || error)
    throw new Error(
      `InfluxDB query ${q} failed: ${error ?? response.status} ${JSON.stringify(body).slice(0, 300)}`,
    );
  return (body.results ?? []).map((r) => r.series ?? []);
}

async function createDatabase(url: string, db: string): Promise<void> {
  await influxQuery(url, db, `CREATE DATABASE "${db}"`, 'POST');
}

/**
 * Points of the benchmark's three measurements with a timestamp in [fromMs, toMs). One statement per
 * measurement: InfluxDB 1.6 leaves the boolean `in_bed` out of a count() over several measurements.
 */
async function countPoints(url: string, db: string, fromMs: number, toMs: number): Promise<number> {
  const statements = MEASUREMENTS.map(
    (m) => `SELECT count(value) FROM "${m}" WHERE time >= ${fromMs}ms AND time < ${toMs}ms`,
  );
  const results = await influxQuery(url, db, statements.join('; '));
  return results.flat().reduce((sum, s) => sum + (s.values[0]?.[1] ?? 0), 0);
}

// ---------------------------------------------------------------------------------------------
// The devices: one MQTT connection each, as 200 beds would have.

class DeviceFleet {
  private failure: Error | null = null;
  private closing = false;

  private constructor(
    private readonly clients: MqttClient[],
    private readonly topics: string[],
  ) {
    for (const [i, client] of clients.entries()) {
      // reconnectPeriod 0: a dropped device must fail the step, not reconnect quietly and lose messages.
      client.on('close', () => {
        if (!this.closing) this.failure ??= new Error(`device ${i} lost its MQTT connection`);
      });
      client.on('error', (error) => {
        this.failure ??= new Error(`device ${i}: ${error.message}`);
      });
    }
  }

  static async connect(url: string, ids: readonly string[], clientPrefix: string): Promise<DeviceFleet> {
    const attempts = await Promise.allSettled(
      ids.map(
        (id) =>
          new Promise<MqttClient>((resolve, reject) => {
            const client = mqtt.connect(url, {
              clientId: `${clientPrefix}-${id}`,
              clean: true,
              keepalive: 60,
              reconnectPeriod: 0,
              connectTimeout: 15_000,
            });
            client.once('connect', () => resolve(client));
            client.once('error', (error) => {
              client.end(true);
              reject(error);
            });
          }),
      ),
    );
    const clients = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const failed = attempts.find((a) => a.status === 'rejected');
    if (failed) {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      throw new Error(`a simulated device could not connect to ${url}: ${String(failed.reason)}`);
    }
    return new DeviceFleet(
      clients,
      ids.map((id) => `homebed/v1/dev/${id}/state`),
    );
  }

  publish(device: number, payload: Buffer): void {
    (this.clients[device] as MqttClient).publish(this.topics[device] as string, payload, { qos: 0 });
  }

  /** Throws the first connection failure seen. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Drop every connection at once: the measuring is over, and a broker still chewing on a backlog must not
   * hold the benchmark up (a polite end() waits until the socket's send buffer has drained).
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.race([Promise.all(this.clients.map((c) => c.endAsync(true))).catch(() => {}), sleep(5000)]);
  }
}

/**
 * `count` state messages for the window starting at `baseMs`: message m comes from device m mod 200,
 * and a device's k-th message is stamped baseMs + k ms. Values stay in the normal band so no care rule fires.
 */
function buildPayloads(count: number, baseMs: number): Buffer[] {
  const out = new Array<Buffer>(count);
  for (let m = 0; m < count; m++) {
    const k = Math.floor(m / DEVICES);
    const at = new Date(baseMs + k).toISOString();
    out[m] = Buffer.from(
      `{"v":1,"at":"${at}","heart_rate":${60 + (k % 20)},"breath_rate":${12 + (k % 6)},"in_bed":true}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One step: offer a rate, watch what lands.

interface Sample {
  t: number;
  offered: number;
  written: number;
}

export interface StepResult {
  targetPointsPerS: number;
  seconds: number;
  offeredPoints: number;
  offeredPointsPerS: number;
  writtenPoints: number;
  /** written / offered after the grace. */
  writtenShare: number;
  /** Rate at which points landed while the step ran (slope after the ramp-up). */
  writtenPointsPerS: number;
  /** Backlog at the end of sending minus backlog after the ramp-up (null when the step is too short to tell). */
  backlogGrowthPoints: number | null;
  /** Seconds after the last send until every point was in InfluxDB; null if some never arrived within the grace. */
  drainedAfterS: number | null;
  /** Messages sent / messages due: below 1 when the load generator itself fell behind. */
  generatorShare: number;
  /** Count queries InfluxDB failed during the step (overloaded); those samples are missing from the trend. */
  countFailures: number;
  keptUp: boolean;
  verdict: string;
  /** CPU and memory while sending, per process measured. */
  usage: Record<string, UsageReport>;
  /**
   * Gateway only: readings in its SQLite spool at the end of the grace (its ops server's
   * telemetry_spool_readings), null when the ops server did not answer within 2 s.
   */
  spooledReadings?: number | null;
}

interface StepTarget {
  influxUrl: string;
  db: string;
  fleet: DeviceFleet;
  /** Process trees to measure: label → pid. */
  pids: Record<string, number>;
  /** Readings the system holds in its own spool after a step (null: it could not say). */
  spooled?: () => Promise<number | null>;
}

function slope(samples: readonly Sample[], pick: (s: Sample) => number): number {
  const n = samples.length;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mv = samples.reduce((a, s) => a + pick(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mt) * (pick(s) - mv);
    den += (s.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function runStep(
  target: StepTarget,
  options: { windowStartMs: number; pointsPerS: number; seconds: number; graceS: number },
): Promise<StepResult> {
  const { influxUrl, db, fleet } = target;
  const messagesPerS = options.pointsPerS / POINTS_PER_MESSAGE;
  const total = Math.round(messagesPerS * options.seconds);
  const payloads = buildPayloads(total, options.windowStartMs);
  const count = () =>
    countPoints(influxUrl, db, options.windowStartMs, options.windowStartMs + STEP_WINDOW_MS);

  const monitors = Object.entries(target.pids).map(([label, pid]) => [label, new UsageMonitor(pid)] as const);
  for (const [, m] of monitors) m.start();
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  let sent = 0;
  let sending = true;
  // At most 50 ms worth of messages per timer tick, so the observer's queries are not held up.
  const maxPerTick = Math.max(1, Math.ceil(messagesPerS * 0.05));
  // The generator: every few ms, send what is due by now (a late timer is caught up, 50 ms at a time).
  // It stops at the step's end even if it fell behind; what it sent is what was offered.
  const generator = new Promise<void>((resolve, reject) => {
    const tick = () => {
      try {
        fleet.check();
        const t = elapsedS();
        const due = Math.min(total, Math.floor(t * messagesPerS), sent + maxPerTick);
        while (sent < due) {
          fleet.publish(sent % DEVICES, payloads[sent] as Buffer);
          sent++;
        }
        if (sent >= total || t >= options.seconds) resolve();
        else setTimeout(tick, sent < Math.floor(elapsedS() * messagesPerS) ? 0 : 5);
      } catch (error) {
        reject(error);
      }
    };
    tick();
  });
  // The observer: once a second, how many of this step's points are in InfluxDB.
  const samples: Sample[] = [];
  let countFailures = 0;
  const observer = (async () => {
    while (sending) {
      const nextAt = samples.length + 1;
      await sleep(Math.max(0, nextAt * 1000 - (performance.now() - t0)));
      if (!sending) break;
      const offered = sent * POINTS_PER_MESSAGE;
      const t = elapsedS();
      // An overloaded InfluxDB may fail a count: skip the sample (counted), the final count decides.
      const written = await count().catch(() => null);
      if (written === null) countFailures++;
      else samples.push({ t, offered, written });
    }
  })();
  // Handled at once (a query failing while the generator runs must not be an unhandled rejection), thrown below.
  const observerFailure = observer.then(
    () => null,
    (error: unknown) => error,
  );
  try {
    await generator;
  } finally {
    sending = false;
  }
  const failure = await observerFailure;
  if (failure) throw failure;
  const sendSeconds = elapsedS();
  const usage: Record<string, UsageReport> = {};
  for (const [label, m] of monitors) usage[label] = m.stop();
  const offeredPoints = sent * POINTS_PER_MESSAGE;

  // Grace: wait for the last batches (flush interval 1 s), stop early once everything is in.
  const finalCount = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await count();
      } catch (error) {
        countFailures++;
        if (attempt === 3)
          throw new Error(`InfluxDB could not count the step's points: ${(error as Error).message}`);
        await sleep(1000);
      }
    }
  };
  let written = await finalCount();
  let drainedAfterS: number | null = written >= offeredPoints ? elapsedS() - sendSeconds : null;
  while (drainedAfterS === null && elapsedS() - sendSeconds < options.graceS) {
    await sleep(250);
    written = await finalCount();
    if (written >= offeredPoints) drainedAfterS = elapsedS() - sendSeconds;
  }
  fleet.check();
  const spooledReadings = target.spooled ? await target.spooled() : undefined;

  const trend = samples.filter((s) => s.t >= RAMP_S);
  const writtenPointsPerS = trend.length >= 3 ? slope(trend, (s) => s.written) : written / sendSeconds;
  let backlogGrowthPoints: number | null = null;
  if (trend.length >= 6) {
    const backlog = (s: Sample) => s.offered - s.written;
    backlogGrowthPoints = mean(trend.slice(-3).map(backlog)) - mean(trend.slice(0, 3).map(backlog));
  }
  const writtenShare = written / offeredPoints;
  const growthOk =
    backlogGrowthPoints === null || backlogGrowthPoints <= MAX_BACKLOG_GROWTH_SHARE * offeredPoints;
  const keptUp = writtenShare >= KEPT_UP_SHARE && growthOk;
  const verdict = keptUp
    ? 'kept up'
    : writtenShare < KEPT_UP_SHARE
      ? `only ${(writtenShare * 100).toFixed(1)} % written within ${options.graceS} s`
      : `backlog grew by ${Math.round(backlogGrowthPoints ?? 0)} points`;
  return {
    targetPointsPerS: options.pointsPerS,
    seconds: round(sendSeconds, 2),
    offeredPoints,
    offeredPointsPerS: Math.round(offeredPoints / sendSeconds),
    writtenPoints: written,
    writtenShare: round(writtenShare, 4),
    writtenPointsPerS: Math.round(writtenPointsPerS),
    backlogGrowthPoints: backlogGrowthPoints === null ? null : Math.round(backlogGrowthPoints),
    drainedAfterS: drainedAfterS === null ? null : round(drainedAfterS, 2),
    generatorShare: round(sent / total, 4),
    countFailures,
    keptUp,
    verdict,
    usage,
    ...(spooledReadings === undefined ? {} : { spooledReadings }),
  };
}

export interface SystemResult {
  /** Offered rate of the highest step kept up with (0 when none was). */
  sustainedPointsPerS: number;
  /** Highest rate at which points landed in any step. */
  maxWrittenPointsPerS: number;
  /** From spawn to ready (gateway: `gateway started`; Node-RED: flows started and broker connected). */
  startupMs: number;
  warmup: { offeredPoints: number; writtenPoints: number };
  steps: StepResult[];
  /** Steps not run because an earlier one was not kept up with. */
  skippedSteps: number[];
}

/** Warm up, then the steps in order until one is not kept up with. */
async function runSteps(
  ctx: BenchContext,
  name: string,
  target: StepTarget,
  timing: Timing,
  windowBaseMs: number,
): Promise<Omit<SystemResult, 'startupMs'>> {
  // Warm-up: JIT, connections, the database's first shard; judged only on whether anything lands at all.
  const warm = await runStep(target, {
    windowStartMs: windowBaseMs,
    pointsPerS: timing.steps[0] as number,
    seconds: timing.warmupS,
    graceS: timing.graceS,
  });
  if (warm.writtenPoints === 0)
    throw new Error(`${name} wrote nothing to InfluxDB during the ${timing.warmupS} s warm-up`);
  ctx.say(`${name}: warm-up ${warm.writtenPoints}/${warm.offeredPoints} points written`);
  const steps: StepResult[] = [];
  const skippedSteps: number[] = [];
  for (const [i, rate] of timing.steps.entries()) {
    if (steps.length && !steps[steps.length - 1]?.keptUp) {
      skippedSteps.push(rate);
      continue;
    }
    const step = await runStep(target, {
      windowStartMs: windowBaseMs + (i + 1) * STEP_WINDOW_MS,
      pointsPerS: rate,
      seconds: timing.stepS,
      graceS: timing.graceS,
    });
    steps.push(step);
    const usage = Object.entries(step.usage)
      .map(([label, u]) => `${label} CPU ${u.cpuPercent.toFixed(0)} % RSS ${u.rssMiB.mean} MiB`)
      .join(', ');
    ctx.say(
      `${name} ${rate} pts/s: offered ${step.offeredPointsPerS}/s, written ${(step.writtenShare * 100).toFixed(1)} % ` +
        `(${step.writtenPointsPerS}/s), ${usage}: ${step.verdict}`,
    );
  }
  const kept = steps.filter((s) => s.keptUp);
  return {
    sustainedPointsPerS: kept.length ? Math.max(...kept.map((s) => s.offeredPointsPerS)) : 0,
    maxWrittenPointsPerS: Math.max(...steps.map((s) => s.writtenPointsPerS)),
    warmup: { offeredPoints: warm.offeredPoints, writtenPoints: warm.writtenPoints },
    steps,
    skippedSteps,
  };
}

// ---------------------------------------------------------------------------------------------
// The three measurements.

const deviceIds = Array.from({ length: DEVICES }, (_, i) => `bed-${String(i + 1).padStart(3, '0')}`);

/**
 * The gateway's spool depth from its ops server (`telemetry_spool_readings`); null when it does not
 * answer within 2 s (its event loop busy).
 */
async function spoolDepth(opsUrl: string): Promise<number | null> {
  try {
    const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    const match = /^\w*telemetry_spool_readings(?:\{[^}]*\})? (\d+)/m.exec(await response.text());
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Production defaults of the telemetry path, from the gateway's own schema. */
function gatewayTelemetryDefaults() {
  const parsed = gatewayConfigSchema.parse({
    gatewayId: GATEWAY_ID,
    bedId: BED_ID,
    cloud: { secret: 'bench-secret-unused' },
  });
  const { batchSize, flushIntervalMs, maxBufferedPoints, maxSpoolPoints, retryMaxMs } = parsed.influx;
  return { batchSize, flushIntervalMs, maxBufferedPoints, maxSpoolPoints, retryMaxMs };
}

async function measureGateway(
  ctx: BenchContext,
  timing: Timing,
  windowBaseMs: number,
): Promise<SystemResult & { logLines: Record<string, number> }> {
  const dir = join(ctx.dir, 'gateway');
  let influxd: PrivateInfluxd | undefined;
  let gateway: Awaited<ReturnType<typeof startProgram>> | undefined;
  let fleet: DeviceFleet | undefined;
  const logLines = { spooling: 0, spoolFull: 0, rejected: 0, errors: 0 };
  try {
    influxd = await startPrivateInfluxd({ dir: join(dir, 'influxdb') });
    // The gateway creates its database on its first write; made here so that counting never races it.
    await createDatabase(influxd.url, 'ingest_gateway');
    const brokerPort = await freePort();
    // No cloud relay: the link retries a closed port with its backoff (up to 60 s), which costs nothing here.
    const cloudPort = await freePort();
    const configFile = join(dir, 'gateway.json');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          gatewayId: GATEWAY_ID,
          bedId: BED_ID,
          dataDir: join(dir, 'data'),
          cloud: { url: `mqtt://127.0.0.1:${cloudPort}`, secret: 'bench-secret-unused' },
          // batchSize, flushIntervalMs, maxBufferedPoints, maxSpoolPoints: the defaults (recorded in parameters).
          influx: { url: influxd.url, database: 'ingest_gateway' },
          localBroker: { host: '127.0.0.1', port: brokerPort },
          // The ops server (GET /metrics, /status) stays on as in production, on a free port: other benchmarks'
          // gateways may hold the default 9464.
          ops: { port: 0 },
          devices: deviceIds.map((id) => ({ id, kind: 'native', role: 'bed_radar' })),
          log: { level: 'info' },
        },
        null,
        2,
      ),
    );
    let opsUrl: string | null = null;
    const t0 = performance.now();
    // HOMEBED_BENCH_CPU_PROF=<dir>: a V8 CPU profile of the gateway under this load (open it in Chrome's
    // DevTools), for finding where its CPU goes; off for the recorded runs.
    const profileDir = process.env.HOMEBED_BENCH_CPU_PROF;
    gateway = await startProgram('gateway', ['run', '--config', configFile], {
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
      onLine: (line) => {
        const ops = /"url":"(http:[^"]+)".*ops server listening/.exec(line);
        if (ops) opsUrl = ops[1] ?? null;
        if (/"InfluxDB unavailable; spooling"/.test(line)) logLines.spooling++;
        if (/telemetry spool full/.test(line)) logLines.spoolFull++;
        if (/rejected a batch/.test(line)) logLines.rejected++;
        if (/"level":(50|60)/.test(line)) logLines.errors++;
        if (ctx.verbose) ctx.say(`[gateway] ${line}`);
      },
    });
    const startupMs = performance.now() - t0;
    fleet = await DeviceFleet.connect(`mqtt://127.0.0.1:${brokerPort}`, deviceIds, 'bench');
    const result = await runSteps(
      ctx,
      'gateway',
      {
        influxUrl: influxd.url,
        db: 'ingest_gateway',
        fleet,
        pids: { gateway: gateway.pid },
        spooled: async () => (opsUrl ? spoolDepth(opsUrl) : null),
      },
      timing,
      windowBaseMs,
    );
    return { ...result, startupMs: Math.round(startupMs), logLines };
  } finally {
    await fleet?.close();
    await gateway?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Node-RED's flow: mqtt in → function (the gateway's mapping) → join → influxdb batch. */
const NODE_RED_TO_POINTS = `// A native state message → one point per metric, as the gateway writes them.
const p = msg.payload;
if (typeof p !== 'object' || p === null || p.v !== 1) return null;
const device = msg.topic.split('/')[3];
const timestamp = p.at ? new Date(p.at) : new Date();
const tags = { gateway: '${GATEWAY_ID}', bed: '${BED_ID}', device };
const points = [];
if (typeof p.heart_rate === 'number') points.push({ measurement: 'heart_rate', tags, fields: { value: p.heart_rate }, timestamp });
if (typeof p.breath_rate === 'number') points.push({ measurement: 'breath_rate', tags, fields: { value: p.breath_rate }, timestamp });
if (typeof p.in_bed === 'boolean') points.push({ measurement: 'in_bed', tags, fields: { value: p.in_bed }, timestamp });
if (points.length === 0) return null;
msg.payload = points;
return msg;`;

async function measureNodeRed(
  ctx: BenchContext,
  timing: Timing,
  windowBaseMs: number,
  batchPoints: number,
  flushIntervalMs: number,
): Promise<SystemResult> {
  const dir = join(ctx.dir, 'node-red');
  let influxd: PrivateInfluxd | undefined;
  let mosquitto: PrivateMosquitto | undefined;
  let nodeRed: RunningNodeRed | undefined;
  let fleet: DeviceFleet | undefined;
  try {
    await ensureNodeRed(ctx.say);
    influxd = await startPrivateInfluxd({ dir: join(dir, 'influxdb') });
    await createDatabase(influxd.url, 'ingest_nodered');
    mosquitto = await startPrivateMosquitto({ dir: join(dir, 'mosquitto') });
    const writer = influxWriterNodes({
      influxUrl: influxd.url,
      database: 'ingest_nodered',
      // Same batching as the gateway: ~batchSize points per write, or whatever came within the flush interval.
      messagesPerBatch: Math.floor(batchPoints / POINTS_PER_MESSAGE),
      flushAfterS: flushIntervalMs / 1000,
    });
    nodeRed = await startNodeRed({
      userDir: join(dir, 'user'),
      flows: [
        flowTab('ingest'),
        mqttBrokerNode('broker', mosquitto.url, 'bench-node-red'),
        mqttInNode('devices', {
          broker: 'broker',
          topic: 'homebed/v1/dev/+/state',
          qos: 0,
          wires: ['to-points'],
        }),
        functionNode('to-points', 'to points', NODE_RED_TO_POINTS, [writer.input]),
        ...writer.nodes,
      ],
      readyLines: [/Connected to broker/],
      onLine: (line) => {
        if (ctx.verbose) ctx.say(`[node-red] ${line}`);
      },
    });
    fleet = await DeviceFleet.connect(mosquitto.url, deviceIds, 'bench');
    const result = await runSteps(
      ctx,
      'node-red',
      {
        influxUrl: influxd.url,
        db: 'ingest_nodered',
        fleet,
        pids: { 'node-red': nodeRed.pid, mosquitto: mosquitto.pid },
      },
      timing,
      windowBaseMs,
    );
    const errors = (nodeRed.child.output().match(/\[error\]/g) ?? []).length;
    if (errors) ctx.say(`node-red logged ${errors} errors (see --verbose)`);
    return { ...result, startupMs: Math.round(nodeRed.readyMs) };
  } finally {
    await fleet?.close();
    await nodeRed?.stop();
    await mosquitto?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ceiling: InfluxDB's /write taking ready line protocol as fast as it can, in the same shape. */
async function measureCeiling(ctx: BenchContext, seconds: number, windowBaseMs: number) {
  const dir = join(ctx.dir, 'ceiling');
  let influxd: PrivateInfluxd | undefined;
  try {
    influxd = await startPrivateInfluxd({ dir: join(dir, 'influxdb') });
    const db = 'ingest_ceiling';
    await createDatabase(influxd.url, db);
    const writeUrl = `${influxd.url}/write?${new URLSearchParams({ db, precision: 'ms' })}`;
    // The gateway's points: measurement per metric, tags bed/device/gateway (sorted, as clients send them).
    const prefixes = deviceIds.map((id) =>
      MEASUREMENTS.map((m) => `${m},bed=${BED_ID},device=${id},gateway=${GATEWAY_ID} value=`),
    );
    let nextPoint = 0;
    const batch = (): string => {
      const lines: string[] = [];
      for (let i = 0; i < CEILING_BATCH_POINTS; i++, nextPoint++) {
        const message = Math.floor(nextPoint / POINTS_PER_MESSAGE);
        const metric = nextPoint % POINTS_PER_MESSAGE;
        const device = message % DEVICES;
        const k = Math.floor(message / DEVICES);
        const value = metric === 0 ? `${60 + (k % 20)}i` : metric === 1 ? `${12 + (k % 6)}i` : 'true';
        lines.push(`${prefixes[device]?.[metric]}${value} ${windowBaseMs + k}`);
      }
      return `${lines.join('\n')}\n`;
    };
    const post = async (body: string) => {
      const response = await fetch(writeUrl, { method: 'POST', body });
      if (response.status !== 204)
        throw new Error(`InfluxDB /write answered ${response.status}: ${await response.text()}`);
    };
    // Warm-up: one second of writes, not counted.
    const warmUntil = performance.now() + 1000;
    while (performance.now() < warmUntil) await post(batch());
    const monitor = new UsageMonitor(influxd.pid);
    monitor.start();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let points = 0;
    let batches = 0;
    await Promise.all(
      Array.from({ length: CEILING_CONCURRENCY }, async () => {
        while (performance.now() < end) {
          await post(batch());
          points += CEILING_BATCH_POINTS;
          batches++;
        }
      }),
    );
    const elapsedS = (performance.now() - t0) / 1000;
    const usage = monitor.stop();
    const result = {
      points,
      batches,
      seconds: round(elapsedS, 2),
      pointsPerS: Math.round(points / elapsedS),
      influxd: usage,
    };
    ctx.say(
      `ceiling: ${result.pointsPerS} points/s (${batches} batches of ${CEILING_BATCH_POINTS}, influxd CPU ${usage.cpuPercent.toFixed(0)} %)`,
    );
    return result;
  } finally {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

/** The highest step both kept up with (else the first): where CPU and memory are compared. */
function commonStep(a: SystemResult, b: SystemResult): number {
  let index = 0;
  for (let i = 0; i < Math.min(a.steps.length, b.steps.length); i++) {
    if (a.steps[i]?.keptUp && b.steps[i]?.keptUp) index = i;
  }
  return index;
}

const benchmark: Benchmark = {
  name: 'ingest',
  title: 'Telemetry ingest: MQTT devices → gateway → InfluxDB',
  async run(ctx) {
    const result = startResult('ingest', benchmark.title);
    const timing = ctx.quick ? QUICK : FULL;
    const defaults = gatewayTelemetryDefaults();
    // Timestamps start two hours back, on a whole hour, so every window is in the past and recognisable.
    const hour = 3_600_000;
    const base = Math.floor(Date.now() / hour) * hour - 2 * hour;
    const ceilingWindow = base;
    const gatewayWindows = base + 10 * STEP_WINDOW_MS;
    const nodeRedWindows = base + 20 * STEP_WINDOW_MS;

    ctx.say('ceiling: InfluxDB /write with ready line protocol…');
    const ceiling = await measureCeiling(ctx, timing.ceilingS, ceilingWindow);
    ctx.say(`gateway: ${DEVICES} native devices on its local broker…`);
    const gateway = await measureGateway(ctx, timing, gatewayWindows);
    ctx.say('node-red: the same devices through Mosquitto…');
    const nodeRed = await measureNodeRed(
      ctx,
      timing,
      nodeRedWindows,
      defaults.batchSize,
      defaults.flushIntervalMs,
    );

    const at = commonStep(gateway, nodeRed);
    const ours = gateway.steps[at] as StepResult;
    const theirs = nodeRed.steps[at] as StepResult;
    const cpuPer1000 = (s: StepResult, label: string) =>
      round(((s.usage[label] as UsageReport).cpuPercent / s.offeredPointsPerS) * 1000, 2);
    const atLabel = `at ${timing.steps[at]} points/s`;
    const comparisons: Comparison[] = [
      {
        figure: 'sustained ingest, MQTT devices → InfluxDB',
        unit: 'points/s',
        ours: gateway.sustainedPointsPerS,
        reference: {
          kind: 'ceiling',
          label: `InfluxDB /write, line protocol in batches of ${CEILING_BATCH_POINTS}`,
          value: ceiling.pointsPerS,
        },
        better: 'higher',
      },
      {
        figure: 'sustained ingest, MQTT devices → InfluxDB',
        unit: 'points/s',
        ours: gateway.sustainedPointsPerS,
        reference: {
          kind: 'peer',
          label: 'Node-RED (mqtt in → function → influxdb batch)',
          value: nodeRed.sustainedPointsPerS,
        },
        better: 'higher',
      },
      {
        figure: `CPU per 1000 points/s ${atLabel}`,
        unit: '% of a core',
        ours: cpuPer1000(ours, 'gateway'),
        reference: {
          kind: 'peer',
          label: 'Node-RED (without its Mosquitto)',
          value: cpuPer1000(theirs, 'node-red'),
        },
        better: 'lower',
      },
      {
        figure: `RSS ${atLabel}`,
        unit: 'MiB',
        ours: (ours.usage.gateway as UsageReport).rssMiB.mean,
        reference: {
          kind: 'peer',
          label: 'Node-RED (without its Mosquitto)',
          value: (theirs.usage['node-red'] as UsageReport).rssMiB.mean,
        },
        better: 'lower',
      },
    ];
    const mosquittoAt = theirs.usage.mosquitto as UsageReport;
    const notes = [
      `Load: ${DEVICES} simulated beds, one MQTT connection each, QoS 0, state messages of 3 points ` +
        `(heart_rate, breath_rate, in_bed) with the device's own timestamp; payloads built before each step.`,
      `A step is kept up with when ≥ ${KEPT_UP_SHARE * 100} % of its points are in InfluxDB within ${timing.graceS} s ` +
        `of the last send and the backlog grew by ≤ ${MAX_BACKLOG_GROWTH_SHARE * 100} % of the step's points; ` +
        'steps stop at the first one not kept up with. Counts are time-bounded count() queries per step window.',
      "The gateway's CPU and RSS include its embedded MQTT broker (aedes); Node-RED's do not include the " +
        `Mosquitto it needs, reported apart (${atLabel}: Mosquitto CPU ${mosquittoAt.cpuPercent} %, RSS ${mosquittoAt.rssMiB.mean} MiB).`,
      'The gateway validates every message against the contract schema (zod), runs the care rules on every ' +
        "reading and keeps its durable spool; Node-RED's function only checks v === 1 and maps the fields.",
      'Node-RED writes numbers as floats (node-red-contrib-influxdb has no field types); the gateway writes ' +
        'heart_rate and breath_rate as integers.',
      `CPU and RSS are measured while a step sends (/proc, every second); CPU and memory are compared ${atLabel}, ` +
        'the highest step both kept up with.',
      `The ceiling uses ${CEILING_CONCURRENCY} requests in flight; batches are generated in the bench process ` +
        'while the other request is in flight. Each of the three runs has a fresh private InfluxDB.',
    ];
    const top = timing.steps[timing.steps.length - 1];
    for (const [name, r] of [
      ['gateway', gateway],
      ['Node-RED', nodeRed],
    ] as const) {
      if (r.steps.length === timing.steps.length && r.steps[r.steps.length - 1]?.keptUp)
        notes.push(
          `${name} kept up with the highest step offered (${top} points/s): its sustained figure is a lower bound.`,
        );
    }
    const failed = gateway.steps.find((s) => !s.keptUp);
    if (failed && failed.writtenPointsPerS < failed.offeredPointsPerS / 2) {
      const spool =
        failed.spooledReadings === null
          ? 'its ops server did not answer within 2 s afterwards'
          : `${failed.spooledReadings} readings were in its SQLite spool afterwards`;
      notes.push(
        `At ${failed.targetPointsPerS} points/s the gateway did not degrade but stalled (${(failed.writtenShare * 100).toFixed(1)} % ` +
          `written, ${failed.writtenPointsPerS} points/s after the first ${RAMP_S} s, CPU ${failed.usage.gateway?.cpuPercent} %): its writes (one ${defaults.batchSize}-point batch in flight) ` +
          `fell behind, the memory buffer (${defaults.maxBufferedPoints} readings) overflowed into the SQLite spool, and ` +
          `overflow is spooled one reading per transaction, each with an fsync; ${spool}.`,
      );
    }
    return result.finish({
      method:
        `${DEVICES} simulated beds publish 3-point state messages over MQTT at stepped rates ` +
        `(${timing.steps.join(', ')} points/s, ${timing.stepS} s each); what lands in InfluxDB 1.x is counted per step, ` +
        "beside InfluxDB's own /write ceiling and Node-RED fed the same stream through Mosquitto.",
      versions: {
        influxd: programVersion('influxd', ['version']),
        mosquitto: programVersion(findMosquitto() ?? 'mosquitto', ['-h']),
        ...nodeRedVersions(),
      },
      parameters: {
        devices: DEVICES,
        pointsPerMessage: POINTS_PER_MESSAGE,
        qos: 0,
        stepsPointsPerS: timing.steps,
        stepS: timing.stepS,
        graceS: timing.graceS,
        warmupS: timing.warmupS,
        keptUpShare: KEPT_UP_SHARE,
        maxBacklogGrowthShare: MAX_BACKLOG_GROWTH_SHARE,
        gatewayInflux: defaults,
        nodeRedBatch: {
          messagesPerBatch: Math.floor(defaults.batchSize / POINTS_PER_MESSAGE),
          flushAfterS: defaults.flushIntervalMs / 1000,
        },
        ceilingBatchPoints: CEILING_BATCH_POINTS,
        ceilingConcurrency: CEILING_CONCURRENCY,
        ceilingS: timing.ceilingS,
        seed: ctx.seed,
      },
      figures: { ceiling, gateway, nodeRed, comparedAtPointsPerS: timing.steps[at] },
      comparisons,
      notes,
    });
  },
};

export default benchmark;
