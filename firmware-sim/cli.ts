#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { ConfigError, errorMessage } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { controlUrl, loadSimConfig } from './config.js';
import type { Mr60bha1State } from './devices/mr60bha1.js';
import { Simulator } from './simulator.js';

const USAGE = `homebed device simulator: emulates the home's devices (serial ones on PTY pairs, zigbee2mqtt
and native MQTT devices on the gateway's broker).

Usage: npm run sim -- <command> [options]

Commands:
  run                          start the PTYs, emulators and control API; stop on SIGINT/SIGTERM
  press <button>               press a button on the running simulator (e.g. sos)
  radar <id> <changes>         change a bed radar (MR60BHA1):
                                 --in-bed | --out-of-bed   --present | --absent
                                 --heart-rate <bpm>  --breath-rate <per-min>  --sleep deep|light|awake|none
  fall-radar <id> <action>     drive a fall radar (MR60FDA1): fall | get-up | leave | enter
  rf <name> <action>           an RF transmitter on the RFLink receiver: press | open | close | motion | alarm
  rf <name> battery ok|low     a transmitter's battery
  zigbee <name> [action]       a zigbee2mqtt device: press | sos | motion | open | close | alarm | clear;
                                 also --online | --offline, --battery <percent>
  native <id> [options]        a native JSON device: --event sos|cancel|press, --state '<json>',
                                 --online | --offline
  fault <id> <faults>          switch faults on a device while it runs:
                                 serial devices: --noise[=rate] --bad-checksums[=rate] --truncated[=rate] --silent
                                 battery devices (rf, zigbee, native): --dying-battery[=percent-per-min]
                                 --no-<fault> switches one off, --clear all of them
  unplug <id>                  pull a serial device's USB plug: its PTY disappears
  replug <id>                  plug it back in: the PTY comes back at the same paths
  state                        print the running simulator's state (devices, faults) as JSON
  scenario list                the bundled scenarios (firmware-sim/scenarios/), one name per line
  scenario <name|file> --accelerated [--check]
                               play a scenario on a simulated clock against an in-process simulator
                                 and gateway; print the alarms produced; --check: exit 0 only if they
                                 are exactly the expected ones, each in its window (else print the
                                 differences, exit 1); --verbose: steps and alarms as they happen;
                                 --influx-url <url>: also write the readings to InfluxDB 1.x
  scenario <name|file>         realtime: play the steps at wall-clock pace against the running
                                 simulator (--control-url); with --cloud-url <url> (the cloud's HTTP
                                 API, e.g. http://127.0.0.1:8080) check its alarms at the end
                                 (--gateway-id to count one gateway's only)

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
  online: { type: 'boolean' },
  offline: { type: 'boolean' },
  battery: { type: 'string' },
  event: { type: 'string' },
  state: { type: 'string' },
  accelerated: { type: 'boolean' },
  check: { type: 'boolean' },
  verbose: { type: 'boolean' },
  'cloud-url': { type: 'string' },
  'gateway-id': { type: 'string' },
  'influx-url': { type: 'string' },
} as const;

/** `fault` flags: `--noise`, `--noise=0.3`, `--no-noise`, `--clear`; parsed apart from the other options. */
const FAULT_FLAG = /^--(no-)?(noise|bad-checksums|truncated|silent|dying-battery)(?:=(.*))?$|^--clear$/;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** Run the CLI with `argv` (without node and script); resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    // Fault flags take optional values (`--noise` or `--noise=0.3`), which parseArgs cannot express.
    const faultFlags = argv.filter((a) => FAULT_FLAG.test(a));
    const rest = argv.filter((a) => !FAULT_FLAG.test(a));
    const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
    const [command, ...args] = positionals;
    if (values.help || command === undefined || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return values.help || command === 'help' ? 0 : 2;
    }
    if (faultFlags.length > 0 && command !== 'fault') {
      throw new UsageError(`${faultFlags[0]} only goes with the fault command`);
    }
    switch (command) {
      case 'run':
        expectArgs(args, 0, 'run');
        return await run(values);
      case 'press':
        return await press(expectArgs(args, 1, 'press <button>')[0]!, values);
      case 'radar':
        return await radar(expectArgs(args, 1, 'radar <id> <changes>')[0]!, values);
      case 'fall-radar': {
        const [id, action] = expectArgs(args, 2, 'fall-radar <id> fall|get-up|leave|enter');
        return await fallRadar(id!, action!, values);
      }
      case 'rf':
        return await rf(args, values);
      case 'zigbee':
        return await zigbee(args, values);
      case 'native':
        return await native(
          expectArgs(args, 1, 'native <id> [--event …] [--state …] [--online|--offline]')[0]!,
          values,
        );
      case 'fault':
        return await fault(expectArgs(args, 1, 'fault <id> --noise …')[0]!, faultFlags, values);
      case 'unplug':
      case 'replug':
        return await plug(command, expectArgs(args, 1, `${command} <id>`)[0]!, values);
      case 'state':
        expectArgs(args, 0, 'state');
        return await showState(values);
      case 'scenario':
        return await scenario(
          expectArgs(args, 1, 'scenario list | scenario <name|file> [--accelerated]')[0]!,
          values,
        );
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

const RF_ACTIONS = ['press', 'open', 'close', 'motion', 'alarm'];

async function rf(args: string[], values: Values): Promise<number> {
  const [name, action, state] = args;
  const base = () => resolveControlUrl(values);
  if (name !== undefined && action === 'battery' && args.length === 3) {
    if (state !== 'ok' && state !== 'low')
      throw new UsageError('usage: npm run sim -- rf <name> battery ok|low');
    const { body } = await callApi(base(), 'POST', `/rf/${encodeURIComponent(name)}/battery`, { state });
    process.stdout.write(
      `${name}: battery ${String(body.battery)}${body.reportsBattery ? '' : ' (not in its RFLink lines)'}\n`,
    );
    return 0;
  }
  if (name === undefined || action === undefined || args.length !== 2) {
    throw new UsageError(
      `usage: npm run sim -- rf <name> ${RF_ACTIONS.join('|')}  (or: rf <name> battery ok|low)`,
    );
  }
  if (!RF_ACTIONS.includes(action)) throw new UsageError(`rf action must be one of ${RF_ACTIONS.join(', ')}`);
  const { body } = await callApi(base(), 'POST', `/rf/${encodeURIComponent(name)}`, { action });
  const packet = body.packet === null ? 'nothing sent' : `${String(body.lines)} × ${String(body.packet)}`;
  process.stdout.write(`${name} ${action}: ${packet}\n`);
  return 0;
}

async function fallRadar(id: string, action: string, values: Values): Promise<number> {
  const normalised = action.replace('-', '_');
  if (!['fall', 'get_up', 'leave', 'enter'].includes(normalised)) {
    throw new UsageError('fall-radar action must be fall, get-up, leave or enter');
  }
  const { body } = await callApi(resolveControlUrl(values), 'POST', `/fall-radar/${encodeURIComponent(id)}`, {
    action: normalised,
  });
  const s = body.state as { present: boolean; motion: string; fallen: boolean; stationaryResidency: boolean };
  process.stdout.write(
    `fall radar ${id}: ${s.present ? 'present' : 'nobody'}, motion ${s.motion}, ` +
      `${s.fallen ? 'FALLEN' : 'no fall'}, residency ${s.stationaryResidency ? 'yes' : 'no'}\n`,
  );
  return 0;
}

async function zigbee(args: string[], values: Values): Promise<number> {
  const [name, action] = args;
  if (name === undefined || args.length > 2) {
    throw new UsageError(
      'usage: npm run sim -- zigbee <name> [action] [--online|--offline] [--battery <percent>]',
    );
  }
  const body: Record<string, unknown> = {};
  if (action !== undefined) body.action = action;
  if (values.online && values.offline) throw new UsageError('--online and --offline together');
  if (values.online) body.available = true;
  if (values.offline) body.available = false;
  if (values.battery !== undefined) {
    const n = Number(values.battery);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError('--battery must be a percentage 0-100');
    body.battery = n;
  }
  if (Object.keys(body).length === 0) {
    throw new UsageError('zigbee needs an action, --online, --offline or --battery');
  }
  const { body: reply } = await callApi(
    resolveControlUrl(values),
    'POST',
    `/zigbee/${encodeURIComponent(name)}`,
    body,
  );
  const published = reply.published ? ` published ${JSON.stringify(reply.published)}` : '';
  const device = reply.device as { online?: boolean } | undefined;
  process.stdout.write(`zigbee ${name}: ${device?.online === false ? 'offline' : 'online'}${published}\n`);
  return 0;
}

async function native(id: string, values: Values): Promise<number> {
  const body: Record<string, unknown> = {};
  if (values.event !== undefined) body.event = values.event;
  if (values.state !== undefined) {
    try {
      body.state = JSON.parse(values.state) as unknown;
    } catch {
      throw new UsageError('--state must be a JSON object, e.g. \'{"occupancy":true}\'');
    }
  }
  if (values.online && values.offline) throw new UsageError('--online and --offline together');
  if (values.online) body.availability = 'online';
  if (values.offline) body.availability = 'offline';
  if (Object.keys(body).length === 0)
    throw new UsageError('native needs --event, --state, --online or --offline');
  const { body: reply } = await callApi(
    resolveControlUrl(values),
    'POST',
    `/native/${encodeURIComponent(id)}`,
    body,
  );
  const published = (reply.published as Array<{ topic: string; payload: unknown }>) ?? [];
  for (const m of published) process.stdout.write(`${m.topic} ${JSON.stringify(m.payload)}\n`);
  return 0;
}

const FAULT_KEYS: Record<string, string> = {
  noise: 'noise',
  'bad-checksums': 'badChecksums',
  truncated: 'truncated',
  silent: 'silent',
  'dying-battery': 'dyingBattery',
};

/** `--noise` → true, `--noise=0.3` → 0.3, `--no-noise` → false, `--clear` → every serial fault off. */
function parseFaultFlags(flags: readonly string[]): Record<string, boolean | number> {
  const patch: Record<string, boolean | number> = {};
  for (const flag of flags) {
    if (flag === '--clear') {
      Object.assign(patch, { noise: false, badChecksums: false, truncated: false, silent: false });
      continue;
    }
    const m = FAULT_FLAG.exec(flag);
    const key = m?.[2] ? FAULT_KEYS[m[2]] : undefined;
    if (!m || !key) throw new UsageError(`unknown fault flag ${flag}`);
    const value = m[3];
    if (m[1]) {
      if (value !== undefined) throw new UsageError(`${flag}: --no-… takes no value`);
      patch[key] = false;
    } else if (value === undefined) {
      patch[key] = true;
    } else {
      const n = Number(value);
      if (key === 'silent' || value === '' || !Number.isFinite(n) || n < 0) {
        throw new UsageError(`${flag}: expected a number${key === 'silent' ? ' (silent takes none)' : ''}`);
      }
      patch[key] = n;
    }
  }
  return patch;
}

async function fault(id: string, flags: readonly string[], values: Values): Promise<number> {
  if (flags.length === 0) {
    throw new UsageError(
      'fault needs at least one of --noise, --bad-checksums, --truncated, --silent, --dying-battery, --clear',
    );
  }
  const patch = parseFaultFlags(flags);
  const { body } = await callApi(
    resolveControlUrl(values),
    'POST',
    `/faults/${encodeURIComponent(id)}`,
    patch,
  );
  if (body.type === 'serial') {
    process.stdout.write(`faults on ${id}: ${JSON.stringify(body.faults)}\n`);
  } else {
    process.stdout.write(
      `${id}: dying battery ${Number(body.dyingBattery) > 0 ? `${String(body.dyingBattery)} %/min` : 'off'}\n`,
    );
  }
  return 0;
}

async function plug(command: 'unplug' | 'replug', id: string, values: Values): Promise<number> {
  const { body } = await callApi(resolveControlUrl(values), 'POST', `/${command}/${encodeURIComponent(id)}`);
  process.stdout.write(`${id}: ${body.plugged ? 'plugged in' : 'unplugged'} (${String(body.hostPath)})\n`);
  return 0;
}

async function scenario(what: string, values: Values): Promise<number> {
  const { findScenario, listScenarioNames } = await import('./scenarios/catalog.js');
  if (what === 'list') {
    for (const name of listScenarioNames()) process.stdout.write(`${name}\n`);
    return 0;
  }
  const accelerated = values.accelerated === true;
  if (accelerated && (values['cloud-url'] !== undefined || values['control-url'] !== undefined)) {
    throw new UsageError('--cloud-url and --control-url are for realtime runs (without --accelerated)');
  }
  if (!accelerated && values['influx-url'] !== undefined) {
    throw new UsageError('--influx-url goes with --accelerated (a realtime run uses the running gateway)');
  }
  if (!accelerated && values.check && values['cloud-url'] === undefined) {
    throw new UsageError('a realtime run can only --check the alarms with --cloud-url (the cloud HTTP API)');
  }
  let loaded: ReturnType<typeof findScenario>;
  try {
    loaded = findScenario(what);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new UsageError(errorMessage(err));
  }
  const { runScenario } = await import('./scenarios/runner.js');
  const { formatResult } = await import('./scenarios/command.js');
  const progress = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const result = accelerated
    ? await runScenario(loaded, {
        mode: 'accelerated',
        ...(values['influx-url'] ? { influxUrl: values['influx-url'] } : {}),
        ...(values.verbose ? { onEvent: progress } : {}),
      })
    : await runScenario(loaded, {
        mode: 'realtime',
        controlUrl: resolveControlUrl(values),
        ...(values['cloud-url'] ? { cloudUrl: values['cloud-url'] } : {}),
        ...(values['gateway-id'] ? { gatewayId: values['gateway-id'] } : {}),
        onEvent: progress,
      });
  const check = values.check === true || (!accelerated && values['cloud-url'] !== undefined);
  if (result.mode === 'accelerated' || result.comparison) {
    for (const line of formatResult(result, { check })) process.stdout.write(`${line}\n`);
  }
  return check && result.ok === false ? 1 : 0;
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is released by now; if a stray handle kept the loop alive, do not hang the terminal.
setTimeout(() => process.exit(code), 2000).unref();
