/**
 * Node-RED as the peer of the ingest and footprint benchmarks: installed into
 * bench/peers/node-red (never a dependency of the product), configured with a
 * generated settings file and flow in a private userDir, started with plain
 * `node red.js` in its own process group so that its CPU and memory are
 * measured like the gateway's.
 *
 * The settings make it a quiet headless runtime: no editor or HTTP server
 * (the lightest way to run it, so the comparison does not charge it for a UI
 * the gateway lacks), no telemetry, update check, diagnostics, palette
 * catalogue or module installs — nothing reaches the internet.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ManagedChild, REPO_ROOT, startChild, waitForLine } from '../../tools/child-processes.js';
import { packageVersion } from './machine.js';

const run = promisify(execFile);

export const NODE_RED_PEER_DIR = join(REPO_ROOT, 'bench', 'peers', 'node-red');
const NODE_MODULES = join(NODE_RED_PEER_DIR, 'node_modules');
const LOCKFILE = join(NODE_RED_PEER_DIR, 'package-lock.json');
/** npm writes this "hidden lockfile" at the end of every install: its age is the install's. */
const INSTALLED_LOCKFILE = join(NODE_MODULES, '.package-lock.json');
const RED_JS = join(NODE_MODULES, 'node-red', 'red.js');

/** The Node-RED packages the flows use, as installed (for the result's `versions`). */
export function nodeRedVersions(): Record<string, string> {
  return {
    'node-red': packageVersion('node-red', NODE_MODULES),
    'node-red-contrib-influxdb': packageVersion('node-red-contrib-influxdb', NODE_MODULES),
    'node-red-node-serialport': packageVersion('node-red-node-serialport', NODE_MODULES),
  };
}

/** Whether bench/peers/node-red needs `npm ci`: nothing installed, or installed from an older lockfile. */
export function nodeRedInstallIsStale(): boolean {
  if (!existsSync(RED_JS) || !existsSync(INSTALLED_LOCKFILE)) return true;
  return statSync(INSTALLED_LOCKFILE).mtimeMs < statSync(LOCKFILE).mtimeMs;
}

/**
 * Install the peer from its lockfile when missing or stale (`npm ci`, about a minute the first time).
 * The runner's clock keeps going meanwhile: run a benchmark once more for figures after an install.
 */
export async function ensureNodeRed(say: (line: string) => void): Promise<void> {
  if (!nodeRedInstallIsStale()) return;
  say('installing Node-RED (npm ci --prefix bench/peers/node-red)…');
  try {
    await run('npm', ['ci', '--prefix', NODE_RED_PEER_DIR, '--no-audit', '--no-fund'], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 2 ** 20,
      timeout: 15 * 60_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `npm ci for the Node-RED peer failed: ${e.message}\n${(e.stderr ?? '').split('\n').slice(-20).join('\n')}`,
    );
  }
  if (!existsSync(RED_JS)) throw new Error(`npm ci finished but ${RED_JS} is missing`);
}

/** One node of a Node-RED flow file (flows.json is an array of these). */
export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

/** The tab every benchmark flow lives on. */
export const FLOW_TAB = 'bench-tab';

export function flowTab(label: string): FlowNode {
  return { id: FLOW_TAB, type: 'tab', label, disabled: false, info: '' };
}

/** An MQTT broker connection (config node), MQTT 3.1.1, clean session, as the palette's defaults. */
export function mqttBrokerNode(id: string, url: string, clientId: string): FlowNode {
  const u = new URL(url);
  return {
    id,
    type: 'mqtt-broker',
    // Never equal to a config node's id: Node-RED would take it for a reference (a "circular dependency").
    name: `mqtt ${u.host}`,
    broker: u.hostname,
    port: u.port,
    clientid: clientId,
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: true,
    autoUnsubscribe: true,
  };
}

/** `mqtt in` parsing JSON payloads. */
export function mqttInNode(
  id: string,
  options: { broker: string; topic: string; qos: 0 | 1; wires: string[] },
): FlowNode {
  return {
    id,
    type: 'mqtt in',
    z: FLOW_TAB,
    name: options.topic,
    topic: options.topic,
    qos: String(options.qos),
    datatype: 'json',
    broker: options.broker,
    nl: false,
    rap: true,
    rh: 0,
    inputs: 0,
    wires: [options.wires],
  };
}

/** A function node: `func` is the body Node-RED wraps in `function (msg) { … }`. */
export function functionNode(id: string, name: string, func: string, wires: string[]): FlowNode {
  return {
    id,
    type: 'function',
    z: FLOW_TAB,
    name,
    func,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    wires: [wires],
  };
}

/** A serial port (config node) as node-red-node-serialport configures one, 8N1, no flow control. */
export function serialPortNode(
  id: string,
  options: {
    path: string;
    baud: number;
    split: { kind: 'char'; char: string } | { kind: 'interbyte'; ms: number };
    binary: boolean;
  },
): FlowNode {
  return {
    id,
    type: 'serial-port',
    name: `serial ${options.path}`,
    serialport: options.path,
    serialbaud: String(options.baud),
    databits: '8',
    parity: 'none',
    stopbits: '1',
    waitfor: '',
    dtr: 'none',
    rts: 'none',
    cts: 'none',
    dsr: 'none',
    newline: options.split.kind === 'char' ? options.split.char : String(options.split.ms),
    bin: options.binary ? 'bin' : 'false',
    out: options.split.kind,
    addchar: '',
    responsetimeout: '10000',
  };
}

export function serialInNode(id: string, serialConfig: string, wires: string[]): FlowNode {
  return {
    id,
    type: 'serial in',
    z: FLOW_TAB,
    name: `from ${serialConfig}`,
    serial: serialConfig,
    wires: [wires],
  };
}

/**
 * The write end every flow shares: a join node batches the point arrays the
 * parsing functions emit (by message count, or after 1 s like the gateway's
 * flush interval), a function flattens the batch, and node-red-contrib-influxdb's
 * `influxdb batch` node writes it to InfluxDB 1.x with millisecond precision.
 * Returns the nodes and the id to wire the producers to.
 */
export function influxWriterNodes(options: {
  influxUrl: string;
  database: string;
  /** Messages per batch (each carries a few points). */
  messagesPerBatch: number;
  flushAfterS: number;
}): { input: string; nodes: FlowNode[] } {
  const u = new URL(options.influxUrl);
  return {
    input: 'influx-join',
    nodes: [
      {
        id: 'influx-config',
        type: 'influxdb',
        hostname: u.hostname,
        port: u.port,
        protocol: 'http',
        database: options.database,
        name: 'influxdb',
        usetls: false,
        tls: '',
        influxdbVersion: '1.x',
        url: '',
        timeout: '10',
        rejectUnauthorized: true,
      },
      {
        id: 'influx-join',
        type: 'join',
        z: FLOW_TAB,
        name: 'batch',
        mode: 'custom',
        build: 'array',
        property: 'payload',
        propertyType: 'msg',
        key: 'topic',
        joiner: '\\n',
        joinerType: 'str',
        useparts: false,
        accumulate: false,
        timeout: String(options.flushAfterS),
        count: String(options.messagesPerBatch),
        reduceRight: false,
        reduceExp: '',
        reduceInit: '',
        reduceInitType: '',
        reduceFixup: '',
        wires: [['influx-flatten']],
      },
      functionNode('influx-flatten', 'flatten', 'msg.payload = msg.payload.flat();\nreturn msg;', [
        'influx-batch',
      ]),
      {
        id: 'influx-batch',
        type: 'influxdb batch',
        z: FLOW_TAB,
        name: 'write',
        influxdb: 'influx-config',
        precision: 'ms',
        retentionPolicy: '',
        database: '',
        precisionV18FluxV20: 'ms',
        retentionPolicyV18Flux: '',
        org: '',
        bucket: '',
        wires: [],
      },
    ],
  };
}

/**
 * Node-RED tells flow nodes from config nodes by their editor position (`x`, `y`): give every node on
 * the tab one, in a column, so the file also opens readably in an editor.
 */
function placed(flows: FlowNode[]): FlowNode[] {
  let row = 0;
  return flows.map((n) => (n.z === FLOW_TAB && n.x === undefined ? { ...n, x: 200, y: 40 + 60 * row++ } : n));
}

/** The settings file of a private, headless, offline Node-RED. */
export function renderNodeRedSettings(userDir: string): string {
  const settings = {
    userDir,
    flowFile: join(userDir, 'flows.json'),
    flowFilePretty: true,
    // No credentials in these flows; false keeps Node-RED from generating and storing a key.
    credentialSecret: false,
    // Headless: no editor, admin API or HTTP-in endpoints, so no HTTP server at all.
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    uiHost: '127.0.0.1',
    // Node-RED 4: no usage pings to telemetry.nodered.org, no update check, no diagnostics endpoint.
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    // Never npm-install anything at run time (function-node modules, palette).
    externalModules: {
      autoInstall: false,
      autoInstallRetry: 0,
      palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
      modules: { allowInstall: false },
    },
    functionExternalModules: false,
    functionTimeout: 0,
    editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    contextStorage: { default: { module: 'memory' } },
    exportGlobalContextKeys: false,
    // Reopen a missing port or broker after 1 s (defaults 15 s / 5 s) so start-up is not timed by a retry.
    serialReconnectTime: 1000,
    mqttReconnectTime: 1000,
  };
  return `// Generated by bench/lib/node-red.ts for one benchmark run.\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

export interface StartNodeRedOptions {
  /** Its userDir (settings, flows, .config files); created if missing. */
  userDir: string;
  flows: FlowNode[];
  label?: string;
  onLine?: (line: string) => void;
  /** Extra lines to wait for after `Started flows` (e.g. `Connected to broker`), each within the timeout. */
  readyLines?: RegExp[];
  readyTimeoutMs?: number;
}

export interface RunningNodeRed {
  child: ManagedChild;
  pid: number;
  /** From spawn to `Started flows`. */
  flowsStartedMs: number;
  /** From spawn to the last of `readyLines`. */
  readyMs: number;
  /** `performance.now()` at spawn. */
  spawnedAt: number;
  stop(): Promise<void>;
}

/** Write the settings and flow into `userDir`, start Node-RED and wait until its flows run. */
export async function startNodeRed(options: StartNodeRedOptions): Promise<RunningNodeRed> {
  if (!existsSync(RED_JS)) throw new Error(`${RED_JS} missing: call ensureNodeRed() first`);
  mkdirSync(options.userDir, { recursive: true });
  const settingsFile = join(options.userDir, 'settings.js');
  writeFileSync(settingsFile, renderNodeRedSettings(options.userDir));
  writeFileSync(join(options.userDir, 'flows.json'), `${JSON.stringify(placed(options.flows), null, 2)}\n`);
  const spawnedAt = performance.now();
  const child = startChild(
    options.label ?? 'node-red',
    process.execPath,
    [RED_JS, '--userDir', options.userDir, '--settings', settingsFile, '--no-telemetry'],
    {
      cwd: options.userDir,
      env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1', NODE_ENV: 'production' },
      onLine: options.onLine,
    },
  );
  const timeout = options.readyTimeoutMs ?? 60_000;
  try {
    await waitForLine(child, /Started flows/, timeout);
    const flowsStartedMs = performance.now() - spawnedAt;
    for (const line of options.readyLines ?? []) await waitForLine(child, line, timeout);
    const readyMs = performance.now() - spawnedAt;
    // A node that failed to load (missing module, bad flow) shows as a warning, not an exit: fail loudly.
    const missing = /Waiting for missing types|Missing node modules|\[error\]/.exec(child.output());
    if (missing)
      throw new Error(`Node-RED reported a problem (${missing[0]}):\n${child.output().slice(-3000)}`);
    return {
      child,
      pid: child.pid,
      flowsStartedMs,
      readyMs,
      spawnedAt,
      stop: () => child.stop('SIGTERM', 10_000),
    };
  } catch (error) {
    await child.stop('SIGTERM', 5_000);
    throw error;
  }
}
