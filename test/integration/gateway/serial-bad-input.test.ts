import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { encodeFrame, encodeReport } from '../../../gateway/devices/protocols/seeed/index.js';
import { Gateway } from '../../../gateway/gateway.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { waitFor } from '../../support/relay.js';

/**
 * Garbage on real serial lines: the gateway counts and drops it, and what
 * follows still decodes. The cloud is unreachable here on purpose (port 9):
 * a missing cloud must not stop the device side.
 */
describe('bad bytes on real PTYs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-garbage-'));
  let radarPty: PtyPair;
  let rflinkPty: PtyPair;
  let radar: SerialPortLink;
  let rflink: SerialPortLink;
  let gateway: Gateway;
  const readings: Reading[] = [];
  const presses: string[] = [];

  beforeAll(async () => {
    radarPty = await createPtyPair({ devicePath: join(dir, 'sim-radar'), hostPath: join(dir, 'radar') });
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-garbage',
        bedId: 'bed-g',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'whatever-secret' },
        influx: { url: 'http://127.0.0.1:9', flushIntervalMs: 60_000 },
        serialPorts: [
          { id: 'radar-port', path: join(dir, 'radar'), protocol: 'seeed' },
          // Not there yet: the gateway must keep trying and pick it up when it appears.
          {
            id: 'rflink-port',
            path: join(dir, 'rflink'),
            protocol: 'rflink',
            reconnectInitialMs: 100,
            reconnectMaxMs: 300,
          },
        ],
        devices: [
          { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', link: 'radar-port' },
          {
            id: 'sos',
            kind: 'rf_button',
            role: 'sos_button',
            link: 'rflink-port',
            address: 'EV1527:0d3e4:01',
          },
        ],
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    gateway.bus.on('reading', (r) => readings.push(r));
    gateway.bus.on('deviceEvent', (e) => presses.push(e.deviceId));
    await gateway.start();
    radar = new SerialPortLink({ path: radarPty.devicePath, baudRate: 115200 });
    await radar.open();
  });

  afterAll(async () => {
    await gateway?.stop();
    await radar?.close();
    await rflink?.close();
    await radarPty?.close();
    await rflinkPty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops noise and a bad-checksum frame, counts them, and decodes the good frame after', async () => {
    await waitFor(() => gateway.linkStates()['radar-port'] === 'open', 5_000, 'radar port open');
    const good = encodeFrame(encodeReport({ type: 'heart_rate', bpm: 71 }));
    const bad = Uint8Array.from(good);
    bad[bad.length - 3] = (bad[bad.length - 3]! + 1) & 0xff;
    radar.write(Buffer.concat([Buffer.from('garbage\x00\xff\x53'), bad, good]));
    await waitFor(
      () => readings.find((r) => r.metric === 'heart_rate' && r.value === 71),
      5_000,
      'good frame',
    );
    expect(gateway.counters.get('frames_dropped', { link: 'radar-port', reason: 'checksum' })).toBe(1);
    expect(readings.filter((r) => r.metric === 'heart_rate')).toHaveLength(1);
  });

  it('opens a port that appears after start, and drops unreadable RFLink lines while reading good ones', async () => {
    rflinkPty = await createPtyPair({ devicePath: join(dir, 'sim-rflink'), hostPath: join(dir, 'rflink') });
    rflink = new SerialPortLink({ path: rflinkPty.devicePath, baudRate: 57600 });
    await rflink.open();
    await waitFor(() => gateway.linkStates()['rflink-port'] === 'open', 5_000, 'late port opened');
    rflink.write(
      Buffer.from(
        '\xfe\xfe line noise\r\n20;ZZ;EV1527;ID=0d3e4;\r\n20;01;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n',
        'latin1',
      ),
    );
    await waitFor(() => presses.includes('sos'), 5_000, 'press after garbage');
    expect(gateway.counters.total('lines_dropped')).toBe(2);
    // An unpaired transmitter is reported, not ignored.
    rflink.write(Buffer.from('20;02;EV1527;ID=fffff;SWITCH=02;CMD=ON;\r\n'));
    await waitFor(
      () => gateway.counters.get('devices_unpaired_seen', { transport: 'rflink' }) === 1,
      5_000,
      'unpaired',
    );
    expect(gateway.registry.unpairedDevices()).toEqual([
      expect.objectContaining({ transport: 'rflink', address: 'EV1527:fffff:02', count: 1 }),
    ]);
  });
});
