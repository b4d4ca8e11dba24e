import { lstat, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { validateConfig } from '../../../common/config/load.js';
import { silentLogger } from '../../../common/logger.js';
import { simConfigSchema } from '../../../firmware-sim/config.js';
import { Simulator, type SimulatorInfo } from '../../../firmware-sim/simulator.js';
import { LineFramer, parseRflinkLine } from '../../../gateway/devices/protocols/rflink/index.js';
import {
  decodeReport,
  encodeFrame,
  queryProductModel,
  SeeedFramer,
  type SeeedReport,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { HostPort, processAlive } from './host-port.js';

const decoded = (b: Buffer): SeeedReport[] => new SeeedFramer().push(b).map(decodeReport);
const lines = (b: Buffer): string[] => new LineFramer().push(b);

async function post(url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The fall radar and the RFLink receiver on real PTYs, driven over the
 * control API: scenario routes, fault modes switched while running, and a
 * USB unplug / replug that really removes and recreates the host's path.
 */
describe('Simulator: fall radar, RF transmitters, faults, unplug/replug (real PTYs, HTTP)', () => {
  let dir: string;
  let sim: Simulator;
  let info: SimulatorInfo;
  let api: string;
  let fallHostPath: string;
  let rfHostPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-sim-unplug-'));
    const config = validateConfig(
      simConfigSchema,
      {
        control: { port: 0 },
        seed: 4,
        devices: [
          {
            id: 'fall-radar',
            kind: 'mr60fda1',
            devicePath: 'dev/sim-fall-radar',
            hostPath: 'dev/fall-radar',
            residencyDelayMs: 400,
          },
          {
            id: 'rflink',
            kind: 'rflink',
            devicePath: 'dev/sim-rflink',
            hostPath: 'dev/rflink',
            transmitters: [
              { kind: 'button', name: 'sos', id: '0d3e4', switch: '01' },
              { kind: 'contact', name: 'front-door', id: '1a2b3', switch: '01' },
              { kind: 'button', name: 'call', protocol: 'Keeloq', id: 'e311', switch: '0A', repeats: 1 },
            ],
          },
        ],
      },
      'test',
    );
    sim = new Simulator(config, { clock: systemClock, logger: silentLogger(), cwd: dir });
    info = await sim.start();
    api = info.controlUrl;
    fallHostPath = join(dir, 'dev/fall-radar');
    rfHostPath = join(dir, 'dev/rflink');
  });

  afterAll(async () => {
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('POST /fall-radar/:id fall → the host reads fall = 1, then stationary residency; get_up clears both', async () => {
    const host = await HostPort.open(fallHostPath, 115200);
    try {
      host.write(encodeFrame(queryProductModel()));
      await host.waitFor((b) =>
        decoded(b).some((r) => r.type === 'product_model' && r.model === 'MR60FDA1') ? true : undefined,
      );
      host.clear();
      const res = await post(`${api}/fall-radar/fall-radar`, { action: 'fall' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        id: 'fall-radar',
        action: 'fall',
        state: { fallen: true, motion: 'stationary' },
      });
      const events = await host.waitFor((b) => {
        const r = decoded(b).filter((x) => x.type !== 'body_movement' && x.type !== 'heartbeat');
        return r.some((x) => x.type === 'stationary_residency' && x.present) ? r : undefined;
      });
      expect(events).toEqual([
        { type: 'motion', motion: 'stationary' },
        { type: 'fall', fallen: true },
        { type: 'stationary_residency', present: true },
      ]);
      host.clear();
      expect((await post(`${api}/fall-radar/fall-radar`, { action: 'get_up' })).status).toBe(200);
      await host.waitFor((b) =>
        decoded(b).some((x) => x.type === 'stationary_residency' && !x.present) ? true : undefined,
      );
      expect(decoded(host.bytes()).filter((x) => x.type === 'fall')).toEqual([
        { type: 'fall', fallen: false },
      ]);
    } finally {
      await host.close();
    }
  });

  it('POST /rf/:name and /rf/:name/battery: contact open/close and a KeeLoq BAT=LOW on the RFLink host end', async () => {
    const host = await HostPort.open(rfHostPath, 57600);
    try {
      // One event at a time: a transmitter's repeats are 50 ms apart, and two at once would interleave.
      const packetsSoFar = async (n: number) => {
        const got = await host.waitFor((b) => (lines(b).length >= n ? lines(b) : undefined));
        return got.map((l) => {
          const p = parseRflinkLine(l);
          return p.kind === 'packet'
            ? `${p.protocol};${Object.entries(p.fields)
                .map(([k, v]) => `${k}=${v}`)
                .join(';')}`
            : p.kind;
        });
      };
      const open = await post(`${api}/rf/front-door`, { action: 'open' });
      expect(open).toMatchObject({ status: 200, json: { name: 'front-door', kind: 'contact', lines: 3 } });
      expect(open.json.packet).toBe('EV1527;ID=1a2b3;SWITCH=01;CMD=ON;');
      await packetsSoFar(3);
      await post(`${api}/rf/front-door`, { action: 'close' });
      await packetsSoFar(6);
      const battery = await post(`${api}/rf/call/battery`, { state: 'low' });
      expect(battery).toMatchObject({ status: 200, json: { battery: 'low', reportsBattery: true } });
      await post(`${api}/rf/call`, { action: 'press' });
      expect(await packetsSoFar(7)).toEqual([
        ...Array(3).fill('EV1527;ID=1a2b3;SWITCH=01;CMD=ON'),
        ...Array(3).fill('EV1527;ID=1a2b3;SWITCH=01;CMD=OFF'),
        'Keeloq;ID=e311;SWITCH=0A;CMD=ON;BAT=LOW',
      ]);

      const wrong = await post(`${api}/rf/front-door`, { action: 'press' });
      expect(wrong).toMatchObject({ status: 400, json: { error: 'invalid_action' } });
      expect(String(wrong.json.message)).toContain('front-door accepts: open, close');
      expect((await post(`${api}/rf/front-door`, { action: 'explode' })).status).toBe(400);
      const unknown = await post(`${api}/rf/nope`, { action: 'press' });
      expect(unknown.status).toBe(404);
      expect(String(unknown.json.message)).toContain('known: sos, front-door, call');
    } finally {
      await host.close();
    }
  });

  it('POST /faults/:id switches faults while running: noise lines, then silence, then clean again', async () => {
    const host = await HostPort.open(rfHostPath, 57600);
    try {
      const noisy = await post(`${api}/faults/rflink`, { noise: 1 });
      expect(noisy).toMatchObject({
        status: 200,
        json: { type: 'serial', faults: { noise: 1, silent: false } },
      });
      await post(`${api}/press/sos`);
      const got = await host.waitFor((b) => (lines(b).length >= 6 ? lines(b) : undefined));
      const parsed = got.map((l) => {
        try {
          return parseRflinkLine(l).kind;
        } catch {
          return 'rejected';
        }
      });
      expect(parsed.filter((k) => k === 'packet')).toHaveLength(3);
      expect(parsed.filter((k) => k === 'rejected')).toHaveLength(3);

      host.clear();
      await post(`${api}/faults/rflink`, { noise: false, silent: true });
      expect((await post(`${api}/press/sos`)).json).toEqual({ pressed: 'sos', lines: 3 });
      await sleep(400);
      expect(host.bytes().length).toBe(0);

      await post(`${api}/faults/rflink`, { silent: false });
      await post(`${api}/press/sos`);
      const clean = await host.waitFor((b) => (lines(b).length >= 3 ? lines(b) : undefined));
      expect(clean.map((l) => parseRflinkLine(l).kind)).toEqual(['packet', 'packet', 'packet']);

      const state = (await (await fetch(`${api}/state`)).json()) as {
        devices: Array<{
          id: string;
          faults: { silent: boolean; stats: { unitsSilenced: number; noiseBursts: number } };
        }>;
      };
      const rflink = state.devices.find((d) => d.id === 'rflink');
      expect(rflink?.faults).toMatchObject({ silent: false, stats: { unitsSilenced: 3, noiseBursts: 3 } });

      const bad = await post(`${api}/faults/rflink`, { dyingBattery: true });
      expect(bad).toMatchObject({ status: 400, json: { error: 'invalid_fault' } });
      expect((await post(`${api}/faults/rflink`, {})).status).toBe(400);
      expect((await post(`${api}/faults/nope`, { silent: true })).status).toBe(404);
      const dying = await post(`${api}/faults/sos`, { dyingBattery: 30 });
      expect(dying).toMatchObject({
        status: 200,
        json: { type: 'rf', dyingBattery: 30, transmitter: { dyingBattery: true } },
      });
      expect((await post(`${api}/faults/sos`, { noise: true })).status).toBe(400);
    } finally {
      await host.close();
    }
  });

  it('badChecksums on the radar: the host framer drops the frames for their checksum', async () => {
    const host = await HostPort.open(fallHostPath, 115200);
    try {
      // `true` would be the configured default rate (0.2); every frame makes the test quick.
      await post(`${api}/faults/fall-radar`, { badChecksums: 1 });
      host.clear();
      const framer = new SeeedFramer();
      await host.waitFor(() => {
        framer.push(host.bytes());
        host.clear();
        return framer.dropped.checksum >= 3 ? true : undefined;
      });
      await post(`${api}/faults/fall-radar`, { badChecksums: false });
    } finally {
      await host.close();
    }
  });

  it('unplug removes the host path and kills socat; replug brings it back and a reopened port reads again', async () => {
    const before = info.devices.find((d) => d.id === 'fall-radar');
    const pid = before?.socatPid;
    expect(processAlive(pid)).toBe(true);
    const firstTarget = await readlink(fallHostPath);

    const host = await HostPort.open(fallHostPath, 115200);
    const unplugged = await post(`${api}/unplug/fall-radar`);
    expect(unplugged).toMatchObject({ status: 200, json: { id: 'fall-radar', plugged: false } });
    expect(await exists(fallHostPath)).toBe(false);
    expect(await exists(join(dir, 'dev/sim-fall-radar'))).toBe(false);
    expect(processAlive(pid)).toBe(false);
    await host.close();
    await expect(HostPort.open(fallHostPath, 115200)).rejects.toThrow();
    // Unplugging twice is harmless; the scenario goes on while it is out.
    expect((await post(`${api}/unplug/fall-radar`)).status).toBe(200);
    expect((await post(`${api}/fall-radar/fall-radar`, { action: 'fall' })).status).toBe(200);
    const state = (await (await fetch(`${api}/state`)).json()) as {
      devices: Array<{ id: string; plugged: boolean; socatPid?: number }>;
    };
    expect(state.devices.find((d) => d.id === 'fall-radar')).toMatchObject({ plugged: false });

    const replugged = await post(`${api}/replug/fall-radar`);
    expect(replugged).toMatchObject({ status: 200, json: { id: 'fall-radar', plugged: true } });
    expect(await exists(fallHostPath)).toBe(true);
    expect(processAlive(replugged.json.socatPid as number)).toBe(true);
    expect(await readlink(fallHostPath)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(firstTarget).toMatch(/^\/dev\/pts\/\d+$/);

    const again = await HostPort.open(fallHostPath, 115200);
    try {
      // The module booted again when plugged in (its start-up reports went out before this port was
      // opened, as with a real adapter); the fall that happened while it was out is still its state:
      // the person lies still, so body movement stays in the "stationary" band.
      again.write(encodeFrame(queryProductModel()));
      const reports = await again.waitFor((b) => {
        const r = decoded(b);
        return r.some((x) => x.type === 'product_model') &&
          r.filter((x) => x.type === 'body_movement').length >= 2
          ? r
          : undefined;
      });
      for (const r of reports) if (r.type === 'body_movement') expect(r.value).toBeLessThanOrEqual(5);
      const after = (await (await fetch(`${api}/state`)).json()) as {
        devices: Array<{ id: string; state: { fallen: boolean } }>;
      };
      expect(after.devices.find((d) => d.id === 'fall-radar')?.state.fallen).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('an unplugged RFLink comes back with its boot banner', async () => {
    expect((await post(`${api}/unplug/rflink`)).status).toBe(200);
    expect(await exists(rfHostPath)).toBe(false);
    expect((await post(`${api}/press/sos`)).json).toEqual({ pressed: 'sos', lines: 0 });
    expect((await post(`${api}/replug/rflink`)).status).toBe(200);
    const host = await HostPort.open(rfHostPath, 57600);
    try {
      host.write('10;REBOOT;\r\n');
      const got = await host.waitFor((b) => (lines(b).length >= 1 ? lines(b) : undefined));
      expect(got[0]).toBe('20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;');
      host.clear();
      await post(`${api}/press/sos`);
      await host.waitFor((b) => (lines(b).length >= 3 ? true : undefined));
    } finally {
      await host.close();
    }
    expect((await post(`${api}/unplug/nope`)).status).toBe(404);
  });

  it('stop() after unplug/replug leaves no socat and no links behind', async () => {
    const pids = sim.info().devices.map((d) => d.socatPid);
    await sim.stop();
    expect(pids.map((p) => processAlive(p))).toEqual([false, false]);
    expect(await exists(fallHostPath)).toBe(false);
    expect(await exists(rfHostPath)).toBe(false);
  });
});
