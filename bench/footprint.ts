/**
 * Gateway footprint: the memory and CPU an idle gateway needs for a six-device
 * home kit, beside Node-RED doing the same reads and writes.
 *
 * The kit: an MR60BHA1 bed radar and an MR60FDA1 fall radar on serial PTYs, an
 * RFLink receiver on a PTY hearing an EV1527 SOS button and a door contact, and
 * a zigbee2mqtt SOS button over MQTT — all played by the simulator, byte for
 * byte. Idle means nobody presses anything: the radars send their normal
 * periodic reports (body movement every second, heart and breath rate every
 * 3 s, module heartbeats), the zigbee button checks in now and then.
 *
 * Node-RED cannot share the gateway's PTYs, so it gets its own simulator with
 * the same configuration and seed; its flow reads the ports with
 * node-red-node-serialport, parses the Seeed frames (header, length, checksum,
 * tail) and the RFLink lines in function nodes, reads zigbee2mqtt from a
 * private Mosquitto and writes the same measurements to InfluxDB. Both run side
 * by side in one window: CPU and memory are measured per process tree, so they
 * do not count each other.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedChild } from '../tools/child-processes.js';
import { freePort } from '../tools/free-port.js';
import { type PrivateInfluxd, startPrivateInfluxd } from '../tools/influxd.js';
import { findMosquitto, type PrivateMosquitto, startPrivateMosquitto } from '../tools/mosquitto.js';
import type { BenchContext, Benchmark } from './lib/context.js';
import { startResult } from './lib/context.js';
import { programVersion } from './lib/machine.js';
import {
  ensureNodeRed,
  type FlowNode,
  flowTab,
  functionNode,
  influxWriterNodes,
  mqttBrokerNode,
  mqttInNode,
  nodeRedVersions,
  type RunningNodeRed,
  serialInNode,
  serialPortNode,
  startNodeRed,
} from './lib/node-red.js';
import { UsageMonitor, type UsageReport } from './lib/process-usage.js';
import { runCommand, startProgram } from './lib/programs.js';
import type { Comparison } from './lib/results.js';

const FULL = { windowS: 300, warmupS: 15 };
const QUICK = { windowS: 15, warmupS: 3 };
const GATEWAY_ID = 'gw-bench-footprint';
const BED_ID = 'bed-bench-footprint';
const GATEWAY_SECRET = 'bench-footprint-secret';
/** zigbee2mqtt re-sends the button's state this often (battery, link quality), like a periodic report. */
const ZIGBEE_CHECKIN_MS = 60_000;
const GATEWAY_DB = 'footprint_gateway';
const NODE_RED_DB = 'footprint_nodered';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// InfluxDB over plain HTTP.

async function influxQuery(url: string, db: string, q: string, method: 'GET' | 'POST' = 'GET') {
  const params = new URLSearchParams({ db, q, epoch: 'ms' });
  const response = await fetch(`${url}/query?${params}`, { method });
  const body = (await response.json()) as {
    results?: { error?: string; series?: { name: string; values: unknown[][] }[] }[];
    error?: string;
  };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!response.ok || error) throw new Error(`InfluxDB query ${q} failed: ${error ?? response.status}`);
  return (body.results ?? []).map((r) => r.series ?? []);
}

/**
 * Points per measurement with a timestamp in [fromMs, toMs), one statement per measurement (InfluxDB 1.6
 * leaves boolean fields out of a count() over several measurements).
 */
async function countByMeasurement(
  url: string,
  db: string,
  fromMs: number,
  toMs: number,
): Promise<Record<string, number>> {
  const [measurements] = await influxQuery(url, db, 'SHOW MEASUREMENTS');
  const names = (measurements?.[0]?.values ?? []).map((v) => String(v[0]));
  if (!names.length) return {};
  const results = await influxQuery(
    url,
    db,
    names
      .map((m) => `SELECT count(value) FROM "${m}" WHERE time >= ${fromMs}ms AND time < ${toMs}ms`)
      .join('; '),
  );
  const counts: Record<string, number> = {};
  for (const [i, name] of names.entries()) counts[name] = Number(results[i]?.[0]?.values[0]?.[1] ?? 0);
  return counts;
}

/** Resolves with ms since `since` once `db` holds a body_movement point (the radars' 1 s report). */
async function firstPoint(url: string, db: string, since: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const [series] = await influxQuery(url, db, 'SELECT count(value) FROM "body_movement"');
      if (series?.length) return performance.now() - since;
    } catch {
      // The database may not exist yet: the gateway creates its own on its first write.
    }
    if (performance.now() > deadline) throw new Error(`no reading reached ${db} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The kit.

interface Kit {
  /** PTY paths the program under test opens (the simulator's hostPath). */
  bedRadar: string;
  fallRadar: string;
  rflink: string;
}

/** A simulator config for one kit; both programs get one each, identical but for paths, ports and broker. */
function simConfig(devDir: string, controlPort: number, mqttUrl: string, seed: number) {
  const pty = (name: string) => ({ devicePath: join(devDir, `sim-${name}`), hostPath: join(devDir, name) });
  return {
    config: {
      control: { host: '127.0.0.1', port: controlPort },
      seed,
      log: { level: 'info' },
      mqtt: { url: mqttUrl, reconnectPeriodMs: 500 },
      devices: [
        // Vital signs from the start: the window should see the steady reporting, not the 20 s set-up.
        { id: 'bed-radar', kind: 'mr60bha1', ...pty('bed-radar'), observationSetupMs: 0 },
        { id: 'fall-radar', kind: 'mr60fda1', ...pty('fall-radar') },
        {
          id: 'rflink',
          kind: 'rflink',
          ...pty('rflink'),
          transmitters: [
            { name: 'sos', kind: 'button', protocol: 'EV1527', id: '0d3e4', switch: '01' },
            { name: 'front-door', kind: 'contact', protocol: 'EV1527', id: '1a2b3', switch: '01' },
          ],
        },
      ],
      zigbee2mqtt: {
        devices: [{ friendlyName: 'bathroom_sos', kind: 'sos_button', checkinIntervalMs: ZIGBEE_CHECKIN_MS }],
      },
    },
    kit: {
      bedRadar: join(devDir, 'bed-radar'),
      fallRadar: join(devDir, 'fall-radar'),
      rflink: join(devDir, 'rflink'),
    } satisfies Kit,
  };
}

function gatewayConfig(options: {
  dataDir: string;
  kit: Kit;
  influxUrl: string;
  cloudMqttPort: number;
  localBrokerPort: number;
}) {
  return {
    gatewayId: GATEWAY_ID,
    bedId: BED_ID,
    dataDir: options.dataDir,
    cloud: { url: `mqtt://127.0.0.1:${options.cloudMqttPort}`, secret: GATEWAY_SECRET },
    influx: { url: options.influxUrl, database: GATEWAY_DB },
    localBroker: { host: '127.0.0.1', port: options.localBrokerPort },
    // On as in production, on a free port: other benchmarks' gateways may hold the default 9464.
    ops: { port: 0 },
    serialPorts: [
      { id: 'bed-radar-port', path: options.kit.bedRadar, protocol: 'seeed' },
      { id: 'fall-radar-port', path: options.kit.fallRadar, protocol: 'seeed' },
      { id: 'rflink-port', path: options.kit.rflink, protocol: 'rflink' },
    ],
    devices: [
      { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom', link: 'bed-radar-port' },
      { id: 'fall-radar', kind: 'mr60fda1', role: 'fall_radar', room: 'bathroom', link: 'fall-radar-port' },
      {
        id: 'sos-button',
        kind: 'rf_button',
        role: 'sos_button',
        room: 'bedroom',
        link: 'rflink-port',
        address: 'EV1527:0d3e4:01',
      },
      {
        id: 'front-door',
        kind: 'rf_contact',
        role: 'front_door',
        room: 'hall',
        link: 'rflink-port',
        address: 'EV1527:1a2b3:01',
      },
      { id: 'bathroom-sos', kind: 'zigbee', role: 'sos_button', room: 'bathroom', address: 'bathroom_sos' },
    ],
    log: { level: 'info' },
  };
}

// ---------------------------------------------------------------------------------------------
// Node-RED's flow for the same kit. The function bodies are what a Node-RED user would write: the
// vendor's frame layout and the gateway's measurement names, nothing more.

const TAGS = (device: string) => `{ gateway: 'node-red', bed: '${BED_ID}', device: '${device}' }`;

/** Seeed 60 GHz frames → points; partial frames wait in the node's context for the next chunk. */
function seeedFunction(device: string): string {
  return `// Seeed 60 GHz frames: 53 59 | control | command | length (2, big-endian) | data | checksum | 54 43.
const MOTION = ['none', 'stationary', 'active'];
const BREATH = [undefined, 'normal', 'too_fast', 'too_slow', 'none'];
const BED_STATE = ['out_of_bed', 'in_bed', 'none'];
const SLEEP = ['deep', 'light', 'awake', 'none'];
const previous = context.get('buf');
const buf = previous && previous.length ? Buffer.concat([previous, msg.payload]) : msg.payload;
const timestamp = new Date();
const tags = ${TAGS(device)};
const points = [];
const point = (measurement, value) => points.push({ measurement, tags, fields: { value }, timestamp });
let i = 0;
while (buf.length - i >= 9) {
  if (buf[i] !== 0x53 || buf[i + 1] !== 0x59) { i++; continue; }
  const len = buf.readUInt16BE(i + 4);
  if (len > 128) { i++; continue; }
  const end = i + 9 + len;
  if (end > buf.length) break;
  let sum = 0;
  for (let k = i; k < i + 6 + len; k++) sum = (sum + buf[k]) & 0xff;
  if (sum !== buf[i + 6 + len] || buf[end - 2] !== 0x54 || buf[end - 1] !== 0x43) { i++; continue; }
  const key = (buf[i + 2] << 8) | buf[i + 3];
  const d = buf.subarray(i + 6, i + 6 + len);
  i = end;
  if (len === 0) continue;
  switch (key) {
    case 0x8001: point('presence', d[0] === 1); break;
    case 0x8002: if (MOTION[d[0]]) point('motion', MOTION[d[0]]); break;
    case 0x8003: point('body_movement', d[0]); break;
    case 0x8004: if (len === 2) point('distance', d.readUInt16BE(0)); break;
    case 0x8101: if (BREATH[d[0]]) point('breath_status', BREATH[d[0]]); break;
    case 0x8102: point('breath_rate', d[0]); break;
    case 0x8502: point('heart_rate', d[0]); break;
    case 0x8401: if (BED_STATE[d[0]]) { point('bed_state', BED_STATE[d[0]]); point('in_bed', d[0] === 1); } break;
    case 0x8402: if (SLEEP[d[0]]) point('sleep_state', SLEEP[d[0]]); break;
    case 0x8301: point('fall', d[0] === 1); break;
    case 0x8305: point('stationary_residency', d[0] === 1); break;
  }
}
// Keep an incomplete frame for the next chunk (at most 256 bytes: noise must not grow it forever).
const rest = buf.subarray(i);
context.set('buf', Buffer.from(rest.length > 256 ? rest.subarray(rest.length - 256) : rest));
if (points.length === 0) return null;
msg.payload = points;
return msg;`;
}

/** RFLink lines → points for the two paired transmitters. */
const RFLINK_FUNCTION = `// RFLink: 20;<seq>;<protocol>;ID=…;SWITCH=…;CMD=ON|OFF;[BAT=OK|LOW;]
const PAIRED = {
  'EV1527:0d3e4:01': { device: 'sos-button', kind: 'button' },
  'EV1527:1a2b3:01': { device: 'front-door', kind: 'contact' },
};
const fields = String(msg.payload).trim().split(';');
if (fields[0] !== '20' || fields.length < 5) return null;
const kv = {};
for (const f of fields.slice(3)) {
  const eq = f.indexOf('=');
  if (eq > 0) kv[f.slice(0, eq)] = f.slice(eq + 1);
}
if (!kv.ID) return null;
const paired = PAIRED[fields[2] + ':' + kv.ID + ':' + (kv.SWITCH || '')];
if (!paired) return null;
const timestamp = new Date();
const tags = { gateway: 'node-red', bed: '${BED_ID}', device: paired.device };
const points = [];
if (paired.kind === 'button' && kv.CMD === 'ON') {
  // A transmitter repeats one press several times within a second: one press.
  const last = context.get(paired.device) || 0;
  context.set(paired.device, timestamp.getTime());
  if (timestamp.getTime() - last > 1000) points.push({ measurement: 'action', tags, fields: { value: 'button_press' }, timestamp });
}
if (paired.kind === 'contact' && kv.CMD) points.push({ measurement: 'contact_open', tags, fields: { value: kv.CMD === 'ON' }, timestamp });
if (kv.BAT) points.push({ measurement: 'battery_low', tags, fields: { value: kv.BAT === 'LOW' }, timestamp });
if (points.length === 0) return null;
msg.payload = points;
return msg;`;

/** zigbee2mqtt device state → points, with the gateway's property names. */
const ZIGBEE_FUNCTION = `// zigbee2mqtt state of the bathroom SOS button.
const s = msg.payload;
if (typeof s !== 'object' || s === null) return null;
const timestamp = new Date();
const tags = ${TAGS('bathroom-sos')};
const points = [];
const point = (measurement, value) => points.push({ measurement, tags, fields: { value }, timestamp });
if (typeof s.battery === 'number') point('battery', Math.round(s.battery));
if (typeof s.battery_low === 'boolean') point('battery_low', s.battery_low);
if (typeof s.linkquality === 'number') point('linkquality', Math.round(s.linkquality));
if (typeof s.action === 'string' && s.action !== '') {
  const a = s.action.toLowerCase();
  if (['emergency', 'sos', 'panic'].includes(a)) point('action', 'sos');
  else if (['single', 'press', 'on', 'click'].includes(a)) point('action', 'button_press');
}
if (points.length === 0) return null;
msg.payload = points;
return msg;`;

function nodeRedFlow(kit: Kit, influxUrl: string, mqttUrl: string): FlowNode[] {
  // Batches like the gateway's defaults: up to 500 readings per write, or whatever came within 1 s.
  const writer = influxWriterNodes({
    influxUrl,
    database: NODE_RED_DB,
    messagesPerBatch: 500,
    flushAfterS: 1,
  });
  const radarPort = (path: string) =>
    // A frame arrives in one burst; a 5 ms pause ends a chunk (frames may still be split or merged: the parser copes).
    ({ path, baud: 115200, split: { kind: 'interbyte' as const, ms: 5 }, binary: true });
  return [
    flowTab('footprint'),
    serialPortNode('cfg-bed-radar', radarPort(kit.bedRadar)),
    serialPortNode('cfg-fall-radar', radarPort(kit.fallRadar)),
    serialPortNode('cfg-rflink', {
      path: kit.rflink,
      baud: 57600,
      split: { kind: 'char', char: '\\n' },
      binary: false,
    }),
    mqttBrokerNode('cfg-mqtt', mqttUrl, 'bench-node-red-footprint'),
    serialInNode('bed-radar-in', 'cfg-bed-radar', ['bed-radar-parse']),
    functionNode('bed-radar-parse', 'bed radar frames', seeedFunction('bed-radar'), [writer.input]),
    serialInNode('fall-radar-in', 'cfg-fall-radar', ['fall-radar-parse']),
    functionNode('fall-radar-parse', 'fall radar frames', seeedFunction('fall-radar'), [writer.input]),
    serialInNode('rflink-in', 'cfg-rflink', ['rflink-parse']),
    functionNode('rflink-parse', 'RFLink lines', RFLINK_FUNCTION, [writer.input]),
    mqttInNode('zigbee-in', {
      broker: 'cfg-mqtt',
      topic: 'zigbee2mqtt/bathroom_sos',
      qos: 0,
      wires: ['zigbee-parse'],
    }),
    functionNode('zigbee-parse', 'zigbee state', ZIGBEE_FUNCTION, [writer.input]),
    ...writer.nodes,
  ];
}

// ---------------------------------------------------------------------------------------------

interface ProgramFigures {
  /** From spawn to the program's own ready line (gateway: `gateway started`; Node-RED: flows started, broker connected, ports open). */
  readyMs: number;
  /** From spawn to its first radar reading in InfluxDB. */
  firstPointMs: number;
  usage: UsageReport;
  /** Points it wrote with a timestamp inside the window, by measurement. */
  pointsWritten: { total: number; byMeasurement: Record<string, number> };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const benchmark: Benchmark = {
  name: 'footprint',
  title: 'Gateway footprint: an idle six-device home',
  async run(ctx: BenchContext) {
    const result = startResult('footprint', benchmark.title);
    const timing = ctx.quick ? QUICK : FULL;
    const dir = join(ctx.dir, 'footprint');
    const children: ManagedChild[] = [];
    let influxd: PrivateInfluxd | undefined;
    let mosquitto: PrivateMosquitto | undefined;
    let nodeRed: RunningNodeRed | undefined;
    const log = (label: string) => (line: string) => {
      if (ctx.verbose) ctx.say(`[${label}] ${line}`);
    };
    try {
      await ensureNodeRed(ctx.say);
      influxd = await startPrivateInfluxd({ dir: join(dir, 'influxdb') });
      await influxQuery(influxd.url, NODE_RED_DB, `CREATE DATABASE "${NODE_RED_DB}"`, 'POST');
      // Node-RED's broker for zigbee2mqtt (the gateway has its own, built in).
      mosquitto = await startPrivateMosquitto({ dir: join(dir, 'mosquitto') });

      // The cloud relay the gateway keeps its link to (heartbeats): an idle gateway is a connected one.
      const cloudMqttPort = await freePort();
      const cloudConfigFile = join(dir, 'cloud.json');
      writeFileSync(
        cloudConfigFile,
        JSON.stringify({
          dataDir: join(dir, 'cloud'),
          mqtt: { host: '127.0.0.1', port: cloudMqttPort },
          http: { host: '127.0.0.1', port: await freePort() },
          log: { level: 'info' },
        }),
      );
      await runCommand('cloud', [
        'gateway',
        'add',
        GATEWAY_ID,
        '--secret',
        GATEWAY_SECRET,
        '-c',
        cloudConfigFile,
      ]);
      children.push(await startProgram('cloud', ['run', '-c', cloudConfigFile], { onLine: log('cloud') }));

      // Two simulators with the same kit and seed: one for each program.
      const localBrokerPort = await freePort();
      const simA = simConfig(
        join(dir, 'dev-gateway'),
        await freePort(),
        `mqtt://127.0.0.1:${localBrokerPort}`,
        ctx.seed,
      );
      const simB = simConfig(join(dir, 'dev-node-red'), await freePort(), mosquitto.url, ctx.seed);
      for (const [label, sim] of [
        ['sim-gateway', simA],
        ['sim-node-red', simB],
      ] as const) {
        const file = join(dir, `${label}.json`);
        writeFileSync(file, JSON.stringify(sim.config, null, 2));
        children.push(await startProgram('sim', ['run', '--config', file], { label, onLine: log(label) }));
      }

      // The gateway, then Node-RED, one at a time so that neither start-up is slowed by the other.
      const gatewayFile = join(dir, 'gateway.json');
      writeFileSync(
        gatewayFile,
        JSON.stringify(
          gatewayConfig({
            dataDir: join(dir, 'gateway-data'),
            kit: simA.kit,
            influxUrl: influxd.url,
            cloudMqttPort,
            localBrokerPort,
          }),
          null,
          2,
        ),
      );
      const gatewaySpawned = performance.now();
      const gateway = await startProgram('gateway', ['run', '--config', gatewayFile], {
        onLine: log('gateway'),
      });
      children.push(gateway);
      const gatewayReadyMs = performance.now() - gatewaySpawned;
      const gatewayFirstPointMs = await firstPoint(influxd.url, GATEWAY_DB, gatewaySpawned, 30_000);
      ctx.say(
        `gateway ready in ${gatewayReadyMs.toFixed(0)} ms, first reading in InfluxDB after ${gatewayFirstPointMs.toFixed(0)} ms`,
      );

      nodeRed = await startNodeRed({
        userDir: join(dir, 'node-red'),
        flows: nodeRedFlow(simB.kit, influxd.url, mosquitto.url),
        readyLines: [
          /Connected to broker/,
          ...[simB.kit.bedRadar, simB.kit.fallRadar, simB.kit.rflink].map(
            (path) => new RegExp(`serial port ${escapeRegExp(path)} opened`),
          ),
        ],
        onLine: log('node-red'),
      });
      const nodeRedFirstPointMs = await firstPoint(influxd.url, NODE_RED_DB, nodeRed.spawnedAt, 30_000);
      ctx.say(
        `node-red ready in ${nodeRed.readyMs.toFixed(0)} ms, first reading in InfluxDB after ${nodeRedFirstPointMs.toFixed(0)} ms`,
      );

      // Warm-up: both settle (JIT, first batches, the gateway's identification queries and first heartbeat).
      await sleep(timing.warmupS * 1000);
      ctx.say(`measuring both for ${timing.windowS} s, side by side…`);
      const monitors = {
        gateway: new UsageMonitor(gateway.pid),
        nodeRed: new UsageMonitor(nodeRed.pid),
        mosquitto: new UsageMonitor(mosquitto.pid),
      };
      for (const m of Object.values(monitors)) m.start();
      // A program that died mid-window would look wonderfully frugal: fail instead.
      let died: string | null = null;
      for (const child of [...children, nodeRed.child])
        void child.exited.then((code) => {
          died ??= `${child.name} exited (code ${code}) during the window`;
        });
      const windowFrom = Date.now();
      const windowEnd = performance.now() + timing.windowS * 1000;
      while (performance.now() < windowEnd && died === null)
        await sleep(Math.min(1000, windowEnd - performance.now()));
      if (died !== null) throw new Error(died);
      const usage = {
        gateway: monitors.gateway.stop(),
        nodeRed: monitors.nodeRed.stop(),
        mosquitto: monitors.mosquitto.stop(),
      };
      const windowTo = Date.now();
      // Let the last batches land (flush interval 1 s), then count what each wrote inside the window.
      await sleep(2000);
      const written = async (db: string) => {
        const byMeasurement = await countByMeasurement(influxd!.url, db, windowFrom, windowTo);
        return { total: Object.values(byMeasurement).reduce((a, b) => a + b, 0), byMeasurement };
      };
      const gatewayFigures: ProgramFigures = {
        readyMs: Math.round(gatewayReadyMs),
        firstPointMs: Math.round(gatewayFirstPointMs),
        usage: usage.gateway,
        pointsWritten: await written(GATEWAY_DB),
      };
      const nodeRedFigures: ProgramFigures = {
        readyMs: Math.round(nodeRed.readyMs),
        firstPointMs: Math.round(nodeRedFirstPointMs),
        usage: usage.nodeRed,
        pointsWritten: await written(NODE_RED_DB),
      };
      for (const [name, f] of [
        ['gateway', gatewayFigures],
        ['node-red', nodeRedFigures],
      ] as const) {
        if (!f.pointsWritten.byMeasurement.body_movement)
          throw new Error(`${name} wrote no radar readings during the window: it was not doing the job`);
        ctx.say(
          `${name}: RSS ${f.usage.rssMiB.mean} MiB mean / ${f.usage.rssMiB.max} max, CPU ${f.usage.cpuPercent} % ` +
            `(${f.usage.cpuSeconds} s), ${f.pointsWritten.total} points written`,
        );
      }
      ctx.say(`mosquitto: RSS ${usage.mosquitto.rssMiB.mean} MiB, CPU ${usage.mosquitto.cpuPercent} %`);

      const comparisons: Comparison[] = [
        {
          figure: 'RSS mean, idle six-device home',
          unit: 'MiB',
          ours: usage.gateway.rssMiB.mean,
          reference: {
            kind: 'peer',
            label: 'Node-RED (without its Mosquitto)',
            value: usage.nodeRed.rssMiB.mean,
          },
          better: 'lower',
        },
        {
          figure: 'CPU, idle six-device home',
          unit: '% of a core',
          ours: usage.gateway.cpuPercent,
          reference: {
            kind: 'peer',
            label: 'Node-RED (without its Mosquitto)',
            value: usage.nodeRed.cpuPercent,
          },
          better: 'lower',
        },
      ];
      return result.finish({
        method:
          `An idle gateway with a six-device kit (bed and fall radar, RFLink with an SOS button and a door contact, ` +
          `a zigbee2mqtt SOS button; all simulated) measured for ${timing.windowS} s beside Node-RED reading and ` +
          'writing the same kit.',
        versions: {
          influxd: programVersion('influxd', ['version']),
          mosquitto: programVersion(findMosquitto() ?? 'mosquitto', ['-h']),
          ...nodeRedVersions(),
        },
        parameters: {
          windowS: timing.windowS,
          warmupS: timing.warmupS,
          kit: [
            'mr60bha1 (serial)',
            'mr60fda1 (serial)',
            'rflink (serial)',
            'rf_button',
            'rf_contact',
            'zigbee sos_button',
          ],
          zigbeeCheckinS: ZIGBEE_CHECKIN_MS / 1000,
          sampleIntervalS: 1,
          seed: ctx.seed,
        },
        figures: {
          gateway: gatewayFigures,
          nodeRed: nodeRedFigures,
          mosquitto: { usage: usage.mosquitto },
          nodeRedWithMosquitto: {
            rssMiBMean: Math.round((usage.nodeRed.rssMiB.mean + usage.mosquitto.rssMiB.mean) * 10) / 10,
            cpuPercent: Math.round((usage.nodeRed.cpuPercent + usage.mosquitto.cpuPercent) * 100) / 100,
          },
        },
        comparisons,
        notes: [
          'The gateway and Node-RED run side by side in the same window to save time; CPU and RSS are measured ' +
            'per process tree from /proc every second, so neither counts the other (the simulators, InfluxDB and ' +
            'the cloud relay are not measured).',
          "The gateway's figures include its embedded MQTT broker (aedes, for zigbee2mqtt); Node-RED's do not " +
            `include the Mosquitto it needs, reported apart (RSS ${usage.mosquitto.rssMiB.mean} MiB, CPU ${usage.mosquitto.cpuPercent} %).`,
          'The gateway does more than Node-RED here: care rules, device and link supervision (health points every ' +
            '60 s), the SQLite alarm outbox and spool, the cloud link with heartbeats every 30 s, the ops server; ' +
            "Node-RED's flow only parses and writes. It runs headless (no editor, no HTTP server), its lightest set-up.",
          'Each program reads its own simulated kit (same configuration and seed): Node-RED cannot open the ' +
            "gateway's PTYs. Start-up times are from spawn, measured one program at a time.",
        ],
      });
    } finally {
      await nodeRed?.stop().catch(() => {});
      for (const child of children.reverse()) await child.stop().catch(() => {});
      await mosquitto?.stop();
      await influxd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;
