/**
 * systemd unit files: a small parser and the checks of deploy/systemd/ (systemd.test.ts runs them on
 * the real units and on broken copies).
 */

/** Section → key → every value given (a key may repeat, e.g. DeviceAllow=). */
export type Unit = Map<string, Map<string, string[]>>;

/** The INI dialect of systemd.syntax(7): `[Section]`, `Key=value`, `#`/`;` comments, `\` continuations. */
export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  let pending = '';
  for (const raw of text.split('\n')) {
    let line = pending + raw.trim();
    pending = '';
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !section) throw new Error(`not Key=value in a section: ${JSON.stringify(raw)}`);
    const key = line.slice(0, eq).trim();
    line = line.slice(eq + 1).trim();
    section.set(key, [...(section.get(key) ?? []), line]);
  }
  return unit;
}

/** The last value of a key (what systemd uses for single-valued settings). */
export function value(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

export function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** A copy of a unit with `edit` applied (to break it for a check's own test). */
export function editedUnit(unit: Unit, edit: (u: Unit) => void): Unit {
  const copy: Unit = new Map(
    [...unit].map(([s, keys]) => [s, new Map([...keys].map(([k, v]) => [k, [...v]]))]),
  );
  edit(copy);
  return copy;
}

const YES = new Set(['yes', 'true', 'on', '1']);

export interface ServiceExpectations {
  /** e.g. `gateway`: homebed-<name>.service, /etc/homebed/<name>.yaml, StateDirectory homebed/<name>. */
  name: string;
  /** package.json bin script of the program, e.g. `dist/gateway/cli.js`. */
  script: string;
  /** `dataDir` of the example config. */
  dataDir: string;
  /** The product speaks sd_notify (then Type=notify and a watchdog would be right). */
  sdNotify: boolean;
  /** Needs serial ports. */
  serial: boolean;
}

export const INSTALL_DIR = '/opt/homebed';
export const NODE = '/usr/bin/node';

/**
 * One program's unit: runs the built bin entry with `run --config /etc/homebed/<name>.yaml` as the
 * `homebed` user; restarts with a delay and a start limit; Type=simple without a watchdog (the programs
 * do not speak sd_notify); its StateDirectory is the config's dataDir and is writable while the rest of
 * the system is read-only; the hardening basics; serial access only where needed.
 */
export function serviceUnitProblems(unit: Unit, expect: ServiceExpectations): string[] {
  const problems: string[] = [];
  const s = (key: string) => value(unit, 'Service', key);
  const config = `/etc/homebed/${expect.name}.yaml`;
  const execStart = s('ExecStart');
  const wanted = `${NODE} ${INSTALL_DIR}/${expect.script} run --config ${config}`;
  if (execStart !== wanted) problems.push(`ExecStart=${execStart ?? ''}: want ${wanted}`);
  if (s('User') !== 'homebed') problems.push(`User=${s('User') ?? ''}: want homebed`);
  if (s('Group') !== 'homebed') problems.push(`Group=${s('Group') ?? ''}: want homebed`);
  if (!['always', 'on-failure'].includes(s('Restart') ?? ''))
    problems.push(`Restart=${s('Restart') ?? ''}: want always or on-failure`);
  if (!/^[1-9]\d*(ms|s|min)?$/.test(s('RestartSec') ?? '')) problems.push('RestartSec= missing or zero');
  for (const key of ['StartLimitIntervalSec', 'StartLimitBurst']) {
    if (!value(unit, 'Unit', key)) problems.push(`[Unit] ${key}= missing`);
  }
  if (expect.sdNotify) {
    if (s('Type') !== 'notify')
      problems.push('the program speaks sd_notify: use Type=notify (and WatchdogSec=)');
  } else {
    if ((s('Type') ?? 'simple') !== 'simple')
      problems.push(`Type=${s('Type')}: the program does not speak sd_notify`);
    if (s('WatchdogSec'))
      problems.push('WatchdogSec= needs sd_notify WATCHDOG=1 pings, which the program never sends');
  }
  const state = s('StateDirectory');
  if (state !== `homebed/${expect.name}`)
    problems.push(`StateDirectory=${state ?? ''}: want homebed/${expect.name}`);
  if (`/var/lib/${state}` !== expect.dataDir) {
    problems.push(`StateDirectory=${state ?? ''} is not the example config's dataDir ${expect.dataDir}`);
  }
  if (s('ConfigurationDirectory') !== 'homebed') problems.push('ConfigurationDirectory=homebed missing');
  for (const file of values(unit, 'Service', 'EnvironmentFile')) {
    if (!file.replace(/^-/, '').startsWith('/etc/homebed/'))
      problems.push(`EnvironmentFile=${file}: keep it in /etc/homebed`);
  }
  if (!YES.has(s('NoNewPrivileges') ?? '')) problems.push('NoNewPrivileges=yes missing');
  if (s('ProtectSystem') !== 'strict') problems.push('ProtectSystem=strict missing');
  if (!YES.has(s('PrivateTmp') ?? '')) problems.push('PrivateTmp=yes missing');
  const writable = values(unit, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/));
  if (!writable.includes(expect.dataDir)) problems.push(`ReadWritePaths= does not include ${expect.dataDir}`);
  if (YES.has(s('MemoryDenyWriteExecute') ?? ''))
    problems.push('MemoryDenyWriteExecute=yes breaks Node’s JIT');
  const groups = values(unit, 'Service', 'SupplementaryGroups').flatMap((v) => v.split(/\s+/));
  const devices = values(unit, 'Service', 'DeviceAllow');
  if (expect.serial) {
    if (!groups.includes('dialout')) problems.push('SupplementaryGroups=dialout missing (serial ports)');
    for (const dev of ['char-ttyUSB', 'char-ttyACM']) {
      if (
        !devices.some(
          (d) =>
            d.split(/\s+/)[0] === dev &&
            /r/.test(d.split(/\s+/)[1] ?? 'rwm') &&
            /w/.test(d.split(/\s+/)[1] ?? 'rwm'),
        )
      ) {
        problems.push(`DeviceAllow=${dev} rw missing`);
      }
    }
    if (!['closed', 'strict'].includes(s('DevicePolicy') ?? '')) problems.push('DevicePolicy=closed missing');
    if (YES.has(s('PrivateDevices') ?? '')) problems.push('PrivateDevices=yes hides the serial ports');
  } else if (groups.includes('dialout') || devices.length) {
    problems.push('serial access for a program without serial ports');
  }
  if (value(unit, 'Install', 'WantedBy') !== 'multi-user.target')
    problems.push('[Install] WantedBy=multi-user.target missing');
  return problems;
}
