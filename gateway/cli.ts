#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCli, stopOnSignals } from '../common/cli.js';
import { systemClock } from '../common/clock.js';
import { HomebedError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { loadGatewayConfig } from './config/load.js';
import { Gateway } from './gateway.js';

const HELP = `homebed gateway

usage: npm run gateway -- <command> [options]

commands:
  run             start the gateway: read the sensors, write InfluxDB, raise alarms to the cloud
  check-config    validate the configuration and print it (secrets hidden)

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
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
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
      gateway.start();
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
