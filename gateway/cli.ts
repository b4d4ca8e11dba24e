#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCli, stopOnSignals } from '../common/cli.js';
import { systemClock } from '../common/clock.js';
import { HomebedError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { loadGatewayConfig } from './config/load.js';
import { Gateway } from './gateway.js';
import { runDecodeCommand, runProbeCommand } from './installer/commands.js';

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
    case 'check-config':
      process.stdout.write(
        `${JSON.stringify({ ...config, cloud: { ...config.cloud, secret: '[redacted]' } }, null, 2)}\n`,
      );
      return;
    default:
      throw new HomebedError('HB_USAGE', `unknown command ${JSON.stringify(command)}; see --help`);
  }
});
