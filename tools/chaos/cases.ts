import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InfluxDB } from 'influx';
import { mixSeed, type RandomFn, seededRandom } from '../../firmware-sim/random.js';
import { freePort } from '../free-port.js';
import { type PrivateInfluxd, startPrivateInfluxd } from '../influxd.js';
import { startPrivateMosquitto } from '../mosquitto.js';
import type { ChaosProfile } from './profile.js';
import { ChaosRig, delay, type SimNativeDevice, until } from './rig.js';

/** One line of the chaos report. */
export interface CaseResult {
  name: string;
  /** Alarms pressed, or readings the gateway's broker accepted. */
  sent: number;
  /** Distinct alarms in the cloud, or readings in InfluxDB. */
  stored: number;
  /** Sent and neither stored nor reported dropped: must be 0. */
  lost: number;
  /** Stored more than once, or stored without being sent: must be 0. */
  extra: number;
  /** Readings dropped by the spool bound, as the gateway reported them (heartbeat `readingsDropped`). */
  dropped?: number;
  ok: boolean;
  notes: string[];
  durationMs: number;
}

export interface CaseContext {
  /** A folder of its own for this case's data. */
  dir: string;
  profile: ChaosProfile;
  seed: number;
  /** Progress for a person watching. */
  say: (line: string) => void;
  /** Called with every line a program prints (verbose runs). */
  onLine?: (program: string, line: string) => void;
}

export interface ChaosCase {
  name: string;
  what: string;
  run(ctx: CaseContext): Promise<CaseResult>;
}

const DATABASE = 'chaos';

interface GatewayYamlOptions {
  cloudUrl: string;
  influxUrl: string;
  localBrokerPort: number;
  pendants: number;
  sensors: number;
  maxSpoolPoints?: number;
}

function gatewayYaml(rig: ChaosRig, dataDir: string, o: GatewayYamlOptions): string {
  const devices = [
    ...Array.from({ length: o.pendants }, (_, i) => `  - { id: p${i}, kind: native, role: sos_button }`),
    ...Array.from({ length: o.sensors }, (_, i) => `  - { id: s${i}, kind: native, role: pir }`),
  ];
  return [
    `gatewayId: ${rig.gatewayId}`,
    'bedId: bed-chaos',
    `dataDir: ${JSON.stringify(dataDir)}`,
    'cloud:',
    `  url: ${o.cloudUrl}`,
    `  secret: ${rig.secret}`,
    '  heartbeatIntervalS: 5',
    '  reconnectPeriodMs: 500',
    '  reconnectMaxMs: 2000',
    '  retransmitInitialMs: 1000',
    '  retransmitMaxMs: 4000',
    'influx:',
    `  url: ${o.influxUrl}`,
    `  database: ${DATABASE}`,
    '  batchSize: 200',
    '  flushIntervalMs: 200',
    '  retryMaxMs: 2000',
    ...(o.maxSpoolPoints ? [`  maxSpoolPoints: ${o.maxSpoolPoints}`] : []),
    'localBroker:',
    '  enabled: true',
    `  port: ${o.localBrokerPort}`,
    'rules:',
    '  sos:',
    // Every press is a new call here: the burst presses each pendant many times.
    '    repeatWindowMs: 0',
    'devices:',
    ...devices,
    '',
  ].join('\n');
}

function pendants(count: number): SimNativeDevice[] {
  return Array.from({ length: count }, (_, i) => ({ id: `p${i}`, state: { battery: 90 } }));
}

function sensors(count: number, intervalMs: number): SimNativeDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    stateIntervalMs: intervalMs,
    sequenceIn: 'heart_rate' as const,
  }));
}

/** Moments (ms from the start of a burst) at which to disrupt it: random, inside its middle 80 %. */
function disruptionTimes(random: RandomFn, count: number, burstMs: number): number[] {
  return Array.from({ length: count }, () => burstMs * (0.1 + 0.8 * random()))
    .map(Math.round)
    .sort((a, b) => a - b);
}

/**
 * Press SOS `profile.alarms` times across the pendants while `disrupt` runs
 * at random moments; then wait until every press is confirmed by the
 * gateway's broker and stored by the cloud, and compare press by press
 * (device and time of each press against each stored alarm).
 */
async function alarmBurst(
  rig: ChaosRig,
  ctx: CaseContext,
  name: string,
  disrupt: () => Promise<string>,
): Promise<Omit<CaseResult, 'name' | 'durationMs'>> {
  const { profile } = ctx;
  const random = seededRandom(mixSeed(ctx.seed, name));
  const burstMs = profile.alarms * profile.pressIntervalMs;
  const times = disruptionTimes(random, profile.disruptions, burstMs);
  const notes: string[] = [];
  const redelivered = rig.watch(/delivered twice/);
  const committed = rig.watch(/alarm committed to outbox/);
  const started = Date.now();
  const disruptions = (async () => {
    for (const at of times) {
      await delay(Math.max(0, started + at - Date.now()));
      const began = Date.now() - started;
      notes.push(`${await disrupt()} at ${(began / 1000).toFixed(1)} s`);
    }
  })();

  const presses: { device: string; at: string }[] = [];
  for (let i = 0; i < profile.alarms; i++) {
    const device = `p${i % profile.pendants}`;
    const at = await rig.native(device, { event: 'sos' });
    if (!at) throw new Error(`the simulator did not say when ${device} was pressed`);
    presses.push({ device, at });
    await delay(profile.pressIntervalMs);
  }
  await disruptions;

  const isSos = (a: { type: string; state: string }) => a.type === 'sos_button' && a.state === 'raised';
  const settled = await until(async () => {
    const devices = await rig.nativeStates();
    const confirmed = devices.every((d) => d.eventsDelivered === d.eventsSent);
    return confirmed && (await rig.alarms()).filter(isSos).length >= presses.length;
  }, profile.settleTimeoutMs);
  if (!settled) notes.push(`not settled after ${profile.settleTimeoutMs / 1000} s`);
  // A duplicate would arrive after the last original: give it a moment.
  await delay(1_500);

  const alarms = (await rig.alarms()).filter(isSos);
  const byPress = new Map<string, number>();
  for (const a of alarms) {
    const key = `${a.deviceId}@${a.at}`;
    byPress.set(key, (byPress.get(key) ?? 0) + 1);
  }
  let lost = 0;
  let extra = 0;
  const pressed = new Set<string>();
  for (const p of presses) {
    const key = `${p.device}@${p.at}`;
    pressed.add(key);
    const n = byPress.get(key) ?? 0;
    if (n === 0) lost++;
    else extra += n - 1;
  }
  for (const [key, n] of byPress) if (!pressed.has(key)) extra += n;
  const stored = new Set(alarms.map((a) => a.id)).size;
  notes.push(
    `burst of ${presses.length} over ${((presses.length * profile.pressIntervalMs) / 1000).toFixed(1)} s; presses redelivered by devices and recognised: ${redelivered()}; alarms the gateway committed: ${committed()}`,
  );
  return { sent: presses.length, stored, lost, extra, ok: lost === 0 && extra === 0 && settled, notes };
}

async function homeRig(
  ctx: CaseContext,
  options: { cloudUrl?: string; cloudEnv?: Record<string, string> },
): Promise<ChaosRig> {
  mkdirSync(ctx.dir, { recursive: true });
  const rig = new ChaosRig(ctx.dir, ctx.onLine);
  if (options.cloudEnv) rig.setCloudEnv(options.cloudEnv);
  await rig.allocatePorts();
  await rig.provisionGateway();
  await rig.startCloud();
  rig.configureGateway(
    gatewayYaml(rig, join(ctx.dir, 'gateway'), {
      cloudUrl: options.cloudUrl ?? `mqtt://127.0.0.1:${rig.cloudMqttPort}`,
      // Alarm cases write no telemetry worth keeping; an address where nothing listens is enough.
      influxUrl: `http://127.0.0.1:${await freePort()}`,
      localBrokerPort: rig.localBrokerPort,
      pendants: ctx.profile.pendants,
      sensors: 0,
    }),
  );
  await rig.startGateway();
  await rig.startSim(pendants(ctx.profile.pendants));
  return rig;
}

async function timed(name: string, body: () => Promise<Omit<CaseResult, 'name' | 'durationMs'>>) {
  const started = Date.now();
  const result = await body();
  return { name, ...result, durationMs: Date.now() - started };
}

/** An alarm burst case: one home, `disrupt` at random moments of the burst. */
function alarmCase(
  name: string,
  what: string,
  disrupt: (rig: ChaosRig) => Promise<string>,
  options: (ctx: CaseContext) => Parameters<typeof homeRig>[1] = () => ({}),
): ChaosCase {
  return {
    name,
    what,
    run: (ctx) =>
      timed(name, async () => {
        const rig = await homeRig(ctx, options(ctx));
        try {
          return await alarmBurst(rig, ctx, name, () => disrupt(rig));
        } finally {
          await rig.stopAll();
        }
      }),
  };
}

export const gatewayKill = alarmCase(
  'gateway-kill',
  'SIGKILL the gateway at random moments during a burst of alarms',
  async (rig) => {
    await rig.kill('gateway');
    await rig.startGateway();
    return 'gateway SIGKILLed and restarted';
  },
);

export const cloudKill = alarmCase(
  'cloud-kill',
  'SIGKILL the cloud relay in the middle of a burst of alarms',
  async (rig) => {
    await rig.kill('cloud');
    await delay(1_000);
    await rig.startCloud();
    return 'cloud SIGKILLed, down 1 s, restarted';
  },
);

/** Gateway and relay both behind a private Mosquitto (the relay in `mqtt.external` mode). */
export const brokerRestart: ChaosCase = {
  name: 'broker-restart',
  what: 'restart the MQTT broker between gateway and cloud (Mosquitto) in the middle of a burst',
  run: async (ctx) => {
    const mosquitto = await startPrivateMosquitto({ dir: join(ctx.dir, 'mosquitto') });
    try {
      return await alarmCase(
        'broker-restart',
        '',
        async () => {
          await mosquitto.restart();
          return 'Mosquitto restarted';
        },
        () => ({ cloudUrl: mosquitto.url, cloudEnv: { HOMEBED_CLOUD__MQTT__EXTERNAL__URL: mosquitto.url } }),
      ).run(ctx);
    } finally {
      await mosquitto.stop();
    }
  },
};

interface SeriesCheck {
  stored: number;
  /** Per device: points missing from the middle of its sequence, or out of order. */
  gaps: string[];
  /** Per device: the last counter value stored. */
  last: Map<string, number>;
  /** Per device: points stored. */
  perDevice: Map<string, number>;
}

/** Read every sensor's series back and check its counter runs without a gap. */
async function readSeries(influxUrl: string, devices: readonly string[]): Promise<SeriesCheck> {
  const url = new URL(influxUrl);
  const client = new InfluxDB({ host: url.hostname, port: Number(url.port), database: DATABASE });
  const rows = (await client
    .query(`SELECT value, device FROM heart_rate ORDER BY time`)
    .catch((err: Error) => {
      // The gateway creates the database with its first write; before that there is nothing to read.
      if (/database not found/.test(err.message)) return [];
      throw err;
    })) as unknown as { value: number; device: string }[];
  const check: SeriesCheck = { stored: 0, gaps: [], last: new Map(), perDevice: new Map() };
  for (const device of devices) {
    const values = rows.filter((r) => r.device === device).map((r) => r.value);
    check.stored += values.length;
    check.perDevice.set(device, values.length);
    if (values.length) check.last.set(device, values[values.length - 1] as number);
    for (let i = 1; i < values.length; i++) {
      if (values[i] !== ((values[i - 1] as number) + 1) % 256) {
        check.gaps.push(`${device}: ${values[i - 1]} then ${values[i]}`);
        break;
      }
    }
  }
  return check;
}

/** Stop the sensors and wait until every report they made has been confirmed; returns them per device. */
async function stopSensors(rig: ChaosRig, count: number): Promise<Map<string, number>> {
  for (let i = 0; i < count; i++) await rig.native(`s${i}`, { availability: 'offline' });
  let previous = -1;
  const delivered = new Map<string, number>();
  await until(async () => {
    const states = (await rig.nativeStates()).filter((d) => d.id.startsWith('s'));
    for (const d of states) delivered.set(d.id, d.statesDelivered);
    const total = states.reduce((sum, d) => sum + d.statesDelivered, 0);
    const stable = total === previous;
    previous = total;
    return stable;
  }, 10_000);
  return delivered;
}

async function telemetryRig(ctx: CaseContext, influxUrl: string, maxSpoolPoints?: number): Promise<ChaosRig> {
  mkdirSync(ctx.dir, { recursive: true });
  const rig = new ChaosRig(ctx.dir, ctx.onLine);
  await rig.allocatePorts();
  await rig.provisionGateway();
  await rig.startCloud();
  rig.configureGateway(
    gatewayYaml(rig, join(ctx.dir, 'gateway'), {
      cloudUrl: `mqtt://127.0.0.1:${rig.cloudMqttPort}`,
      influxUrl,
      localBrokerPort: rig.localBrokerPort,
      pendants: 0,
      sensors: ctx.profile.sensors,
      ...(maxSpoolPoints ? { maxSpoolPoints } : {}),
    }),
  );
  await rig.startGateway();
  await rig.startSim(sensors(ctx.profile.sensors, ctx.profile.sensorIntervalMs));
  return rig;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

export const influxOutage: ChaosCase = {
  name: 'influx-outage',
  what: 'stop InfluxDB for a while under telemetry load',
  run: (ctx) =>
    timed('influx-outage', async () => {
      const { profile } = ctx;
      let influxd: PrivateInfluxd | null = await startPrivateInfluxd({
        dir: join(ctx.dir, 'influx'),
        keepData: true,
      });
      const port = influxd.port;
      const rig = await telemetryRig(ctx, influxd.url);
      const notes: string[] = [];
      try {
        await delay(3_000);
        await influxd.stop();
        influxd = null;
        ctx.say(`  InfluxDB stopped for ${profile.outageMs / 1000} s`);
        await delay(profile.outageMs);
        const spooled = (await rig.heartbeat())?.spoolDepth ?? 0;
        influxd = await startPrivateInfluxd({ dir: join(ctx.dir, 'influx'), port, keepData: true });
        const returnedAt = Date.now();
        await delay(3_000);
        const delivered = await stopSensors(rig, profile.sensors);
        const sent = sum(delivered);
        const devices = [...delivered.keys()];
        const url = influxd.url;
        let check = await readSeries(url, devices);
        const settled = await until(async () => {
          check = await readSeries(url, devices);
          return check.stored >= sent;
        }, profile.settleTimeoutMs);
        notes.push(
          `${profile.sensors} sensors at ${1000 / profile.sensorIntervalMs}/s; spool held ~${spooled} readings; all in ${((Date.now() - returnedAt) / 1000).toFixed(1)} s after InfluxDB returned`,
        );
        if (!settled) notes.push(`not settled after ${profile.settleTimeoutMs / 1000} s`);
        const perDeviceMismatch = devices.filter((d) => check.perDevice.get(d) !== delivered.get(d));
        if (perDeviceMismatch.length) notes.push(`count differs for ${perDeviceMismatch.join(', ')}`);
        notes.push(...check.gaps.map((g) => `sequence gap ${g}`));
        const lost = Math.max(0, sent - check.stored);
        const extra = Math.max(0, check.stored - sent);
        return {
          sent,
          stored: check.stored,
          lost,
          extra,
          ok: settled && lost === 0 && extra === 0 && check.gaps.length === 0 && !perDeviceMismatch.length,
          notes,
        };
      } finally {
        await rig.stopAll();
        await influxd?.stop();
      }
    }),
};

export const spoolBound: ChaosCase = {
  name: 'spool-bound',
  what: 'fill the spool past its bound while InfluxDB is down',
  run: (ctx) =>
    timed('spool-bound', async () => {
      const { profile } = ctx;
      const port = await freePort();
      const rig = await telemetryRig(ctx, `http://127.0.0.1:${port}`, profile.spoolBound);
      let influxd: PrivateInfluxd | null = null;
      const notes: string[] = [];
      try {
        const target = profile.spoolBound * profile.spoolOverfill;
        const rate = (profile.sensors * 1000) / profile.sensorIntervalMs;
        await delay((target / rate) * 1000);
        const delivered = await stopSensors(rig, profile.sensors);
        const sent = sum(delivered);
        // The gateway accounts for every reading: still waiting (depth) or dropped, as its heartbeat says.
        let dropped = 0;
        const accounted = await until(async () => {
          const hb = await rig.heartbeat();
          dropped = hb?.readingsDropped ?? 0;
          return hb !== null && hb.spoolDepth + dropped === sent;
        }, 20_000);
        if (!accounted) notes.push('the heartbeat never accounted for every reading');
        const alive = await rig.alive('gateway');
        if (!alive) notes.push('the gateway died');
        influxd = await startPrivateInfluxd({ dir: join(ctx.dir, 'influx'), port });
        const devices = [...delivered.keys()];
        const url = influxd.url;
        let check = await readSeries(url, devices);
        // Readings still in memory when InfluxDB returns may push older ones out of a full spool:
        // settled means the gateway has nothing left to write, and its drop count is final then.
        const settled = await until(async () => {
          const hb = await rig.heartbeat();
          if (!hb || hb.spoolDepth > 0) return false;
          dropped = hb.readingsDropped;
          check = await readSeries(url, devices);
          return check.stored >= sent - dropped;
        }, profile.settleTimeoutMs);
        if (!settled) notes.push(`not settled after ${profile.settleTimeoutMs / 1000} s`);
        // Newest kept: each sensor's stored series ends with its last report and runs without a gap.
        const newestMissing = devices.filter(
          (d) => check.last.get(d) !== ((delivered.get(d) ?? 0) + 255) % 256,
        );
        if (newestMissing.length) notes.push(`newest reading missing for ${newestMissing.join(', ')}`);
        notes.push(...check.gaps.map((g) => `sequence gap ${g}`));
        notes.push(`bound ${profile.spoolBound}; gateway alive: ${alive}`);
        const lost = Math.max(0, sent - dropped - check.stored);
        const extra = Math.max(0, check.stored - (sent - dropped));
        return {
          sent,
          stored: check.stored,
          lost,
          extra,
          dropped,
          ok:
            accounted &&
            settled &&
            alive &&
            dropped > 0 &&
            lost === 0 &&
            extra === 0 &&
            !newestMissing.length &&
            !check.gaps.length,
          notes,
        };
      } finally {
        await rig.stopAll();
        await influxd?.stop();
      }
    }),
};

export const CHAOS_CASES: readonly ChaosCase[] = [
  gatewayKill,
  cloudKill,
  brokerRestart,
  influxOutage,
  spoolBound,
];

export function formatResult(r: CaseResult): string {
  const dropped = r.dropped === undefined ? '' : `  dropped ${r.dropped}`;
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(15)} sent ${String(r.sent).padStart(6)}  stored ${String(r.stored).padStart(6)}  lost ${r.lost}  extra ${r.extra}${dropped}  (${(r.durationMs / 1000).toFixed(1)} s)`;
}
