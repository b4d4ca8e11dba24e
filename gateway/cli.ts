#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { runCli, stopOnSignals } from '../common/cli.js';
import { systemClock } from '../common/clock.js';
import { HomebedError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { loadGatewayConfig } from './config/load.js';
import { Gateway } from './gateway.js';
import { discoverSerialPorts, runDecodeCommand, runProbeCommand } from './installer/commands.js';
import { runCommissioning } from './installer/commissioning.js';
import { runInit } from './installer/init.js';
import { runStatusCommand } from './installer/status-command.js';

const HELP = `homebed gateway

usage: npm run gateway -- <command> [options]

commands:
  run             start the gateway: read the sensors, write InfluxDB, raise alarms to the cloud
  check-config    validate the configuration and print it (secrets hidden)
  decode          decode a capture: one JSON object per frame, line or error (JSON Lines); exit 0
                  unless misused
                    decode --protocol seeed-60ghz --hex "53 59 85 02 00 01 48 7C 54 43"
                    decode --protocol seeed-60ghz --file capture.hex   (raw bytes: add --binary)
                    decode --protocol rflink --text "20;00;…;"   (or --file log.txt; --file - is stdin)
  probe [<port>…] tell what is on serial ports (Seeed radar, RFLink): one JSON object per port;
                  default ports /dev/serial/by-id/*, /dev/ttyUSB*, /dev/ttyACM*; --timeout-ms (3000)
  init            commission a home: probe the ports, pair 433 MHz devices by pressing them, list
                  zigbee2mqtt devices, ask each one's role, and write a validated config (--out,
                  default gateway.yaml; --force to replace). Unattended with --yes and:
                    --gateway-id --bed-id --secret [--cloud-url] [--influx-url] [--influx-database]
                    [--data-dir /var/lib/homebed/gateway] (default ./var/gateway, relative to where it runs)
                    [--port <path>]… [--radar <path>=<role>]… [--rf <role>=<PROTO:id:switch>[@room]]…
                    [--learn <role>]… (press it when asked; --learn-timeout-s, default 30)
                    [--zigbee-broker mqtt://…] [--zigbee <friendly_name>=<role>[@room]]…
  test            commissioning walk (stop the gateway service first): asks for each device in turn
                  ("press sos-button", "walk past hall-pir") and waits until it is heard, then sends a
                  test_alarm and waits until the cloud has stored it; exit 1 unless all passed. No care
                  rule runs meanwhile, so nobody is paged. --device <id>… / --skip <id>…,
                  --device-timeout-s (60), --cloud-timeout-s (30), --alarm-only
  status          ask the running gateway what it sees (GET /status on its ops server): cloud link,
                  serial ports, devices (online, battery, last seen), alarm outbox, spool, InfluxDB;
                  JSON; address from the config's ops.host/ops.port, or --url http://127.0.0.1:9464;
                  exit 1 when the gateway does not answer

options:
  -c, --config <file>   YAML or JSON config (default: HOMEBED_GATEWAY_CONFIG)
      --pretty          human-readable logs
  -h, --help            this help

Every setting can be overridden by environment, e.g. HOMEBED_GATEWAY__CLOUD__SECRET=…,
HOMEBED_GATEWAY__SERIAL_PORTS__0__PATH=/dev/serial/by-id/….
`;

runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      pretty: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      protocol: { type: 'string' },
      hex: { type: 'string' },
      text: { type: 'string' },
      file: { type: 'string' },
      binary: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      url: { type: 'string' },
      // init
      out: { type: 'string' },
      force: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      'gateway-id': { type: 'string' },
      'bed-id': { type: 'string' },
      'cloud-url': { type: 'string' },
      secret: { type: 'string' },
      'influx-url': { type: 'string' },
      'influx-database': { type: 'string' },
      'data-dir': { type: 'string' },
      port: { type: 'string', multiple: true },
      radar: { type: 'string', multiple: true },
      rf: { type: 'string', multiple: true },
      learn: { type: 'string', multiple: true },
      'learn-timeout-s': { type: 'string' },
      'zigbee-broker': { type: 'string' },
      zigbee: { type: 'string', multiple: true },
      // test
      device: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      'device-timeout-s': { type: 'string' },
      'cloud-timeout-s': { type: 'string' },
      'alarm-only': { type: 'boolean' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return;
  }
  // The installer commands work on a capture or a port, before any config exists.
  const out = {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
  };
  if (command === 'decode') return runDecodeCommand(values, out);
  if (command === 'probe') {
    await runProbeCommand(positionals.slice(1), values, out);
    return;
  }
  if (command === 'status') {
    await runStatusCommand(values, out);
    return;
  }
  if (command === 'init') {
    await runInitCommand(values);
    return;
  }
  const config = loadGatewayConfig(values.config ?? process.env.HOMEBED_GATEWAY_CONFIG);
  switch (command) {
    case 'run': {
      const logger = createLogger({
        ...config.log,
        ...(values.pretty ? { pretty: true } : {}),
        name: 'gateway',
      });
      const gateway = new Gateway({ config, clock: systemClock, logger });
      await gateway.start();
      stopOnSignals(() => gateway.stop(), logger);
      return;
    }
    case 'test': {
      const logger = createLogger({
        ...config.log,
        level: values.pretty ? config.log.level : 'warn',
        name: 'gateway',
      });
      const positive = (name: string, fallback: number): number => {
        const text = values[name as keyof typeof values];
        const n = typeof text === 'string' ? Number(text) : fallback;
        if (!Number.isFinite(n) || n <= 0)
          throw new HomebedError('HB_USAGE', `--${name} must be a positive number`);
        return n;
      };
      if (config.ops.enabled && (await opsAnswers(config.ops.host, config.ops.port))) {
        throw new HomebedError(
          'HB_USAGE',
          `a gateway is running (its ops server answers on port ${config.ops.port}) and holds the ports: stop it first (systemctl stop homebed-gateway)`,
        );
      }
      const gateway = new Gateway({
        config: { ...config, ops: { ...config.ops, enabled: false } },
        clock: systemClock,
        logger,
        commissioning: true,
      });
      await gateway.start();
      let report: Awaited<ReturnType<typeof runCommissioning>>;
      try {
        report = await runCommissioning(
          gateway,
          config,
          systemClock,
          {
            only: values.device ?? [],
            skip: values.skip ?? [],
            deviceTimeoutMs: positive('device-timeout-s', 60) * 1000,
            cloudTimeoutMs: positive('cloud-timeout-s', 30) * 1000,
            alarmOnly: values['alarm-only'] === true,
          },
          (line) => process.stderr.write(`${line}\n`),
        );
      } finally {
        await gateway.stop();
      }
      process.stdout.write(`${JSON.stringify(report)}\n`);
      // Something in a device library may keep the loop alive; the walk is over.
      process.exit(report.ok ? 0 : 1);
      return;
    }
    case 'check-config':
      process.stdout.write(
        `${JSON.stringify(
          {
            ...config,
            cloud: { ...config.cloud, secret: '[redacted]' },
            ops: { ...config.ops, ...(config.ops.token ? { token: '[redacted]' } : {}) },
          },
          null,
          2,
        )}\n`,
      );
      return;
    default:
      throw new HomebedError('HB_USAGE', `unknown command ${JSON.stringify(command)}; see --help`);
  }
});

/** `init`: the flags as {@link runInit} options; questions on the terminal unless --yes. */
async function runInitCommand(
  values: Record<string, string | boolean | string[] | undefined>,
): Promise<void> {
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const list = (name: string) => (Array.isArray(values[name]) ? (values[name] as string[]) : []);
  const seconds = (name: string, fallback: number): number => {
    const text = str(name);
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new HomebedError('HB_USAGE', `--${name} must be a positive number`);
    return n;
  };
  const rl = values.yes ? null : createInterface({ input: process.stdin, output: process.stderr });
  // Questions end the command when the input ends (a piped answer file too short), instead of waiting.
  const closed = new Promise<never>((_, reject) =>
    rl?.once('close', () =>
      reject(new HomebedError('HB_USAGE', 'input ended before every question was answered')),
    ),
  );
  closed.catch(() => {});
  try {
    const result = await runInit(
      {
        out: str('out') ?? 'gateway.yaml',
        force: values.force === true,
        yes: values.yes === true,
        gatewayId: str('gateway-id'),
        bedId: str('bed-id'),
        cloudUrl: str('cloud-url'),
        secret: str('secret') ?? process.env.HOMEBED_GATEWAY__CLOUD__SECRET,
        influxUrl: str('influx-url'),
        influxDatabase: str('influx-database'),
        dataDir: str('data-dir'),
        ports: list('port'),
        radarRoles: list('radar'),
        rf: list('rf'),
        learn: list('learn'),
        zigbeeBroker: str('zigbee-broker'),
        zigbee: list('zigbee'),
        probeTimeoutMs: seconds('timeout-ms', 3000),
        learnTimeoutMs: seconds('learn-timeout-s', 30) * 1000,
      },
      {
        say: (line) => process.stderr.write(`${line}\n`),
        ...(rl ? { ask: (question: string) => Promise.race([rl.question(question), closed]) } : {}),
        discoverPorts: discoverSerialPorts,
      },
    );
    process.stdout.write(`${result.file}\n`);
  } finally {
    rl?.close();
  }
}

/** Is something answering /healthz at the gateway's ops address (the service running)? */
async function opsAnswers(host: string, port: number): Promise<boolean> {
  if (port === 0) return false;
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  try {
    await fetch(`http://${h.includes(':') ? `[${h}]` : h}:${port}/healthz`, {
      signal: AbortSignal.timeout(1_000),
    });
    return true;
  } catch {
    return false;
  }
}
