import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineFramer } from '../../../gateway/devices/protocols/rflink/index.js';
import { HostPort } from './host-port.js';

const REPO = join(import.meta.dirname, '../../..');
const CLI = join(REPO, 'firmware-sim/cli.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run sim -- …` without npm: node with the tsx loader, from the repo root as npm would. */
function sim(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('firmware-sim CLI', () => {
  let dir: string;
  let runner: ChildProcess | undefined;
  let runnerDone: Promise<Result> | undefined;
  let controlUrl = '';
  let config = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-sim-cli-'));
    const port = await freePort();
    await writeFile(
      join(dir, 'sim.yaml'),
      [
        `control: { host: 127.0.0.1, port: ${port} }`,
        'devices:',
        `  - { id: rf, kind: rflink, devicePath: ${dir}/dev/sim-rf, hostPath: ${dir}/dev/rf }`,
        `  - { id: bed, kind: mr60bha1, devicePath: ${dir}/dev/sim-bed, hostPath: ${dir}/dev/bed, observationSetupMs: 0 }`,
        `  - { id: fall, kind: mr60fda1, devicePath: ${dir}/dev/sim-fall, hostPath: ${dir}/dev/fall }`,
        '',
      ].join('\n'),
    );
    config = join(dir, 'sim.yaml');
    runner = sim(['run', '--config', config]);
    runnerDone = finished(runner);
    // Wait for the JSON `simulator ready` line.
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buffer = '';
      let errors = '';
      const timer = setTimeout(() => reject(new Error(`no ready line: ${buffer}${errors}`)), 20_000);
      runner?.stderr?.on('data', (c: Buffer) => {
        errors += c.toString();
      });
      runner?.once('exit', (code) => reject(new Error(`sim run exited with ${code}: ${buffer}${errors}`)));
      runner?.stdout?.on('data', (c: Buffer) => {
        buffer += c.toString();
        for (const line of buffer.split('\n')) {
          if (line.includes('"simulator ready"')) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as Record<string, unknown>);
          }
        }
      });
    });
    controlUrl = String(ready.controlUrl);
    expect(ready.devices).toEqual([
      { id: 'rf', kind: 'rflink', hostPath: join(dir, 'dev/rf') },
      { id: 'bed', kind: 'mr60bha1', hostPath: join(dir, 'dev/bed') },
      { id: 'fall', kind: 'mr60fda1', hostPath: join(dir, 'dev/fall') },
    ]);
  });

  afterAll(async () => {
    if (runner && runner.exitCode === null) runner.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('--help lists the subcommands', async () => {
    const r = await finished(sim(['--help']));
    expect(r.code).toBe(0);
    for (const cmd of [
      'run',
      'press <button>',
      'radar <id>',
      'fall-radar <id> <action>',
      'rf <name> <action>',
      'rf <name> battery ok|low',
      'zigbee <name>',
      'native <id>',
      'fault <id>',
      'unplug <id>',
      'replug <id>',
      'state',
    ]) {
      expect(r.stdout).toContain(cmd);
    }
  });

  it('press <button> posts to the running simulator and prints one line', async () => {
    const host = await HostPort.open(join(dir, 'dev/rf'), 57600);
    try {
      const r = await finished(sim(['press', 'sos', '--control-url', controlUrl]));
      expect(r).toMatchObject({ code: 0, stdout: 'pressed sos (3 lines)\n' });
      await host.waitFor((b) => (new LineFramer().push(b).length >= 3 ? true : undefined));
    } finally {
      await host.close();
    }
    // The control URL can also come from the config file.
    const viaConfig = await finished(sim(['press', 'sos', '--config', config]));
    expect(viaConfig.stdout).toBe('pressed sos (3 lines)\n');
  });

  it('radar <id> --out-of-bed --heart-rate N changes the radar', async () => {
    const r = await finished(
      sim(['radar', 'bed', '--out-of-bed', '--heart-rate', '75', '--control-url', controlUrl]),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('radar bed: out of bed, present, sleep none, heart 75/min, breath 15/min\n');
  });

  it('fails with a clear message and exit 1 for an unknown button or a simulator that is not running', async () => {
    const unknown = await finished(sim(['press', 'nope', '--control-url', controlUrl]));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no button named "nope"');

    const down = await finished(
      sim(['press', 'sos', '--control-url', `http://127.0.0.1:${await freePort()}`]),
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /simulator is not running at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/,
    );
  });

  it('exits 2 with every problem listed for an invalid config, and for bad usage', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'control: { port: -1 }\ndevices: [{ id: x, kind: lidar }]\n');
    const bad = await finished(sim(['run', '--config', join(dir, 'bad.yaml')]));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid configuration in');
    expect(bad.stderr).toContain('control.port:');
    expect(bad.stderr).toContain('devices.0.kind:');

    const usage = await finished(sim(['radar', 'bed', '--control-url', controlUrl]));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('radar needs a change');
  });

  it('rf <name> <action> and rf <name> battery low', async () => {
    const press = await finished(sim(['rf', 'sos', 'press', '--control-url', controlUrl]));
    expect(press).toMatchObject({ code: 0, stdout: 'sos press: 3 × EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\n' });
    const battery = await finished(sim(['rf', 'sos', 'battery', 'low', '--control-url', controlUrl]));
    expect(battery).toMatchObject({ code: 0, stdout: 'sos: battery low (not in its RFLink lines)\n' });
    const wrong = await finished(sim(['rf', 'sos', 'open', '--control-url', controlUrl]));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('a button cannot open');
  });

  it('fall-radar <id> fall|get-up', async () => {
    const fall = await finished(sim(['fall-radar', 'fall', 'fall', '--control-url', controlUrl]));
    expect(fall).toMatchObject({
      code: 0,
      stdout: 'fall radar fall: present, motion stationary, FALLEN, residency no\n',
    });
    const up = await finished(sim(['fall-radar', 'fall', 'get-up', '--control-url', controlUrl]));
    expect(up.stdout).toBe('fall radar fall: present, motion active, no fall, residency no\n');
    expect((await finished(sim(['fall-radar', 'fall', 'jump', '--control-url', controlUrl]))).code).toBe(2);
  });

  it('fault <id> --noise=0.5 --truncated, --clear; wrong faults for the device fail with the reason', async () => {
    const on = await finished(
      sim(['fault', 'rf', '--noise=0.5', '--truncated', '--control-url', controlUrl]),
    );
    expect(on).toMatchObject({
      code: 0,
      stdout: 'faults on rf: {"noise":0.5,"badChecksums":0,"truncated":0.2,"silent":false}\n',
    });
    const off = await finished(sim(['fault', 'rf', '--clear', '--control-url', controlUrl]));
    expect(off.stdout).toBe('faults on rf: {"noise":0,"badChecksums":0,"truncated":0,"silent":false}\n');
    const dying = await finished(sim(['fault', 'sos', '--dying-battery=20', '--control-url', controlUrl]));
    expect(dying).toMatchObject({ code: 0, stdout: 'sos: dying battery 20 %/min\n' });
    const wrong = await finished(sim(['fault', 'rf', '--dying-battery', '--control-url', controlUrl]));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('dyingBattery applies to RF transmitters');
    expect((await finished(sim(['fault', 'rf', '--control-url', controlUrl]))).code).toBe(2);
    expect((await finished(sim(['press', 'sos', '--noise', '--control-url', controlUrl]))).code).toBe(2);
  });

  it('unplug <id> removes the host path; replug <id> brings it back', async () => {
    const out = await finished(sim(['unplug', 'fall', '--control-url', controlUrl]));
    expect(out).toMatchObject({ code: 0, stdout: `fall: unplugged (${join(dir, 'dev/fall')})\n` });
    await expect(lstat(join(dir, 'dev/fall'))).rejects.toThrow(/ENOENT/);
    const back = await finished(sim(['replug', 'fall', '--control-url', controlUrl]));
    expect(back).toMatchObject({ code: 0, stdout: `fall: plugged in (${join(dir, 'dev/fall')})\n` });
    expect((await lstat(join(dir, 'dev/fall'))).isSymbolicLink()).toBe(true);
  });

  it('zigbee and native commands name what is configured when the device is unknown', async () => {
    const z = await finished(sim(['zigbee', 'bathroom_sos', 'sos', '--control-url', controlUrl]));
    expect(z.code).toBe(1);
    expect(z.stderr).toContain('no zigbee device named "bathroom_sos"; known: (none)');
    const n = await finished(sim(['native', 'pendant', '--event', 'sos', '--control-url', controlUrl]));
    expect(n.code).toBe(1);
    expect(n.stderr).toContain('no native device named "pendant"');
    expect((await finished(sim(['native', 'pendant', '--control-url', controlUrl]))).code).toBe(2);
  });

  it('run stops cleanly on SIGTERM: exit 0, PTY links removed', async () => {
    runner?.kill('SIGTERM');
    const r = await runnerDone;
    expect(r?.code).toBe(0);
    expect(r?.stdout).toContain('"simulator stopped"');
    await expect(lstat(join(dir, 'dev/rf'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(dir, 'dev/bed'))).rejects.toThrow(/ENOENT/);
  });
});
