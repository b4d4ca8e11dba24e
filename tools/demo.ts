/**
 * `npm run demo`: a private InfluxDB, the cloud relay, the device simulator
 * and one home's gateway, each as its own process, wired together on free
 * ports; prints the console URL and runs until Ctrl-C, which stops them all.
 *
 * Options: --var-dir <dir> (default var/demo), --quiet (no child logs),
 * --fresh (start from empty data).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cloudConfigSchema } from '../cloud/config/schema.js';
import { openConfiguredStore } from '../cloud/store/cloud-db.js';
import { DUPLICATE_SIGNAL_WINDOW_MS } from '../common/cli.js';
import { loadConfig } from '../common/config/load.js';
import { gatewayConfigSchema } from '../gateway/config/schema.js';
import { type ManagedChild, REPO_ROOT, startChild, TSX_BIN, waitForLine } from './child-processes.js';
import { provisionDemo } from './demo-people.js';
import { freePort } from './free-port.js';
import { type PrivateInfluxd, startPrivateInfluxd } from './influxd.js';

const { values } = parseArgs({
  options: {
    'var-dir': { type: 'string', default: 'var/demo' },
    quiet: { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
  },
});
const varDir = resolve(REPO_ROOT, values['var-dir']!);
const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);

/** The configured port when it is free (so `npm run sim -- press sos` finds the simulator), else any free one. */
async function preferredPort(port: number): Promise<number> {
  const free = await new Promise<boolean>((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
  return free ? port : freePort();
}

const children: ManagedChild[] = [];
let influxd: PrivateInfluxd | null = null;
let stopping = false;
let stoppingSince = 0;

/**
 * Stop everything, in order. A repeated signal within a moment is a relayed
 * duplicate (npm, tsx) and is ignored; a later one (Ctrl-C pressed again)
 * kills every child group at once, so even an impatient stop leaves nothing behind.
 */
async function stopAll(code: number): Promise<never> {
  if (stopping) {
    if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_WINDOW_MS) return new Promise<never>(() => {});
    say('stopping now (second Ctrl-C)…');
    await Promise.all(children.map((child) => child.stop('SIGKILL', 1_000)));
    await influxd?.stop();
    process.exit(130);
  }
  stopping = true;
  stoppingSince = Date.now();
  say('stopping…');
  // Gateway first (it says `offline`), then the simulator, then the relay, then InfluxDB.
  for (const child of [...children].reverse()) await child.stop('SIGTERM', 8_000);
  await influxd?.stop();
  say('stopped; nothing left running');
  process.exit(code);
}

function start(name: string, args: string[], env: Record<string, string>): ManagedChild {
  const child = startChild(name, process.execPath, [TSX_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    onLine: values.quiet ? undefined : (line) => process.stdout.write(`${name.padEnd(7)}| ${line}\n`),
  });
  children.push(child);
  void child.exited.then((exitCode) => {
    if (stopping) return;
    say(`${name} exited unexpectedly (code ${exitCode}); last output:\n${child.output().slice(-3000)}`);
    void stopAll(1);
  });
  return child;
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));
  if (values.fresh) rmSync(varDir, { recursive: true, force: true });
  mkdirSync(join(varDir, 'dev'), { recursive: true });

  const cloudConfigFile = join(REPO_ROOT, 'config/demo/cloud.yaml');
  const gatewayConfigFile = join(REPO_ROOT, 'config/demo/gateway.yaml');
  const simConfigFile = join(REPO_ROOT, 'config/demo/sim.yaml');

  say('starting a private InfluxDB…');
  influxd = await startPrivateInfluxd({ dir: join(varDir, 'influxdb'), keepData: true });
  say(`InfluxDB ${influxd.url} (data in ${join(varDir, 'influxdb')})`);

  const httpPort = await preferredPort(8080);
  const mqttPort = await preferredPort(1884);
  const controlPort = await preferredPort(7390);
  const localBrokerPort = await preferredPort(1885);
  const opsPort = await preferredPort(9464);
  const gatewayConfig = loadConfig(gatewayConfigSchema, { file: gatewayConfigFile, env: {}, envPrefix: 'X' });
  const cloudEnv = {
    HOMEBED_CLOUD__DATA_DIR: join(varDir, 'cloud'),
    HOMEBED_CLOUD__HTTP__PORT: String(httpPort),
    HOMEBED_CLOUD__MQTT__PORT: String(mqttPort),
    // The cloud reads the readings the gateway writes: the bed pages' charts and in-bed state.
    HOMEBED_CLOUD__INFLUX__URL: influxd.url,
    HOMEBED_CLOUD__INFLUX__DATABASE: gatewayConfig.influx.database,
  };
  const cloudConfig = loadConfig(cloudConfigSchema, {
    file: cloudConfigFile,
    env: cloudEnv,
    envPrefix: 'HOMEBED_CLOUD',
  });

  // The demo's organisation, bed, gateway (with the secret from its config) and one login per role.
  const db = await openConfiguredStore(cloudConfig);
  let logins: Awaited<ReturnType<typeof provisionDemo>>;
  try {
    logins = await provisionDemo(db, {
      id: gatewayConfig.gatewayId,
      secret: gatewayConfig.cloud.secret,
      bedId: gatewayConfig.bedId,
    });
  } finally {
    await db.close();
  }

  const cloud = start('cloud', ['cloud/cli.ts', 'run', '-c', cloudConfigFile], cloudEnv);
  await waitForLine(cloud, /cloud relay started/, 30_000);

  const sim = start('sim', ['firmware-sim/cli.ts', 'run', '--config', simConfigFile], {
    HOMEBED_SIM__CONTROL__PORT: String(controlPort),
    // Device paths follow --var-dir, so a second demo (or a test) never touches another's PTYs.
    HOMEBED_SIM__DEVICES__0__DEVICE_PATH: join(varDir, 'dev/sim-bed-radar'),
    HOMEBED_SIM__DEVICES__0__HOST_PATH: join(varDir, 'dev/bed-radar'),
    HOMEBED_SIM__DEVICES__1__DEVICE_PATH: join(varDir, 'dev/sim-rflink'),
    HOMEBED_SIM__DEVICES__1__HOST_PATH: join(varDir, 'dev/rflink'),
    HOMEBED_SIM__DEVICES__2__DEVICE_PATH: join(varDir, 'dev/sim-fall-radar'),
    HOMEBED_SIM__DEVICES__2__HOST_PATH: join(varDir, 'dev/fall-radar'),
    // zigbee2mqtt and the native pendant connect to the gateway's own broker (they retry until it is up).
    HOMEBED_SIM__MQTT__URL: `mqtt://127.0.0.1:${localBrokerPort}`,
  });
  await waitForLine(sim, /simulator ready/, 30_000);

  const gateway = start('gateway', ['gateway/cli.ts', 'run', '-c', gatewayConfigFile], {
    HOMEBED_GATEWAY__DATA_DIR: join(varDir, 'gateway'),
    HOMEBED_GATEWAY__CLOUD__URL: `mqtt://127.0.0.1:${mqttPort}`,
    HOMEBED_GATEWAY__INFLUX__URL: influxd.url,
    HOMEBED_GATEWAY__SERIAL_PORTS__0__PATH: join(varDir, 'dev/bed-radar'),
    HOMEBED_GATEWAY__SERIAL_PORTS__1__PATH: join(varDir, 'dev/rflink'),
    HOMEBED_GATEWAY__SERIAL_PORTS__2__PATH: join(varDir, 'dev/fall-radar'),
    HOMEBED_GATEWAY__LOCAL_BROKER__PORT: String(localBrokerPort),
    HOMEBED_GATEWAY__OPS__PORT: String(opsPort),
  });
  await waitForLine(gateway, /connected to cloud/, 30_000);

  const pressCommand =
    controlPort === 7390
      ? 'npm run sim -- press sos'
      : `npm run sim -- press sos --control-url http://127.0.0.1:${controlPort}`;
  process.stdout.write(
    [
      '',
      '──────────────────────────────────────────────────────────────',
      ` homebed demo is running`,
      ` console:   http://127.0.0.1:${httpPort}`,
      ` logins:    ${logins.map((l) => `${l.username} / ${l.password}`).join('   ')}`,
      ` API:       curl -s -X POST -H 'content-type: application/json' -d '{"username":"staff","password":"demo-staff-2026"}' http://127.0.0.1:${httpPort}/api/auth/login`,
      `            then  curl -H "Authorization: Bearer <token>" http://127.0.0.1:${httpPort}/api/alarms   (docs/api.md)`,
      ` InfluxDB:  ${influxd.url}  (database ${gatewayConfig.influx.database})`,
      ` press SOS: ${pressCommand}`,
      ` devices:   npm run sim -- state   (also: rf front-door open, fall-radar fall-radar fall, zigbee bathroom_sos sos,`,
      `            native pendant --event sos, unplug bed-radar, fault rflink --noise; see npm run sim -- --help)`,
      ` zigbee2mqtt/native devices: mqtt://127.0.0.1:${localBrokerPort}`,
      ` status:    npm run gateway -- status --url http://127.0.0.1:${opsPort}   (gateway: /status, /metrics)`,
      ` metrics:   http://127.0.0.1:${httpPort}/metrics   http://127.0.0.1:${opsPort}/metrics   (docs/metrics.md)`,
      ' stop:      Ctrl-C',
      '──────────────────────────────────────────────────────────────',
      '',
    ].join('\n'),
  );
  if (!existsSync(join(varDir, 'dev', 'bed-radar'))) say('warning: the radar PTY is missing');
}

main().catch((err: unknown) => {
  process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void stopAll(1);
});
