import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { ConfigError, errorMessage } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { controlUrl, loadSimConfig } from './config.js';
import type { Mr60bha1State } from './devices/mr60bha1.js';
import { Simulator } from './simulator.js';

const USAGE = `homebed device simulator: emulates the home's serial devices on PTY pairs.

Usage: npm run sim -- <command> [options]

Commands:
  run                    start the PTYs, emulators and control API; stop on SIGINT/SIGTERM
  press <button>         press a button on the running simulator (e.g. sos)
  radar <id> <changes>   change a radar on the running simulator:
                           --in-bed | --out-of-bed   --present | --absent
                           --heart-rate <bpm>  --breath-rate <per-min>  --sleep deep|light|awake|none
  state                  print the running simulator's state as JSON

Options:
  --config <file>        YAML or JSON config, e.g. config/demo/sim.yaml (default: built-in defaults;
                         HOMEBED_SIM__* environment variables override either)
  --control-url <url>    control API of the running simulator (default: from the config,
                         http://127.0.0.1:7390)
  --pretty               human-readable log lines (run)
  -h, --help             show this help

Exit codes: 0 ok, 1 failed (e.g. simulator not running), 2 bad usage or invalid config.`;

const OPTIONS = {
  config: { type: 'string' },
  'control-url': { type: 'string' },
  pretty: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'in-bed': { type: 'boolean' },
  'out-of-bed': { type: 'boolean' },
  present: { type: 'boolean' },
  absent: { type: 'boolean' },
  'heart-rate': { type: 'string' },
  'breath-rate': { type: 'string' },
  sleep: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** Run the CLI with `argv` (without node and script); resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
    const [command, ...args] = positionals;
    if (values.help || command === undefined || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return values.help || command === 'help' ? 0 : 2;
    }
    switch (command) {
      case 'run':
        expectArgs(args, 0, 'run');
        return await run(values);
      case 'press':
        return await press(expectArgs(args, 1, 'press <button>')[0]!, values);
      case 'radar':
        return await radar(expectArgs(args, 1, 'radar <id> <changes>')[0]!, values);
      case 'state':
        expectArgs(args, 0, 'state');
        return await showState(values);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`error: ${errorMessage(err)}\nRun \`npm run sim -- --help\` for usage.\n`);
      return 2;
    }
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}

function expectArgs(args: string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new UsageError(`usage: npm run sim -- ${usage}`);
  return args;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

async function run(values: Values): Promise<number> {
  const config = loadSimConfig({ file: values.config });
  const logger = createLogger({
    level: config.log.level,
    pretty: values.pretty === true || config.log.pretty,
    name: 'sim',
  });
  const sim = new Simulator(config, { clock: systemClock, logger });
  try {
    const info = await sim.start();
    logger.info(
      {
        controlUrl: info.controlUrl,
        devices: info.devices.map(({ id, kind, hostPath }) => ({ id, kind, hostPath })),
      },
      'simulator ready',
    );
  } catch (err) {
    logger.fatal({ err }, `simulator failed to start: ${errorMessage(err)}`);
    return 1;
  }
  const signal = await firstSignal(() => {
    logger.warn('second signal: exiting without cleanup');
    process.exit(1);
  });
  logger.info({ signal }, 'stopping');
  await sim.stop();
  return 0;
}

/** Resolve on the first SIGINT/SIGTERM; a second one calls `onSecond` (an impatient operator). */
function firstSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    const first = (signal: NodeJS.Signals): void => {
      for (const s of signals) {
        process.off(s, first);
        process.once(s, onSecond);
      }
      resolveSignal(signal);
    };
    for (const s of signals) process.on(s, first);
  });
}

function resolveControlUrl(values: Values): string {
  const given = values['control-url'];
  if (given) return given.replace(/\/+$/, '');
  const config = loadSimConfig({ file: values.config });
  if (config.control.port === 0) {
    throw new UsageError('the config sets control.port to 0 (any free port): pass --control-url');
  }
  const host =
    config.control.host === '0.0.0.0' || config.control.host === '::' ? '127.0.0.1' : config.control.host;
  return controlUrl(host, config.control.port);
}

interface ApiResult {
  status: number;
  body: Record<string, unknown>;
}

async function callApi(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<ApiResult> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      throw new Error(
        `the simulator is not running at ${base} (connection refused); start it with ` +
          '`npm run sim -- run --config config/demo/sim.yaml`',
      );
    }
    throw new Error(`cannot reach the simulator at ${base}: ${code ?? errorMessage(err)}`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new Error(`unexpected reply from ${base}${path} (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error(String(parsed.message ?? `HTTP ${res.status}`));
  return { status: res.status, body: parsed };
}

async function press(button: string, values: Values): Promise<number> {
  const base = resolveControlUrl(values);
  const { body } = await callApi(base, 'POST', `/press/${encodeURIComponent(button)}`);
  process.stdout.write(`pressed ${String(body.pressed)} (${String(body.lines)} lines)\n`);
  return 0;
}

async function radar(id: string, values: Values): Promise<number> {
  const patch: Record<string, unknown> = {};
  if (values['in-bed'] && values['out-of-bed']) throw new UsageError('--in-bed and --out-of-bed together');
  if (values.present && values.absent) throw new UsageError('--present and --absent together');
  if (values['in-bed']) patch.inBed = true;
  if (values['out-of-bed']) patch.inBed = false;
  if (values.present) patch.present = true;
  if (values.absent) patch.present = false;
  if (values['heart-rate'] !== undefined)
    patch.heartRateBpm = parseRate('--heart-rate', values['heart-rate']);
  if (values['breath-rate'] !== undefined)
    patch.breathRatePerMin = parseRate('--breath-rate', values['breath-rate']);
  if (values.sleep !== undefined) patch.sleepState = values.sleep;
  if (Object.keys(patch).length === 0) {
    throw new UsageError(
      'radar needs a change: --in-bed, --out-of-bed, --present, --absent, --heart-rate, --breath-rate or --sleep',
    );
  }
  const base = resolveControlUrl(values);
  const { body } = await callApi(base, 'POST', `/radar/${encodeURIComponent(id)}`, patch);
  const s = body.state as Mr60bha1State;
  process.stdout.write(
    `radar ${id}: ${s.inBed ? 'in bed' : 'out of bed'}, ${s.present ? 'present' : 'absent'}, sleep ${s.sleepState}, ` +
      `heart ${s.heartRateBpm}/min, breath ${s.breathRatePerMin}/min\n`,
  );
  return 0;
}

function parseRate(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new UsageError(`${flag} must be a whole number 0-255`);
  return n;
}

async function showState(values: Values): Promise<number> {
  const { body } = await callApi(resolveControlUrl(values), 'GET', '/state');
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  return 0;
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is released by now; if a stray handle kept the loop alive, do not hang the terminal.
setTimeout(() => process.exit(code), 2000).unref();
