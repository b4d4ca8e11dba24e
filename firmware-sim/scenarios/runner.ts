import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { ManualClock } from '../../common/clock.js';
import { validateConfig } from '../../common/config/load.js';
import { errorMessage } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import type { AlarmMessage } from '../../contract/index.js';
import { NATIVE_TOPIC_ROOT } from '../../contract/native-device.js';
import { gatewayConfigSchema } from '../../gateway/config/schema.js';
import { Gateway } from '../../gateway/gateway.js';
import type { TelemetrySink } from '../../gateway/telemetry/telemetry-sink.js';
import { simConfigSchema } from '../config.js';
import { Simulator } from '../simulator.js';
import { type Comparison, compareAlarms, type ExpectedAlarm, type ObservedAlarm } from './compare.js';
import { applyStep, describeStep, directDriver, httpDriver, StepError, simName } from './driver.js';
import {
  ACCELERATED_REPORT_INTERVALS,
  type KitSettings,
  kitGatewayConfig,
  kitSimConfig,
  STANDARD_KIT,
} from './kit.js';
import type { Scenario, ScenarioStep } from './schema.js';
import { type SettleProbe, Settler, type SettleStats } from './settle.js';
import { formatLocal, formatSpan } from './time.js';

/**
 * Plays a scenario and reports the alarms it produced.
 *
 * **Accelerated** (for checks and tests): one {@link ManualClock} drives an
 * in-process Simulator (PTYs through socat, MQTT to the gateway's broker) and
 * an in-process Gateway. Simulated time advances in steps — landing exactly on
 * every scenario step; in 5 s chunks for a few minutes after each step, where
 * rules are timing things; in 60 s chunks elsewhere — and after each move the
 * runner waits for the bytes and messages to reach the gateway (settle.ts),
 * since the gateway stamps what it decodes with the clock's time at that
 * moment. A 12-hour night takes a few seconds.
 *
 * **Realtime** (for demos): plays the steps at wall-clock pace against a
 * simulator that is already running (its HTTP control API) and, given the
 * cloud's URL, reads `GET /api/alarms` at the end and compares.
 */

/** Options of an accelerated run. */
export interface AcceleratedRunOptions {
  mode: 'accelerated';
  /** InfluxDB 1.x URL to write the readings to; default none (readings are dropped). */
  influxUrl?: string;
  influxDatabase?: string;
  /** Gateway and simulator logs (default silent). */
  logger?: Logger;
  /** `socat` binary; default from PATH. */
  socatPath?: string;
  /** Scratch directory (PTY symlinks, the gateway's SQLite store); default a fresh temp dir, removed after. */
  workDir?: string;
  /** Chunk of simulated time away from steps; default 60 s (keeps every radar < 90 s between looks). */
  quietChunkMs?: number;
  /** Chunk of simulated time during `focusMs` after each step; default 5 s. */
  focusChunkMs?: number;
  /** How long after a step the finer chunks are used; default 3 min. */
  focusMs?: number;
  /** Called with one line per step and per alarm as the run goes (e.g. the CLI's `--verbose`). */
  onEvent?: (line: string) => void;
}

/** Options of a realtime run. */
export interface RealtimeRunOptions {
  mode: 'realtime';
  /** Control API of the running simulator, e.g. http://127.0.0.1:7390. */
  controlUrl: string;
  /** The cloud relay's HTTP API (e.g. http://127.0.0.1:8080); when given, its alarms are checked at the end. */
  cloudUrl?: string;
  /** Only alarms of this gateway count (default: every gateway's). */
  gatewayId?: string;
  /** Progress lines (default none). */
  onEvent?: (line: string) => void;
  /** Stops the run between steps. */
  signal?: AbortSignal;
  /** Wait after the end before reading the cloud's alarms (they arrive tens of ms after a commit); default 2 s. */
  cloudDelayMs?: number;
  fetch?: typeof fetch;
}

export type RunOptions = AcceleratedRunOptions | RealtimeRunOptions;

/** Cost of an accelerated run. */
export interface RunStats {
  /** Wall-clock time of the whole run, start-up and shutdown included. */
  wallMs: number;
  /** Simulated span, warm-up included. */
  simulatedMs: number;
  /** Clock moves (each followed by a settle). */
  moves: number;
  settle: SettleStats;
  /** Seeed frames and RFLink lines the gateway decoded. */
  framesDecoded: number;
}

export interface ScenarioResult {
  scenario: string;
  mode: 'accelerated' | 'realtime';
  /** Every alarm message of the run, oldest first (in realtime: those the cloud had for the run's span). */
  alarms: ObservedAlarm[];
  /** Null when nothing could be checked (realtime without a cloud URL). */
  comparison: Comparison | null;
  /** True when the comparison found no difference; null when there was none. */
  ok: boolean | null;
  timeZone: string;
  stats: RunStats;
}

/** Simulated time before `start` in which the devices come up and report their state once. */
export const WARM_UP_MS = 75_000;
const READY_TIMEOUT_MS = 15_000;

/** Play `scenario`; see {@link AcceleratedRunOptions} and {@link RealtimeRunOptions}. */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  return options.mode === 'accelerated' ? runAccelerated(scenario, options) : runRealtime(scenario, options);
}

/** The scenario's expectations for {@link compareAlarms}, shifted by `shiftMs` (realtime). */
export function expectationsOf(scenario: Scenario, shiftMs = 0): ExpectedAlarm[] {
  return scenario.expect.map((e, index) => ({
    type: e.type,
    state: e.state,
    deviceId: e.deviceId,
    severity: e.severity,
    fromMs: e.fromMs + shiftMs,
    toMs: e.toMs + shiftMs,
    index,
  }));
}

/** An alarm message as the comparison sees it. */
export function observed(
  message: Pick<AlarmMessage, 'type' | 'state' | 'severity' | 'at' | 'deviceId' | 'id' | 'seq'>,
): ObservedAlarm {
  return {
    type: message.type,
    state: message.state,
    severity: message.severity,
    atMs: Date.parse(message.at),
    deviceId: message.deviceId,
    id: message.id,
    seq: message.seq,
  };
}

/** Simulated times the clock stops at: every step, the end, finer after steps. Sorted, unique. */
export function planStops(
  scenario: Pick<Scenario, 'startMs' | 'endMs' | 'steps'>,
  chunks: { quietChunkMs: number; focusChunkMs: number; focusMs: number },
): number[] {
  const { startMs, endMs } = scenario;
  const stops = new Set<number>([startMs, endMs]);
  for (let t = startMs + chunks.quietChunkMs; t < endMs; t += chunks.quietChunkMs) stops.add(t);
  for (const step of scenario.steps) {
    const t = step.atMs;
    stops.add(t);
    // An RF press is three lines 50 ms apart: let them out with their own times, as the receiver would.
    for (const ms of [100, 200, 300]) stops.add(t + ms);
    for (let ms = chunks.focusChunkMs; ms <= chunks.focusMs; ms += chunks.focusChunkMs) stops.add(t + ms);
    if (step.fault?.action === 'unplug' || step.fault?.action === 'replug') {
      // A port's reopening (real I/O, started by a timer of the gateway's) must finish before the
      // 5 s link-lost deadline is looked at, as it would in real time: move in 250 ms steps for 10 s.
      for (let ms = 250; ms <= 10_000; ms += 250) stops.add(t + ms);
    }
  }
  return [...stops].filter((t) => t >= startMs && t <= endMs).sort((a, b) => a - b);
}

/** A sink that drops readings: scenario runs need no database unless asked for one. */
const discardSink: TelemetrySink = {
  prepare: async () => {},
  write: async () => {},
  close: async () => {},
};

async function runAccelerated(scenario: Scenario, options: AcceleratedRunOptions): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const logger = options.logger ?? silentLogger();
  const ownDir = options.workDir === undefined;
  const dir = options.workDir ?? mkdtempSync(join(tmpdir(), `homebed-scenario-${scenario.name}-`));
  const clock = new ManualClock(scenario.startMs - WARM_UP_MS);
  const emit = options.onEvent ?? (() => {});
  const local = (ms: number) => formatLocal(ms, scenario.timeZone);
  const { bedRadar, fallRadar } = scenario.initial;
  const settings: KitSettings = {
    timeZone: scenario.timeZone,
    dir,
    mqttUrl: '',
    seed: scenario.seed,
    pendant: scenario.kit.pendant,
    bedRadar: {
      observationSetupMs: scenario.kit.bedRadar.observationSetupMs,
      inBed: bedRadar.inBed,
      heartRateBpm: bedRadar.heartRateBpm,
      breathRatePerMin: bedRadar.breathRatePerMin,
      heartRateVariationBpm: scenario.kit.bedRadar.heartRateVariationBpm,
      breathRateVariationPerMin: scenario.kit.bedRadar.breathRateVariationPerMin,
    },
    fallRadar: { residencyDelayMs: scenario.kit.fallRadar.residencyDelayMs, present: fallRadar.present },
  };

  let gateway: Gateway | undefined;
  let sim: Simulator | undefined;
  let probe: MqttClient | undefined;
  let moves = 0;
  try {
    const gatewayConfig = validateConfig(
      gatewayConfigSchema,
      kitGatewayConfig(settings, scenario.rules, {
        influxUrl: options.influxUrl,
        influxDatabase: options.influxDatabase,
      }),
      `gateway config for scenario ${scenario.name}`,
    );
    gateway = new Gateway({
      config: gatewayConfig,
      clock,
      logger: logger.child({ component: 'gateway' }),
      ...(options.influxUrl ? {} : { telemetrySink: discardSink }),
    });
    // The gateway first: its broker picks a free port, which the simulator's MQTT devices are then given.
    await gateway.start();
    settings.mqttUrl = `mqtt://127.0.0.1:${gateway.localBrokerPort}`;
    sim = new Simulator(
      validateConfig(simConfigSchema, kitSimConfig(settings), 'simulator config for the kit'),
      {
        clock,
        logger: logger.child({ component: 'sim' }),
        socatPath: options.socatPath,
        reportIntervals: ACCELERATED_REPORT_INTERVALS,
      },
    );
    await sim.start();
    if (!bedRadar.present || bedRadar.sleepState !== undefined) {
      sim.updateRadar(simName('bed-radar'), {
        ...(bedRadar.present ? {} : { present: false }),
        ...(bedRadar.sleepState === undefined ? {} : { sleepState: bedRadar.sleepState }),
      });
    }

    // Counts every message the MQTT devices publish, once the gateway's broker has passed it on.
    let mqttReceived = 0;
    const mqttTopics = [`${gatewayConfig.zigbee2mqtt.baseTopic}/#`, `${NATIVE_TOPIC_ROOT}/#`];
    probe = await mqtt.connectAsync(settings.mqttUrl, {
      clientId: `scenario-probe-${process.pid}`,
      reconnectPeriod: 100,
      clean: true,
    });
    probe.on('message', () => {
      mqttReceived++;
    });
    await probe.subscribeAsync(mqttTopics, { qos: 0 });

    const theGateway = gateway;
    const theSim = sim;
    const serial = STANDARD_KIT.filter((d) => d.transport === 'serial').map((d) => ({
      sim: d.simName,
      port: d.transport === 'serial' ? d.port : '',
    }));
    const settleProbe: SettleProbe = {
      channels: () => {
        const state = theSim.state() as {
          devices: { id: string; faults: { stats: { unitsSent: number } } | null }[];
          zigbee2mqtt: { devices?: { messagesPublished: number }[] } | null;
          native: { messagesPublished?: number }[];
        };
        const counters = theGateway.counters.snapshot();
        const channels = serial.map(({ sim: id, port }) => ({
          name: id,
          sent: state.devices.find((d) => d.id === id)?.faults?.stats.unitsSent ?? 0,
          received: sumCounters(
            counters,
            ['frames_decoded', 'frames_dropped', 'lines_decoded', 'lines_dropped'],
            port,
          ),
        }));
        const mqttSent =
          (state.zigbee2mqtt?.devices ?? []).reduce((n, d) => n + d.messagesPublished, 0) +
          state.native.reduce((n, d) => n + (d.messagesPublished ?? 0), 0);
        channels.push({ name: 'mqtt', sent: mqttSent, received: mqttReceived });
        return channels;
      },
      signature: () => `${JSON.stringify(theGateway.linkStates())}|${theGateway.outboxDepth()}`,
      busy: () => {
        // A plugged device whose port the gateway has not reopened yet: an open may be in flight.
        const links = theGateway.linkStates();
        return theSim.info().devices.some((d) => d.plugged && links[portOf(d.id)] === 'closed');
      },
    };
    const theSettler = new Settler(settleProbe);
    const move = async (toMs: number): Promise<void> => {
      if (toMs > clock.now()) clock.advance(toMs - clock.now());
      moves++;
      await theSettler.settle();
    };

    // Warm-up: the gateway's ports were missing when it started; its reopen timers run on the clock.
    const readyBy = performance.now() + READY_TIMEOUT_MS;
    while (!ready(gateway, sim, probe)) {
      // The bed radar's first state report (a minute after power-up) must still come before the start.
      if (performance.now() > readyBy || clock.now() > scenario.startMs - WARM_UP_MS + 10_000) {
        throw new Error(
          `devices not ready in time (${READY_TIMEOUT_MS / 1000} s, or 10 s simulated): ` +
            `links ${JSON.stringify(gateway.linkStates())}, ` +
            `zigbee2mqtt ${String(sim.zigbee2mqtt?.connected ?? '-')}, probe ${String(probe.connected)}`,
        );
      }
      await move(clock.now() + 100);
    }
    while (clock.now() < scenario.startMs) await move(Math.min(scenario.startMs, clock.now() + 5_000));

    const driver = directDriver(sim);
    const chunks = {
      quietChunkMs: options.quietChunkMs ?? 60_000,
      focusChunkMs: options.focusChunkMs ?? 5_000,
      focusMs: options.focusMs ?? 180_000,
    };
    let next = 0;
    let reported = gateway.alarmLog().length;
    const reportAlarms = () => {
      const log = theGateway.alarmLog();
      for (const a of log.slice(reported)) {
        emit(`${local(Date.parse(a.at))}  alarm ${a.type} ${a.state}${a.deviceId ? ` (${a.deviceId})` : ''}`);
      }
      reported = log.length;
    };
    for (const stop of planStops(scenario, chunks)) {
      await move(stop);
      reportAlarms();
      for (
        let step = scenario.steps[next];
        step !== undefined && step.atMs === stop;
        step = scenario.steps[++next]
      ) {
        emit(`${local(stop)}  step  ${describeStep(step)}${step.note ? `  # ${step.note}` : ''}`);
        await applyStep(step, driver);
        await afterStep(step, gateway);
        await theSettler.settle();
        reportAlarms();
      }
    }

    const alarms = gateway.alarmLog().map(observed);
    const comparison = compareAlarms(alarms, expectationsOf(scenario), { ignore: scenario.ignore });
    const framesDecoded = gateway.counters.total('frames_decoded') + gateway.counters.total('lines_decoded');
    await shutdown(sim, gateway, probe);
    sim = undefined;
    gateway = undefined;
    probe = undefined;
    return {
      scenario: scenario.name,
      mode: 'accelerated',
      alarms,
      comparison,
      ok: comparison.ok,
      timeZone: scenario.timeZone,
      stats: {
        wallMs: performance.now() - wallStart,
        simulatedMs: scenario.endMs - scenario.startMs + WARM_UP_MS,
        moves,
        settle: theSettler.stats,
        framesDecoded,
      },
    };
  } finally {
    await shutdown(sim, gateway, probe);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
}

function ready(gateway: Gateway, sim: Simulator, probe: MqttClient): boolean {
  const linksOpen = Object.values(gateway.linkStates()).every((s) => s === 'open');
  const zigbee = sim.zigbee2mqtt ? sim.zigbee2mqtt.connected : true;
  const natives = STANDARD_KIT.filter((d) => d.transport === 'native').every(
    (d) => sim.nativeDevice(d.simName)?.connected ?? true,
  );
  return linksOpen && zigbee && natives && probe.connected;
}

/** What must be true (in real time) before the clock may move on after a step. */
async function afterStep(step: ScenarioStep, gateway: Gateway): Promise<void> {
  if (step.fault?.action !== 'unplug') return;
  // The gateway learns of a pulled plug from the kernel, not from the clock: wait for it, so the
  // 5 s link-lost deadline counts from the moment of the step.
  const port = portOf(simName(step.fault.device));
  const by = performance.now() + 5_000;
  while (gateway.linkStates()[port] !== 'closed') {
    if (performance.now() > by) throw new StepError(`the gateway did not notice ${port} closing within 5 s`);
    await sleep(1);
  }
}

function portOf(simId: string): string {
  const device = STANDARD_KIT.find((d) => d.transport === 'serial' && d.simName === simId);
  return device?.transport === 'serial' ? device.port : simId;
}

/** Sum of counters `names` whose `link` label is `link`. */
function sumCounters(snapshot: Record<string, number>, names: readonly string[], link: string): number {
  let sum = 0;
  const label = `link="${link}"`;
  for (const [key, value] of Object.entries(snapshot)) {
    const brace = key.indexOf('{');
    if (brace < 0 || !names.includes(key.slice(0, brace))) continue;
    if (key.includes(label)) sum += value;
  }
  return sum;
}

async function shutdown(
  sim: Simulator | undefined,
  gateway: Gateway | undefined,
  probe: MqttClient | undefined,
): Promise<void> {
  // The simulator first, while the broker is up, so its MQTT devices say goodbye instead of retrying.
  await probe?.endAsync(true).catch(() => {});
  await sim?.stop();
  await gateway?.stop();
}

// ---- realtime ----------------------------------------------------------------------------------

async function runRealtime(scenario: Scenario, options: RealtimeRunOptions): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const emit = options.onEvent ?? (() => {});
  const fetchFn = options.fetch ?? fetch;
  const driver = httpDriver(options.controlUrl, fetchFn);
  await checkNames(scenario, options.controlUrl, fetchFn);

  const { bedRadar, fallRadar } = scenario.initial;
  await driver.radar(simName('bed-radar'), {
    inBed: bedRadar.inBed,
    ...(bedRadar.inBed ? {} : { present: bedRadar.present }),
    heartRateBpm: bedRadar.heartRateBpm,
    breathRatePerMin: bedRadar.breathRatePerMin,
    ...(bedRadar.sleepState === undefined ? {} : { sleepState: bedRadar.sleepState }),
  });
  await driver.fallRadar(simName('fall-radar'), fallRadar.present ? 'enter' : 'leave');

  const realStartMs = Date.now();
  const shiftMs = realStartMs - scenario.startMs;
  emit(
    `playing ${scenario.name}: ${scenario.steps.length} steps over ${formatSpan(scenario.endMs - scenario.startMs)}`,
  );
  for (const step of scenario.steps) {
    await waitUntil(step.atMs + shiftMs, options.signal);
    emit(
      `${formatSpan(step.atMs - scenario.startMs)} (${formatLocal(step.atMs, scenario.timeZone)})  ${describeStep(step)}` +
        (step.note ? `  # ${step.note}` : ''),
    );
    await applyStep(step, driver);
  }

  let alarms: ObservedAlarm[] = [];
  let comparison: Comparison | null = null;
  if (options.cloudUrl) {
    await waitUntil(scenario.endMs + shiftMs, options.signal);
    await sleep(options.cloudDelayMs ?? 2_000);
    alarms = (await cloudAlarms(options.cloudUrl, options.gatewayId, fetchFn)).filter(
      (a) => a.atMs >= realStartMs - 1_000 && a.atMs <= Date.now(),
    );
    comparison = compareAlarms(alarms, expectationsOf(scenario, shiftMs), { ignore: scenario.ignore });
  }
  return {
    scenario: scenario.name,
    mode: 'realtime',
    alarms,
    comparison,
    ok: comparison?.ok ?? null,
    timeZone: scenario.timeZone,
    stats: {
      wallMs: performance.now() - wallStart,
      simulatedMs: 0,
      moves: 0,
      settle: { settles: 0, delivered: 0, quiet: 0, timeout: 0, totalMs: 0, maxMs: 0 },
      framesDecoded: 0,
    },
  };
}

/** Fail before the first step when the running simulator lacks a device the scenario drives. */
async function checkNames(scenario: Scenario, controlUrl: string, fetchFn: typeof fetch): Promise<void> {
  const base = controlUrl.replace(/\/+$/, '');
  let state: {
    devices?: { id: string; state?: { transmitters?: { name: string }[] } | null }[];
    zigbee2mqtt?: { devices?: { friendlyName: string }[] } | null;
    native?: { id: string }[];
  };
  try {
    const res = await fetchFn(`${base}/state`, { signal: AbortSignal.timeout(5_000) });
    state = (await res.json()) as typeof state;
  } catch (err) {
    throw new StepError(
      `cannot reach the simulator at ${base}: ${errorMessage(err)} (is \`npm run sim -- run\` running?)`,
    );
  }
  const known = new Set<string>([
    ...(state.devices ?? []).flatMap((d) => [d.id, ...(d.state?.transmitters ?? []).map((t) => t.name)]),
    ...(state.zigbee2mqtt?.devices ?? []).map((d) => d.friendlyName),
    ...(state.native ?? []).map((d) => d.id),
  ]);
  const used = new Set<string>(['bed-radar', 'fall-radar']);
  for (const step of scenario.steps) {
    const device =
      step.rf?.device ??
      step.battery?.device ??
      step.zigbee?.device ??
      step.native?.device ??
      step.fault?.device;
    if (device) used.add(device);
  }
  const missing = [...used].filter((id) => !known.has(simName(id)));
  if (missing.length > 0) {
    throw new StepError(
      `the running simulator has no ${missing.map((id) => `${simName(id)} (kit ${id})`).join(', ')}; ` +
        `it has: ${[...known].join(', ')}`,
    );
  }
}

async function cloudAlarms(
  cloudUrl: string,
  gatewayId: string | undefined,
  fetchFn: typeof fetch,
): Promise<ObservedAlarm[]> {
  const url = new URL('/api/alarms', cloudUrl);
  url.searchParams.set('limit', '1000');
  if (gatewayId) url.searchParams.set('gatewayId', gatewayId);
  let body: { alarms?: AlarmMessage[] };
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new StepError(`cannot read alarms from ${url.href}: ${errorMessage(err)}`);
  }
  return (body.alarms ?? []).map(observed).sort((a, b) => a.atMs - b.atMs || (a.seq ?? 0) - (b.seq ?? 0));
}

async function waitUntil(epochMs: number, signal: AbortSignal | undefined): Promise<void> {
  const delay = epochMs - Date.now();
  if (delay > 0) await sleep(delay, undefined, { signal });
  signal?.throwIfAborted();
}
