import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import type { AlarmMessage } from '../../../contract/index.js';
import { Mr60bha1Emulator } from '../../../firmware-sim/devices/mr60bha1.js';
import { RflinkEmulator } from '../../../firmware-sim/devices/rflink-receiver.js';
import { createPtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { type ManagedChild, REPO_ROOT, startChild, TSX_BIN } from '../../../tools/child-processes.js';
import { createTestDatabase, testInfluxUrl } from '../../support/influx.js';
import { seedBed } from '../../support/monitoring-centre.js';
import { type ApiClient, loginToRelay, startTestRelay } from '../../support/relay.js';

/**
 * `gateway test` (the commissioning walk) as the installer runs it: the CLI against a real relay, real
 * PTYs with the simulator's radar and RFLink, and a real InfluxDB. Each device counts once it has said
 * what it was asked for; the test alarm must be stored by the cloud; nothing else reaches the centre.
 */
describe('gateway test: the commissioning walk', () => {
  let dir: string;
  const cleanup: Array<() => Promise<void> | void> = [];
  let radar: Mr60bha1Emulator;
  let rflink: RflinkEmulator;
  let configFile: string;
  let api: ApiClient;

  async function pty(name: string, baudRate: number): Promise<{ hostPath: string; link: SerialPortLink }> {
    const pair = await createPtyPair({ devicePath: join(dir, `sim-${name}`), hostPath: join(dir, name) });
    cleanup.push(() => pair.close());
    const link = new SerialPortLink({ path: pair.devicePath, baudRate });
    await link.open();
    cleanup.push(() => link.close());
    return { hostPath: pair.hostPath, link };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-commission-'));
    const bed = await pty('bed', 115200);
    radar = new Mr60bha1Emulator({ link: bed.link, clock: systemClock });
    radar.setInBed(false);
    radar.start();
    cleanup.push(() => radar.stop());
    const rf = await pty('rflink', 57600);
    rflink = new RflinkEmulator({ link: rf.link, clock: systemClock });
    rflink.start();
    cleanup.push(() => rflink.stop());

    const { relay, stop } = await startTestRelay();
    cleanup.push(stop);
    await relay.services.organisations.add({ id: 'org-1', name: '测试中心' });
    const { secret } = await seedBed(relay, {
      organisationId: 'org-1',
      bedId: 'bed-1',
      gatewayId: 'gw-1',
      residentName: '王秀英',
    });
    api = await loginToRelay(relay, { role: 'staff', organisationId: 'org-1', displayName: '值班员' });
    const influxUrl = testInfluxUrl();
    const database = await createTestDatabase(influxUrl, 'commission');
    configFile = join(dir, 'gateway.yaml');
    await writeFile(
      configFile,
      [
        'gatewayId: gw-1',
        'bedId: bed-1',
        `dataDir: ${join(dir, 'gateway')}`,
        'cloud:',
        `  url: mqtt://127.0.0.1:${relay.mqttPort}`,
        `  secret: ${secret}`,
        'influx:',
        `  url: ${influxUrl}`,
        `  database: ${database}`,
        'ops: { port: 0 }',
        'serialPorts:',
        `  - { id: bed-port, path: ${bed.hostPath}, protocol: seeed }`,
        `  - { id: rflink, path: ${rf.hostPath}, protocol: rflink }`,
        'devices:',
        '  - { id: bed-radar, kind: mr60bha1, role: bed_radar, room: bedroom, link: bed-port }',
        '  - { id: sos-button, kind: rf_button, role: sos_button, room: bedroom, link: rflink, address: "EV1527:0d3e4:01" }',
        '  - { id: front-door, kind: rf_contact, role: front_door, room: hall, link: rflink, address: "EV1527:1a2b3:01" }',
        '',
      ].join('\n'),
    );
  }, 60_000);

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await rm(dir, { recursive: true, force: true });
  });

  function commission(...args: string[]): ManagedChild {
    const child = startChild(
      'gateway-test',
      process.execPath,
      [TSX_BIN, 'gateway/cli.ts', 'test', '--config', configFile, ...args],
      {
        cwd: REPO_ROOT,
      },
    );
    cleanup.push(() => child.stop('SIGKILL', 1_000));
    return child;
  }

  /** Resolve when the child has printed a line matching `pattern` (polling its output). */
  async function printed(child: ManagedChild, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(child.output())) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const alarms = async () => (await api.get<{ alarms: AlarmMessage[] }>('/api/alarms')).body.alarms;

  it('asks for each device, hears the press and the bed, and the cloud stores the test alarm — and nothing else', async () => {
    const child = commission('--skip', 'front-door', '--device-timeout-s', '20');
    await printed(child, /→ lie on the bed watched by bed-radar \(bedroom\)/);
    radar.setInBed(true);
    await printed(child, /✓ bed-radar: in bed/);
    await printed(child, /→ press sos-button \(bedroom\)/);
    rflink.press({ protocol: 'EV1527', id: '0d3e4', switch: '01' });
    await printed(child, /✓ sos-button: pressed/);
    expect(await child.exited).toBe(0);
    const report = JSON.parse(
      child
        .output()
        .split('\n')
        .find((l) => l.startsWith('{"devices"')) ?? '{}',
    );
    expect(report.ok).toBe(true);
    expect(report.devices.map((d: { id: string; heard: boolean }) => [d.id, d.heard])).toEqual([
      ['bed-radar', true],
      ['sos-button', true],
    ]);
    expect(report.cloud.stored).toBe(true);
    // The centre has the test alarm, and no SOS: the press during commissioning paged nobody.
    const stored = await alarms();
    expect(stored.map((a) => [a.type, a.severity, a.id])).toEqual([
      ['test_alarm', 'info', report.cloud.alarmId],
    ]);
  });

  it('a device that stays silent fails the walk (exit 1) but the test alarm still goes through', async () => {
    const child = commission('--device', 'front-door', '--device-timeout-s', '1');
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/✗ front-door: nothing heard/);
    expect(child.output()).toMatch(/✓ the cloud stored test alarm/);
    expect((await alarms()).map((a) => a.type)).toEqual(['test_alarm']);
  }, 60_000);
});
