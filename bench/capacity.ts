/**
 * Cloud capacity (issue 8): how many connected gateways, and how many alarms a second, one relay process
 * (dist/, plain node, SQLite store) holds with the p99 of publish → `stored` ack under 100 ms, every alarm
 * acknowledged and no gateway dropped — once with the relay's embedded aedes broker, once behind a private
 * Mosquitto (mqtt.external, `$share` subscription, Mosquitto authenticating the gateways and keeping each to
 * its prefix with the ACL of docs/contract.md).
 *
 * Method, per broker mode:
 *  1. provision the whole fleet in one go (bench/lib/fleet.ts) and start the relay;
 *  2. (embedded) log in a few gateways provisioned at the product's scrypt cost, to measure what a cold
 *     reconnect costs (the fleet itself is stored with a cheaper hash so that it connects in the time budget);
 *  3. grow the fleet step by step (connecting in batches), wait until the relay has worked through the
 *     connect burst (a probe alarm acknowledged in < 100 ms), then raise alarms at a modest rate: the
 *     largest fleet whose step qualifies is the connected-gateways figure;
 *  4. at that fleet, double the alarm rate until a step does not qualify, then try once halfway: the last
 *     qualifying rate is the alarm-rate figure;
 *  5. the floor: the same broker with an echo consumer (bench/lib/fleet-echo.ts) instead of the relay, at
 *     the maximum rate and the lowest failed one.
 * Per step: relay, Mosquitto and load-generator CPU/RSS, the generator's event-loop delay (is it keeping
 * up?) and the relay's (bench/lib/loop-probe.mjs: busy, or held up?). Every phase has a time budget, so
 * that both modes fit in 3.5 minutes; a maximum the budget cut short is reported as not exhausted.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqlite } from '../common/sqlite.js';
import { type ManagedChild, REPO_ROOT, startChild, TSX_BIN, waitForLine } from '../tools/child-processes.js';
import { freePort } from '../tools/free-port.js';
import { type PrivateMosquitto, startPrivateMosquitto } from '../tools/mosquitto.js';
import type { BenchContext, Benchmark } from './lib/context.js';
import { startResult } from './lib/context.js';
import {
  type ConnectReport,
  checkAlarmShape,
  FLEET_SCRYPT_N,
  Fleet,
  fleetIds,
  type LoadReport,
  provisionRelayStore,
  seededRandom,
  writeBulkPasswordFile,
} from './lib/fleet.js';
import { packageVersion, programVersion } from './lib/machine.js';
import { UsageMonitor, type UsageReport } from './lib/process-usage.js';
import { startProgram } from './lib/programs.js';
import type { BenchResult, Comparison } from './lib/results.js';
import { roundSummary, type Summary, summarize } from './lib/stats.js';

const TITLE = 'Cloud capacity';
/** The service level issue 8 asks about: p99 publish → `stored` under this. */
const P99_LIMIT_MS = 100;
/** Beyond these the load generator may be what is slow: its figures are then a bound, not a measurement. */
const GENERATOR_LOOP_P99_MS = 50;
const GENERATOR_CPU_PERCENT = 90;
const RELAY_USER = 'homebed-relay';
const SHARE_GROUP = 'capacity';

interface Plan {
  /** Fleet sizes to try, in order. */
  fleetSteps: number[];
  /** Alarm rate while the fleet grows. */
  fleetRateHz: number;
  fleetMeasureMs: number;
  /** Alarm rates to try at the largest qualifying fleet, above `fleetRateHz` (measured with the fleet). */
  rates: number[];
  rateMeasureMs: number;
  floorMeasureMs: number;
  warmupMs: number;
  /** Gateways connecting at once. */
  batch: number;
  /** Gateways provisioned at the product's scrypt cost, logged in together (embedded mode). */
  loginSample: number;
  /**
   * Seconds into a mode by which the fleet phase ends (whole benchmark ≤ 3.5 min): a step projected to end
   * later is not started, and one still connecting then stops and does not count. The embedded relay gets
   * more: it connects gateways several times slower than Mosquitto does (it checks every secret itself).
   */
  fleetBudgetS: Record<Mode, number>;
  /**
   * No rate step starts that would end later than this many seconds into a mode, less `floorReserveS` for
   * the floor: two modes stay within 3.5 minutes even on a busy machine.
   */
  modeBudgetS: Record<Mode, number>;
  floorReserveS: number;
  /**
   * Most gateways the embedded floor connects again (to a bare aedes, after the relay and its broker are
   * gone): at a few hundred connections a second, the whole fleet would not fit in the time budget.
   */
  floorFleetMax: number;
}

const FULL: Plan = {
  fleetSteps: [1000, 2000, 4000, 8000],
  fleetRateHz: 10,
  fleetMeasureMs: 3_000,
  rates: [25, 50, 100, 200, 400, 800, 1600],
  rateMeasureMs: 3_500,
  floorMeasureMs: 3_000,
  warmupMs: 2_000,
  // 250 at once keep the relay busy while connecting (it is then the bottleneck, over a core with its
  // scrypt threads); more at once only lengthens each gateway's wait for its CONNACK.
  batch: 250,
  loginSample: 16,
  fleetBudgetS: { aedes: 70, mosquitto: 55 },
  modeBudgetS: { aedes: 105, mosquitto: 80 },
  floorReserveS: 15,
  floorFleetMax: 2_000,
};

const QUICK: Plan = {
  fleetSteps: [20, 50],
  fleetRateHz: 5,
  fleetMeasureMs: 1_500,
  rates: [10, 25],
  rateMeasureMs: 2_000,
  floorMeasureMs: 1_500,
  warmupMs: 500,
  batch: 25,
  loginSample: 3,
  fleetBudgetS: { aedes: 10, mosquitto: 10 },
  modeBudgetS: { aedes: 20, mosquitto: 20 },
  floorReserveS: 5,
  floorFleetMax: 50,
};

type Mode = 'aedes' | 'mosquitto';

const MODE_LABEL: Record<Mode, string> = {
  aedes: 'embedded aedes',
  mosquitto: 'Mosquitto in front (mqtt.external, $share)',
};

/** The relay's event-loop delay over a step, from bench/lib/loop-probe.mjs's one-second windows. */
interface LoopDelay {
  windows: number;
  /** The worst window's p99. */
  p99Max: number;
  /**
   * The longest hold-up: the worst window's max, or the longest silence of the probe beyond its second
   * (a loop held for the rest of the step reports nothing until it is free again).
   */
  max: number;
  /** Seconds in which the loop was held up for 100 ms or more at once. */
  stalls: number;
}

/** Collects the relay's loop-probe lines, with when they arrived. */
class LoopWindows {
  private readonly windows: { at: number; p99: number; max: number }[] = [];

  take(line: string): boolean {
    const m = /^homebed-bench-loop p99=([\d.]+) max=([\d.]+)/.exec(line);
    if (m) this.windows.push({ at: performance.now(), p99: Number(m[1]), max: Number(m[2]) });
    return m !== null;
  }

  mark(): { index: number; at: number } {
    return { index: this.windows.length, at: performance.now() };
  }

  since(mark: { index: number; at: number }): LoopDelay {
    const w = this.windows.slice(mark.index);
    const times = [mark.at, ...w.map((x) => x.at), performance.now()];
    let silence = 0;
    for (let i = 1; i < times.length; i++) silence = Math.max(silence, times[i]! - times[i - 1]! - 1000);
    const silentMs = Math.round(Math.max(0, silence));
    const maxes = [...w.map((x) => x.max), silentMs];
    return {
      windows: w.length,
      p99Max: w.length ? Math.max(...w.map((x) => x.p99)) : silentMs,
      max: Math.max(...maxes),
      stalls: maxes.filter((x) => x >= P99_LIMIT_MS).length,
    };
  }
}

const LOOP_PROBE = join(REPO_ROOT, 'bench', 'lib', 'loop-probe.mjs');

/**
 * How long one small SQLite commit (WAL, synchronous=FULL: an fsync, as the relay commits) takes on the
 * disk of the relay's data dir right now: the machine's other work shows here first.
 */
function commitLatency(dir: string, commits: number): Summary {
  const file = join(dir, 'commit-probe.sqlite');
  const db = openSqlite(file, ['CREATE TABLE probe (v TEXT NOT NULL)']);
  const insert = db.prepare('INSERT INTO probe (v) VALUES (?)');
  const samples: number[] = [];
  try {
    for (let i = 0; i < commits; i++) {
      const t0 = performance.now();
      db.exec('BEGIN IMMEDIATE');
      insert.run('x'.repeat(300));
      db.exec('COMMIT');
      samples.push(performance.now() - t0);
    }
  } finally {
    db.close();
  }
  return roundSummary(summarize(samples), 3);
}

interface StepRecord {
  gateways: number;
  load: LoadReport;
  relay?: UsageReport;
  /** The relay's event loop during the step. */
  relayLoopMs?: LoopDelay;
  mosquitto?: UsageReport;
  qualifies: boolean;
  /** Why it does not qualify. */
  why: string[];
  /** The generator's loop was late or its CPU near a core: latency may be its own, not the relay's. */
  generatorSaturated: boolean;
}

interface FleetStepRecord extends StepRecord {
  connect: ConnectReport;
  /** The relay (and Mosquitto) while the new gateways connected. */
  connectUsage: { relay?: UsageReport; relayLoopMs?: LoopDelay; mosquitto?: UsageReport };
  /** Connect burst → first probe alarm acknowledged in < 100 ms (the relay caught up). */
  catchUpMs: number | null;
}

interface ModeResult {
  mode: Mode;
  /** One SQLite commit on the data dir's disk, before the mode started. */
  commitMs?: Summary;
  loginCost?: { gateways: number; scryptN: number; wallS: number; perSecond: number; refused: number };
  fleetSteps: FleetStepRecord[];
  maxGateways: number;
  /** A fleet step failed: the maximum was found, not just not reached. */
  fleetLimitFound: boolean;
  fleetStopReason: string;
  /** A fleet step the time budget cut short while it was connecting (not measured, does not count). */
  abandonedStep?: Pick<FleetStepRecord, 'gateways' | 'connect' | 'connectUsage'>;
  rateSteps: StepRecord[];
  maxRateHz: number;
  rateLimitFound: boolean;
  /** Why the rate steps ended before one failed (the time budget). */
  rateStopReason?: string;
  /** Measured at the maximum rate and at the lowest rate that failed. */
  floor: { gateways: number; connect: ConnectReport | null; steps: StepRecord[] };
  /**
   * Relay CPU (% of a core) and RSS added per 1,000 connected gateways at the fleet's alarm rate, between
   * the smallest and the largest fleet step, and where a straight line puts one busy core: a projection.
   */
  perThousand: { cpuPercent: number; rssMiB: number; projectedGatewaysAtOneCore: number | null } | null;
  connectRefused: number;
  connectFailed: number;
  heartbeats: { sent: number; failed: number };
  openFileLimits: Record<string, string>;
  error?: string;
}

/** Soft and hard `Max open files` of a process, from /proc/<pid>/limits. */
function openFileLimit(pid: number | 'self'): string {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line?.replace('Max open files', '').trim().split(/\s+/) ?? [];
    return `${soft} soft / ${hard} hard`;
  } catch {
    return 'unknown';
  }
}

function softLimit(pid: number | 'self'): number {
  const soft = Number(openFileLimit(pid).split(' ')[0]);
  return Number.isFinite(soft) ? soft : 1024;
}

function judge(load: LoadReport): Pick<StepRecord, 'qualifies' | 'why' | 'generatorSaturated'> {
  const why: string[] = [];
  if (load.missing > 0) why.push(`${load.missing} acks missing`);
  if (load.publishErrors > 0) why.push(`${load.publishErrors} publish errors`);
  if (load.dropped > 0) why.push(`${load.dropped} connections dropped`);
  if (!load.ackMs) why.push('no acks');
  else if (load.ackMs.p99 >= P99_LIMIT_MS) why.push(`p99 ${load.ackMs.p99} ms ≥ ${P99_LIMIT_MS} ms`);
  const generatorSaturated =
    load.generator.loopDelayMs.p99 > GENERATOR_LOOP_P99_MS ||
    load.generator.cpuPercent > GENERATOR_CPU_PERCENT;
  return { qualifies: why.length === 0, why, generatorSaturated };
}

function describeLoad(load: LoadReport): string {
  const lat = load.ackMs ? `p50 ${load.ackMs.p50} p99 ${load.ackMs.p99} ms` : 'no acks';
  return (
    `${load.achievedRateHz}/s, ${load.sent} sent, ${lat}, missing ${load.missing}, ` +
    `gen loop p99 ${load.generator.loopDelayMs.p99} ms cpu ${load.generator.cpuPercent} %`
  );
}

/** Measure one load step with the relay's and Mosquitto's usage beside it. */
async function measure(
  fleet: Fleet,
  rateHz: number,
  durationMs: number,
  pids: { relay?: number; mosquitto?: number },
  loop?: LoopWindows,
): Promise<StepRecord> {
  const relay = pids.relay ? new UsageMonitor(pids.relay, 500) : null;
  const mosquitto = pids.mosquitto ? new UsageMonitor(pids.mosquitto, 500) : null;
  relay?.start();
  mosquitto?.start();
  const mark = loop?.mark();
  const load = await fleet.load(rateHz, durationMs);
  const relayLoopMs = mark ? loop?.since(mark) : undefined;
  return {
    gateways: fleet.size,
    load,
    ...(relay ? { relay: relay.stop() } : {}),
    ...(relayLoopMs ? { relayLoopMs } : {}),
    ...(mosquitto ? { mosquitto: mosquitto.stop() } : {}),
    ...judge(load),
  };
}

function describeRelay(step: StepRecord): string {
  const loop = step.relayLoopMs;
  return (
    `relay cpu ${step.relay?.cpuPercent} % rss ${step.relay?.rssMiB.max} MiB` +
    (loop ? `, relay loop p99 ≤ ${loop.p99Max} max ${loop.max} ms` : '') +
    (step.mosquitto ? `, mosquitto cpu ${step.mosquitto.cpuPercent} %` : '')
  );
}

/**
 * After a connect burst the relay may still be storing thousands of statuses and heartbeats; alarms would
 * wait behind them. Probe until one alarm is acknowledged within the limit (or give up after a minute).
 */
async function catchUp(fleet: Fleet): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < 60_000) {
    const latency = await fleet.probe(30_000);
    if (latency === null) return null;
    if (latency < P99_LIMIT_MS) return Math.round(performance.now() - t0);
  }
  return null;
}

async function runMode(mode: Mode, ctx: BenchContext, plan: Plan): Promise<ModeResult> {
  const modeStart = performance.now();
  const elapsedS = () => (performance.now() - modeStart) / 1000;
  const say = (line: string) => ctx.say(`[${mode}] ${line}`);
  const dir = join(ctx.dir, mode);
  const dataDir = join(dir, 'relay');
  await mkdir(dir, { recursive: true });
  const random = seededRandom(ctx.seed + (mode === 'aedes' ? 0 : 1));
  const secret = `capacity-${ctx.seed}-gateway-secret`;
  const relayPassword = `capacity-${ctx.seed}-relay-password`;
  const relayClientId = `relay-capacity-${ctx.seed}`;

  // Each gateway is one socket in this process: stay clear of its open-file limit.
  const fdRoom = softLimit('self') - 1_000;
  const fleetSteps = plan.fleetSteps.filter((n) => n <= fdRoom);
  const maxFleet = fleetSteps[fleetSteps.length - 1] ?? 0;
  const ids = fleetIds(maxFleet);
  const sampled = mode === 'aedes' ? fleetIds(plan.loginSample, 'gw-login') : [];

  const result: ModeResult = {
    mode,
    fleetSteps: [],
    maxGateways: 0,
    fleetLimitFound: false,
    fleetStopReason: '',
    rateSteps: [],
    maxRateHz: 0,
    rateLimitFound: false,
    floor: { gateways: 0, connect: null, steps: [] },
    perThousand: null,
    connectRefused: 0,
    connectFailed: 0,
    heartbeats: { sent: 0, failed: 0 },
    openFileLimits: { bench: openFileLimit('self') },
  };
  if (fleetSteps.length < plan.fleetSteps.length) {
    result.fleetStopReason = `fleet steps above ${fdRoom} skipped: this process may open ${softLimit('self')} files`;
  }

  let mosquitto: PrivateMosquitto | null = null;
  let relay: ManagedChild | null = null;
  let echo: ManagedChild | null = null;
  const fleets: Fleet[] = [];
  const newFleet = (url: string, secretOf: (id: string) => string) => {
    const f = new Fleet({ url, secretOf, random });
    fleets.push(f);
    return f;
  };
  const loop = new LoopWindows();
  try {
    result.commitMs = commitLatency(dir, ctx.quick ? 50 : 200);
    say(`SQLite commit on this disk: p50 ${result.commitMs.p50} p99 ${result.commitMs.p99} ms`);
    await provisionRelayStore(dataDir, ids, sampled, secret);
    let brokerUrl: string;
    const relayEnv: Record<string, string> = {
      HOMEBED_CLOUD__DATA_DIR: dataDir,
      HOMEBED_CLOUD__HTTP__PORT: String(await freePort()),
      // The loop probe rides along with the relay (it changes nothing in it): see bench/lib/loop-probe.mjs.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(LOOP_PROBE).href}`.trim(),
    };
    if (mode === 'mosquitto') {
      const passwordFile = join(dir, 'mosquitto', 'passwd');
      const aclFile = join(dir, 'mosquitto', 'acl');
      await mkdir(join(dir, 'mosquitto'), { recursive: true });
      const users = new Map<string, string>(ids.map((id) => [id, secret]));
      users.set(RELAY_USER, relayPassword);
      await writeBulkPasswordFile(passwordFile, users);
      // The ACL of docs/contract.md ("External broker"): the relay reads the gateways' four kinds and writes
      // ack and cmd; each gateway only under its own prefix.
      await writeFile(
        aclFile,
        [
          `user ${RELAY_USER}`,
          ...['alarm', 'heartbeat', 'status', 'event'].map((k) => `topic read homebed/v1/gw/+/${k}`),
          ...['ack', 'cmd'].map((k) => `topic write homebed/v1/gw/+/${k}`),
          '',
          'pattern write homebed/v1/gw/%u/+',
          'pattern read homebed/v1/gw/%u/+',
          '',
        ].join('\n'),
      );
      mosquitto = await startPrivateMosquitto({
        dir: join(dir, 'mosquitto'),
        allowAnonymous: false,
        passwordFile,
        aclFile,
        useUsernameAsClientId: true,
        // Mosquitto's own default (the test helper saves every second): writing thousands of sessions to
        // disk each second would be the benchmark's doing, not a deployment's.
        autosaveIntervalS: 1800,
      });
      result.openFileLimits.mosquitto = openFileLimit(mosquitto.pid);
      brokerUrl = mosquitto.url;
      Object.assign(relayEnv, {
        HOMEBED_CLOUD__MQTT__EXTERNAL__URL: mosquitto.url,
        HOMEBED_CLOUD__MQTT__EXTERNAL__USERNAME: RELAY_USER,
        HOMEBED_CLOUD__MQTT__EXTERNAL__PASSWORD: relayPassword,
        HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENT_ID: relayClientId,
        HOMEBED_CLOUD__MQTT__EXTERNAL__SHARE_GROUP: SHARE_GROUP,
      });
    } else {
      const port = await freePort();
      brokerUrl = `mqtt://127.0.0.1:${port}`;
      relayEnv.HOMEBED_CLOUD__MQTT__PORT = String(port);
    }
    let subscribed: () => void = () => {};
    const relaySubscribed = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    relay = await startProgram('cloud', ['run'], {
      label: `relay-${mode}`,
      env: relayEnv,
      onLine: (line) => {
        if (loop.take(line)) return;
        if (line.includes('subscribed to the gateways through the external MQTT broker')) subscribed();
        if (ctx.verbose) ctx.say(`[relay-${mode}] ${line}`);
      },
    });
    if (mode === 'mosquitto') await relaySubscribed;
    result.openFileLimits.relay = openFileLimit(relay.pid);
    say(
      `provisioned ${ids.length + sampled.length} gateways and started the relay in ${elapsedS().toFixed(1)} s`,
    );
    const pids = { relay: relay.pid, ...(mosquitto ? { mosquitto: mosquitto.pid } : {}) };

    if (sampled.length) {
      // All at once: how many first logins a second the relay verifies at the product's scrypt cost.
      const sample = newFleet(brokerUrl, () => secret);
      const report = await sample.connect(sampled, sampled.length);
      result.loginCost = {
        gateways: sampled.length,
        scryptN: 2 ** 15,
        wallS: report.wallS,
        perSecond: report.perSecond,
        refused: report.refused + report.failed,
      };
      await sample.close();
      say(`${sampled.length} logins at the product's scrypt cost: ${report.perSecond}/s`);
    }

    // 3. Grow the fleet.
    const fleet = newFleet(brokerUrl, () => secret);
    let best = 0;
    const fleetBudgetS = plan.fleetBudgetS[mode];
    const phaseEnd = modeStart + fleetBudgetS * 1000;
    let lastRate = 0;
    for (const [i, size] of fleetSteps.entries()) {
      // Would this step be connected and measured in time? Connections come slower as the fleet grows, so
      // at 70 % of the last step's rate.
      const projectedEnd =
        performance.now() +
        ((size - fleet.size) / Math.max(0.7 * lastRate, 1)) * 1000 +
        plan.fleetMeasureMs +
        1_000;
      if (i > 0 && projectedEnd > phaseEnd) {
        result.fleetStopReason = `time budget: ${size} gateways would not be up and measured ${fleetBudgetS} s into the mode (the last step connected ${lastRate}/s)`;
        break;
      }
      const relayUsage = new UsageMonitor(pids.relay, 500);
      const mosquittoUsage = pids.mosquitto ? new UsageMonitor(pids.mosquitto, 500) : null;
      relayUsage.start();
      mosquittoUsage?.start();
      const mark = loop.mark();
      const connect = await fleet.connect(
        ids.slice(fleet.size, size),
        plan.batch,
        i === 0 ? Number.POSITIVE_INFINITY : phaseEnd,
      );
      lastRate = connect.perSecond;
      const connectLoop = loop.since(mark);
      const connectUsage = {
        relay: relayUsage.stop(),
        ...(connectLoop ? { relayLoopMs: connectLoop } : {}),
        ...(mosquittoUsage ? { mosquitto: mosquittoUsage.stop() } : {}),
      };
      result.connectRefused += connect.refused;
      result.connectFailed += connect.failed;
      if (connect.stoppedEarly) {
        result.abandonedStep = { gateways: size, connect, connectUsage };
        result.fleetStopReason = `time budget: ${fleet.size} of ${size} gateways up when the fleet phase’s ${fleetBudgetS} s ran out (at ${connect.perSecond} connections/s)`;
        say(result.fleetStopReason);
        break;
      }
      const catchUpMs = await catchUp(fleet);
      if (i === 0) await fleet.load(plan.fleetRateHz, plan.warmupMs);
      const step = await measure(fleet, plan.fleetRateHz, plan.fleetMeasureMs, pids, loop);
      const record: FleetStepRecord = { ...step, gateways: size, connect, connectUsage, catchUpMs };
      if (connect.connected < connect.attempted) {
        record.qualifies = false;
        record.why.push(`${connect.attempted - connect.connected} of ${connect.attempted} did not connect`);
      }
      if (catchUpMs === null) {
        record.qualifies = false;
        record.why.push('relay did not catch up with the connect burst within a minute');
      }
      result.fleetSteps.push(record);
      say(
        `fleet ${size}: +${connect.connected} up at ${connect.perSecond}/s (connack p99 ${connect.connackMs?.p99 ?? '—'} ms, ` +
          `relay cpu ${connectUsage.relay.cpuPercent} % loop max ${connectLoop?.max ?? '—'} ms, generator cpu ${connect.generatorCpuPercent} %), ` +
          `caught up in ${catchUpMs ?? '—'} ms; ${describeLoad(step.load)}; ${describeRelay(step)}` +
          (record.qualifies ? '' : ` — does not qualify: ${record.why.join(', ')}`),
      );
      if (!record.qualifies) {
        result.fleetLimitFound = true;
        result.fleetStopReason = record.why.join(', ');
        break;
      }
      best = size;
    }
    if (!result.fleetStopReason) result.fleetStopReason = 'every planned fleet step qualified';
    result.maxGateways = best;
    result.perThousand = perThousand(result.fleetSteps.filter((s) => s.qualifies));
    // The largest good fleet step was measured at the fleet's rate: that is the first rate step.
    result.maxRateHz = plan.fleetRateHz;
    if (best === 0)
      throw new Error(`not even ${fleetSteps[0]} gateways qualified: ${result.fleetStopReason}`);
    if (fleet.size > best) {
      await fleet.shrink(best);
      await catchUp(fleet);
    }

    // 4. Step the alarm rate at that fleet.
    const rateEndS = plan.modeBudgetS[mode] - plan.floorReserveS;
    const rateStepFits = () => elapsedS() + plan.rateMeasureMs / 1000 + 1 <= rateEndS;
    const tryRate = async (rate: number): Promise<boolean> => {
      const step = await measure(fleet, rate, plan.rateMeasureMs, pids, loop);
      result.rateSteps.push(step);
      say(
        `${rate}/s at ${step.gateways} gateways: ${describeLoad(step.load)}; ${describeRelay(step)}` +
          (step.qualifies ? '' : ` — does not qualify: ${step.why.join(', ')}`),
      );
      return step.qualifies;
    };
    let failed: number | undefined;
    for (const rate of plan.rates) {
      if (!rateStepFits()) {
        result.rateStopReason = `time budget: ${rate}/s would end more than ${rateEndS} s into the mode`;
        break;
      }
      if (!(await tryRate(rate))) {
        failed = rate;
        break;
      }
      result.maxRateHz = rate;
    }
    if (failed !== undefined) {
      result.rateLimitFound = true;
      // Doubling leaves a wide gap: one more step halfway narrows it, once the relay has caught up again.
      const mid = Math.round((result.maxRateHz + failed) / 20) * 10;
      if (mid > result.maxRateHz && mid < failed && rateStepFits()) {
        await catchUp(fleet);
        if (await tryRate(mid)) result.maxRateHz = mid;
        else failed = mid;
      }
    }
    result.heartbeats = { ...fleet.heartbeats };

    // 5. The floor: the same broker with an echo consumer instead of the relay, at the maximum rate and the
    // lowest that failed (where the relay stopped keeping up, the broker alone may not have).
    const rates = [result.maxRateHz, ...(failed === undefined ? [] : [failed])];
    let floorFleet: Fleet;
    if (mode === 'aedes') {
      // The relay's broker goes with it: a bare aedes in its own process, and the fleet connects again.
      await fleet.close();
      await relay.stop('SIGTERM', 10_000);
      relay = null;
      const port = await freePort();
      echo = startChild(
        'echo-aedes',
        process.execPath,
        [TSX_BIN, 'bench/lib/fleet-echo.ts', 'aedes', String(port)],
        {
          cwd: REPO_ROOT,
        },
      );
      await waitForLine(echo, /echo ready/, 30_000);
      floorFleet = newFleet(`mqtt://127.0.0.1:${port}`, () => secret);
      result.floor.gateways = Math.min(best, plan.floorFleetMax);
      result.floor.connect = await floorFleet.connect(ids.slice(0, result.floor.gateways), plan.batch);
      say(
        `floor: ${result.floor.gateways} gateways up on a bare aedes at ${result.floor.connect.perSecond}/s ` +
          `(generator cpu ${result.floor.connect.generatorCpuPercent} %)`,
      );
    } else {
      // Mosquitto keeps the fleet; the echo takes over the relay's client id with a clean session.
      await relay.stop('SIGTERM', 10_000);
      relay = null;
      echo = startChild(
        'echo-mqtt',
        process.execPath,
        [TSX_BIN, 'bench/lib/fleet-echo.ts', 'mqtt', brokerUrl, RELAY_USER, relayClientId, SHARE_GROUP],
        { cwd: REPO_ROOT, env: { ...process.env, ECHO_PASSWORD: relayPassword } },
      );
      await waitForLine(echo, /echo ready/, 30_000);
      floorFleet = fleet;
      result.floor.gateways = fleet.size;
    }
    await floorFleet.load(rates[0] ?? plan.fleetRateHz, plan.warmupMs);
    // The echo's usage is recorded where the relay's is.
    const floorPids = { relay: echo.pid, ...(mosquitto ? { mosquitto: mosquitto.pid } : {}) };
    for (const rate of rates) {
      const step = await measure(floorFleet, rate, plan.floorMeasureMs, floorPids);
      result.floor.steps.push(step);
      say(`floor ${rate}/s: ${describeLoad(step.load)}; echo cpu ${step.relay?.cpuPercent} %`);
    }
  } catch (error) {
    result.error = (error as Error).message;
    say(`stopped: ${result.error}`);
  } finally {
    for (const f of fleets) await f.close().catch(() => {});
    await relay?.stop('SIGTERM', 10_000);
    await echo?.stop('SIGTERM', 5_000);
    await mosquitto?.stop();
    // The relay's store stays in ctx.dir, which bench/run.ts removes at the end (or keeps with --keep).
  }
  return result;
}

/** CPU and memory the relay spends per 1,000 connected gateways, from the smallest to the largest good step. */
function perThousand(steps: FleetStepRecord[]): ModeResult['perThousand'] {
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (!first?.relay || !last?.relay || last.gateways === first.gateways) return null;
  const k = (last.gateways - first.gateways) / 1000;
  const cpu = (last.relay.cpuPercent - first.relay.cpuPercent) / k;
  const rss = (last.relay.rssMiB.max - first.relay.rssMiB.max) / k;
  return {
    cpuPercent: Math.round(cpu * 100) / 100,
    rssMiB: Math.round(rss * 10) / 10,
    projectedGatewaysAtOneCore:
      cpu > 0 ? Math.round((last.gateways + ((100 - last.relay.cpuPercent) / cpu) * 1000) / 100) * 100 : null,
  };
}

/** The longest hold-up of the relay's event loop in the first rate step that failed. */
function failedLoop(r: ModeResult): number | undefined {
  return r.rateSteps.find((s) => !s.qualifies)?.relayLoopMs?.max;
}

/** The step measured at the maximum rate: a rate step, or the largest good fleet step (the fleet's rate). */
function relayAtMax(r: ModeResult): StepRecord | undefined {
  return (
    r.rateSteps.find((s) => s.qualifies && s.load.targetRateHz === r.maxRateHz) ??
    r.fleetSteps.find((s) => s.qualifies && s.gateways === r.maxGateways)
  );
}

function floorAt(r: ModeResult, rateHz: number): StepRecord | undefined {
  return r.floor.steps.find((s) => s.load.targetRateHz === rateHz);
}

const capacity: Benchmark = {
  name: 'capacity',
  title: TITLE,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const result = startResult('capacity', TITLE);
    const plan = ctx.quick ? QUICK : FULL;
    checkAlarmShape();
    ctx.say(`open files: this process ${openFileLimit('self')} (one per simulated gateway)`);
    const modes: ModeResult[] = [];
    for (const mode of ['aedes', 'mosquitto'] as const) modes.push(await runMode(mode, ctx, plan));

    const comparisons: Comparison[] = [];
    for (const r of modes) {
      const at = relayAtMax(r);
      const floor = at ? floorAt(r, at.load.targetRateHz) : undefined;
      if (at?.load.ackMs && floor?.load.ackMs) {
        comparisons.push({
          figure: `p99 alarm → stored ack at ${r.maxRateHz}/s, ${r.maxGateways} gateways, ${MODE_LABEL[r.mode]}`,
          unit: 'ms',
          ours: at.load.ackMs.p99,
          reference: {
            kind: 'floor',
            label: `${r.mode === 'aedes' ? 'bare aedes' : 'Mosquitto'} + echo consumer, ${r.floor.gateways} gateways, same rate`,
            value: floor.load.ackMs.p99,
          },
          better: 'lower',
        });
      }
    }
    const [aedes, mosq] = modes as [ModeResult, ModeResult];
    if (aedes.maxRateHz > 0 && mosq.maxRateHz > 0) {
      comparisons.push({
        figure:
          `max alarm rate with p99 < ${P99_LIMIT_MS} ms, embedded aedes (${aedes.maxGateways} gateways)` +
          (aedes.rateLimitFound && mosq.rateLimitFound ? '' : ' (a limit not reached: lower bounds)'),
        unit: 'alarms/s',
        ours: aedes.maxRateHz,
        reference: {
          kind: 'peer',
          label: `the same relay behind Mosquitto (${mosq.maxGateways} gateways)`,
          value: mosq.maxRateHz,
        },
        better: 'higher',
      });
    }
    if (aedes.loginCost && aedes.floor.connect) {
      comparisons.push({
        figure: `gateway first logins per second, embedded aedes (scrypt N=2^15, ${aedes.loginCost.gateways} at once)`,
        unit: 'logins/s',
        ours: aedes.loginCost.perSecond,
        reference: {
          kind: 'ceiling',
          label: `bare aedes, no authentication, ${aedes.floor.gateways} in batches of ${plan.batch}`,
          value: aedes.floor.connect.perSecond,
        },
        better: 'higher',
      });
    }

    const saturated = modes.some((m) => [...m.fleetSteps, ...m.rateSteps].some((s) => s.generatorSaturated));
    const notes: string[] = [
      'A step qualifies when every alarm has its `stored` ack within 3 s (the gateway’s first retransmission; a missing ack counts against the step), p99 < 100 ms, no publish error and no gateway dropped. Latency: publish call → `stored` received by that gateway, in the load generator.',
      `The fleet is provisioned straight into the relay’s SQLite store with one shared secret hashed at scrypt N=2^${Math.log2(FLEET_SCRYPT_N)} (the product uses 2^15, ~100 ms of CPU per first login); the production cost is the logins-per-second figure, measured on gateways provisioned through the registry. With the embedded broker a relay restart makes every gateway log in again: at that rate a fleet of ${aedes.maxGateways} needs about ${aedes.loginCost?.perSecond ? Math.round(aedes.maxGateways / aedes.loginCost.perSecond) : '?'} s to be back. Behind Mosquitto the gateways stay connected to Mosquitto across a relay restart, and Mosquitto checks their passwords itself (PBKDF2-SHA512, 101 iterations: cheap).`,
      'Alarms are critical `sos_button` raises from random gateways with unique UUIDv7 ids (open loop); every gateway also heartbeats every 30 s (random phase) as the contract says. Gateways are on no bed and no notification recipients are configured, so no SMS/voice deliveries are queued; escalation steps of unacknowledged alarms (60 s, 180 s) do fire during later steps, as they would.',
      'The relay handles one message at a time behind Mosquitto (PUBACK after commit, docs/contract.md); the floor’s echo consumer answers at once without validating or storing.',
      'The brokers’ sockets are TCP_NODELAY (common/aedes-server.ts, since this benchmark found a `stored` ack or PUBACK waiting ~40 ms for the peer’s delayed ACK under Nagle, which had set a 40–50 ms p99 floor at modest rates); mqtt.js’s client sockets are not (it has no option), and the private Mosquitto runs with `set_tcp_nodelay true` (tools/mosquitto.ts; Mosquitto’s own default is false).',
      `Fleet growth stops at the first step that fails, or at the time budget (${plan.fleetBudgetS.aedes} s into the embedded mode, ${plan.fleetBudgetS.mosquitto} s into the other: a step projected to end later is not started, one still connecting then is abandoned); “not exhausted” maxima are lower bounds. The alarm rate doubles until a step fails, then one step halfway between the last good and the failed rate. perThousand in the figures is the relay’s CPU and memory per 1,000 gateways between the smallest and largest good fleet step, with a straight-line projection of the fleet at one busy core (a projection, not a measurement).`,
      `The relay’s event-loop delay comes from a probe preloaded into the relay process (bench/lib/loop-probe.mjs via NODE_OPTIONS=--import; it only reads a histogram once a second). While gateways connected it was held up for as long as ${modes.map((m) => `${Math.max(0, ...m.fleetSteps.map((f) => f.connectUsage.relayLoopMs?.max ?? 0))} ms (${m.mode})`).join(' and ')} at once: every status and heartbeat (and with the embedded broker every login) is a SQLite transaction, and better-sqlite3 runs each statement and commit on the main thread. Connection rates and connack times include that.`,
      `One SQLite commit (WAL, synchronous=FULL) on the data dir’s disk before each mode: ${modes.map((m) => `p50 ${m.commitMs?.p50 ?? '?'} / p99 ${m.commitMs?.p99 ?? '?'} ms (${m.mode})`).join(', ')}; the disk is shared with the rest of the machine.`,
      `The embedded floor connects at most ${plan.floorFleetMax} gateways again (to a bare aedes in its own process); the Mosquitto floor keeps the whole fleet.`,
      `Open files: bench process ${modes[0]?.openFileLimits.bench}; relay ${modes[0]?.openFileLimits.relay}; Mosquitto ${mosq.openFileLimits.mosquitto ?? 'not started'}. Each simulated gateway is one socket in the bench process and one in the broker.`,
      saturated
        ? `In at least one step the load generator (this process) was itself busy (event-loop p99 > ${GENERATOR_LOOP_P99_MS} ms or CPU > ${GENERATOR_CPU_PERCENT} %): there, latencies are an upper bound and the maxima a lower bound.`
        : `The load generator kept up in every step (event-loop p99 ≤ ${GENERATOR_LOOP_P99_MS} ms, CPU ≤ ${GENERATOR_CPU_PERCENT} % of a core).`,
      'Everything (relay, broker, load generator) shares one machine; with 2 cores the generator and the relay compete for CPU.',
    ];
    for (const r of modes) {
      notes.push(
        `${MODE_LABEL[r.mode]}: ${r.maxGateways} gateways (${r.fleetLimitFound ? 'limit found' : 'not exhausted'}: ${r.fleetStopReason}), ` +
          `${r.maxRateHz} alarms/s (${r.rateLimitFound ? 'limit found' : `not exhausted: ${r.rateStopReason ?? 'every planned rate qualified'}`}); ` +
          `connections refused ${r.connectRefused}, failed ${r.connectFailed}` +
          (failedLoop(r) === undefined
            ? ''
            : `; in the first failed rate step the relay’s loop was held up to ${failedLoop(r)} ms at once`) +
          `${r.error ? `; stopped early: ${r.error}` : ''}.`,
      );
    }
    if (ctx.quick)
      notes.push('Quick run: a tiny fleet and two rates; the figures prove the code, not the relay.');

    return result.finish({
      method:
        'One relay process (dist, SQLite) with simulated gateways speaking the contract, first with its embedded aedes, then behind a private Mosquitto ($share): the fleet grows until a step fails, then the alarm rate steps up at the largest good fleet, until p99 alarm → `stored` ack ≥ 100 ms or an ack is missing; the floor is the same broker with an echo consumer.',
      versions: {
        aedes: packageVersion('aedes'),
        mqtt: packageVersion('mqtt'),
        'better-sqlite3': packageVersion('better-sqlite3'),
        mosquitto: programVersion('mosquitto', ['-h']),
      },
      parameters: {
        p99LimitMs: P99_LIMIT_MS,
        ackTimeoutMs: 3_000,
        fleetSteps: plan.fleetSteps,
        fleetRateHz: plan.fleetRateHz,
        fleetMeasureS: plan.fleetMeasureMs / 1000,
        rates: plan.rates,
        rateMeasureS: plan.rateMeasureMs / 1000,
        floorMeasureS: plan.floorMeasureMs / 1000,
        connectBatch: plan.batch,
        heartbeatIntervalS: 30,
        keepaliveS: 30,
        fleetScryptN: FLEET_SCRYPT_N,
        seed: ctx.seed,
        quick: ctx.quick,
      },
      figures: { modes },
      comparisons,
      notes,
    });
  },
};

export default capacity;
