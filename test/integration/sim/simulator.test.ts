import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  queryFirmwareVersion,
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
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('Simulator (real PTYs, serialport, HTTP)', () => {
  let dir: string;
  let sim: Simulator;
  let info: SimulatorInfo;
  let radarHost: HostPort;
  let rflinkHost: HostPort;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-sim-'));
    const config = validateConfig(
      simConfigSchema,
      {
        control: { port: 0 },
        devices: [
          {
            id: 'bed-radar',
            kind: 'mr60bha1',
            devicePath: 'dev/sim-bed-radar',
            hostPath: 'dev/bed-radar',
            observationSetupMs: 0,
          },
          { id: 'rflink', kind: 'rflink', devicePath: 'dev/sim-rflink', hostPath: 'dev/rflink' },
        ],
      },
      'test',
    );
    sim = new Simulator(config, { clock: systemClock, logger: silentLogger(), cwd: dir });
    info = await sim.start();
    radarHost = await HostPort.open(join(dir, 'dev/bed-radar'), 115200);
    rflinkHost = await HostPort.open(join(dir, 'dev/rflink'), 57600);
  });

  afterAll(async () => {
    await radarHost?.close();
    await rflinkHost?.close();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports where each device is and where the control API listens', () => {
    expect(info.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(
      info.devices.map(({ id, kind, hostPath, baudRate }) => ({ id, kind, hostPath, baudRate })),
    ).toEqual([
      { id: 'bed-radar', kind: 'mr60bha1', hostPath: join(dir, 'dev/bed-radar'), baudRate: 115200 },
      { id: 'rflink', kind: 'rflink', hostPath: join(dir, 'dev/rflink'), baudRate: 57600 },
    ]);
  });

  it('the radar host end reads decodable frames: heart and breath rate within a few seconds', async () => {
    const reports = await radarHost.waitFor((b) => {
      const r = decoded(b);
      return r.some((x) => x.type === 'heart_rate') && r.some((x) => x.type === 'breath_rate')
        ? r
        : undefined;
    }, 8000);
    expect(reports.filter((r) => r.type === 'invalid' || r.type === 'unknown')).toEqual([]);
    for (const r of reports) {
      if (r.type === 'heart_rate') expect(Math.abs(r.bpm - 68)).toBeLessThanOrEqual(3);
      if (r.type === 'breath_rate') expect(Math.abs(r.perMin - 15)).toBeLessThanOrEqual(1);
    }
    radarHost.write(encodeFrame(queryFirmwareVersion()));
    await radarHost.waitFor((b) =>
      decoded(b).some((r) => r.type === 'firmware_version' && r.version === 'G60SM1SYv010009')
        ? true
        : undefined,
    );
  });

  it('POST /press/sos writes three identical lines to the RFLink host end', async () => {
    rflinkHost.clear();
    const res = await post(`${info.controlUrl}/press/sos`);
    expect(res).toEqual({ status: 200, json: { pressed: 'sos', lines: 3 } });
    const got = await rflinkHost.waitFor((b) => (lines(b).length >= 3 ? lines(b) : undefined));
    const packets = got.map((l) => parseRflinkLine(l));
    expect(packets.map((p) => p.kind === 'packet' && `${p.protocol}:${p.id}:${p.switch}:${p.cmd}`)).toEqual(
      Array(3).fill('EV1527:0d3e4:01:ON'),
    );
    const counters = packets.map((p) => p.counter);
    expect(counters).toEqual([counters[0], (counters[0]! + 1) & 0xff, (counters[0]! + 2) & 0xff]);
  });

  it('answers unknown buttons, radars, routes and bad bodies with JSON errors', async () => {
    const unknownButton = await post(`${info.controlUrl}/press/nope`);
    expect(unknownButton.status).toBe(404);
    expect(unknownButton.json).toMatchObject({ error: 'unknown_button' });
    expect(String(unknownButton.json.message)).toContain('known: sos');

    expect((await post(`${info.controlUrl}/radar/nope`, { inBed: false })).status).toBe(404);
    const bad = await post(`${info.controlUrl}/radar/bed-radar`, { inBed: 'yes', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'invalid_body' });
    expect((await post(`${info.controlUrl}/radar/bed-radar`, '{not json')).status).toBe(400);
    expect((await post(`${info.controlUrl}/radar/bed-radar`, {})).status).toBe(400);

    const wrongMethod = await fetch(`${info.controlUrl}/press/sos`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await fetch(`${info.controlUrl}/nowhere`)).status).toBe(404);
  });

  it('POST /radar/:id changes the bed state, and the host end sees it at once', async () => {
    radarHost.clear();
    const res = await post(`${info.controlUrl}/radar/bed-radar`, { inBed: false, heartRateBpm: 90 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: 'bed-radar',
      state: { inBed: false, heartRateBpm: 90, sleepState: 'none' },
    });
    await radarHost.waitFor(
      (b) => (decoded(b).some((r) => r.type === 'bed_state' && r.state === 'out_of_bed') ? true : undefined),
      1000,
    );
  });

  it('GET /healthz and GET /state', async () => {
    const health = await fetch(`${info.controlUrl}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const state = (await (await fetch(`${info.controlUrl}/state`)).json()) as {
      devices: Array<{ id: string; state: Record<string, unknown> }>;
    };
    expect(state.devices.map((d) => d.id)).toEqual(['bed-radar', 'rflink']);
    expect(state.devices[0]?.state).toMatchObject({ running: true, model: 'MR60BHA1', inBed: false });
    expect(state.devices[1]?.state).toMatchObject({ running: true, buttons: ['sos'] });
  });

  it('stop() kills socat, removes the links and closes the control API', async () => {
    await radarHost.close();
    await rflinkHost.close();
    const pids = info.devices.map((d) => d.socatPid);
    expect(pids.every((pid) => processAlive(pid))).toBe(true);
    await sim.stop();
    expect(pids.map((pid) => processAlive(pid))).toEqual([false, false]);
    for (const d of info.devices) {
      await expect(lstat(d.hostPath)).rejects.toThrow(/ENOENT/);
      await expect(lstat(d.devicePath)).rejects.toThrow(/ENOENT/);
    }
    await expect(fetch(`${info.controlUrl}/healthz`)).rejects.toThrow();
    await sim.stop();
  });
});
