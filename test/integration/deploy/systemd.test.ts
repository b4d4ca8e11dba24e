import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  at,
  packageBins,
  parseEnvFile,
  readRepoFile,
  repoFileExists,
  repoPath,
  resolveProgramConfig,
  urlHost,
} from './deploy-files.js';
import {
  editedUnit,
  INSTALL_DIR,
  NODE,
  parseUnit,
  serviceUnitProblems,
  type Unit,
  value,
} from './systemd-checks.js';

const run = promisify(execFile);

/**
 * deploy/systemd/: the units parse and say what they must (program, user, restarts, state directory =
 * the example config's dataDir, hardening, serial access), the example configs validate against the
 * programs' schemas, and `systemd-analyze verify` accepts the units where it exists.
 */

const UNITS = [
  'homebed-gateway.service',
  'homebed-cloud.service',
  'homebed-healthcheck.service',
  'homebed-healthcheck.timer',
];

function unit(name: string): Unit {
  return parseUnit(readRepoFile(`deploy/systemd/${name}`));
}

/** The product speaks sd_notify when its source mentions NOTIFY_SOCKET (it does not, so far). */
function productSpeaksSdNotify(): boolean {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(repoPath(dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts')) files.push(rel);
    }
  };
  for (const dir of ['common', 'gateway', 'cloud']) walk(dir);
  return files.some((f) => /NOTIFY_SOCKET|sd_notify/.test(readRepoFile(f)));
}

const PROGRAMS = [
  { name: 'gateway', program: 'homebed-gateway', serial: true },
  { name: 'cloud', program: 'homebed-cloud', serial: false },
] as const;

describe.each(PROGRAMS)('homebed-$name.service', ({ name, program, serial }) => {
  const example = `deploy/config/${name}.example.yaml`;
  const envExample = parseEnvFile(readRepoFile(`deploy/config/${name}.env.example`)).values;
  const resolved = resolveProgramConfig(program, example, envExample);
  const units = unit(`homebed-${name}.service`);
  const expectations = {
    name,
    script: packageBins()[program]!,
    dataDir: String(resolved.config?.dataDir),
    sdNotify: productSpeaksSdNotify(),
    serial,
  };

  it(`${example} with ${name}.env.example validates against the ${program} schema`, () => {
    expect(resolved.problems).toEqual([]);
    // The same check finds what it is for: a key the schema does not know, a value it refuses.
    const broken = resolveProgramConfig(program, example, {
      ...envExample,
      [`HOMEBED_${name.toUpperCase()}__DATA_DIRECTORY`]: '/srv/x',
      [`HOMEBED_${name.toUpperCase()}__LOG__LEVEL`]: 'loud',
    });
    expect(broken.problems).toEqual([expect.stringMatching(/log\.level: Invalid option/)]);
    const unknown = resolveProgramConfig(program, example, {
      ...envExample,
      [`HOMEBED_${name.toUpperCase()}__DATA_DIRECTORY`]: '/srv/x',
    });
    expect(unknown.problems).toEqual([`${example}: dataDirectory: not a key of ${program}'s configuration`]);
  });

  it('runs the built program as homebed with restarts, its state directory = dataDir, and hardening', () => {
    expect(expectations.dataDir).toBe(`/var/lib/homebed/${name}`);
    expect(serviceUnitProblems(units, expectations)).toEqual([]);
  });

  it('finds a wrong ExecStart, a missing user, a watchdog without sd_notify and a state directory elsewhere', () => {
    const broken = editedUnit(units, (u) => {
      const s = u.get('Service')!;
      s.set('ExecStart', [
        `${NODE} ${INSTALL_DIR}/dist/${name}/main.js run --config /etc/homebed/${name}.yaml`,
      ]);
      s.delete('User');
      s.set('WatchdogSec', ['30s']);
      s.set('StateDirectory', ['homebed']);
      s.set('MemoryDenyWriteExecute', ['yes']);
      u.get('Unit')!.delete('StartLimitBurst');
    });
    expect(serviceUnitProblems(broken, expectations)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ExecStart=.*main\.js.*: want \/usr\/bin\/node \/opt\/homebed\/dist\//),
        'User=: want homebed',
        '[Unit] StartLimitBurst= missing',
        'WatchdogSec= needs sd_notify WATCHDOG=1 pings, which the program never sends',
        `StateDirectory=homebed: want homebed/${name}`,
        `StateDirectory=homebed is not the example config's dataDir /var/lib/homebed/${name}`,
        'MemoryDenyWriteExecute=yes breaks Node’s JIT',
      ]),
    );
  });

  if (serial) {
    it('reaches serial adapters and only them; the example ports are such adapters', () => {
      const broken = editedUnit(units, (u) => {
        const s = u.get('Service')!;
        s.delete('SupplementaryGroups');
        s.set('DeviceAllow', ['char-ttyUSB r']);
        s.set('PrivateDevices', ['yes']);
      });
      expect(serviceUnitProblems(broken, expectations)).toEqual([
        'SupplementaryGroups=dialout missing (serial ports)',
        'DeviceAllow=char-ttyUSB rw missing',
        'DeviceAllow=char-ttyACM rw missing',
        'PrivateDevices=yes hides the serial ports',
      ]);
      const ports = (resolved.config?.serialPorts ?? []) as { path: string }[];
      expect(ports.length).toBeGreaterThan(0);
      for (const p of ports) expect(p.path).toMatch(/^\/dev\/(serial\/by-id\/|ttyUSB|ttyACM)/);
    });
  }
});

describe('homebed-healthcheck', () => {
  const service = unit('homebed-healthcheck.service');
  const timer = unit('homebed-healthcheck.timer');

  it('runs the script of this folder (installed under /opt/homebed) on a timer', () => {
    const [shell, script] = (value(service, 'Service', 'ExecStart') ?? '').split(/\s+/);
    expect(shell).toBe('/bin/sh');
    expect(script?.startsWith(`${INSTALL_DIR}/`)).toBe(true);
    expect(repoFileExists(script!.slice(INSTALL_DIR.length + 1))).toBe(true);
    expect(value(service, 'Service', 'Type')).toBe('oneshot');
    expect(value(timer, 'Timer', 'OnUnitActiveSec')).toMatch(/^\d+(s|min)$/);
    expect(value(timer, 'Install', 'WantedBy')).toBe('timers.target');
  });

  it('asks the relay of the example config for /healthz, and looks after both programs’ units', () => {
    const cloud = resolveProgramConfig('homebed-cloud', 'deploy/config/cloud.example.yaml', {});
    const url = new URL(
      (value(service, 'Service', 'Environment') ?? '').replace(/^HOMEBED_CLOUD_HEALTH_URL=/, ''),
    );
    expect(url.pathname).toBe('/healthz');
    expect(cloud.problems).toEqual([]);
    expect(Number(url.port)).toBe(at(cloud.config, 'http.port'));
    expect(urlHost(url.href)).toBe('127.0.0.1');
    const script = readRepoFile('deploy/systemd/homebed-healthcheck.sh');
    for (const name of ['homebed-gateway.service', 'homebed-cloud.service']) {
      expect(script).toContain(name);
      expect(existsSync(repoPath(`deploy/systemd/${name}`))).toBe(true);
    }
  });
});

describe('the units parse', () => {
  it('into sections and repeated keys', () => {
    const u = parseUnit(
      '[Unit]\n# c\nA=1\n[Service]\nDeviceAllow=x rw\nDeviceAllow=y rw\nExecStart=/bin/a \\\n  b\n',
    );
    expect(value(u, 'Unit', 'A')).toBe('1');
    expect(u.get('Service')?.get('DeviceAllow')).toEqual(['x rw', 'y rw']);
    expect(value(u, 'Service', 'ExecStart')).toBe('/bin/a b');
    expect(() => parseUnit('A=1\n')).toThrow(/not Key=value in a section/);
  });

  it('every unit file of deploy/systemd is one of the known units, each with a Description', () => {
    const files = readdirSync(repoPath('deploy/systemd')).filter((f) => /\.(service|timer)$/.test(f));
    expect(files.sort()).toEqual([...UNITS].sort());
    for (const f of files) expect(value(unit(f), 'Unit', 'Description')).toBeTruthy();
  });
});

// systemd-analyze verify checks keys, values and that ExecStart's binary exists; it needs systemd's
// tools (not on every machine) and the units name /usr/bin/node, the Debian/NodeSource path.
const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const verifySkip = !analyze
  ? 'systemd-analyze is not installed'
  : !existsSync(NODE)
    ? `${NODE} does not exist here (the units' ExecStart), so verify would report it`
    : undefined;

describe('systemd-analyze verify', () => {
  it.skipIf(verifySkip !== undefined)(
    `accepts every unit${verifySkip ? ` (skipped: ${verifySkip})` : ''}`,
    async () => {
      const paths = UNITS.map((u) => join(repoPath('deploy/systemd'), u));
      const { stdout, stderr } = await run(analyze!, ['verify', ...paths]).catch(
        (err: { stdout: string; stderr: string }) => ({
          stdout: err.stdout,
          stderr: `${err.stderr}\n(exit non-zero)`,
        }),
      );
      const output = `${stdout}${stderr}`.split('\n').filter((l) => l.trim());
      expect(output).toEqual([]);
    },
  );

  it.skipIf(verifySkip !== undefined)('reports a unit with an unknown key (the check can fail)', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'homebed-verify-'));
    try {
      const path = join(dir, 'homebed-gateway.service');
      await writeFile(
        path,
        readRepoFile('deploy/systemd/homebed-gateway.service').replace(
          '[Service]\n',
          '[Service]\nWatchDog=30s\n',
        ),
      );
      const { stderr } = await run(analyze!, ['verify', path]).catch((err: { stderr: string }) => err);
      expect(stderr).toMatch(/Unknown key 'WatchDog'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/config env examples', () => {
  it('hold placeholders only, under names the programs read', () => {
    for (const name of ['gateway', 'cloud']) {
      const text = readRepoFile(`deploy/config/${name}.env.example`);
      const { values, commented } = parseEnvFile(text);
      for (const [key, v] of Object.entries(values)) {
        expect(key.startsWith(`HOMEBED_${name.toUpperCase()}__`)).toBe(true);
        expect(v).toMatch(/replace/i);
      }
      for (const key of commented) expect(key.startsWith(`HOMEBED_${name.toUpperCase()}__`)).toBe(true);
    }
  });
});
