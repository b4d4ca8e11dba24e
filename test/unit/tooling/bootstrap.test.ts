import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** The parts of tools/bootstrap.mjs under test (a plain .mjs file has no type declarations). */
interface BootstrapModule {
  STAMP_FILE_NAME: string;
  SYSTEM_PACKAGES: ReadonlyArray<{ binary: string; aptPackage: string; neededFor: readonly string[] }>;
  minimumNodeVersion(packageJson: unknown): [number, number, number];
  nodeVersionProblem(version: string, minimum: [number, number, number]): string | undefined;
  sha256File(file: string): string;
  installReason(options: { root: string; runtime?: string }): string | undefined;
  writeInstallStamp(options: { root: string; runtime?: string }): void;
  findExecutable(name: string, pathVariable?: string): string | undefined;
  missingSystemPackages(
    command: string,
    find: (binary: string) => string | undefined,
  ): ReadonlyArray<{ binary: string; aptPackage: string }>;
  aptCommands(packages: string[], uid: number | undefined): string[][];
  childCommand(command: string, extraArgs: string[], root?: string): string[];
}

// A non-literal specifier keeps tsc from looking for declarations of the .mjs file.
const bootstrapUrl = new URL('../../../tools/bootstrap.mjs', import.meta.url).href;
const bootstrap = (await import(bootstrapUrl)) as BootstrapModule;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'homebed-bootstrap-unit-'));
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('installReason', () => {
  const runtime = 'node-abi-115 linux-x64';

  it('asks for an install when node_modules is missing', () => {
    expect(bootstrap.installReason({ root, runtime })).toBe('node_modules is missing');
  });

  it('asks for an install when node_modules has no stamp (installed by hand or a failed npm ci)', () => {
    mkdirSync(join(root, 'node_modules'));
    expect(bootstrap.installReason({ root, runtime })).toMatch(/no install stamp/);
  });

  it('is satisfied right after writeInstallStamp', () => {
    bootstrap.writeInstallStamp({ root, runtime });
    expect(bootstrap.installReason({ root, runtime })).toBeUndefined();
  });

  it('asks for an install when package-lock.json changed', () => {
    bootstrap.writeInstallStamp({ root, runtime });
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3, "changed": true}\n');
    expect(bootstrap.installReason({ root, runtime })).toBe(
      'package-lock.json changed since the last install',
    );
  });

  it('asks for an install when Node changed (native addons are built per ABI)', () => {
    bootstrap.writeInstallStamp({ root, runtime });
    expect(bootstrap.installReason({ root, runtime: 'node-abi-127 linux-x64' })).toMatch(/another Node/);
  });

  it('stamps the sha256 of package-lock.json on the first line', () => {
    bootstrap.writeInstallStamp({ root, runtime });
    const expected = createHash('sha256').update('{"lockfileVersion": 3}\n').digest('hex');
    expect(bootstrap.sha256File(join(root, 'package-lock.json'))).toBe(expected);
    const stampPath = join(root, 'node_modules', bootstrap.STAMP_FILE_NAME);
    expect(bootstrap.sha256File(stampPath)).not.toBe(expected); // sanity: different files
    writeFileSync(stampPath, `${'0'.repeat(64)}\n${runtime}\n`);
    expect(bootstrap.installReason({ root, runtime })).toMatch(/changed/);
    writeFileSync(stampPath, `${expected}\n${runtime}\n`);
    expect(bootstrap.installReason({ root, runtime })).toBeUndefined();
  });

  it('refuses to work without a lockfile', () => {
    rmSync(join(root, 'package-lock.json'));
    expect(() => bootstrap.installReason({ root, runtime })).toThrow(/package-lock.json is missing/);
  });
});

describe('Node version check', () => {
  it('reads the minimum from engines.node', () => {
    expect(bootstrap.minimumNodeVersion({ engines: { node: '>=20.19' } })).toEqual([20, 19, 0]);
    expect(bootstrap.minimumNodeVersion({ engines: { node: '>= 22.1.3' } })).toEqual([22, 1, 3]);
    expect(bootstrap.minimumNodeVersion({})).toEqual([20, 0, 0]);
    expect(bootstrap.minimumNodeVersion({ engines: { node: '^20 || ^22' } })).toEqual([20, 0, 0]);
  });

  it('accepts equal and newer versions, rejects older ones with a clear message', () => {
    expect(bootstrap.nodeVersionProblem('v20.19.0', [20, 19, 0])).toBeUndefined();
    expect(bootstrap.nodeVersionProblem('v22.0.0', [20, 19, 0])).toBeUndefined();
    expect(bootstrap.nodeVersionProblem('v24.3.1', [20, 19, 0])).toBeUndefined();
    expect(bootstrap.nodeVersionProblem('v20.18.9', [20, 19, 0])).toMatch(
      /Node 20\.19\.0 or newer is needed/,
    );
    expect(bootstrap.nodeVersionProblem('v18.20.0', [20, 0, 0])).toMatch(/this is v18\.20\.0/);
  });
});

describe('system packages', () => {
  it('lists influxd, socat and mosquitto with their Debian packages', () => {
    const rows = bootstrap.SYSTEM_PACKAGES.map((row) => [row.binary, row.aptPackage]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['influxd', 'influxdb'],
        ['socat', 'socat'],
        ['mosquitto', 'mosquitto'],
      ]),
    );
  });

  it('reports only the missing ones', () => {
    const missing = bootstrap.missingSystemPackages('test', (binary) =>
      binary === 'socat' ? '/usr/bin/socat' : undefined,
    );
    expect(missing.map((row) => row.aptPackage)).toEqual([
      'influxdb',
      'mosquitto',
      'victoria-metrics',
      'chromium fonts-noto-cjk',
    ]);
    expect(bootstrap.missingSystemPackages('test', (binary) => `/usr/bin/${binary}`)).toEqual([]);
  });

  it('finds executables on PATH and skips files that are not executable', () => {
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'homebed-fake-tool'), '#!/bin/sh\n');
    writeFileSync(join(bin, 'homebed-not-executable'), '');
    chmodSync(join(bin, 'homebed-fake-tool'), 0o755);
    expect(bootstrap.findExecutable('homebed-fake-tool', bin)).toBe(join(bin, 'homebed-fake-tool'));
    expect(bootstrap.findExecutable('homebed-not-executable', bin)).toBeUndefined();
    // /usr/bin is searched even when PATH lacks it.
    expect(bootstrap.findExecutable('sh', bin)).toMatch(/\/sh$/);
  });

  it('runs apt-get through sudo unless root, non-interactively', () => {
    expect(bootstrap.aptCommands(['influxdb', 'socat'], 0)).toEqual([
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update'],
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '--no-install-recommends',
        'influxdb',
        'socat',
      ],
    ]);
    const asUser = bootstrap.aptCommands(['socat'], 1000);
    expect(asUser.every((argv) => argv[0] === 'sudo')).toBe(true);
  });
});

describe('childCommand', () => {
  it('runs vitest once over all projects with the extra arguments, using this Node', () => {
    expect(bootstrap.childCommand('test', ['--reporter', 'dot'], '/repo')).toEqual([
      process.execPath,
      '/repo/node_modules/.bin/vitest',
      'run',
      '--reporter',
      'dot',
    ]);
  });

  it('runs the demo with tsx', () => {
    expect(bootstrap.childCommand('demo', ['--fast'], '/repo')).toEqual([
      process.execPath,
      '/repo/node_modules/.bin/tsx',
      '/repo/tools/demo.ts',
      '--fast',
    ]);
  });

  it('runs the chaos run with tsx, and installs what it needs (InfluxDB, Mosquitto) first', () => {
    expect(bootstrap.childCommand('chaos', ['--quick'], '/repo')).toEqual([
      process.execPath,
      '/repo/node_modules/.bin/tsx',
      '/repo/tools/chaos.ts',
      '--quick',
    ]);
    const missing = bootstrap.missingSystemPackages('chaos', () => undefined).map((r) => r.aptPackage);
    expect(missing.sort()).toEqual(['influxdb', 'mosquitto']);
  });

  it('runs the benchmarks with tsx, and installs what they need (InfluxDB, socat, Mosquitto) first', () => {
    expect(bootstrap.childCommand('bench', ['latency'], '/repo')).toEqual([
      process.execPath,
      '/repo/node_modules/.bin/tsx',
      '/repo/bench/run.ts',
      'latency',
    ]);
    const missing = bootstrap.missingSystemPackages('bench', () => undefined).map((r) => r.aptPackage);
    expect(missing.sort()).toEqual(['influxdb', 'mosquitto', 'socat']);
  });

  it('rejects unknown commands', () => {
    expect(() => bootstrap.childCommand('deploy', [], '/repo')).toThrow(/use demo, test, chaos or bench/);
  });
});
