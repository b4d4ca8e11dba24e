#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCli, stopOnSignals } from '../common/cli.js';
import { systemClock } from '../common/clock.js';
import { loadConfig } from '../common/config/load.js';
import { HomebedError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { CLOUD_ENV_PREFIX, type CloudConfig, cloudConfigSchema } from './config/schema.js';
import { GatewayRegistry } from './gateways/gateway-registry.js';
import { BedRepository } from './people/beds.js';
import { PEOPLE_CLI_HELP, PEOPLE_CLI_OPTIONS, runPeopleCommand } from './people/cli-commands.js';
import { Relay } from './relay.js';
import { openConfiguredStore } from './store/cloud-db.js';

const HELP = `homebed cloud relay

usage: npm run cloud -- <command> [options]

commands:
  run                        start the relay (MQTT broker for gateways, or mqtt.external; HTTP API)
  check-config               validate the configuration and print it (secrets hidden)
  gateway add <id> [--secret S] [--bed BED]   provision a gateway (and put it on a bed); prints its secret once
  gateway rotate <id> [--secret S] issue a new secret for a gateway
  gateway list               list provisioned gateways
${PEOPLE_CLI_HELP.join('\n')}

options:
  -c, --config <file>        YAML or JSON config (default: HOMEBED_CLOUD_CONFIG or built-in defaults)
      --pretty               human-readable logs
  -h, --help                 this help

Every setting can be overridden by environment, e.g. HOMEBED_CLOUD__HTTP__PORT=8081.
`;

function load(file: string | undefined): CloudConfig {
  return loadConfig(cloudConfigSchema, { ...(file ? { file } : {}), envPrefix: CLOUD_ENV_PREFIX });
}

runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      secret: { type: 'string' },
      ...PEOPLE_CLI_OPTIONS,
      pretty: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return;
  }
  const config = load(values.config ?? process.env.HOMEBED_CLOUD_CONFIG);
  switch (command) {
    case 'run': {
      const logger = createLogger({
        ...config.log,
        ...(values.pretty ? { pretty: true } : {}),
        name: 'cloud',
      });
      const relay = new Relay({ config, clock: systemClock, logger });
      await relay.start();
      stopOnSignals(() => relay.stop(), logger);
      return;
    }
    case 'check-config': {
      const external = config.mqtt.external;
      let shown =
        external?.password !== undefined
          ? { ...config, mqtt: { ...config.mqtt, external: { ...external, password: '[redacted]' } } }
          : config;
      if (config.metrics.token !== undefined)
        shown = { ...shown, metrics: { ...config.metrics, token: '[redacted]' } };
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      return;
    }
    case 'gateway': {
      const db = await openConfiguredStore(config);
      try {
        const registry = new GatewayRegistry(db);
        if (sub === 'list') {
          for (const g of await registry.list()) {
            process.stdout.write(`${g.id}\t${g.status ?? 'never connected'}\t${g.lastSeenAt ?? '-'}\n`);
          }
          return;
        }
        if ((sub === 'add' || sub === 'rotate') && arg) {
          const result =
            sub === 'add'
              ? await registry.add(arg, values.secret)
              : await registry.rotate(arg, values.secret);
          const bedId = sub === 'add' ? values.bed?.[0] : undefined;
          if (bedId) await new BedRepository(db).linkGateway(result.id, bedId);
          process.stdout.write(
            `gateway ${result.id} ${sub === 'add' ? 'provisioned' : 'secret rotated'}${bedId ? ` on bed ${bedId}` : ''}\n` +
              `secret: ${result.secret}\n(shown once: put it in the gateway's cloud.secret)\n`,
          );
          return;
        }
        throw new HomebedError(
          'HB_USAGE',
          'usage: gateway add <id> [--secret S] | gateway rotate <id> | gateway list',
        );
      } finally {
        await db.close();
      }
    }
    default: {
      const db = await openConfiguredStore(config);
      try {
        if (await runPeopleCommand(db, positionals, values)) return;
      } finally {
        await db.close();
      }
      throw new HomebedError('HB_USAGE', `unknown command ${JSON.stringify(command)}; see --help`);
    }
  }
});
