import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { Mr60bha1Emulator } from '../../../firmware-sim/devices/mr60bha1.js';
import { Mr60fda1Emulator } from '../../../firmware-sim/devices/mr60fda1.js';
import { RflinkEmulator } from '../../../firmware-sim/devices/rflink-receiver.js';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { seededRandom } from '../../../firmware-sim/random.js';
import { LineFramer, parseRflinkLine } from '../../../gateway/devices/protocols/rflink/index.js';
import {
  decodeReport,
  encodeFrame,
  queryFirmwareVersion,
  queryProductModel,
  SeeedFramer,
  type SeeedReport,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { HostPort } from './host-port.js';

/**
 * The emulators on real PTY pairs, with the host end opened *before* the
 * device starts (as a gateway already running would), so nothing the device
 * writes at start-up is lost.
 */
describe('emulators over a real PTY pair', () => {
  let dir: string;
  let pty: PtyPair;
  let host: HostPort;
  let link: SerialPortLink;
  let stopEmulator: () => void = () => {};

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-sim-emu-'));
    pty = await createPtyPair({ devicePath: join(dir, 'sim-dev'), hostPath: join(dir, 'dev') });
    host = await HostPort.open(pty.hostPath, 57600);
    link = new SerialPortLink({ path: pty.devicePath, baudRate: 57600 });
    await link.open();
  });

  afterEach(async () => {
    stopEmulator();
    await host.close();
    await link.close();
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('RFLink: banner on start, PONG to PING, and a press as three identical lines', async () => {
    const rflink = new RflinkEmulator({ link, clock: systemClock });
    stopEmulator = () => rflink.stop();
    rflink.start();
    const lines = (b: Buffer) => new LineFramer().push(b);
    await host.waitFor((b) => (lines(b).length >= 1 ? true : undefined));
    expect(host.text()).toBe('20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;\r\n');

    host.write('10;PING;\r\n');
    await host.waitFor((b) => (lines(b).length >= 2 ? true : undefined));
    expect(lines(host.bytes())[1], host.bytes().toString('hex')).toBe('20;01;PONG;');

    host.clear();
    rflink.press({ protocol: 'EV1527', id: '0d3e4', switch: '01' });
    const burst = await host.waitFor((b) => {
      const l = lines(b);
      return l.length >= 3 ? l : undefined;
    });
    expect(burst).toEqual([
      '20;02;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;',
      '20;03;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;',
      '20;04;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;',
    ]);
    expect(burst.map((l) => parseRflinkLine(l).kind)).toEqual(['packet', 'packet', 'packet']);
  });

  it('MR60BHA1: state frames on start, vitals on schedule, answers to a query', async () => {
    const radar = new Mr60bha1Emulator({
      link,
      clock: systemClock,
      random: seededRandom(3),
      // Shortened so the test does not wait 3 s per report; the schedule itself is unit-tested.
      intervals: { heartRateMs: 100, breathRateMs: 100, bodyMovementMs: 50, observationSetupMs: 0 },
    });
    stopEmulator = () => radar.stop();
    radar.start();
    const decoded = (b: Buffer): SeeedReport[] => new SeeedFramer().push(b).map(decodeReport);

    const first = await host.waitFor((b) => {
      const r = decoded(b);
      return r.some((x) => x.type === 'heart_rate') && r.some((x) => x.type === 'breath_rate')
        ? r
        : undefined;
    });
    expect(first.slice(0, 3)).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'stationary' },
      { type: 'bed_state', state: 'in_bed' },
    ]);
    const heart = first.find((r) => r.type === 'heart_rate');
    expect(heart?.type === 'heart_rate' && Math.abs(heart.bpm - 68)).toBeLessThanOrEqual(3);

    host.write(encodeFrame(queryProductModel()));
    await host.waitFor((b) =>
      decoded(b).some((r) => r.type === 'product_model' && r.model === 'MR60BHA1') ? true : undefined,
    );
  });

  it('MR60FDA1: state on start, answers to both queries, and a fall followed by stationary residency', async () => {
    const radar = new Mr60fda1Emulator({
      link,
      clock: systemClock,
      random: seededRandom(5),
      residencyDelayMs: 300,
      intervals: { bodyMovementMs: 50 },
    });
    stopEmulator = () => radar.stop();
    radar.start();
    const decoded = (b: Buffer): SeeedReport[] => new SeeedFramer().push(b).map(decodeReport);
    const first = await host.waitFor((b) => (decoded(b).length >= 5 ? decoded(b) : undefined));
    expect(first.slice(0, 4)).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'active' },
      { type: 'fall', fallen: false },
      { type: 'stationary_residency', present: false },
    ]);

    host.clear();
    host.write(encodeFrame(queryProductModel()));
    host.write(encodeFrame(queryFirmwareVersion()));
    await host.waitFor((b) => {
      const r = decoded(b);
      return r.some((x) => x.type === 'product_model' && x.model === 'MR60FDA1') &&
        r.some((x) => x.type === 'firmware_version' && x.version === 'G60FD1SYv010104')
        ? true
        : undefined;
    });

    host.clear();
    radar.fall();
    const fell = await host.waitFor((b) => {
      const r = decoded(b).filter((x) => x.type !== 'body_movement');
      return r.some((x) => x.type === 'stationary_residency' && x.present) ? r : undefined;
    });
    expect(fell).toEqual([
      { type: 'motion', motion: 'stationary' },
      { type: 'fall', fallen: true },
      { type: 'stationary_residency', present: true },
    ]);
    expect(decoded(host.bytes()).filter((r) => r.type === 'invalid' || r.type === 'unknown')).toEqual([]);
  });
});
