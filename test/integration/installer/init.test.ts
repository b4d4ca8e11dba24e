import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Aedes } from 'aedes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { closeAedes, listenAedes } from '../../../common/aedes-server.js';
import { systemClock } from '../../../common/clock.js';
import { Mr60bha1Emulator } from '../../../firmware-sim/devices/mr60bha1.js';
import { Mr60fda1Emulator } from '../../../firmware-sim/devices/mr60fda1.js';
import { RflinkEmulator } from '../../../firmware-sim/devices/rflink-receiver.js';
import { Zigbee2mqttEmulator } from '../../../firmware-sim/devices/zigbee2mqtt.js';
import { createPtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { REPO_ROOT, TSX_BIN } from '../../../tools/child-processes.js';

const run = promisify(execFile);

import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { type InitIo, type InitOptions, runInit } from '../../../gateway/installer/init.js';

/**
 * `gateway init` against the simulator's devices on real PTY pairs and a zigbee2mqtt emulator on a real
 * broker: what it writes is a configuration `gateway run` accepts, with each device where it was found.
 */
describe('gateway init commissions a home', () => {
  let dir: string;
  const cleanup: Array<() => Promise<void> | void> = [];
  let rflink: RflinkEmulator;
  let paths: { bed: string; fall: string; rflink: string };
  let brokerUrl: string;

  async function pty(name: string, baudRate: number): Promise<{ hostPath: string; link: SerialPortLink }> {
    const pair = await createPtyPair({ devicePath: join(dir, `sim-${name}`), hostPath: join(dir, name) });
    cleanup.push(() => pair.close());
    const link = new SerialPortLink({ path: pair.devicePath, baudRate });
    await link.open();
    cleanup.push(() => link.close());
    return { hostPath: pair.hostPath, link };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-init-'));
    const bed = await pty('bed', 115200);
    const bedEmu = new Mr60bha1Emulator({ link: bed.link, clock: systemClock });
    bedEmu.start();
    cleanup.push(() => bedEmu.stop());
    const fall = await pty('fall', 115200);
    const fallEmu = new Mr60fda1Emulator({ link: fall.link, clock: systemClock });
    fallEmu.start();
    cleanup.push(() => fallEmu.stop());
    const rf = await pty('rflink', 57600);
    rflink = new RflinkEmulator({ link: rf.link, clock: systemClock });
    rflink.start();
    cleanup.push(() => rflink.stop());
    paths = { bed: bed.hostPath, fall: fall.hostPath, rflink: rf.hostPath };

    const broker = await Aedes.createBroker();
    const { server, port } = await listenAedes(broker, '127.0.0.1', 0);
    cleanup.push(() => closeAedes(broker, server));
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    const z2m = new Zigbee2mqttEmulator({
      mqtt: { url: brokerUrl, reconnectPeriodMs: 200 },
      clock: systemClock,
      devices: [
        {
          friendlyName: 'bathroom_sos',
          kind: 'sos_button',
          availability: 'json',
          battery: 90,
          linkquality: 100,
          occupancyTimeoutMs: 90_000,
          checkinIntervalMs: 0,
        },
        {
          friendlyName: 'hall_motion',
          kind: 'motion',
          availability: 'json',
          battery: 90,
          linkquality: 100,
          occupancyTimeoutMs: 90_000,
          checkinIntervalMs: 0,
        },
      ],
    });
    z2m.start();
    cleanup.push(() => z2m.stop());
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await rm(dir, { recursive: true, force: true });
  });

  const baseOptions = (): InitOptions => ({
    out: join(dir, 'gateway.yaml'),
    force: false,
    yes: true,
    gatewayId: 'gw-0001',
    bedId: 'bed-0001',
    secret: 'secret-from-provisioning',
    ports: [paths.bed, paths.fall, paths.rflink, join(dir, 'missing')],
    radarRoles: [],
    rf: [],
    learn: [],
    zigbee: [],
    probeTimeoutMs: 2_500,
    learnTimeoutMs: 5_000,
  });

  const io = (lines: string[], ask?: InitIo['ask']): InitIo => ({
    say: (line) => lines.push(line),
    discoverPorts: async () => [],
    ...(ask ? { ask } : {}),
  });

  it('unattended: radars by their model, a button paired by pressing it, a door by flag, zigbee by flag', async () => {
    const lines: string[] = [];
    const said = io(lines);
    const options: InitOptions = {
      ...baseOptions(),
      rf: ['front_door=EV1527:1a2b3:01@hall'],
      learn: ['sos_button'],
      zigbeeBroker: brokerUrl,
      zigbee: ['bathroom_sos=sos_button@bathroom'],
    };
    // Press the pendant once init is listening for it (it says so).
    const pressed = (async () => {
      while (!lines.some((l) => l.startsWith('press the sos button')))
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      rflink.press({ protocol: 'EV1527', id: '0D3E4', switch: '01' });
    })();
    const result = await runInit(options, said);
    await pressed;

    const written = parse(await readFile(options.out, 'utf8'));
    // What `gateway run` will read is valid as it stands.
    const config = gatewayConfigSchema.parse(written);
    expect(config).toEqual(result.config);
    expect(config.gatewayId).toBe('gw-0001');
    expect(config.cloud.secret).toBe('secret-from-provisioning');
    expect(config.serialPorts.map((p) => [p.path, p.protocol])).toEqual([
      [paths.bed, 'seeed'],
      [paths.fall, 'seeed'],
      [paths.rflink, 'rflink'],
    ]);
    const devices = config.devices.map((d) => ({
      id: d.id,
      kind: d.kind,
      role: d.role,
      address: d.address,
      room: d.room,
    }));
    expect(devices).toEqual([
      { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', address: undefined, room: undefined },
      { id: 'fall-radar', kind: 'mr60fda1', role: 'fall_radar', address: undefined, room: undefined },
      { id: 'front-door', kind: 'rf_contact', role: 'front_door', address: 'EV1527:1a2b3:01', room: 'hall' },
      {
        id: 'sos-button',
        kind: 'rf_button',
        role: 'sos_button',
        address: 'EV1527:0d3e4:01',
        room: undefined,
      },
      { id: 'sos-button-2', kind: 'zigbee', role: 'sos_button', address: 'bathroom_sos', room: 'bathroom' },
    ]);
    // The radars' links point at their own ports.
    expect(config.devices[0]?.link).toBe(config.serialPorts[0]?.id);
    expect(lines.join('\n')).toMatch(/missing.*left out/);
    expect(lines.join('\n')).toContain('heard EV1527:0d3e4:01');
  });

  it('asks what it cannot tell, suggests a zigbee role from what the device exposes, and takes the answers', async () => {
    const questions: string[] = [];
    const answers = ['gw-0002', 'bed-0002', '', 'the-secret-1', '', '', 'y', ''];
    const lines: string[] = [];
    const result = await runInit(
      {
        ...baseOptions(),
        yes: false,
        gatewayId: undefined,
        bedId: undefined,
        secret: undefined,
        ports: [paths.rflink],
        zigbeeBroker: brokerUrl,
      },
      io(lines, async (q) => {
        questions.push(q);
        return answers.shift() ?? '';
      }),
    );
    expect(questions[0]).toMatch(/Gateway id/);
    expect(questions[2]).toContain('[mqtt://127.0.0.1:1884]');
    expect(questions.some((q) => /bathroom_sos .*"y" for sos_button/.test(q))).toBe(true);
    expect(questions.some((q) => /hall_motion .*"y" for pir/.test(q))).toBe(true);
    expect(result.config.gatewayId).toBe('gw-0002');
    expect(result.config.cloud.url).toBe('mqtt://127.0.0.1:1884');
    // "y" took the suggestion for the first listed device, empty skipped the second.
    expect(result.config.devices.map((d) => [d.kind, d.role, d.address])).toEqual([
      ['zigbee', 'sos_button', 'bathroom_sos'],
    ]);
    expect(lines).toContain('zigbee2mqtt lists 2 device(s)');
  });

  it('refuses to overwrite, names a missing answer with --yes, and explains a bad flag', async () => {
    const lines: string[] = [];
    await runInit({ ...baseOptions(), ports: [] }, io(lines));
    await expect(runInit({ ...baseOptions(), ports: [] }, io(lines))).rejects.toThrow(/exists; pass --force/);
    await expect(
      runInit({ ...baseOptions(), out: join(dir, 'b.yaml'), bedId: undefined, ports: [] }, io(lines)),
    ).rejects.toThrow(/--bed-id is required with --yes/);
    await expect(
      runInit({ ...baseOptions(), out: join(dir, 'c.yaml'), rf: ['sos_button'], ports: [] }, io(lines)),
    ).rejects.toThrow(/--rf "sos_button": expected <name>=<value>/);
    await expect(
      runInit(
        { ...baseOptions(), out: join(dir, 'd.yaml'), rf: ['bed_radar=EV1527:1:01'], ports: [paths.rflink] },
        io(lines),
      ),
    ).rejects.toThrow(/a bed_radar is not a 433 MHz device/);
  });

  it('the CLI: `init --yes` prints the file it wrote; a bad flag is an HB_USAGE error (exit 1) that says why', async () => {
    const out = join(dir, 'cli.yaml');
    const args = [
      'gateway/cli.ts',
      'init',
      '--yes',
      '--out',
      out,
      '--gateway-id',
      'gw-9',
      '--bed-id',
      'bed-9',
      '--data-dir',
      '/var/lib/homebed/gateway',
    ];
    const ok = await run(
      process.execPath,
      [TSX_BIN, ...args, '--secret', 'cli-secret-123', '--port', paths.bed],
      {
        cwd: REPO_ROOT,
      },
    );
    expect(ok.stdout.trim()).toBe(out);
    expect(ok.stderr).toContain('Seeed radar MR60BHA1');
    const written = gatewayConfigSchema.parse(parse(await readFile(out, 'utf8')));
    expect(written.devices[0]?.kind).toBe('mr60bha1');
    expect(written.dataDir).toBe('/var/lib/homebed/gateway');
    const bad = await run(
      process.execPath,
      [TSX_BIN, ...args, '--force', '--secret', 's3cret-xyz', '--learn', 'kettle'],
      {
        cwd: REPO_ROOT,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect('code' in bad ? bad.code : 0).toBe(1);
    expect(bad.stderr).toContain('error HB_USAGE');
    expect(bad.stderr).toContain('unknown role "kettle"');
  });
});
