import { access, writeFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { stringify } from 'yaml';
import { HomebedError } from '../../common/errors.js';
import { type GatewayConfig, type GatewayConfigInput, gatewayConfigSchema } from '../config/schema.js';
import { LineFramer, parseRflinkLine, rflinkDeviceKey } from '../devices/protocols/rflink/index.js';
import { type ProbeResult, probeSerialPort, RFLINK_BAUD_RATE } from './probe.js';

/**
 * `gateway init`: commissioning a home from a fresh box. Finds and probes the serial ports, lists the
 * zigbee2mqtt devices when a bridge is reachable, pairs 433 MHz transmitters by having the installer
 * press them, asks what each device is for (or takes flags for an unattended install), and writes a
 * configuration that has already passed the same validation `gateway run` applies.
 */

type DeviceInput = NonNullable<GatewayConfigInput['devices']>[number];
type Role = DeviceInput['role'];
type Kind = DeviceInput['kind'];

/** The RF kinds by the role an installer names (a 433 MHz device's kind follows from what it is for). */
export const RF_KIND_BY_ROLE: Readonly<Partial<Record<Role, Kind>>> = {
  sos_button: 'rf_button',
  cancel_button: 'rf_button',
  front_door: 'rf_contact',
  door: 'rf_contact',
  pir: 'rf_pir',
  smoke: 'rf_smoke',
  gas: 'rf_gas',
  water: 'rf_water',
};
const ROLES = [
  'sos_button',
  'cancel_button',
  'fall_radar',
  'bed_radar',
  'front_door',
  'door',
  'pir',
  'smoke',
  'gas',
  'water',
] as const satisfies readonly Role[];

/** Everything `init` can be told on the command line; what is missing is asked (or is an error with --yes). */
export interface InitOptions {
  out: string;
  force: boolean;
  /** Unattended: never ask; a required answer missing from the flags is an error. */
  yes: boolean;
  gatewayId?: string;
  bedId?: string;
  cloudUrl?: string;
  secret?: string;
  influxUrl?: string;
  influxDatabase?: string;
  /** Where the gateway keeps its store (the systemd unit's StateDirectory: /var/lib/homebed/gateway). */
  dataDir?: string;
  /** Ports to probe; default every port `probe` finds. */
  ports: string[];
  /** Seeed radars' roles by path when the model does not tell (`<path>=<role>`). */
  radarRoles: string[];
  /** 433 MHz devices already known: `<role>=<PROTOCOL:id:switch>[@room]`. */
  rf: string[];
  /** 433 MHz devices to pair now by pressing them, by role (repeat a role for two of them). */
  learn: string[];
  /** A broker where zigbee2mqtt publishes (`mqtt://host:port`): its devices are listed and offered. */
  zigbeeBroker?: string;
  /** zigbee devices to keep: `<friendly_name>=<role>`; with --yes only these, otherwise asked for each. */
  zigbee: string[];
  probeTimeoutMs: number;
  /** How long to wait for each press while pairing. */
  learnTimeoutMs: number;
}

/** Where `init` talks to the installer. */
export interface InitIo {
  /** Progress and questions, for a person. */
  say: (line: string) => void;
  /** Ask a question; resolves with the answer (empty for the default). Absent with --yes. */
  ask?: (question: string) => Promise<string>;
  /** Ports found by `probe`'s discovery. */
  discoverPorts: () => Promise<string[]>;
}

/** A zigbee2mqtt device as `bridge/devices` lists it (the fields init reads). */
interface BridgeDevice {
  friendly_name: string;
  type: string;
  definition?: { model?: string; vendor?: string; description?: string; exposes?: unknown[] } | null;
}

/** The role a zigbee device's exposes suggest (zigbee2mqtt property names), or undefined. */
export function suggestZigbeeRole(device: BridgeDevice): Role | undefined {
  const names = new Set<string>();
  const walk = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const item of items) {
      if (!item || typeof item !== 'object') continue;
      const e = item as { name?: unknown; property?: unknown; values?: unknown; features?: unknown };
      if (typeof e.name === 'string') names.add(e.name);
      if (typeof e.property === 'string') names.add(e.property);
      if (e.name === 'action' && Array.isArray(e.values)) {
        for (const v of e.values) if (v === 'emergency' || v === 'sos') names.add('sos');
      }
      walk(e.features);
    }
  };
  walk(device.definition?.exposes);
  if (names.has('sos')) return 'sos_button';
  if (names.has('smoke')) return 'smoke';
  if (names.has('gas')) return 'gas';
  if (names.has('water_leak')) return 'water';
  if (names.has('contact')) return 'door';
  if (names.has('occupancy')) return 'pir';
  return undefined;
}

/** The role a Seeed radar's reported model implies: the MR60BHA1 watches a bed, the MR60FDA1 falls. */
export function radarFromModel(model: string | undefined): { kind: Kind; role: Role } | undefined {
  const m = (model ?? '').toUpperCase();
  if (m.includes('BHA1')) return { kind: 'mr60bha1', role: 'bed_radar' };
  if (m.includes('FDA1')) return { kind: 'mr60fda1', role: 'fall_radar' };
  return undefined;
}

/** `<key>=<value>[@room]`, with a precise error naming the flag. */
export function parsePair(flag: string, text: string): { key: string; value: string; room?: string } {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new HomebedError('HB_USAGE', `--${flag} ${JSON.stringify(text)}: expected <name>=<value>`);
  }
  const key = text.slice(0, eq);
  const rest = text.slice(eq + 1);
  const at = rest.lastIndexOf('@');
  return at > 0 ? { key, value: rest.slice(0, at), room: rest.slice(at + 1) } : { key, value: rest };
}

function asRole(flag: string, text: string): Role {
  if ((ROLES as readonly string[]).includes(text)) return text as Role;
  throw new HomebedError(
    'HB_USAGE',
    `--${flag}: unknown role ${JSON.stringify(text)}; roles: ${ROLES.join(', ')}`,
  );
}

/** Device ids from roles: `sos-button`, then `sos-button-2`… */
class IdMaker {
  private readonly used = new Set<string>();
  make(base: string): string {
    const root = base.replace(/_/g, '-').toLowerCase();
    let id = root;
    for (let n = 2; this.used.has(id); n++) id = `${root}-${n}`;
    this.used.add(id);
    return id;
  }
}

/** Reads `bridge/devices` (retained) from the broker; [] when nothing comes within `timeoutMs`. */
export async function listZigbeeDevices(
  url: string,
  timeoutMs: number,
  baseTopic = 'zigbee2mqtt',
): Promise<BridgeDevice[]> {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    clientId: `homebed-init-${process.pid}`,
  });
  try {
    return await new Promise<BridgeDevice[]>((resolve, reject) => {
      const timer = setTimeout(() => resolve([]), timeoutMs);
      client.once('error', (err) => {
        clearTimeout(timer);
        reject(new HomebedError('HB_ZIGBEE', `zigbee2mqtt broker ${url}: ${err.message}`));
      });
      client.on('message', (_topic, payload) => {
        clearTimeout(timer);
        try {
          const list = JSON.parse(payload.toString('utf8')) as BridgeDevice[];
          resolve(Array.isArray(list) ? list.filter((d) => d && d.type !== 'Coordinator') : []);
        } catch {
          reject(new HomebedError('HB_ZIGBEE', `${baseTopic}/bridge/devices is not JSON`));
        }
      });
      client.once('connect', () => void client.subscribe(`${baseTopic}/bridge/devices`));
    });
  } finally {
    client.end(true);
  }
}

/**
 * Listens on an RFLink port for transmitters: `next()` resolves with the key of the next packet from a
 * transmitter not already taken (RF buttons repeat each press several times), or null at the deadline.
 */
class RflinkListener {
  private readonly framer = new LineFramer();
  private readonly keys: string[] = [];
  private waiter: (() => void) | null = null;

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const line of this.framer.push(chunk)) {
        try {
          const msg = parseRflinkLine(line);
          if (msg.kind !== 'packet') continue;
          const key = rflinkDeviceKey(msg);
          if (key) {
            this.keys.push(key);
            this.waiter?.();
          }
        } catch {
          // Noise or a partial line from the receiver's boot: not a press.
        }
      }
    });
  }

  static open(path: string): Promise<RflinkListener> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: RFLINK_BAUD_RATE, autoOpen: false });
      port.open((err) =>
        err
          ? reject(new HomebedError('HB_SERIAL', `${path}: ${err.message}`))
          : resolve(new RflinkListener(port)),
      );
    });
  }

  async next(taken: ReadonlySet<string>, timeoutMs: number): Promise<string | null> {
    this.keys.length = 0; // only presses from now on
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const key = this.keys.find((k) => !taken.has(k));
      if (key) return key;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return null;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** The config `init` wrote and what it found on the way. */
export interface InitResult {
  file: string;
  config: GatewayConfig;
  probes: ProbeResult[];
}

/** Runs the whole commissioning; see the module comment. */
export async function runInit(options: InitOptions, io: InitIo): Promise<InitResult> {
  const ask = async (question: string, fallback: string | undefined, flag: string): Promise<string> => {
    if (!io.ask) {
      if (fallback !== undefined) return fallback;
      throw new HomebedError('HB_USAGE', `${flag} is required with --yes`);
    }
    const answer = (await io.ask(fallback ? `${question} [${fallback}] ` : `${question} `)).trim();
    if (answer) return answer;
    if (fallback !== undefined) return fallback;
    return ask(question, fallback, flag);
  };
  if (!options.force) {
    const exists = await access(options.out).then(
      () => true,
      () => false,
    );
    if (exists) throw new HomebedError('HB_USAGE', `${options.out} exists; pass --force to replace it`);
  }

  const gatewayId =
    options.gatewayId ?? (await ask('Gateway id (as provisioned in the cloud):', undefined, '--gateway-id'));
  const bedId = options.bedId ?? (await ask('Bed id:', undefined, '--bed-id'));
  const cloudUrl =
    options.cloudUrl ?? (await ask('Cloud relay URL:', 'mqtt://127.0.0.1:1884', '--cloud-url'));
  const secret =
    options.secret ?? (await ask('Gateway secret (shown once when provisioned):', undefined, '--secret'));
  const influxUrl =
    options.influxUrl ?? (await ask('InfluxDB URL:', 'http://127.0.0.1:8086', '--influx-url'));

  // Serial ports: probe them all at once (each on its own budget), as `probe` does.
  const paths = options.ports.length ? options.ports : await io.discoverPorts();
  io.say(paths.length ? `probing ${paths.length} serial port(s)…` : 'no serial port found');
  const probes = await Promise.all(
    paths.map((path) => probeSerialPort(path, { timeoutMs: options.probeTimeoutMs })),
  );
  const radarRoles = new Map(
    options.radarRoles.map((t) => parsePair('radar', t)).map((p) => [p.key, asRole('radar', p.value)]),
  );
  const ids = new IdMaker();
  const serialPorts: { id: string; path: string; protocol: 'seeed' | 'rflink' }[] = [];
  const devices: DeviceInput[] = [];
  let rflinkPort: { id: string; path: string } | undefined;
  for (const probe of probes) {
    if (probe.kind === 'seeed') {
      const known = radarFromModel(probe.model);
      io.say(
        `${probe.path}: Seeed radar ${probe.model ?? '(model not reported)'} ${probe.firmware ?? ''}`.trimEnd(),
      );
      let role = radarRoles.get(probe.path) ?? known?.role;
      role ??= asRole(
        'radar',
        await ask(`  what is it for (bed_radar or fall_radar)?`, undefined, `--radar ${probe.path}=<role>`),
      );
      const kind: Kind = known?.kind ?? (role === 'bed_radar' ? 'mr60bha1' : 'mr60fda1');
      const id = ids.make(role);
      serialPorts.push({ id: `${id}-port`, path: probe.path, protocol: 'seeed' });
      devices.push({ id, kind, role, link: `${id}-port` });
    } else if (probe.kind === 'rflink') {
      io.say(
        `${probe.path}: RFLink 433 MHz receiver ${probe.version ? `version ${probe.version}` : ''}`.trimEnd(),
      );
      if (rflinkPort) {
        io.say(`  a second RFLink is not used (${rflinkPort.path} is)`);
        continue;
      }
      rflinkPort = { id: 'rflink', path: probe.path };
      serialPorts.push({ id: 'rflink', path: probe.path, protocol: 'rflink' });
    } else {
      io.say(`${probe.path}: ${probe.kind === 'error' ? probe.error : 'nothing recognised'} (left out)`);
    }
  }

  // 433 MHz devices: known addresses from flags, then pairing by pressing.
  const taken = new Set<string>();
  for (const text of options.rf) {
    const { key, value, room } = parsePair('rf', text);
    const role = asRole('rf', key);
    const kind = RF_KIND_BY_ROLE[role];
    if (!kind) throw new HomebedError('HB_USAGE', `--rf: a ${role} is not a 433 MHz device`);
    if (!rflinkPort) throw new HomebedError('HB_USAGE', '--rf given but no RFLink receiver was found');
    taken.add(value);
    devices.push({
      id: ids.make(role),
      kind,
      role,
      link: rflinkPort.id,
      address: value,
      ...(room ? { room } : {}),
    });
  }
  let learn = options.learn.map((r) => asRole('learn', r));
  if (rflinkPort && io.ask && learn.length === 0) {
    const answer = await ask(
      '433 MHz devices to pair now (roles, comma-separated; empty for none):',
      '',
      '--learn',
    );
    learn = answer
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((r) => asRole('learn', r));
  }
  if (learn.length) {
    if (!rflinkPort)
      throw new HomebedError('HB_USAGE', 'pairing 433 MHz devices needs an RFLink receiver; none was found');
    const listener = await RflinkListener.open(rflinkPort.path);
    try {
      for (const role of learn) {
        const kind = RF_KIND_BY_ROLE[role];
        if (!kind) throw new HomebedError('HB_USAGE', `--learn: a ${role} is not a 433 MHz device`);
        io.say(
          `press the ${role.replace('_', ' ')} now (waiting ${Math.round(options.learnTimeoutMs / 1000)} s)…`,
        );
        const key = await listener.next(taken, options.learnTimeoutMs);
        if (!key) {
          io.say(
            `  nothing heard from a new transmitter: ${role} left out (pair it later with --rf ${role}=<address>)`,
          );
          continue;
        }
        taken.add(key);
        const id = ids.make(role);
        io.say(`  heard ${key}: ${id}`);
        devices.push({ id, kind, role, link: rflinkPort.id, address: key });
      }
    } finally {
      await listener.close();
    }
  }

  // zigbee2mqtt devices, when a bridge is reachable.
  const zigbeeRoles = new Map(
    options.zigbee
      .map((t) => parsePair('zigbee', t))
      .map((p) => [p.key, { role: asRole('zigbee', p.value), room: p.room }]),
  );
  if (options.zigbeeBroker) {
    const listed = await listZigbeeDevices(options.zigbeeBroker, options.probeTimeoutMs);
    io.say(listed.length ? `zigbee2mqtt lists ${listed.length} device(s)` : 'zigbee2mqtt listed no device');
    for (const device of listed) {
      const name = device.friendly_name;
      const model = [device.definition?.vendor, device.definition?.model].filter(Boolean).join(' ');
      let chosen = zigbeeRoles.get(name);
      if (!chosen && io.ask) {
        const suggestion = suggestZigbeeRole(device);
        const answer = await ask(
          `  ${name} (${model || device.type}): role (empty to skip${suggestion ? `, "y" for ${suggestion}` : ''})?`,
          '',
          '--zigbee',
        );
        const role = answer === 'y' ? suggestion : answer ? asRole('zigbee', answer) : undefined;
        if (role) chosen = { role, room: undefined };
      }
      if (!chosen) continue;
      devices.push({
        id: ids.make(chosen.role),
        kind: 'zigbee',
        role: chosen.role,
        address: name,
        ...(chosen.room ? { room: chosen.room } : {}),
      });
      zigbeeRoles.delete(name);
    }
    for (const name of zigbeeRoles.keys()) io.say(`--zigbee ${name}: not listed by zigbee2mqtt (left out)`);
  } else if (zigbeeRoles.size) {
    throw new HomebedError('HB_USAGE', '--zigbee needs --zigbee-broker (where zigbee2mqtt publishes)');
  }

  const candidate = {
    gatewayId,
    bedId,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    cloud: { url: cloudUrl, secret },
    influx: { url: influxUrl, ...(options.influxDatabase ? { database: options.influxDatabase } : {}) },
    serialPorts,
    devices,
  };
  const parsed = gatewayConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HomebedError('HB_CONFIG', `the answers do not make a valid configuration: ${problems}`);
  }
  if (!devices.some((d) => d.role === 'sos_button')) io.say('warning: no SOS button configured');
  const header =
    `# Written by \`homebed-gateway init\` on ${new Date().toISOString()}.\n` +
    '# Check it with `npm run gateway -- check-config --config <this file>`; then `gateway test`.\n';
  await writeFile(options.out, header + stringify(candidate), { mode: 0o600 });
  io.say(`wrote ${options.out}: ${serialPorts.length} serial port(s), ${devices.length} device(s)`);
  return { file: options.out, config: parsed.data, probes };
}
